"""The store's sync side: schema 0004, recording states, connections, pages, the archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from callviewer.dbfile import resolve_url
from callviewer.store import Store, StoreError
from callviewer.store.database import open_engine
from callviewer.store.migrate import MIGRATIONS
from callviewer.store.recordings import archive_dir, next_state

SIGNED = "https://cdn.example/rec/a.mp3?X-Amz-Signature=abc123&X-Amz-Expires=3600"


def call(source_id="c1", **fields):
    return {"source": "agent-platform", "source_id": source_id, **fields}


def state_of(store: Store, source_id: str = "c1") -> str:
    return store.archive.info(store.calls.id_of("agent-platform", source_id)).state


def test_upgrading_from_0003_gives_every_call_its_recording_state(store_url, tmp_path):
    engine = open_engine(resolve_url(store_url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        for n, (recording, purged) in enumerate([(None, False), (SIGNED, False),
                                                 ("/srv/a.mp3", False), (None, True),
                                                 ("", False)]):
            conn.execute(text(
                "INSERT INTO calls (source, source_id, recording, is_purged, imported_at) "
                "VALUES ('vapi', :id, :recording, :purged, 0)"),
                {"id": f"v{n}", "recording": recording, "purged": purged})
    engine.dispose()
    with Store(store_url) as store, store.reading() as conn:
        states = conn.exec_driver_sql(
            "SELECT recording_state FROM calls ORDER BY source_id").scalars().all()
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM calls WHERE recording_state = 'archived' "
                "ORDER BY started_at DESC, id DESC LIMIT 50").all()
    assert states == ["none", "at_source", "archived", "purged", "none"]
    if sqlite:
        assert "ix_calls_recording_state" in str(plan) and "TEMP B-TREE" not in str(plan)
        assert (tmp_path / "calls.sqlite3.schema-0003.bak").is_file()


@pytest.mark.parametrize(("row", "before", "expected"), [
    ({"recording": None}, None, "none"),
    ({"recording": SIGNED}, None, "at_source"),
    ({"recording": "/data/a.mp3"}, None, "archived"),
    ({"recording": "file:///watched/a.mp3"}, None, "at_source"),
    ({"recording": SIGNED, "is_purged": True}, None, "purged"),
    ({"recording": None}, {"recording_state": "at_source", "recording": SIGNED}, "gone"),
    ({"recording": None}, {"recording_state": "none", "recording": None}, "none"),
    ({"recording": SIGNED}, {"recording_state": "link_expired", "recording": SIGNED},
     "link_expired"),
    ({"recording": SIGNED + "&new"}, {"recording_state": "link_expired", "recording": SIGNED},
     "at_source"),
    ({"recording": None}, {"recording_state": "archived", "recording": "/a/x.mp3"}, "archived"),
    ({"recording": None, "is_purged": True},
     {"recording_state": "archived", "recording": "/a/x.mp3"}, "purged"),
])
def test_the_recording_state_rule(row, before, expected):
    row = {"is_purged": False, "has_recording": bool(row["recording"]), **row}
    assert next_state(row, before) == expected
    if expected == "archived" and before:
        assert row["recording"] == before["recording"]  # our copy is what plays


def test_archive_folder_rule(tmp_path):
    data = tmp_path / "data"
    default = data / "callviewer.sqlite3"
    assert archive_dir(default, data, default) == data / "recordings"
    assert archive_dir(None, data, default) == data / "recordings"  # PostgreSQL
    other = tmp_path / "team" / "calls.db"
    assert archive_dir(other, data, default) == tmp_path / "team" / "calls.db.recordings"
    assert archive_dir(data / "second.sqlite3", data, default) == \
        data / "second.sqlite3.recordings"


def test_imports_keep_the_state_in_step_and_an_archived_copy_stays(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(recording=SIGNED, has_recording=True, updated_at=1)])
        assert state_of(store) == "at_source"
        call_id = store.calls.id_of("agent-platform", "c1")
        with store.writing() as conn:  # as the downloader leaves it
            conn.execute(text("INSERT INTO recordings (call_id, path, size) "
                              "VALUES (:id, 'agent-platform/c1.mp3', 3)"), {"id": call_id})
        archived = store.archive.folder / "agent-platform" / "c1.mp3"
        archived.parent.mkdir(parents=True)
        archived.write_bytes(b"mp3")
        with store.writing() as conn:
            conn.execute(text("UPDATE calls SET recording_state = 'archived', "
                              "recording = :path WHERE id = :id"),
                         {"path": str(archived), "id": call_id})
        # The source's recording goes (retention): ours stays and plays.
        counts = store.calls.write_records([call(recording=None, has_recording=False,
                                                 updated_at=2)])
        assert counts.updated == 1 and state_of(store) == "archived"
        assert store.archive.recording(call_id) == str(archived)
        # A purge removes the file with the rest.
        store.calls.write_records([call(is_purged=True, updated_at=3)])
        assert state_of(store) == "purged" and store.archive.recording(call_id) is None
        assert not archived.exists()
        assert store.archive.state_counts() == {
            "none": 0, "at_source": 0, "archived": 0, "link_expired": 0, "gone": 0, "purged": 1}


def test_exports_never_carry_a_signed_links_query(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(recording=SIGNED, has_recording=True)])
        [record] = list(store.calls.export())
    assert record["recording"] == "https://cdn.example/rec/a.mp3"


def test_connections_are_named_once_and_removed_with_their_state(store_url):
    with Store(store_url) as store:
        row = store.sync.add_connection("main", "calls-api", {"url": "https://api.example"})
        assert row.status == "never" and row.secret_key.startswith("connection-")
        assert "token" not in str(row.settings)
        with pytest.raises(StoreError, match="already a connection named 'main'"):
            store.sync.add_connection("main", "folder", {"folder": "/x"})
        store.sync.commit_page(row.id, [call(recording=SIGNED, has_recording=True)],
                          cursor={"since": "2026-01-01T00:00:00Z", "pass": None},
                          files=[("a.json", 10, 20, "ff")])
        store.sync.set_status(row.id, status="ok", last_sync_at=5, last_summary={"new": 1})
        found = store.sync.connection("main")
        assert found.cursor["since"] == "2026-01-01T00:00:00Z"
        assert (found.status, found.last_summary) == ("ok", {"new": 1})
        assert store.sync.fingerprints(row.id) == {"a.json": (10, 20, "ff")}
        assert [item.source_ref for item in store.archive.wanted(row.id)] == [SIGNED]
        store.sync.remove_connection("main")
        assert store.sync.connections() == [] and store.calls.id_of("agent-platform", "c1")
        with pytest.raises(StoreError, match="no connection named 'main'"):
            store.sync.remove_connection("main")
        with store.reading() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM watched_files").scalar() == 0


def test_a_page_and_its_cursor_are_committed_together_or_not_at_all(store_url):
    with Store(store_url) as store:
        row = store.sync.add_connection("main", "calls-api", {"url": "https://api.example"})
        broken = [call("ok"), {"source": "agent-platform", "source_id": None}]
        with pytest.raises(IntegrityError):
            store.sync.commit_page(row.id, broken, cursor={"since": "x"})
        assert store.sync.connection("main").cursor is None
        assert store.calls.id_of("agent-platform", "ok") is None


def test_the_eviction_plan_spares_recent_plays_and_the_only_copies(store_url):
    with Store(store_url) as store:
        row = store.sync.add_connection("main", "calls-api", {"url": "https://api.example"})
        ids = []
        for n in range(4):
            store.sync.commit_page(row.id, [call(f"c{n}", recording=f"{SIGNED}&n={n}",
                                               has_recording=True)])
            ids.append(store.calls.id_of("agent-platform", f"c{n}"))
            path = f"agent-platform/c{n}.mp3"
            (store.archive.folder / "agent-platform").mkdir(parents=True, exist_ok=True)
            (store.archive.folder / path).write_bytes(b"x" * 100)
            assert store.archive.archived(ids[-1], path, 100, "digest")
        store.sync.commit_page(row.id, [call("c3", recording=None, has_recording=False,
                                           updated_at=9)])  # the source's copy is gone
        store.calls.mark_played(ids[0])
        assert store.archive.size() == (4, 400)
        assert store.archive.eviction_plan(None) == [] and store.archive.cap() is None
        assert [r.source_id for r in store.archive.eviction_plan(250)] == ["c1", "c2"]
        assert [r.source_id for r in store.archive.eviction_plan(0)] == ["c1", "c2", "c0"]
        store.archive.set_cap(350)
        assert [r.source_id for r in store.archive.eviction_plan()] == ["c1"]
        assert store.archive.info(ids[3]).source_gone is True
        assert Path(store.archive.recording(ids[0])).read_bytes() == b"x" * 100


def test_a_download_finished_after_a_purge_is_not_accepted(store_url):
    with Store(store_url) as store:
        row = store.sync.add_connection("main", "calls-api", {"url": "https://api.example"})
        store.sync.commit_page(row.id, [call(recording=SIGNED, has_recording=True)])
        call_id = store.calls.id_of("agent-platform", "c1")
        store.calls.write_records([call(is_purged=True, updated_at=5)])
        assert not store.archive.archived(call_id, "agent-platform/c1.mp3", 1, "d")
        assert store.archive.recording(call_id) is None and state_of(store) == "purged"


def test_a_new_database_has_the_sync_tables(store_url):
    with Store(store_url) as store, store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert {"sync_connections", "sync_state", "watched_files", "recordings",
            "store_settings"} <= tables
