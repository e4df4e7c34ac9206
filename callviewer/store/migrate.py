"""Bring a database to this version's schema, refusing newer ones and backing up older ones."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
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
    """Create or upgrade the schema; refuse a database from a newer version untouched.

    An SQLite file is copied beside itself before an upgrade, and put back from that copy
    when the upgrade fails; either way the failure is a StoreError saying so.
    """
    revision = current_revision(engine)
    if revision == HEAD:
        return
    if revision is not None and revision not in REVISIONS:
        raise SchemaTooNewError(
            f"The database {where} was written by a newer version of Call Viewer "
            f"(schema {revision}); update Call Viewer to open it. It was left unchanged.")
    backups: list[Path] = []

    def back_up() -> None:
        if revision is not None and sqlite_file is not None:
            backups.append(backup_sqlite(sqlite_file, revision))
            log.info("Backed up %s to %s before upgrading from schema %s", where, backups[0],
                     revision)

    try:
        _upgrade(engine, back_up)
    except Exception as exc:
        if revision is None or (not backups and _is_busy(exc)):
            raise  # a new database, or one busy before anything was copied or changed
        log.info("Upgrading %s from schema %s failed", where, revision, exc_info=True)
        engine.dispose()
        raise _upgrade_failed(exc, where, revision, sqlite_file, backups) from exc


def _is_busy(exc: Exception) -> bool:
    return "database is locked" in str(exc) or "lock timeout" in str(exc)


def _upgrade_failed(exc: Exception, where: str, revision: str, sqlite_file: Path | None,
                    backups: list[Path]) -> StoreError:
    """The sentence for a failed upgrade, after putting the copy made before it back."""
    from callviewer.store.database import explain, is_environment_fault

    failed = f"Upgrading the database {where} from schema {revision} failed"
    if is_environment_fault(exc):
        why, advice = "", f": {explain(exc, where)}"
    else:
        why = f" ({_first_line(exc)})"
        advice = "; please report this to Call Viewer's developers."
    if sqlite_file is None or not backups:
        # PostgreSQL runs the whole upgrade in one transaction, rolled back on failure.
        return StoreError(f"{failed}{why}; the upgrade was undone, so the database is as it "
                          f"was{advice}")
    try:
        restore_sqlite(backups[0], sqlite_file)
    except sqlite3.Error as restore:
        log.error("Restoring %s from %s failed: %s", sqlite_file, backups[0], restore)
        return StoreError(f"{failed}{why}, and putting back the copy made before it failed "
                          f"too ({restore}); copy {backups[0]} over {sqlite_file} before "
                          "using it.")
    return StoreError(f"{failed}{why}, so it was restored from the copy made before the "
                      f"upgrade ({backups[0]}) and is as it was{advice}")


def _first_line(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def backup_sqlite(path: Path, revision: str) -> Path:
    """Copy an SQLite database (consistently, through SQLite's backup API) beside itself."""
    target = path.with_name(f"{path.name}.schema-{revision}.bak")
    _copy_sqlite(path, target)
    return target


def restore_sqlite(backup: Path, path: Path) -> None:
    """Put a backup's content back into the database file (through SQLite, so its WAL and
    any reader stay consistent)."""
    _copy_sqlite(backup, path)


def _copy_sqlite(source_path: Path, target_path: Path) -> None:
    source = sqlite3.connect(source_path)
    try:
        copy = sqlite3.connect(target_path)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()


def _upgrade(engine: Engine, before: Callable[[], None]) -> None:
    """Run the migrations in one write transaction, `before()` first within it: the backup
    is taken under the write lock, so nothing is written between it and the upgrade."""
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
            before()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
