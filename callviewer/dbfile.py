"""Which database to open, and whether an SQLite file is ready to read as it is.

Imports no SQLAlchemy: the window's first paint reads the list straight from an
up-to-date SQLite file and opens the store (SQLAlchemy, migrations) after it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from callviewer.paths import data_dir

ENV_VAR = "CALLVIEWER_DB"
DEFAULT_FILENAME = "callviewer.sqlite3"
# Every schema revision this version knows, oldest first; the last is the head.
# tests/unit/test_store.py checks this against the migration scripts.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")
HEAD = REVISIONS[-1]


def resolve_url(given: str | None = None) -> str:
    """The database URL: ``--db`` if given, else $CALLVIEWER_DB, else the user data folder.

    A plain path (not a URL) names an SQLite file.
    """
    value = given or os.environ.get(ENV_VAR) or str(data_dir() / DEFAULT_FILENAME)
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


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
