"""Sync in the window: F5 against a real calls API on loopback; the status bar, the list
updated in place, a note being typed kept, the recording-state filter, Preferences."""

from __future__ import annotations

import re

from fake_calls_api import add_connection
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from windows import open_window

from callviewer.store import Store
from callviewer.ui.preferences import SYNC_TAB


def synced(qtbot, window, timeout: int = 20_000) -> str:
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=timeout)
    return window.sync_status.label.text()


def test_f5_syncs_and_the_list_updates_in_place_keeping_the_call_and_the_note(
        qtbot, tmp_path, api):
    path = tmp_path / "calls.sqlite3"
    api.seed(30, with_audio=0.5)
    with Store(str(path)) as store:
        add_connection(store, api)
    window = open_window(qtbot, path, tmp_path)
    assert window.list_stack.currentWidget() is window.empty  # nothing synced yet
    qtbot.keyClick(window.table, Qt.Key.Key_F5)
    assert window.syncing.running
    said = synced(qtbot, window)
    recordings = len(api.audio)
    assert re.fullmatch(rf"Synced \d\d?:\d\d · 30 new, 0 updated, {recordings} recordings",
                        said), said
    assert window.model.rowCount() == 30
    # Pick the fifth call, start a note on it.
    window.table.setFocus()
    for _ in range(4):
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
    current = window.current_call_id()
    editor = window.detail.notes_panel.editor
    editor.setFocus()
    qtbot.keyClicks(editor, "Called back, waiting")
    # The source changes a call and gets a new one; F5 again.
    name = window.store.call(current)["customer_name"]
    source_id = window.store.call(current)["source_id"]
    api.change(source_id, call_summary="Changed at the source")
    api.seed(1, start=None)
    qtbot.keyClick(editor, Qt.Key.Key_F5)
    said = synced(qtbot, window)
    assert re.fullmatch(r"Synced \d\d?:\d\d · 1 new, 1 updated(, 1 recording)?", said), said
    assert window.model.rowCount() == 31
    assert window.current_call_id() == current
    assert window.detail.name.text() == name
    assert editor.toPlainText() == "Called back, waiting"
    assert window.detail.sections["Summary"].body.text() == "\u200eChanged at the source"  # LRM


def test_the_recording_filter_shows_one_state(qtbot, tmp_path, api):
    path = tmp_path / "calls.sqlite3"
    api.seed(12, with_audio=0.5)
    with Store(str(path)) as store:
        add_connection(store, api)
    window = open_window(qtbot, path, tmp_path)
    window.sync_now()
    synced(qtbot, window)
    archived = len(api.audio)
    combo = window.filters.recording
    combo.setCurrentIndex(combo.findText("Archived"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.model.rowCount() == archived)
    for row in range(archived):
        assert window.model.index(row, 0).data() == "▶"
        assert window.model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole) == \
            "Recording archived on this computer"
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Home)
    assert window.detail.fields["Recording"].text() == "Recording archived on this computer"
    combo.setCurrentIndex(combo.findText("Without recording"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.model.rowCount() == 12 - archived)


def test_without_connections_f5_says_where_to_add_one(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_F5)
    assert not window.syncing.running
    assert window.sync_status.label.text() == \
        "Nothing to sync: add a connection in Preferences."


def test_preferences_add_and_remove_a_calls_api(qtbot, tmp_path, api):
    path = tmp_path / "calls.sqlite3"
    window = open_window(qtbot, path, tmp_path)
    window.show_preferences(SYNC_TAB)
    page = window.preferences.sync_page
    assert window.preferences.tabs.currentWidget() is page
    page._add("", url=api.url)
    assert page.message.text() == "Give the connection a name."
    page._add("main", url="api.example.com")
    assert page.message.text() == \
        "The address 'api.example.com' must start with http:// or https://."
    page._add("main", url=api.url, token="tok-3f9a1c77e2b84d0c")
    assert page.message.text().startswith("Added main. No system keyring is available, so "
                                          "the token was saved in ")
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text() == "main"
    page._add("main", url=api.url)
    assert "main" in page.message.text() and page.table.rowCount() == 1
    window.preferences.done(QDialog.DialogCode.Accepted)
    window.sync_now()
    assert synced(qtbot, window).startswith("Synced")
    assert api.requests_of("list")  # it called the API with the token given
    window.show_preferences(SYNC_TAB)
    page = window.preferences.sync_page
    page.table.selectRow(0)
    page.remove_selected()
    assert page.message.text() == "Removed main; its calls and recordings stay."
    assert page.table.rowCount() == 0


def test_a_watched_folder_imports_what_appears_in_it_by_itself(qtbot, tmp_path):
    from callviewer.paths import demo_dir
    from callviewer.sync.manage import add_connection as add

    folder = tmp_path / "exports"
    folder.mkdir()
    path = tmp_path / "calls.sqlite3"
    with Store(str(path)) as store:
        add(store, "exports", folder=folder)
    window = open_window(qtbot, path, tmp_path)
    assert window.model.rowCount() == 0
    source = (demo_dir() / "twilio.json").read_bytes()
    half = len(source) // 2
    target = folder / "twilio.json"
    target.write_bytes(source[:half])  # a file still being written…
    qtbot.wait(300)
    target.write_bytes(source)  # …and finished
    with Store(str(tmp_path / "alone.sqlite3")) as alone:
        from callviewer.sync.importer import import_paths

        expected = import_paths(alone, [demo_dir() / "twilio.json"]).counts.new
    qtbot.waitUntil(lambda: window.model.rowCount() == expected, timeout=20_000)
    assert synced(qtbot, window).startswith("Synced")


def test_playing_an_archived_recording_marks_it_played(qtbot, tmp_path, api):
    from callviewer.playback.now_playing import PLAYING

    path = tmp_path / "calls.sqlite3"
    api.seed(3)
    with Store(str(path)) as store:
        add_connection(store, api)
    window = open_window(qtbot, path, tmp_path)
    window.sync_now()
    synced(qtbot, window)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Home)
    call_id = window.current_call_id()
    assert window.store.recording_info(call_id)["last_played_at"] is None
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.now_playing.state == PLAYING, timeout=6000)
    qtbot.waitUntil(lambda: window.store.recording_info(call_id)["last_played_at"] is not None)
    assert window.store.recording(call_id) == window.store.recording_info(call_id)["path"]
