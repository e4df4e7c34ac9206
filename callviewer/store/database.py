"""How the database is opened, and what its failures mean to a person."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from callviewer.dbfile import sqlite_path

BUSY_TIMEOUT_MS = 10_000
# Execution option marking a connection whose transactions will write.
WRITE_OPTION = "callviewer_write"
# PostgreSQL: the advisory lock a write transaction holds (a constant: "callview").
WRITE_LOCK = 0x63616C6C76696577
CONNECT_TIMEOUT_S = 10
_PREFIXES = re.compile(r"^(connection (is bad|failed): )?(connection to server .*? failed: )?")


class StoreError(Exception):
    """A database problem a person can act on; str() is the sentence to show."""


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


def explain(exc: BaseException, where: str) -> StoreError:
    """Turn a database exception into a sentence, sorting environment faults from bugs.

    Busy, read-only, full and corrupt databases are the environment's fault
    and get a message a person can act on; anything else is re-raised by the
    caller as a bug.
    """
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(original).lower()
    for needle, sentence in _ENVIRONMENT_FAULTS:
        if needle in text:
            return StoreError(sentence.format(where=where, detail=_last_clause(original)))
    return StoreError(f"The database {where} could not be used: {original}.")


def _last_clause(original: BaseException) -> str:
    # libpq's own words, after psycopg's and libpq's prefixes.
    lines = str(original).strip().splitlines()
    return _PREFIXES.sub("", lines[0]) if lines else ""


def is_environment_fault(exc: BaseException) -> bool:
    """True when a database exception is the environment's fault, not a bug."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(original).lower()
    return any(needle in text for needle, _ in _ENVIRONMENT_FAULTS)


# Matched in order, in the lower-cased message: SQLite's first, then PostgreSQL's (libpq
# prefixes a server's refusal with "FATAL:  "; psycopg a failed connect with
# "connection failed").
_UNREACHABLE = ("The database server of {where} could not be reached; check its address "
                "and that it is running, then try again.")
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
    ("failed to resolve host", _UNREACHABLE),
    ("server closed the connection", _UNREACHABLE),
    ("terminating connection", _UNREACHABLE),
    ("consuming input failed", _UNREACHABLE),
    ("disk i/o error", "The database {where} could not be written (a disk error); "
                       "check the disk and free space."),
    ("malformed", "The database {where} is damaged; restore it from a backup."),
    ("not a database", "The file {where} is not a Call Viewer database."),
    ("unable to open", "The database {where} could not be opened; check that its "
                       "folder exists and is writable."),
)
