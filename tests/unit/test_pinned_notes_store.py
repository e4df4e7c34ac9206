"""Notes pinned to a moment of the recording (issue 24), on SQLite and PostgreSQL: the
store keeps a note's place through add, update, delete and Undo; search finds a pinned
note's text like any note's; migration 0013 gives the notes already there no place."""

from __future__ import annotations

from migrated import migrated

from callviewer import listing
from callviewer.listing import ListSpec
from callviewer.store import Store

CALL = {"source": "agent-platform", "source_id": "c1", "started_at": 1_700_000_000_000_000,
        "outcome": "completed", "summary": "leaking tap"}


def test_a_pinned_note_keeps_its_place_through_every_write(store_url):
    with Store(store_url) as store:
        store.calls.write_records([dict(CALL)])
        call_id = store.calls.id_of("agent-platform", "c1")
        pinned = store.notes.add(call_id, "dana", "Asked for the manager here", "k1",
                                 position_ms=102_400)
        plain = store.notes.add(call_id, "dana", "Sent the quote")
        assert {n.id: n.position_ms for n in store.notes.of(call_id)} == {
            pinned: 102_400, plain: None}
        # The detail's read has it too.
        assert {n.id: n.position_ms for n in store.calls.get(call_id).notes} == {
            pinned: 102_400, plain: None}
        # A save tried again (its answer lost) is the same note, in the same place.
        assert store.notes.add(call_id, "dana", "Asked for the manager here", "k1",
                               position_ms=102_400) == pinned
        # Editing its text keeps its place; a place given moves it.
        store.notes.update(pinned, "dana", "Asked for the manager, twice")
        assert store.notes.of(call_id)[0].position_ms == 102_400
        store.notes.update(pinned, "dana", "Asked for the manager, twice", position_ms=95_000)
        assert store.notes.of(call_id)[0].position_ms == 95_000
        # Deleted, then brought back by Undo: in its place still.
        gone = store.notes.delete(pinned, "dana")
        assert gone.position_ms == 95_000
        assert [n.id for n in store.notes.of(call_id)] == [plain]
        store.notes.restore(gone)
        assert {n.body: n.position_ms for n in store.notes.of(call_id)} == {
            "Asked for the manager, twice": 95_000, "Sent the quote": None}


def test_search_finds_a_pinned_notes_text(store_url):
    with Store(store_url) as store:
        store.calls.write_records([dict(CALL)])
        call_id = store.calls.id_of("agent-platform", "c1")
        store.notes.add(call_id, "dana", "Escalated to Priyanka", position_ms=5_000)
        conn = listing.connect(store.path or store.url)
        try:
            assert listing.ids(conn, ListSpec(search="Priyanka")) == [call_id]
        finally:
            conn.close()




def test_upgrading_to_0013_keeps_the_notes_there_unpinned(store_url):
    with migrated(store_url, "0012") as conn:
        conn.exec_driver_sql("INSERT INTO calls (source, source_id, imported_at) "
                             "VALUES ('vapi', 'v1', 0)")
        conn.exec_driver_sql("INSERT INTO notes (call_id, author, body, created_at, "
                             "updated_at) VALUES (1, 'dana', 'from before', 1, 1)")
    with Store(store_url) as store:  # opening it migrates it
        assert [(n.body, n.position_ms) for n in store.notes.of(1)] == [("from before", None)]
        note_id = store.notes.add(1, "dana", "pinned", position_ms=1_000)
        assert {n.id: n.position_ms for n in store.notes.of(1)}[note_id] == 1_000
