"""Keyboard correctness in the real window, by real key presses on the focused widget:
Space goes to the control that wants it (once), Alt+Down/Up leave focus on the list,
sorting from the View menu, search hits inside a transcript, Esc in every dialog."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QDialogButtonBox, QMenu

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from windows import detail_follows, open_window

from callviewer.columns import AT, COLUMNS
from callviewer.paths import demo_dir
from callviewer.playback.now_playing import PLAYING
from callviewer.store import Store
from callviewer.sync.importer import import_paths
from callviewer.ui import big_text

ALT, CTRL, SHIFT = (Qt.KeyboardModifier.AltModifier, Qt.KeyboardModifier.ControlModifier,
                    Qt.KeyboardModifier.ShiftModifier)


def press(qtbot, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press on whatever has the keyboard, as a person's would land."""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=3000)
    qtbot.keyClick(QApplication.focusWidget(), key, modifiers)


def settled(qtbot, button) -> None:
    """Wait until a button is up again, and past the 100 ms an animated click (the second
    click Space used to make) takes to land: a time to show that nothing more comes."""
    qtbot.waitUntil(lambda: not button.isDown(), timeout=2000)
    qtbot.wait(250)


# --- Space ---------------------------------------------------------------------------------


def test_space_on_the_focused_load_demo_button_imports_once(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path / "empty.sqlite3", tmp_path)
    button = window.empty.demo_button
    clicks = []
    button.clicked.connect(lambda: clicks.append(1))
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    button.setFocus(Qt.FocusReason.TabFocusReason)
    press(qtbot, Qt.Key.Key_Space)
    settled(qtbot, button)
    qtbot.waitUntil(lambda: getattr(window, "summary", None) is not None
                    and window.summary.isVisible(), timeout=20_000)
    assert clicks == [1]
    assert "An import is already running." not in messages
    assert window.now_playing.call_id is None


def test_space_on_a_focused_checkbox_toggles_it_once(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    box = window.filters.deleted
    toggles = []
    box.toggled.connect(toggles.append)
    box.setFocus(Qt.FocusReason.TabFocusReason)
    press(qtbot, Qt.Key.Key_Space)
    settled(qtbot, box)
    assert toggles == [True]
    assert box.isChecked()
    assert window.now_playing.call_id is None


def test_space_on_the_focused_play_button_plays_and_stays_playing(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    window.show_in_list(window.store.calls.id_of("agent-platform", "ap-1001"))
    detail_follows(qtbot, window)
    button = window.detail.player.play_button
    button.setFocus(Qt.FocusReason.TabFocusReason)
    press(qtbot, Qt.Key.Key_Space)
    settled(qtbot, button)
    now = window.now_playing
    qtbot.waitUntil(lambda: now.state == PLAYING and now.position > 300, timeout=6000)
    assert button.hasFocus()


def test_space_opens_a_focused_combo_and_types_in_the_search_field(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    assert isinstance(window.filters.done, QComboBox)
    window.filters.done.setFocus(Qt.FocusReason.TabFocusReason)
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.filters.done.view().isVisible(), timeout=2000)
    qtbot.keyClick(window.filters.done.view(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.filters.done.view().isVisible(), timeout=2000)
    window.activateWindow()  # offscreen, no window manager gives the keyboard back
    press(qtbot, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.filters.search, "a b")
    assert window.filters.search.text() == "a b"
    assert window.now_playing.call_id is None


def test_space_plays_from_the_list_the_bubbles_and_the_volume_slider(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = window.store.calls.id_of("agent-platform", "ap-1001")
    window.show_in_list(call_id)
    detail_follows(qtbot, window)
    now = window.now_playing
    press(qtbot, Qt.Key.Key_Space)  # the list
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=6000)
    press(qtbot, Qt.Key.Key_Return)  # into the transcript's bubbles
    assert window.detail.transcript_view.list_view.hasFocus()
    press(qtbot, Qt.Key.Key_Space)
    assert now.state != PLAYING
    window.detail.player.volume.setFocus(Qt.FocusReason.TabFocusReason)
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=3000)
    assert now.call_id == call_id


# --- Alt+Down / Alt+Up ---------------------------------------------------------------------


def test_alt_down_from_the_note_editor_puts_focus_on_the_list_and_keeps_the_draft(
        qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    first = window.current_call_id()
    editor = window.detail.notes_panel.editor
    press(qtbot, Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(editor.hasFocus)
    qtbot.keyClicks(editor, "Call back on Tuesday")
    press(qtbot, Qt.Key.Key_Down, ALT)
    assert window.table.hasFocus()
    assert window.table.currentIndex().row() == 1
    detail_follows(qtbot, window)
    assert editor.toPlainText() == ""
    press(qtbot, Qt.Key.Key_Space)  # plays (or says why not): never types into the note
    assert editor.toPlainText() == ""
    press(qtbot, Qt.Key.Key_Up, ALT)
    assert window.table.hasFocus()
    detail_follows(qtbot, window)
    assert window.current_call_id() == first
    assert editor.toPlainText() == "Call back on Tuesday"


# --- sorting -------------------------------------------------------------------------------


def menu_key(qtbot, key) -> QMenu:
    """A key in the menu that is open; the menu open afterwards."""
    qtbot.keyClick(QApplication.activePopupWidget(), key)
    return QApplication.activePopupWidget()


def test_view_sort_by_and_reverse_from_the_keyboard_and_the_header_follows(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    header = window.table.horizontalHeader()
    qtbot.keyClick(window.table, Qt.Key.Key_V, ALT)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    sort_menu = menu_key(qtbot, Qt.Key.Key_O)  # View ▸ S&ort by
    labels = [a.text().replace("&", "") for a in sort_menu.actions() if a.isCheckable()]
    assert labels == [c.spoken for c in COLUMNS]
    checked = [a.text().replace("&", "") for a in sort_menu.actions() if a.isChecked()]
    assert checked == ["Started"]
    duration = next(a for a in sort_menu.actions() if a.text().replace("&", "") == "Duration")
    mnemonic = duration.text()[duration.text().index("&") + 1]
    qtbot.keyClick(sort_menu, mnemonic.lower())
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None)
    assert (window.model.spec.sort, window.model.spec.descending) == ("duration", True)
    assert header.sortIndicatorSection() == AT["duration"]
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert window.table.hasFocus()
    press(qtbot, Qt.Key.Key_R, CTRL | SHIFT)  # reverse
    assert (window.model.spec.sort, window.model.spec.descending) == ("duration", False)
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    # A click on a header is followed by the menu's check.
    header.setSortIndicator(AT["score"], Qt.SortOrder.DescendingOrder)
    assert window.model.spec.sort == "score"
    assert window.sort_actions["score"].isChecked()
    assert not window.sort_actions["duration"].isChecked()


# --- search hits in a transcript -----------------------------------------------------------

MESSAGES = 320
HITS = (250, 300, 310)  # the messages that say "invoice", far below the first screen


@pytest.fixture
def long_call(tmp_path):
    """A call of 320 messages (times within its 19 s recording) that says "invoice" three
    times, far down; and the demo calls."""
    folder = tmp_path / "long"
    folder.mkdir()
    shutil.copy(demo_dir() / "ap-1001.mp3", folder / "long.mp3")
    messages = [{"role": "agent" if i % 2 else "customer",
                 "text": f"Message {i}: " + ("about the invoice, please" if i in HITS
                                             else "nothing much to say here"),
                 "start": i * 0.05, "end": i * 0.05 + 0.04} for i in range(MESSAGES)]
    record = {"id": "long-1", "call_id": "lk-long-1", "customer_name": "Long Talker",
              "phone_number": "+14155550199", "duration": 19, "done": False,
              "created_at": "2031-01-01T10:00:00.000Z", "updated_at": "2031-01-01T10:00:00.000Z",
              "transcript": json.dumps(messages), "audio_file_url": "long.mp3"}
    (folder / "agent-platform.json").write_text(json.dumps({"data": [record]}))
    path = tmp_path / "calls.sqlite3"
    with Store(str(path)) as store:
        assert import_paths(store, [demo_dir(), folder]).rejected == 0
    return path


def in_view(transcript, row: int) -> bool:
    bubbles = transcript.list_view
    rect = bubbles.visualRect(transcript.model.index(row))
    return rect.isValid() and bubbles.viewport().rect().intersects(rect)


def test_search_hits_in_a_long_transcript_f3_shift_f3_and_enter_plays(qtbot, long_call, tmp_path):
    window = open_window(qtbot, long_call, tmp_path)
    transcript = window.detail.transcript_view
    press(qtbot, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.filters.search, "invoice")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.model.spec.search == "invoice", timeout=3000)
    long_id = window.store.calls.id_of("agent-platform", "long-1")
    qtbot.waitUntil(lambda: window.detail.current_call_id == long_id, timeout=5000)
    qtbot.waitUntil(lambda: in_view(transcript, HITS[0]), timeout=3000)
    assert transcript.hit_label.isVisible()
    assert transcript.hit_label.text().startswith("1 of 3")
    assert window.table.hasFocus()
    for hit, row in ((2, HITS[1]), (3, HITS[2]), (1, HITS[0])):  # F3 wraps
        press(qtbot, Qt.Key.Key_F3)
        assert transcript.hit_label.text().startswith(f"{hit} of 3")
        assert transcript.list_view.hasFocus()
        assert transcript.list_view.currentIndex().row() == row
        qtbot.waitUntil(lambda row=row: in_view(transcript, row), timeout=2000)
    press(qtbot, Qt.Key.Key_F3, SHIFT)  # back round to the last
    assert transcript.hit_label.text().startswith("3 of 3")
    assert transcript.list_view.currentIndex().row() == HITS[2]
    press(qtbot, Qt.Key.Key_Return)  # plays from the hit
    now = window.now_playing
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=6000)
    assert now.call_id == long_id
    assert now.position >= HITS[2] * 50 - 100
    press(qtbot, Qt.Key.Key_Escape)
    press(qtbot, Qt.Key.Key_Escape)  # back to the list, then out of the search
    window.filters.search.setFocus()
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.model.spec.search == "", timeout=3000)
    qtbot.waitUntil(lambda: not transcript.hit_label.isVisible(), timeout=3000)


# --- dialogs -------------------------------------------------------------------------------


def escape_closes(qtbot, dialog) -> None:
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    qtbot.waitUntil(lambda: dialog.isAncestorOf(QApplication.focusWidget()), timeout=3000)
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    back = dialog.parentWidget().window() if dialog.parentWidget() else None
    if back is not None:  # offscreen, no window manager gives the keyboard back
        back.activateWindow()
        qtbot.waitUntil(lambda: back.isAncestorOf(QApplication.focusWidget())
                        or back is QApplication.focusWidget(), timeout=3000)


def test_about_opens_with_focus_on_close_and_esc_closes_it(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    window.show_about()
    from callviewer.ui.about import AboutDialog

    about = window.findChild(AboutDialog)
    qtbot.waitUntil(about.isVisible, timeout=3000)
    close = about.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close)
    qtbot.waitUntil(close.hasFocus, timeout=3000)
    escape_closes(qtbot, about)


def test_esc_closes_the_shortcuts_preferences_add_connection_summary_and_viewer(
        qtbot, tmp_path):
    window = open_window(qtbot, tmp_path / "empty.sqlite3", tmp_path)
    press(qtbot, Qt.Key.Key_F1)
    shortcuts = QApplication.activeModalWidget()
    assert shortcuts is not None and shortcuts.windowTitle() == "Keyboard shortcuts"
    escape_closes(qtbot, shortcuts)

    press(qtbot, Qt.Key.Key_Comma, CTRL)
    escape_closes(qtbot, window.preferences)

    window.show_connections()
    page = window.preferences.sync_page
    qtbot.waitUntil(lambda: not page.reading, timeout=5000)
    page.add_button.setFocus()
    press(qtbot, Qt.Key.Key_Space)
    dialog = page.add_dialog
    escape_closes(qtbot, dialog)
    assert window.preferences.isVisible()
    escape_closes(qtbot, window.preferences)

    window.table.setFocus()
    window.empty.demo_button.setFocus()
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: getattr(window, "summary", None) is not None
                    and window.summary.isVisible(), timeout=20_000)
    escape_closes(qtbot, window.summary)

    viewer = big_text.show_all("Summary", "x" * (big_text.SHOWN_MAX + 10), window)
    qtbot.waitUntil(lambda: not viewer.loading, timeout=3000)
    viewer.editor.setFocus()
    escape_closes(qtbot, viewer)


def test_f1_and_the_readme_list_the_keys_added():
    from callviewer.ui.window import SHORTCUTS

    keys = " ".join(keys for keys, _what in SHORTCUTS)
    for added in ("F3", "Shift+F3", "Ctrl+Shift+R"):
        assert added in keys
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for added in ("F3", "Shift+F3", "Ctrl+Shift+R", "Sort by"):
        assert added in text



def focus_stops(dialog) -> list:
    """The widgets of a dialog that Tab reaches, in its order."""
    stops, widget = [], dialog.nextInFocusChain()
    while widget is not dialog and len(stops) < 100:
        if widget.isVisible() and widget.isEnabled() and dialog.isAncestorOf(widget) \
                and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            stops.append(widget)
        widget = widget.nextInFocusChain()
    return stops


@pytest.mark.parametrize("tab", [0, 1, 2])
def test_esc_closes_preferences_from_every_place_tab_reaches(qtbot, db, tmp_path, tab):
    window = open_window(qtbot, db, tmp_path)
    at = 0
    while True:
        window.show_preferences(tab)
        dialog = window.preferences
        qtbot.waitUntil(dialog.isVisible, timeout=3000)
        stops = focus_stops(dialog)
        if at == len(stops):
            dialog.reject()
            break
        stops[at].setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.keyClick(stops[at], Qt.Key.Key_Escape)
        assert not dialog.isVisible(), stops[at].accessibleName() or type(stops[at]).__name__
        at += 1
    assert at > 3
