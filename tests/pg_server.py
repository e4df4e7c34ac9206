"""A real PostgreSQL server for the tests: `initdb` and `pg_ctl` in a temporary folder.

It listens on a free loopback port only and asks for a password (SCRAM), and
runs as the unprivileged `postgres` user when the tests run as root (initdb
refuses root). Each test that wants one gets a fresh database of its own.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

# The engines the store runs on, as tests parametrise them.
ENGINES = ("sqlite", "postgresql")
USER = "callviewer"
PASSWORD = "team-secret"
SERVICE_USER = "postgres"  # the system user Debian's postgresql package creates


class ServerError(RuntimeError):
    """The test server could not be set up; str() says why and what to do."""


def find_bin() -> Path:
    """The folder of initdb and pg_ctl (and the server they start): where PATH leads, else
    the newest /usr/lib/postgresql/*/bin, where Debian installs them off PATH."""
    found = shutil.which("initdb")
    candidates = [Path(os.path.realpath(found)).parent] if found else []
    candidates += sorted((Path(folder) for folder in glob.glob("/usr/lib/postgresql/*/bin")),
                         key=lambda folder: _version(folder.parent.name), reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise ServerError("The PostgreSQL tests need initdb and pg_ctl, found neither on PATH nor "
                      "in /usr/lib/postgresql/*/bin: install the postgresql package "
                      "(sh packaging/debian.sh test does).")


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


class PostgresServer:
    """A running server; `database()` makes a fresh database and returns its URL."""

    def __init__(self, keep: Path | None = None) -> None:
        """A new server in a temporary folder; with `keep` (benchmarks), the server in that
        folder, made there the first time and kept by `stop`."""
        self.bin = find_bin()
        self.owner = _service_user() if os.geteuid() == 0 else None
        # The system's temporary folder, not pytest's: the service user must reach it.
        self.folder = keep or Path(tempfile.mkdtemp(prefix="callviewer-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._keep = keep is not None
        self._names = itertools.count(1)
        try:
            if (self.data / "PG_VERSION").is_file():
                with open(self.data / "postgresql.conf", "a") as conf:
                    conf.write(f"port = {self.port}\n")  # the last setting wins
            else:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._init()
            self.start()
        except BaseException:
            if not self._keep:
                shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def url(self, database: str, password: str = PASSWORD, port: int | None = None) -> str:
        """A Store URL for one of the server's databases."""
        return (f"postgresql+psycopg://{USER}:{password}@127.0.0.1:{port or self.port}"
                f"/{database}")

    def database(self) -> str:
        """A fresh, empty database's name (CREATE DATABASE takes ~10 ms)."""
        name = f"test_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name}")
        return name

    def drop(self, name: str) -> None:
        """Drop a database, closing any connection a test left open."""
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        """Run one statement as the server's superuser, outside a transaction."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD,
                             dbname=database, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def start(self) -> None:
        """Start the server (again, after `halt`)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-w", "-t", "60", "start")

    def halt(self) -> None:
        """Stop the server as a restart does, closing every connection; `start` again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        """Stop the server for good and delete its folder (unless it is kept)."""
        try:
            self.halt()
        finally:
            if not self._keep:
                shutil.rmtree(self.folder, ignore_errors=True)

    def _init(self) -> None:
        password_file = self.folder / "password"
        password_file.write_text(PASSWORD + "\n")
        if self.owner is not None:
            for path in (self.folder, password_file):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={password_file}",
                  "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-sync")
        password_file.unlink()
        # Loopback TCP with a password, nothing else; durability is not needed here.
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                       "unix_socket_directories = ''\nfsync = off\nfull_page_writes = off\n"
                       "synchronous_commit = off\n")
        (self.data / "pg_hba.conf").write_text(
            "host all all 127.0.0.1/32 scram-sha-256\n")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner.pw_name, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder,
                              check=False)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise ServerError(f"{program} failed ({done.returncode}):\n{done.stdout}"
                              f"{done.stderr}{tail}")


def _service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise ServerError(f"The tests run as root, and PostgreSQL refuses to run as root: "
                          f"they start it as the user {SERVICE_USER!r}, which does not exist. "
                          f"Install the postgresql package, or run the tests as another "
                          f"user.") from None


def free_port() -> int:
    """A loopback TCP port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
