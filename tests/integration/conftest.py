"""Shared by the window tests: demo databases on real SQLite files, and the real window."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CALLVIEWER_VLC_ARGS"] = "--aout=dummy"  # real VLC, in real time, no sound card

from callviewer.paths import demo_dir
from callviewer.store import Store
from callviewer.sync.importer import import_paths


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "calls.sqlite3"
    with Store(str(path)) as store:
        assert import_paths(store, [demo_dir()]).rejected == 0
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def db(demo_db, tmp_path):
    path = tmp_path / "calls.sqlite3"
    shutil.copy(demo_db, path)
    return path


TEMPLATE = "demo_template"  # a PostgreSQL database of the demo calls, to copy


@pytest.fixture(scope="session")
def demo_template(postgres):
    """A PostgreSQL database holding the demo calls, imported once, to copy per test."""
    postgres.sql(f"CREATE DATABASE {TEMPLATE}")
    with Store(postgres.url(TEMPLATE)) as store:
        assert import_paths(store, [demo_dir()]).rejected == 0
    return TEMPLATE


@pytest.fixture
def team_db(postgres, demo_template):
    """A team database with the demo calls, imported in the same order as the SQLite `db`
    fixture's, so both have the same ids."""
    name = postgres.database()
    postgres.drop(name)
    postgres.sql(f"CREATE DATABASE {name} TEMPLATE {demo_template}")
    yield postgres.url(name)
    postgres.drop(name)


@pytest.fixture
def api():
    """The calls API on loopback (tests/integration/fake_calls_api.py)."""
    from fake_calls_api import FakeCallsApi

    with FakeCallsApi() as server:
        yield server
