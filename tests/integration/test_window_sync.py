"""Sync in the window: F5 against a real calls API on loopback; the status bar, the list
updated in place, a note being typed kept, the recording-state filter, Preferences."""

from __future__ import annotations

import re

from fake_calls_api import add_connection
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from windows import detail_follows, open_window

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
    qtbot.waitUntil(lambda: window.model.rowCount() == 30)  # the list read again, off this thread
    # Pick the fifth call, start a note on it.
    window.table.setFocus()
    for _ in range(4):
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
    current = window.current_call_id()
    detail_follows(qtbot, window)
    editor = window.detail.notes_panel.editor
    editor.setFocus()
    qtbot.keyClicks(editor, "Called back, waiting")
    # The source changes a call and gets a new one; F5 again.
    name = window.store.calls.get(current).customer_name
    source_id = window.store.calls.get(current).source_id
    api.change(source_id, call_summary="Changed at the source")
    api.seed(1, start=None)
    qtbot.keyClick(editor, Qt.Key.Key_F5)
    said = synced(qtbot, window)
    assert re.fullmatch(r"Synced \d\d?:\d\d · 1 new, 1 updated(, 1 recording)?", said), said
    qtbot.waitUntil(lambda: window.model.rowCount() == 31)
    assert window.current_call_id() == current
    assert window.detail.name.text() == name
    assert editor.toPlainText() == "Called back, waiting"
    # The detail is read again too (on the READ lane, after the list's page).
    qtbot.waitUntil(lambda: window.detail.sections["Summary"].body.text()
                    == "\u200eChanged at the source")  # with an LRM


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
    detail_follows(qtbot, window)
    assert window.detail.fields["Recording"].text() == "Recording archived on this computer"
    combo.setCurrentIndex(combo.findText("Without recording"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.model.rowCount() == 12 - archived)


def test_without_connections_f5_says_where_to_add_one(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=10_000)
    assert window.sync_status.label.text() == \
        "Nothing to sync: add a connection in Preferences."


def add_in_preferences(qtbot, page, name: str, url: str, token: str = ""):
    """Add connection… ▸ Agent platform, its fields typed, Enter, and the add's answer; the
    dialog."""
    def type_into(field, text: str) -> None:
        field.setFocus()
        field.selectAll()
        qtbot.keyClick(field, Qt.Key.Key_Delete)
        qtbot.keyClicks(field, text)

    if page.add_dialog is None or not page.add_dialog.isVisible():
        qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    dialog = page.add_dialog
    dialog.vendor.setCurrentIndex(dialog.vendor.findText("Agent platform"))
    type_into(dialog.name, name)
    type_into(dialog.url, url)
    type_into(dialog.secret, token)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.message.text() != "Adding…", timeout=10_000)
    return dialog


def test_preferences_add_and_remove_a_calls_api(qtbot, tmp_path, api):
    from fake_calls_api import TOKEN

    path = tmp_path / "calls.sqlite3"
    window = open_window(qtbot, path, tmp_path)
    window.show_preferences(SYNC_TAB)
    page = window.preferences.sync_page
    assert window.preferences.tabs.currentWidget() is page
    qtbot.waitUntil(lambda: not page.reading)
    dialog = add_in_preferences(qtbot, page, "", api.url)
    assert dialog.message.text() == "Give the connection a name."
    dialog = add_in_preferences(qtbot, page, "main", "api.example.com")
    assert dialog.message.text() == \
        "The address 'api.example.com' must start with http:// or https://."
    dialog = add_in_preferences(qtbot, page, "main", api.url, TOKEN)
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    assert page.message.text().startswith("Added main. No system keyring is available, so "
                                          "the token was saved in ")
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)  # read again, off this thread
    assert page.table.item(0, 0).text() == "main"
    dialog = add_in_preferences(qtbot, page, "main", api.url)
    assert dialog.isVisible() and "main" in dialog.message.text()
    dialog.reject()
    assert page.table.rowCount() == 1 and not page.reading
    window.preferences.done(QDialog.DialogCode.Accepted)
    window.sync_now()
    assert synced(qtbot, window).startswith("Synced")
    assert api.requests_of("list")  # it called the API with the token given
    window.show_preferences(SYNC_TAB)
    page = window.preferences.sync_page
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    page.table.selectRow(0)
    page.remove_selected()
    qtbot.waitUntil(lambda: page.message.text() == "Removed main; its calls and recordings "
                    "stay.", timeout=10_000)
    qtbot.waitUntil(lambda: page.table.rowCount() == 0)


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
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)  # read again, off this thread
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Home)
    call_id = window.current_call_id()
    assert window.store.archive.info(call_id).last_played_at is None
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.now_playing.state == PLAYING, timeout=6000)
    qtbot.waitUntil(lambda: window.store.archive.info(call_id).last_played_at is not None)
    assert window.store.archive.recording(call_id) == window.store.archive.info(call_id).path
