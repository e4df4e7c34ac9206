"""Each new call's row of call_stats is written with the call by the store's code (migration
0015, issue 26), no longer by an AFTER INSERT trigger, on SQLite and PostgreSQL: every way
a call is made still gives it its row, unmeasured, with its time; the update triggers
stay; an upgrade from 0014 drops the insert trigger and a downgrade makes it again."""

from __future__ import annotations

import orjson
from alembic import command
from migrated import migrated

from callviewer.record import message
from callviewer.store import Store
from callviewer.store.records import StoredStats
from callviewer.sync.importer import import_paths

T0 = 1_700_000_000_000_000


def call(source_id: str, started_at: int | None = T0, **more) -> dict:
    return {"source": "vapi", "source_id": source_id, "started_at": started_at,
            "duration_ms": 60_000, "transcript": [message("agent", "Hello.")], **more}


def triggers_on_calls(conn) -> set[str]:
    """The names of the triggers that write call_stats when a call is inserted. (On
    PostgreSQL calls_done_by_insert stays: a team's guard, run only for a done_by an import
    never sets.)"""
    if conn.dialect.name == "postgresql":
        return set(conn.exec_driver_sql(
            "SELECT t.tgname FROM pg_trigger AS t JOIN pg_proc AS p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'calls'::regclass AND NOT t.tgisinternal "
            "AND (t.tgtype & 4) <> 0 "  # 4: TRIGGER_TYPE_INSERT
            "AND pg_get_functiondef(p.oid) LIKE '%%INSERT INTO call_stats%%'").scalars())
    return {name for name, sql in conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'calls'")
        if "INSERT ON CALLS" in " ".join(sql.upper().split()) and "call_stats" in sql}


def stats_rows(conn) -> dict[int, tuple]:
    """call id: (its row's call_started_at, computed_at) for every call; (None, "missing")
    when it has no row."""
    return {call_id: (started, computed) if present else (None, "missing")
            for call_id, present, started, computed in conn.exec_driver_sql(
                "SELECT c.id, s.call_id IS NOT NULL, s.call_started_at, s.computed_at "
                "FROM calls AS c LEFT JOIN call_stats AS s ON s.call_id = c.id")}


def test_every_way_a_call_is_made_gives_it_its_row_and_no_trigger_makes_it(store_url,
                                                                          tmp_path):
    with Store(store_url) as store:
        with store.reading() as conn:
            assert triggers_on_calls(conn) == set()
        # A batch of new calls, one of them twice (made, then changed, in one batch).
        store.calls.write_records([call("a", T0), call("b", T0 + 1),
                                   call("b", T0 + 2, updated_at=T0 + 5), call("n", None)])
        # A recording that came before its call waits; the call, when it comes, gets a row.
        store.calls.write_records([{"source": "vapi", "source_id": "late", "attach_only": True,
                                    "recording": "https://rec.example/late.mp3",
                                    "has_recording": True}])
        store.calls.write_records([call("late", T0 + 3)])
        # A sync's page.
        connection = store.sync.add_connection("main", "calls-api", {"url": "https://x.example"})
        store.sync.commit_page(connection.id, [call("synced", T0 + 4)])
        # A file imported.
        source = tmp_path / "calls.ndjson"
        source.write_bytes(orjson.dumps({
            "id": "f1", "call_id": "lk-1", "customer_name": "Ann Lee",
            "created_at": "2023-11-14T22:13:20Z", "updated_at": "2023-11-14T22:13:20Z",
            "duration": 30, "disconnection_reason": "user_hangup",
            "transcript": [{"role": "agent", "text": "Hello"}]}) + b"\n")
        assert import_paths(store, [source]).counts.new == 1
        ids = {key: store.calls.id_of(source_name, key) for source_name, key in (
            ("vapi", "a"), ("vapi", "b"), ("vapi", "n"), ("vapi", "late"), ("vapi", "synced"),
            ("agent-platform", "f1"))}
        with store.reading() as conn:
            rows = stats_rows(conn)
        assert rows == {
            ids["a"]: (T0, None), ids["b"]: (T0 + 2, None), ids["n"]: (None, None),
            ids["late"]: (T0 + 3, None), ids["synced"]: (T0 + 4, None),
            ids["f1"]: (1_700_000_000_000_000, None)}
        assert store.stats.unmeasured() == sorted(ids.values())

        # The update triggers are kept: a new time follows, a new transcript unmeasures.
        store.stats.write(ids["a"], StoredStats("transcript", 1000, 3000, 0, 0, None, 0))
        store.calls.write_records([call("a", T0 + 9, updated_at=T0 + 9,
                                        transcript=[message("agent", "Bye.")])])
        with store.reading() as conn:
            assert stats_rows(conn)[ids["a"]] == (T0 + 9, None)
        # The same records again change nothing.
        assert store.calls.write_records([call("n", None)]).unchanged == 1
        with store.reading() as conn:
            assert len(stats_rows(conn)) == 6


def rows_made(conn) -> list[tuple]:
    """Every call's (call_started_at, computed_at) of its row, in the calls' order."""
    return [row for _id, row in sorted(stats_rows(conn).items())]


def insert_raw(conn, source_id: str, started_at: int) -> None:
    conn.exec_driver_sql("INSERT INTO calls (source, source_id, started_at, imported_at) "
                         f"VALUES ('vapi', '{source_id}', {started_at}, 0)")


def test_the_upgrade_drops_the_insert_trigger_and_a_downgrade_makes_it_again(store_url):
    with migrated(store_url, "0014") as conn:
        assert triggers_on_calls(conn) != set()
        insert_raw(conn, "before", 5)  # its row made by 0014's trigger
    with Store(store_url) as store:  # up to the head
        with store.writing() as conn:
            assert triggers_on_calls(conn) == set()
            insert_raw(conn, "raw", 6)  # no trigger now: no row (the store's code writes it)
        store.calls.write_records([call("written", 7)])
        with store.reading() as conn:
            assert rows_made(conn) == [(5, None), (None, "missing"), (7, None)]
    with migrated(store_url, "0014", command.downgrade) as conn:
        assert triggers_on_calls(conn) != set()
        assert rows_made(conn) == [(5, None), (6, None), (7, None)]
        insert_raw(conn, "after", 8)
        assert rows_made(conn) == [(5, None), (6, None), (7, None),
                                                      (8, None)]
    with Store(store_url) as store, store.reading() as conn:  # and up again
        assert triggers_on_calls(conn) == set()
