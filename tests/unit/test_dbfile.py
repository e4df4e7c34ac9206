"""Which database to open and whether its file is ready, without SQLAlchemy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from memory_keyring import use_memory_keyring
from PySide6.QtCore import QSettings
from sqlalchemy.engine import make_url

from callviewer.dbfile import (
    HEAD,
    REVISIONS,
    TEAM_DB_KEY,
    is_current,
    password_key,
    resolve_url,
    sqlite_path,
)
from callviewer.secrets import save_secret
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


def test_the_team_database_chosen_is_passed_in_and_comes_after_db_and_the_environment(
        tmp_path, monkeypatch):
    monkeypatch.delenv("CALLVIEWER_DB", raising=False)
    team = "postgresql+psycopg://ann@db.example.com/calls"
    assert resolve_url(None, team) == team
    assert resolve_url(None, "  ") == resolve_url()  # none chosen: this computer's file
    assert resolve_url(str(tmp_path / "a.sqlite3"), team).endswith("/a.sqlite3")
    monkeypatch.setenv("CALLVIEWER_DB", "postgresql+psycopg://bob@other/calls")
    assert resolve_url(None, team) == "postgresql+psycopg://bob@other/calls"


@pytest.fixture
def settings_home(tmp_path, monkeypatch):
    """The window's settings file and the secrets' fallback file in this test's config
    folder, and no system keyring."""
    folder = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    monkeypatch.delenv("CALLVIEWER_DB", raising=False)
    # Qt reads XDG_CONFIG_HOME once per process; setPath moves it for this test.
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(folder))
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield folder
    keyring.set_keyring(before)


def choose_in_preferences(url: str | None) -> None:
    settings = QSettings("callviewer", "callviewer")
    settings.setValue(TEAM_DB_KEY, url or "")
    settings.sync()


def test_the_preferences_choice_comes_after_db_and_the_environment(settings_home,
                                                                    monkeypatch):
    from callviewer.app import database_url  # the app reads the window's settings

    default = database_url(None)
    assert default.startswith("sqlite:///") and default.endswith("callviewer.sqlite3")
    team = "postgresql+psycopg://ann@db.example.com:5433/calls?sslmode=require"
    choose_in_preferences(team)
    assert (settings_home / "callviewer" / "callviewer.conf").is_file()
    assert database_url(None) == team
    monkeypatch.setenv("CALLVIEWER_DB", "postgresql+psycopg://bob@other/calls")
    assert database_url(None) == "postgresql+psycopg://bob@other/calls"
    assert database_url("given.sqlite3").endswith("/given.sqlite3")
    monkeypatch.delenv("CALLVIEWER_DB")
    choose_in_preferences(None)  # this computer's own file again
    assert database_url(None) == default


def test_a_postgresql_url_without_a_password_gets_the_one_kept_for_it(settings_home):
    memory, before = use_memory_keyring()
    try:
        url = ("postgresql+psycopg://ann@db.example.com:5433/calls?sslmode=verify-full"
               "&sslrootcert=/etc/team/root.crt&connect_timeout=4&application_name=desk-1")
        assert password_key(url) == "ann@db.example.com:5433/calls"
        assert resolve_url(url) == url  # nothing kept yet: libpq's own ways (.pgpass)
        said = save_secret("ann@db.example.com:5433/calls", "p@ss:w/rd?", what="password")
        assert said == "The password was saved in the system keyring."
        resolved = resolve_url(url)
        parsed = make_url(resolved)
        assert parsed.password == "p@ss:w/rd?" and parsed.username == "ann"
        assert (parsed.host, parsed.port, parsed.database) == ("db.example.com", 5433, "calls")
        assert dict(parsed.query) == {"sslmode": "verify-full",
                                      "sslrootcert": "/etc/team/root.crt",
                                      "connect_timeout": "4", "application_name": "desk-1"}
        # Another database, user or port has a password of its own.
        for other in ("postgresql+psycopg://bob@db.example.com:5433/calls",
                      "postgresql+psycopg://ann@db.example.com/calls",
                      "postgresql://ann@db.example.com:5433/other"):
            assert make_url(resolve_url(other)).password is None, other
        # A password in the URL wins and is not kept anywhere.
        given = "postgresql+psycopg://ann:typed-here@db.example.com:5433/calls"
        assert resolve_url(given) == given
        assert list(memory.kept.values()) == ["p@ss:w/rd?"]
        assert not (settings_home / "callviewer" / "tokens.json").exists()
    finally:
        keyring.set_keyring(before)


def test_without_a_keyring_the_password_comes_from_the_users_own_file(settings_home):
    said = save_secret("ann@localhost:5432/calls", "kept-in-file", what="password")
    assert said.startswith("No system keyring is available, so the password was saved in ")
    assert make_url(resolve_url("postgresql://ann@localhost/calls")).password == "kept-in-file"


def test_the_kept_password_opens_the_team_database(settings_home, postgres, postgres_url):
    from pg_server import PASSWORD, USER

    bare = f"postgresql+psycopg://{USER}@127.0.0.1:{postgres.port}/{make_url(postgres_url).database}"
    save_secret(password_key(bare), PASSWORD, what="password")
    choose_in_preferences(bare + "?application_name=callviewer-test&connect_timeout=5")
    from callviewer.app import database_url  # the app reads the window's settings

    with Store(database_url(None)) as store, store.reading() as conn:
        assert conn.exec_driver_sql("SHOW application_name").scalar() == "callviewer-test"
        assert PASSWORD not in store.where and "callviewer-test" in store.where


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


@pytest.mark.parametrize("url", ["postgresql+psycopg://ann:s3cret-pw@host:notaport/calls",
                                 "postgresql+nodriver://ann:s3cret-pw@127.0.0.1:1/calls"])
def test_a_malformed_team_address_is_one_sentence_without_the_password(url):
    from callviewer.dbfile import check_team_database

    reached, sentence = check_team_database(url)
    assert not reached and sentence.startswith("The database address ")
    assert sentence.endswith(" is not valid; check its server, port and name.")
    assert "s3cret-pw" not in sentence
