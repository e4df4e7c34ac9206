"""Bring a database to this version's schema, refusing newer ones and backing up older ones."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from callviewer.dbfile import HEAD, REVISIONS
from callviewer.store.database import WRITE_OPTION, StoreError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaTooNewError(StoreError):
    """The database was written by a newer Call Viewer."""


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database; None when it has no schema yet."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            if inspect(conn).has_table("calls"):
                raise StoreError("This database was not made by Call Viewer "
                                 "(it has a calls table but no schema version).")
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine, where: str, sqlite_file: Path | None) -> None:
    """Create or upgrade the schema; refuse a database from a newer version untouched."""
    revision = current_revision(engine)
    if revision == HEAD:
        return
    if revision is not None and revision not in REVISIONS:
        raise SchemaTooNewError(
            f"The database {where} was written by a newer version of Call Viewer "
            f"(schema {revision}); update Call Viewer to open it. It was left unchanged.")
    if revision is not None and sqlite_file is not None:
        backup = backup_sqlite(sqlite_file, revision)
        log.info("Backed up %s to %s before upgrading from schema %s", where, backup, revision)
    _upgrade(engine)


def backup_sqlite(path: Path, revision: str) -> Path:
    """Copy an SQLite database (consistently, through SQLite's backup API) beside itself."""
    target = path.with_name(f"{path.name}.schema-{revision}.bak")
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        copy.close()
    finally:
        source.close()
    return target


def _upgrade(engine: Engine) -> None:
    # Alembic is imported only here: opening an up-to-date database never pays for it.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # As a writer: two desktops opening a new team database at once take turns, and the
    # second finds the schema made (alembic reads the revision again under the lock).
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
