"""How the database is opened, and what its failures mean to a person."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from callviewer.dbfile import address_problem, sqlite_path
from callviewer.errors import ExpectedError

BUSY_TIMEOUT_MS = 10_000
# Execution option marking a connection whose transactions will write.
WRITE_OPTION = "callviewer_write"
# PostgreSQL: the advisory lock a write transaction holds (a constant: "callview").
WRITE_LOCK = 0x63616C6C76696577
CONNECT_TIMEOUT_S = 10
_PREFIXES = re.compile(r"^(connection (is bad|failed): )?(connection to server .*? failed: )?")


log = logging.getLogger(__name__)

# SQLite's result codes for a damaged file; an extended code keeps its primary code in its
# low byte (SQLITE_CORRUPT_INDEX is 779, for one).
DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
SQLITE_MAGIC = b"SQLite format 3\x00"
QUICK_CHECK_ROWS = 10  # of quick_check's findings, this many go to the log


class StoreError(ExpectedError):
    """A database problem a person can act on; str() is the sentence to show."""


class DamagedError(StoreError):
    """The SQLite file is damaged, so the store is read-only; str() says how to restore it."""


def insert_many(conn: Connection, table: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> None:
    """INSERT plain tuples through the driver's executemany.

    For the import's hot path: SQLAlchemy's per-row parameter processing costs
    more than SQLite's own insert of an FTS row.
    """
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {table} ({', '.join(columns)}) "
                 f"VALUES ({', '.join(mark for _ in columns)})")
    conn.exec_driver_sql(statement, [tuple(row) for row in rows])


def open_engine(url: str) -> Engine:
    """An engine with the connection settings the app relies on: on SQLite WAL, a busy
    timeout and FKs; on PostgreSQL psycopg 3, a connect timeout and writers taking turns."""
    problem = address_problem(url)  # mysql://, a port of 99999...: a sentence, not a traceback
    if problem is not None:
        raise StoreError(problem)
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the folder for the database {path}: "
                             f"{exc.strerror}.") from exc
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        engine = create_engine(url)
    else:
        if parsed.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2
            parsed = parsed.set(drivername="postgresql+psycopg")
        # A dropped connection (server restart) is noticed and replaced when next taken
        # from the pool; an unreachable host fails in seconds, not the system's minutes.
        timeout = {} if "connect_timeout" in parsed.query \
            else {"connect_timeout": CONNECT_TIMEOUT_S}
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=timeout)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _begin_postgresql)
    return engine


def _begin_sqlite(conn) -> None:
    # A writer takes the lock at BEGIN: a deferred transaction that reads and
    # then writes fails at once ("database is locked") under another writer
    # instead of waiting its turn. Readers stay deferred so they never block.
    immediate = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _begin_postgresql(conn) -> None:
    # Writers take turns, as on SQLite: a write reads the stored rows, merges in Python
    # and writes them back (store/calls.py), which another writer must not interleave.
    # The lock is the database's (every desktop of a team), released at commit; a
    # writer waits for it as long as SQLite's busy timeout, then gives up ("busy").
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.isolation_level = None  # our "begin" listener issues BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable at checkpoints, fast
    cursor.close()


# --- a damaged SQLite file ------------------------------------------------------------

def damage_code(exc: BaseException) -> int | None:
    """SQLite's result code when a database exception reports a damaged file, else None.
    By the code, never the words: "malformed JSON" is an SQLITE_ERROR, a bug."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(original, "sqlite_errorcode", None)
    return code if code is not None and code & 0xFF in DAMAGE_CODES else None


def damage_detail(exc: BaseException) -> str:
    """For the log: SQLite's code name, number and message."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    name = getattr(original, "sqlite_errorname", "SQLITE_?")
    return f"{name} ({getattr(original, 'sqlite_errorcode', '?')}): {original}"


def damaged_sentence(path: Path) -> str:
    """What a person reads about a damaged database open read-only."""
    return (f"{path} is damaged; it is open read-only. Restore it from a backup, or export "
            "what can be read with `callviewer export` and import that into a new database.")


def unreadable_sentence(path: Path) -> str:
    """What a person reads about a damaged database nothing can be read from."""
    return f"The database {path} is damaged and cannot be read; restore it from a backup."


def has_sqlite_header(path: Path) -> bool:
    """True when the file begins as an SQLite database does (damaged or not); False for
    another kind of file, which is no damage of ours to report."""
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A DB-API connection SQLite itself keeps from writing to the file."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                           check_same_thread=False)
    conn.isolation_level = None  # our "begin" listener issues BEGIN
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only = ON")
    return conn


def open_read_only_engine(path: Path) -> Engine:
    """An engine on an SQLite file that cannot write to it: for a damaged database."""
    engine = create_engine("sqlite://", creator=lambda: connect_read_only(path),
                           poolclass=QueuePool)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def quick_check(conn: sqlite3.Connection) -> list[str] | None:
    """SQLite's quick_check on a connection: [] when the file is whole, else what it found
    (or the error that stopped it); None when it could not finish (interrupted, busy)."""
    try:
        rows = [row[0] for row in conn.execute(f"PRAGMA quick_check({QUICK_CHECK_ROWS})")]
    except sqlite3.Error as exc:
        if damage_code(exc) is not None:
            return [damage_detail(exc)]
        log.info("The quick check of the database did not finish: %s", exc)
        return None
    return [] if rows == ["ok"] else rows


# What this process found of each file: (its state on disk then, the damage sentence or
# None when whole), so that another Store on an unchanged file need not check it again.
_verdicts: dict[Path, tuple[tuple[int, ...], str | None]] = {}
_verdicts_lock = threading.Lock()


def _file_state(path: Path) -> tuple[int, ...] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def remember_verdict(path: Path, sentence: str | None) -> None:
    """Keep what a check (or an error code) found of a file as it is now."""
    state = _file_state(path)
    with _verdicts_lock:
        if state is not None:
            _verdicts[path] = (state, sentence)


def known_verdict(path: Path) -> tuple[bool, str | None]:
    """(True, the damage sentence or None when whole) when this process already knows the
    file as it is now; (False, None) when it must be checked."""
    with _verdicts_lock:
        found = _verdicts.get(path)
    if found is None or found[0] != _file_state(path):
        return False, None
    return True, found[1]


# --- what failures mean to a person -----------------------------------------------------

def explain(exc: BaseException, where: str) -> StoreError:
    """Turn a database exception into a sentence, sorting environment faults from bugs.

    Busy, read-only, full and corrupt databases are the environment's fault
    and get a message a person can act on; anything else is re-raised by the
    caller as a bug.
    """
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    code = damage_code(original)
    if code is not None:
        if code & 0xFF == sqlite3.SQLITE_NOTADB:
            return StoreError(f"The file {where} is not a Call Viewer database.")
        return DamagedError(f"The database {where} is damaged; restore it from a backup.")
    sentence = fault_sentence(original)
    if sentence is None:
        return StoreError(f"The database {where} could not be used: {original}.")
    if sentence is _READ_ONLY and _folder_read_only(where):
        sentence = _READ_ONLY_FOLDER.format(folder=Path(where).parent, where=where)
    return StoreError(sentence.format(where=where, detail=_last_clause(original)))


def fault_sentence(original: BaseException) -> str | None:
    """The sentence (with {where} and {detail} to fill) for an environment's fault, by the
    engine's code: SQLite's result code, PostgreSQL's SQLSTATE; by libpq's words only for
    what has no code (a connection that never reached a server). None: not the
    environment's fault."""
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _SQLITE_FAULTS:
        return _SQLITE_FAULTS[code & 0xFF]
    state = getattr(original, "sqlstate", None)
    if state:
        return _SQLSTATE_FAULTS.get(state) or _SQLSTATE_FAULTS.get(state[:2])
    text = str(original).lower()
    return next((sentence for needle, sentence in _ENVIRONMENT_FAULTS if needle in text),
                None)


_READ_ONLY_FOLDER = ("The folder {folder} of the database {where} is read-only (SQLite "
                     "writes its -wal and -shm files beside the database); make the folder "
                     "writable, or move the database to one that is.")


def _folder_read_only(where: str) -> bool:
    """True when an SQLite file may be written but its folder may not (not the file's fault)."""
    path = Path(where)
    return (path.is_file() and os.access(path, os.W_OK)
            and not os.access(path.parent, os.W_OK | os.X_OK))


def _last_clause(original: BaseException) -> str:
    # libpq's own words, after psycopg's and libpq's prefixes.
    lines = str(original).strip().splitlines()
    return _PREFIXES.sub("", lines[0]) if lines else ""


def is_environment_fault(exc: BaseException) -> bool:
    """True when a database exception is the environment's fault, not a bug."""
    if damage_code(exc) is not None:
        return True
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    return fault_sentence(original) is not None


# Matched in order, in the lower-cased message (a damaged SQLite file goes by its code,
# above): SQLite's first, then PostgreSQL's (libpq prefixes a server's refusal with
# "FATAL:  "; psycopg a failed connect with "connection failed").
_UNREACHABLE = ("The database server of {where} could not be reached; check its address "
                "and that it is running, then try again.")
_BUSY = "The database {where} is busy in another program; try again in a moment."
_READ_ONLY = "The database {where} is read-only; check the file's permissions."
_FULL = "The disk holding the database {where} is full; free some space and try again."
_REFUSED = ("The database {where} refused the user name or password; check them and try "
            "again.")
# SQLite's primary result codes (a damaged file's are DAMAGE_CODES, above).
_SQLITE_FAULTS = {
    sqlite3.SQLITE_BUSY: _BUSY,
    sqlite3.SQLITE_LOCKED: _BUSY,
    sqlite3.SQLITE_READONLY: _READ_ONLY,
    sqlite3.SQLITE_FULL: _FULL,
    sqlite3.SQLITE_IOERR: ("The database {where} could not be written (a disk error); "
                           "check the disk and free space."),
    sqlite3.SQLITE_CANTOPEN: ("The database {where} could not be opened; check that its "
                              "folder exists and is writable."),
}
# PostgreSQL's SQLSTATE codes, whole or by class (the first two characters).
_SQLSTATE_FAULTS = {
    "28P01": _REFUSED,
    "28000": ("The database server of {where} does not accept connections from this "
              "computer or user; ask its administrator."),
    "3D000": ("The database {where} does not exist on its server; check its name, or ask "
              "the server's administrator to create it."),
    "42501": ("The database {where} does not let this user change it; ask its "
              "administrator for access."),
    "25006": ("The database {where} is read-only for Call Viewer (a read-only user or "
              "server); ask its administrator."),
    "55P03": _BUSY,
    "53100": _FULL,
    "08": _UNREACHABLE,  # connection exceptions
    "57": _UNREACHABLE,  # the server shutting down, or gone
}
# Without a code: libpq's words for a connection that never reached a server, and
# SQLite's for a driver that gives no result code.
_ENVIRONMENT_FAULTS = (
    ("database is locked", "The database {where} is busy in another program; "
                           "try again in a moment."),
    ("readonly", "The database {where} is read-only; check the file's permissions."),
    ("read-only transaction", "The database {where} is read-only for Call Viewer (a "
                              "read-only user or server); ask its administrator."),
    ("read-only", "The database {where} is read-only; check the file's permissions."),
    ("disk is full", "The disk holding the database {where} is full; free some space "
                     "and try again."),
    ("no space left on device", "The disk holding the database {where} is full; free some "
                                "space and try again."),
    ("password authentication failed", "The database {where} refused the user name or "
                                       "password; check them and try again."),
    ('fatal:  role "', "The database {where} refused the user name or password; check them "
                       "and try again."),
    ('fatal:  database "', "The database {where} does not exist on its server; check its "
                           "name, or ask the server's administrator to create it."),
    ("no pg_hba.conf entry", "The database server of {where} does not accept connections "
                             "from this computer or user; ask its administrator."),
    ("permission denied", "The database {where} does not let this user change it; ask its "
                          "administrator for access."),
    ("lock timeout", "The database {where} is busy in another program; "
                     "try again in a moment."),
    ("no password supplied", "The database {where} asks for a password and none is kept for "
                             "it; enter it in Preferences (Team database) or give it in the "
                             "address."),
    ("does not support ssl", "The database server of {where} does not offer encrypted "
                             "connections, which its sslmode requires; ask its administrator, "
                             "or change sslmode."),
    ("certificate", "The database server of {where} could not be verified ({detail}); check "
                    "sslrootcert and the server's certificate."),
    ("invalid connection option", "The database address {where} has an option PostgreSQL "
                                  "does not know ({detail}); correct it and try again."),
    ("invalid uri query parameter", "The database address {where} has an option PostgreSQL "
                                    "does not know ({detail}); correct it and try again."),
    ("for connection option", "The database address {where} has an option with a value "
                              "PostgreSQL does not accept ({detail}); correct it and try again."),
    ("mode value", "The database address {where} has an option with a value PostgreSQL does "
                   "not accept ({detail}); correct it and try again."),
    ("connection failed", _UNREACHABLE),
    ("connection to server on socket", _UNREACHABLE),  # no server on this computer
    ("failed to resolve host", _UNREACHABLE),
    ("server closed the connection", _UNREACHABLE),
    ("terminating connection", _UNREACHABLE),
    ("consuming input failed", _UNREACHABLE),
    ("disk i/o error", "The database {where} could not be written (a disk error); "
                       "check the disk and free space."),
    ("unable to open", "The database {where} could not be opened; check that its "
                       "folder exists and is writable."),
)
