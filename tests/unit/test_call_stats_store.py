"""The calls' statistics in the store (issue 25, migration 0014), on SQLite and PostgreSQL:
each call has a row, unmeasured until the pass writes it; the figures round-trip; a new
transcript or a purge sets them back to unmeasured; an upgrade from 0013 gives every call
there a row; the list's sort by talk share follows the stored value and the call's time."""

from __future__ import annotations

from migrated import migrated

from callviewer import listing
from callviewer.columns import ROW_FIELDS
from callviewer.listing import ListSpec
from callviewer.record import message
from callviewer.store import Store
from callviewer.store.records import StoredStats

T0 = 1_700_000_000_000_000


def call(source_id: str, started_at: int, **more) -> dict:
    return {"source": "vapi", "source_id": source_id, "started_at": started_at,
            "duration_ms": 60_000, "transcript": [message("agent", "Hello."),
                                                  message("customer", "Hi.")], **more}


def test_statistics_round_trip_and_go_stale_with_their_call(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call("a", T0), call("b", T0 + 1), call("c", T0 + 2)])
        a, b, c = (store.calls.id_of("vapi", key) for key in "abc")
        assert store.stats.of(a) is None and store.calls.get(a).stats is None
        assert store.stats.unmeasured() == [a, b, c] and store.stats.unmeasured_count() == 3
        assert store.stats.unmeasured(after=a, limit=1) == [b]

        measured = StoredStats("channels", 31_000, 14_000, 9_000, 65_000, "agent", 2)
        store.stats.write_many([(a, measured), (b, StoredStats("none"))])
        kept = store.stats.of(a)
        assert kept.computed_at is not None
        assert (kept.origin, kept.agent_ms, kept.customer_ms, kept.silence_ms,
                kept.longest_monologue_ms, kept.longest_monologue_role,
                kept.interruptions) == ("channels", 31_000, 14_000, 9_000, 65_000, "agent", 2)
        assert kept.customer_share == 14_000 / 45_000
        assert store.calls.get(a).stats == kept  # the detail's read has them
        assert store.stats.of(b).origin == "none" and store.stats.of(b).customer_share is None
        assert store.stats.unmeasured() == [c]

        # The same record again changes nothing; a new transcript makes them stale.
        store.calls.write_records([call("a", T0)])
        assert store.stats.of(a) == kept
        store.calls.write_records([call("a", T0, transcript=[message("agent", "Bye.")])])
        assert store.stats.of(a) is None and a in store.stats.unmeasured()

        # A purge takes them too: the pass then finds nothing to measure.
        store.stats.write(b, measured)
        store.calls.write_records([{"source": "vapi", "source_id": "b", "is_purged": True}])
        assert store.stats.of(b) is None
        assert store.stats.inputs(b)[2] is True  # purged


def test_the_sort_by_talk_share_follows_the_stored_value_and_the_time(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(f"k{i}", T0 + i * 1000) for i in range(6)])
        ids = [store.calls.id_of("vapi", f"k{i}") for i in range(6)]
        shares = {ids[0]: (1000, 3000), ids[1]: (3000, 1000), ids[2]: (1000, 3000),
                  ids[3]: (2000, 2000)}  # ids[4] and ids[5] not measured
        store.stats.write_many([(i, StoredStats("transcript", agent, customer, 0, 0, None, 0))
                                for i, (agent, customer) in shares.items()])
        # A call's time changed at the source: the sort's tie-break follows it.
        store.calls.write_records([call("k0", T0 + 10_000)])
        conn = listing.connect(store.path or store.url)
        try:
            rows = listing.page(conn, ListSpec(sort="talk"), 0, 10)
            fresh = conn.execute(
                "SELECT s.call_id FROM call_stats AS s JOIN calls AS c ON c.id = s.call_id "
                "ORDER BY s.customer_share IS NULL, s.customer_share DESC, c.started_at DESC, "
                "c.id DESC").fetchall()
        finally:
            conn.close()
        assert [row[0] for row in rows] == [row[0] for row in fresh]
        assert [row[0] for row in rows] == [ids[0], ids[2], ids[3], ids[1], ids[5], ids[4]]
        share = ROW_FIELDS.index("customer_share")
        assert rows[0][share] == 0.75 and rows[-1][share] is None


def test_upgrading_from_0013_gives_every_call_a_row_to_measure(store_url):
    with migrated(store_url, "0013") as conn:
        conn.exec_driver_sql("INSERT INTO calls (source, source_id, started_at, imported_at) "
                             "VALUES ('vapi', 'v1', 5, 0)")
    with Store(store_url) as store:
        assert store.stats.unmeasured() == [1]
        store.calls.write_records([call("v2", T0)])
        assert store.stats.unmeasured_count() == 2
