"""Live changes between the desktops of a team (LISTEN/NOTIFY) and drafts kept on each
desktop, on a real PostgreSQL server: two Stores on one database are two desktops."""

from __future__ import annotations

import queue

import pytest

from callviewer.store import NEW_NOTE, Change, Store


def call(source_id="c1", **fields):
    return {"source": "agent-platform", "source_id": source_id, **fields}


class Heard:
    """What a Store's watcher reports, in order."""

    def __init__(self, store: Store) -> None:
        self.changes: queue.Queue = queue.Queue()
        self.reachable: queue.Queue = queue.Queue()
        self.stop = store.watch(self.changes.put, self.reachable.put)

    def next_change(self, timeout: float = 2.0) -> Change:
        return self.changes.get(timeout=timeout)

    def nothing_more(self, wait: float = 0.5) -> bool:
        try:
            self.changes.get(timeout=wait)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def desktops(postgres_url, tmp_path, monkeypatch):
    """Two desktops on one team database, each with its own data folder."""
    stores = []
    for name in ("front", "lead"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / name))
        stores.append(Store(postgres_url))
    yield stores
    for store in stores:
        store.close()


def listening(heard: Heard, store: Store) -> None:
    """Return once the watcher hears `store`'s changes (its LISTEN is in place)."""
    for attempt in range(1, 50):
        store.calls.write_records([call("warm-up", summary="x", updated_at=attempt)])
        try:
            assert heard.changes.get(timeout=0.2) == Change(None, False)
        except queue.Empty:
            continue
        while not heard.nothing_more(0.3):  # a warm-up heard late
            pass
        return
    raise AssertionError("The watcher never heard a change")


def test_a_colleagues_note_done_flag_and_sync_are_heard_and_ones_own_are_not(desktops):
    front, lead = desktops
    front.calls.write_records([call()])
    call_id = front.calls.id_of("agent-platform", "c1")
    heard = Heard(front)
    try:
        listening(heard, lead)
        note_id = lead.notes.add(call_id, "maria", "Called back")
        assert heard.next_change() == Change((call_id,), False)
        lead.notes.update(note_id, "maria", "Called back twice")
        assert heard.next_change() == Change((call_id,), False)
        lead.calls.set_done(call_id, True, "maria")
        assert heard.next_change() == Change((call_id,), False)
        row = lead.sync.add_connection("main", "calls-api", {"url": "https://api.example"})
        lead.sync.set_status(row.id, status="ok", last_sync_at=5)
        assert heard.next_change() == Change((), True)
        front.notes.add(call_id, "omar", "Mine")  # one's own change is not news
        front.calls.set_done(call_id, False, "omar")
        assert heard.nothing_more()
        assert [note.body for note in lead.notes.of(call_id)] == [
            "Called back twice", "Mine"]
    finally:
        heard.stop()


def test_drafts_are_each_desktops_own_and_go_when_the_note_is_saved(desktops):
    front, lead = desktops
    front.calls.write_records([call()])
    call_id = front.calls.id_of("agent-platform", "c1")
    front.notes.save_draft(call_id, NEW_NOTE, "front desk typing", 5)
    lead.notes.save_draft(call_id, NEW_NOTE, "lead typing", 4)
    assert front.notes.drafts_of(call_id)[NEW_NOTE].body == "front desk typing"
    assert lead.notes.drafts_of(call_id)[NEW_NOTE].body == "lead typing"
    front.notes.add(call_id, "omar", "front desk typing")
    assert front.notes.drafts_of(call_id) == {}
    assert lead.notes.drafts_of(call_id)[NEW_NOTE].cursor == 4


def test_the_watcher_says_when_the_server_goes_and_comes_back(desktops, postgres):
    front, lead = desktops
    heard = Heard(front)
    try:
        listening(heard, lead)
        front.calls.write_records([call()])
        call_id = front.calls.id_of("agent-platform", "c1")
        postgres.halt()
        try:
            assert heard.reachable.get(timeout=10) is False
            # Typing goes on: drafts are kept on this desktop.
            front.notes.save_draft(call_id, NEW_NOTE, "typed while the server was down", 9)
        finally:
            postgres.start()
        assert heard.reachable.get(timeout=20) is True
        # What changed meanwhile was not heard: everything is to be read again.
        assert heard.next_change(5) == Change(None, True)
        assert front.notes.drafts_of(call_id)[NEW_NOTE].body == "typed while the server was down"
        lead.notes.add(call_id, "maria", "After the restart")
        assert heard.next_change(5) == Change((call_id,), False)
    finally:
        heard.stop()


def test_an_sqlite_file_has_nothing_to_watch(tmp_path):
    with Store(str(tmp_path / "calls.sqlite3")) as store:
        stop = store.watch(lambda change: None, lambda reachable: None)
        stop()
        assert not store.team
