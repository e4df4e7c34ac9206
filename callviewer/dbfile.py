"""Which database to open, whether an SQLite file is ready to read as it is, and whether
a team database answers.

Imports no SQLAlchemy: the window's first paint reads the list straight from an
up-to-date SQLite file and opens the store (SQLAlchemy, migrations) after it.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from callviewer.paths import data_dir

ENV_VAR = "CALLVIEWER_DB"
DEFAULT_FILENAME = "callviewer.sqlite3"
DEFAULT_PORT = 5432
# The team database chosen in Preferences: a URL without its password (which is kept in
# the keyring), in the window's QSettings file (organisation and application names as
# app.make_application sets them), read by the app (app.py `chosen_team_url`).
TEAM_DB_KEY = "database/team_url"
SETTINGS_ORGANIZATION = SETTINGS_APPLICATION = "callviewer"
# Every schema revision this version knows, oldest first; the last is the head.
# tests/unit/test_store.py checks this against the migration scripts.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009",
             "0010", "0011", "0012", "0013", "0014", "0015", "0016", "0017",
             "0018")
HEAD = REVISIONS[-1]


def resolve_url(given: str | None = None, chosen: str | None = None) -> str:
    """The database URL: ``--db`` if given, else $CALLVIEWER_DB, else `chosen` (the team
    database chosen in Preferences, which the app reads from its settings and passes
    in: app.py `database_url`), else the file in the user data folder.

    A plain path (not a URL) names an SQLite file. A PostgreSQL URL without a password
    gets the one kept in the keyring for it (`password_key`); its query options (sslmode,
    sslrootcert, connect_timeout, application_name...) pass through as given.
    """
    value = (given or os.environ.get(ENV_VAR) or (chosen or "").strip()
             or str(data_dir() / DEFAULT_FILENAME))
    if "://" not in value:
        return "sqlite:///" + str(Path(value).expanduser().resolve())
    return with_kept_password(value)


SUPPORTED = ("an SQLite file's path (or sqlite:///PATH) or a PostgreSQL address such as "
             "postgresql+psycopg://user@host:5432/dbname")
_DRIVERS = {"sqlite": ("", "pysqlite"), "postgresql": ("", "psycopg")}


def address_problem(url: str) -> str | None:
    """Why Call Viewer cannot use this database address, as one sentence naming what it
    can use; None for a usable one (an SQLite file, or PostgreSQL through psycopg)."""
    why = _unusable(url)
    return None if why is None else \
        f"The database address {shown_address(url)} {why}: give {SUPPORTED}."


def _unusable(url: str) -> str | None:
    """What is wrong with an address, as the end of a sentence; None when nothing is."""
    backend, _, driver = url.partition("://")[0].partition("+")
    if backend == "postgres":  # SQLAlchemy dropped this old spelling
        return "starts with postgres://, a spelling no longer read (write postgresql://)"
    if backend not in _DRIVERS:
        return "is not one Call Viewer can use"
    if driver not in _DRIVERS[backend]:
        return f"asks for the driver {driver}, which Call Viewer does not use"
    if backend == "sqlite":
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        if "IPv6" in str(exc):
            return "has a '[' without its ']' around the server's address"
        return "has a port that is not a number from 1 to 65535"
    if port == 0:  # urlsplit takes 0 to 65535
        return "has the port 0, which is no port (PostgreSQL's is 5432)"
    if not unquote(parts.path.lstrip("/")):
        return "names no database"
    return None


def shown_address(url: str) -> str:
    """The address with any password masked, whatever state it is in (even unparseable)."""
    try:
        return without_password(url)
    except ValueError:
        return re.sub(r"(://[^/@:]*):[^@/]*@", r"\1:***@", url)


def is_server_url(url: str) -> bool:
    """True for a PostgreSQL URL (``postgresql://`` or ``postgresql+driver://``)."""
    return url.partition("://")[0].split("+", 1)[0] in ("postgresql", "postgres")


def password_key(url: str) -> str | None:
    """What a PostgreSQL URL's password is kept under in the keyring:
    ``user@host:port/dbname`` (port 5432 when not given); None for other URLs."""
    if not is_server_url(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORT
    except ValueError:  # not a number, a '[' not closed: the store explains the URL
        return None
    user = unquote(parts.username or "")
    return f"{user}@{parts.hostname or 'localhost'}:{port}/{unquote(parts.path.lstrip('/'))}"


def without_password(url: str) -> str:
    """The URL with any password taken out (the rest, options included, as given)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}@{host}"))


def with_password(url: str, password: str) -> str:
    """The URL with this password in it (replacing any it had)."""
    parts = urlsplit(without_password(url))
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_kept_password(url: str) -> str:
    """A PostgreSQL URL with its password: the URL's own, else the keyring's, else none
    (libpq's own ways: a .pgpass file, PGPASSWORD, a trusted login). Either way the
    password is registered for the logs to mask. Other URLs as given."""
    key = password_key(url)
    if key is None:
        return url
    from callviewer.redaction import register_secret
    from callviewer.secrets import load_secret  # the keyring, lazily

    given = urlsplit(url).password
    if given is not None:
        register_secret(unquote(given))
        return url
    kept = load_secret(key)
    return with_password(url, kept) if kept else url


def check_team_database(url: str) -> tuple[bool, str]:
    """Connect to a server database without changing it: (True, how it stands) or
    (False, why not), one sentence each. Slow (a connect timeout): call it off the GUI
    thread."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import DBAPIError

    from callviewer.store.database import StoreError, explain, open_engine
    from callviewer.store.migrate import current_revision
    from callviewer.store.schema import calls

    where = password_key(url) or without_password(url)
    try:
        engine = open_engine(url)
    except Exception:  # a malformed address; SQLAlchemy's words would quote the password
        return False, (f"The database address {where} is not valid; check its server, port "
                       "and name.")
    try:
        revision = current_revision(engine)
        if revision is not None and revision not in REVISIONS:
            return False, (f"The database {where} was written by a newer version of Call "
                           "Viewer; update Call Viewer on this computer to use it.")
        if revision is None:
            return True, (f"Connected to {where}. It has no Call Viewer tables yet; they "
                          "will be created when you switch to it.")
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(calls)).scalar()
        upgrade = "" if revision == HEAD else " Its tables will be upgraded when you switch."
        return True, f"Connected to {where}: it holds {count:,} calls.{upgrade}"
    except StoreError as exc:
        return False, str(exc)
    except DBAPIError as exc:
        return False, str(explain(exc, where))
    finally:
        engine.dispose()


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL; None for other engines or an in-memory database.

    `sqlite:///relative`, `sqlite:////absolute` and SQLite URI filenames
    (`sqlite:///file:PATH?mode=ro&uri=true`), with or without a `+driver`.
    """
    scheme, _, rest = url.partition("://")
    if scheme.split("+", 1)[0] != "sqlite" or not rest.startswith("/"):
        return None
    database = rest[1:].split("?", 1)[0]
    if database.startswith("file:"):
        database = database[len("file:"):]
    if database in ("", ":memory:"):
        return None
    return Path(database)


def is_current(path: Path) -> bool:
    """True when `path` is an SQLite file already at this version's schema: it can be read
    before the store has opened it. Anything else (no file, an older or newer schema, not
    a database) is for the store to create, upgrade or explain."""
    if not path.is_file():
        return False
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return row is not None and row[0] == HEAD
