"""Choosing the team database: `--db`, CALLVIEWER_DB, and Preferences' "Team database" page,
on the real PostgreSQL server; its password lives in the keyring (or the user's own file)
and nowhere else."""

from __future__ import annotations

import os
import subprocess
import sys

import keyring
import pytest
from keyring.backends import fail
from pg_server import PASSWORD, USER, free_port
from PySide6.QtCore import QSettings

from callviewer.dbfile import TEAM_DB_KEY
from callviewer.sync.tokens import save_token

WRONG = "wrong-pass-7731"


@pytest.fixture(autouse=True)
def no_keyring():
    """No system keyring in this process (and `cli` gives none to its children): secrets go
    to the user's own file in the test's config folder."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`callviewer ARGS` in a process of its own, as a person runs it."""
    environment = {name: value for name, value in os.environ.items() if name != "CALLVIEWER_DB"}
    environment.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", **env)
    return subprocess.run([sys.executable, "-m", "callviewer", *args], capture_output=True,
                          text=True, timeout=120, env=environment)


def bare_url(postgres, database: str, port: int | None = None, options: str = "") -> str:
    """The team database's address as Preferences keeps it: no password."""
    return (f"postgresql+psycopg://{USER}@127.0.0.1:{port or postgres.port}/{database}"
            + (f"?{options}" if options else ""))


def database_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def assert_one_sentence(done: subprocess.CompletedProcess, sentence: str) -> None:
    assert done.returncode == 2, done
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("callviewer: The database") and sentence in lines[0], lines[0]
    for secret in (PASSWORD, WRONG):
        assert secret not in done.stderr


@pytest.mark.parametrize("verbose", [(), ("-v",)], ids=["quiet", "verbose"])
def test_a_wrong_password_is_one_sentence_without_the_password(postgres, postgres_url,
                                                               verbose):
    url = postgres.url(database_of(postgres_url), password=WRONG)
    assert_one_sentence(cli("info", "--db", url, *verbose),
                        "refused the user name or password; check them and try again.")


def test_a_host_nothing_listens_on_is_one_sentence(postgres, postgres_url):
    url = postgres.url(database_of(postgres_url), port=free_port())
    assert_one_sentence(cli("info", "--db", url),
                        "could not be reached; check its address and that it is running")


def test_a_database_that_does_not_exist_is_one_sentence(postgres):
    assert_one_sentence(cli("info", "--db", postgres.url("no_such_team")),
                        "/no_such_team does not exist on its server; check its name")


def test_no_password_kept_for_the_database_is_one_sentence(postgres, postgres_url):
    assert_one_sentence(cli("info", "--db", bare_url(postgres, database_of(postgres_url))),
                        "asks for a password and none is kept for it")


def test_options_pass_through_to_postgresql(postgres, postgres_url):
    database = database_of(postgres_url)
    assert_one_sentence(cli("info", "--db", postgres.url(database) + "?sslmode=require"),
                        "does not offer encrypted connections, which its sslmode requires")
    assert_one_sentence(cli("info", "--db", postgres.url(database) + "?sslmode=sometimes"),
                        'does not accept (invalid sslmode value: "sometimes")')
    assert_one_sentence(cli("info", "--db", postgres.url(database) + "?colour=blue"),
                        'does not know (invalid connection option "colour")')
    done = cli("info", "--db", postgres.url(database) + "?sslmode=disable&connect_timeout=3"
               "&application_name=front-desk")
    assert done.returncode == 0 and "Calls:      0" in done.stdout, done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_the_kept_password_opens_the_database_from_db_the_environment_and_preferences(
        postgres, postgres_url, tmp_path):
    database = database_of(postgres_url)
    url = bare_url(postgres, database, options="application_name=front-desk")
    save_token(f"{USER}@127.0.0.1:{postgres.port}/{database}", PASSWORD, what="password")
    config = tmp_path / "config"
    assert PASSWORD.encode() in (config / "callviewer" / "tokens.json").read_bytes()
    shown = f"Database:   postgresql+psycopg://{USER}:***@127.0.0.1:{postgres.port}/{database}"
    for done in (cli("info", "--db", url), cli("info", CALLVIEWER_DB=url)):
        assert done.returncode == 0 and shown in done.stdout, done
        assert PASSWORD not in done.stdout + done.stderr
    # Chosen in Preferences: the window's settings file, which the command line reads too.
    settings = QSettings(str(config / "callviewer" / "callviewer.conf"),
                         QSettings.Format.IniFormat)
    settings.setValue(TEAM_DB_KEY, url)
    settings.sync()
    done = cli("info")
    assert done.returncode == 0 and shown in done.stdout, done
    assert "sqlite" not in done.stdout
