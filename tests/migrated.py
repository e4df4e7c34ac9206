"""A test database moved up to a given schema revision by its own migrations, for the
tests of what an upgrade does to the rows already there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config

from callviewer.store.database import open_engine
from callviewer.store.migrate import MIGRATIONS


def engine_url(store_url: str) -> str:
    """The `store_url` fixture's value as an engine URL (it is a path for SQLite)."""
    store_url = str(store_url)  # or an SQLite file's Path
    return store_url if "://" in store_url else f"sqlite:///{store_url}"


@contextmanager
def migrated(store_url: str, revision: str, move=command.upgrade) -> Iterator:
    """The database at `store_url` (a URL, or an SQLite file's path) moved to `revision`
    by its migrations (`move`: command.upgrade or command.downgrade), and the connection
    that did it, in its transaction."""
    engine = open_engine(engine_url(store_url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            move(config, revision)
            yield conn
    finally:
        engine.dispose()
