"""The store's shape: repositories over one engine returning frozen records, its local and
team behaviour chosen once at open, and a headless bootstrap (no Qt, no sync/)."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from callviewer.store import NEW_NOTE, Call, Draft, Note, Store, SyncConnection
from callviewer.store.modes import LocalMode
from callviewer.store.schema import calls, notes

STORE = Path(__file__).resolve().parents[2] / "callviewer" / "store"

HEADLESS = """
import sys
from callviewer.store import Store
with Store(None) as store:
    print(store.where)
loaded = sorted(name for name in sys.modules
                if name.startswith(("PySide6", "callviewer.sync", "callviewer.playback",
                                    "callviewer.ui")))
assert not loaded, loaded
"""


def test_opening_the_default_store_loads_no_qt_and_nothing_of_sync(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    done = subprocess.run([sys.executable, "-c", HEADLESS], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "data" / "callviewer" / "callviewer.sqlite3")


def test_the_store_holds_no_branch_on_team_or_local():
    # What differs is the mode's (store/modes.py), chosen once at open.
    for path in STORE.glob("*.py"):
        if path.name == "modes.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tests = [ast.unparse(node.test) for node in ast.walk(tree)
                 if isinstance(node, ast.If | ast.IfExp)]
        assert not [test for test in tests if ".team" in test], path.name


def test_a_call_record_has_every_column_and_its_notes():
    names = [field.name for field in dataclasses.fields(Call)]
    assert names == [*calls.c.keys(), "notes", "stats"]
    assert [field.name for field in dataclasses.fields(Note)] == [*notes.c.keys(),
                                                                    "display_name"]


@pytest.fixture
def store(tmp_path):
    with Store(str(tmp_path / "calls.sqlite3")) as opened:
        yield opened


def test_the_repositories_return_frozen_records(store):
    assert isinstance(store.mode, LocalMode) and not store.team
    store.calls.write_records([{"source": "wavekat", "source_id": "c1", "customer_name": "Ann",
                                "transcript": [{"role": "agent", "text": "Hello"}]}])
    call_id = store.calls.id_of("wavekat", "c1")
    note_id = store.notes.add(call_id, "maria", "Call back")
    store.notes.save_draft(call_id, NEW_NOTE, "half", 4)
    call = store.calls.get(call_id)
    assert (call.customer_name, call.transcript[0]["text"]) == ("Ann", "Hello")
    assert [(note.id, note.author, note.body) for note in call.notes] == [
        (note_id, "maria", "Call back")]
    assert store.notes.drafts_of(call_id) == {NEW_NOTE: Draft(NEW_NOTE, "half", 4,
                                                              store.notes.drafts_of(call_id)[
                                                                  NEW_NOTE].updated_at)}
    assert store.calls.caller(call_id).customer_name == "Ann"
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.done = True  # type: ignore[misc]
    deleted = store.notes.delete(note_id, "maria")
    store.notes.restore(deleted)
    assert store.notes.of(call_id) == [deleted]
    row = store.sync.add_connection("drop", "folder", {"folder": "/x"})
    assert isinstance(row, SyncConnection) and row.settings == {"folder": "/x"}
    assert store.sync.connections() == [row] and store.sync.connection("drop") == row
    info = store.archive.info(call_id)
    assert (info.state, info.path) == ("none", None)
    summary = store.calls.summary()
    assert (summary.calls, summary.by_source) == (1, {"wavekat": 1})
