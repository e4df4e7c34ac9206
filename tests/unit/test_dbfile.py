"""Which database to open and whether its file is ready, without SQLAlchemy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from callviewer.dbfile import HEAD, REVISIONS, is_current, resolve_url, sqlite_path
from callviewer.store import Store

URLS = (
    "sqlite:///calls.sqlite3",
    "sqlite:////abs/dir/calls.sqlite3",
    "sqlite+pysqlite:////abs/calls.sqlite3",
    "sqlite:///file:/abs/calls.sqlite3?mode=ro&uri=true",
    "sqlite:///C:\\Users\\me\\calls.sqlite3",
    "sqlite://",
    "sqlite:///:memory:",
    "postgresql+psycopg://me@localhost:5432/calls",
)


@pytest.mark.parametrize("url", URLS)
def test_the_file_of_a_url_is_the_one_sqlalchemy_opens(url):
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        assert sqlite_path(url) is None
    else:
        expected = parsed.database.removeprefix("file:")
        assert sqlite_path(url) == Path(expected)


def test_a_plain_path_or_the_environment_names_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv("CALLVIEWER_DB", raising=False)
    assert resolve_url(str(tmp_path / "a.sqlite3")) == f"sqlite:///{tmp_path / 'a.sqlite3'}"
    monkeypatch.setenv("CALLVIEWER_DB", "postgresql+psycopg://me@host/calls")
    assert resolve_url() == "postgresql+psycopg://me@host/calls"
    assert resolve_url("sqlite:///given.db") == "sqlite:///given.db"  # --db wins


def write_revision(path: Path, revision: str | None) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        if revision is not None:
            conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    conn.close()


def test_only_a_file_at_this_schema_is_read_before_the_store_opens(tmp_path):
    current = tmp_path / "current.sqlite3"
    Store(str(current)).close()
    assert is_current(current)
    missing = tmp_path / "missing.sqlite3"
    assert not is_current(missing) and not missing.exists()  # not created
    older, newer, blank = (tmp_path / f"{n}.sqlite3" for n in ("older", "newer", "blank"))
    write_revision(older, REVISIONS[0])
    write_revision(newer, "9999")
    write_revision(blank, None)
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all, just text" * 10)
    for path in (older, newer, blank, empty, junk):
        assert not is_current(path), path
    assert HEAD == REVISIONS[-1] != REVISIONS[0]
