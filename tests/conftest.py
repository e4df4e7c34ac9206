"""Shared by every test: the engines the store runs on, SQLite files and a real PostgreSQL."""

from __future__ import annotations

import pytest
from pg_server import ENGINES, PostgresServer, ServerError


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    """Each test its own data and cache folders: no test reads or writes the person's calls
    (or a team database's cached recordings)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    """Each test its own config folder: tokens, settings and the chosen team database never
    reach the person's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the whole session (tests/pg_server.py). Without PostgreSQL
    installed its tests fail, never skip: CI installs it."""
    try:
        server = PostgresServer()
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres):
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name = postgres.database()
    yield postgres.url(name)
    postgres.drop(name)


@pytest.fixture(params=ENGINES)
def store_url(request, tmp_path):
    """Where a test's store lives: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "calls.sqlite3")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def tasks(qtbot):
    """A task runner for a dialog or widget tested without its window (ui/tasks.py)."""
    from callviewer.ui.tasks import TaskRunner

    runner = TaskRunner()
    yield runner
    runner.shutdown(10_000)


@pytest.fixture(autouse=True)
def collected_between_tests(request):
    """Collect a Qt test's garbage once it is over, between tests: a closed window's Python
    objects collected later, in the middle of the next window's paint, crashed the
    interpreter now and then. Tests without Qt leave none of that."""
    import gc

    yield
    if "qtbot" in request.fixturenames:
        gc.collect()
