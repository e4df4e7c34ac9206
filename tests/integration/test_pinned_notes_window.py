"""Notes pinned to a moment (issue 24), in the real window with real VLC (dummy audio):
play, pause, Ctrl+Shift+N, type, Ctrl+Enter; the note says "at m:ss", Enter on that plays
from there (loading its call's recording when another plays), and the slider marks it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolButton, QToolTip
from windows import go_to, open_window, play

from callviewer.playback.now_playing import PAUSED, PLAYING
from callviewer.ui import formatting
from callviewer.ui.tasks import Lane

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def pins(window) -> list[QToolButton]:
    holder = window.detail.notes_panel.notes_list.widget()
    return [b for b in holder.findChildren(QToolButton, "note_position") if not b.isHidden()]


def test_a_note_pinned_while_paused_takes_the_player_back_there(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = play(qtbot, window, "ap-1001", past_ms=4000, timeout=8000)
    now = window.now_playing
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert now.state == PAUSED
    at = now.position
    qtbot.keyClick(window.table, Qt.Key.Key_N, CTRL_SHIFT)
    panel = window.detail.notes_panel
    qtbot.waitUntil(panel.editor.hasFocus, timeout=3000)
    assert panel.pin_label.text() == f"Pinned at {formatting.position(at)}"
    qtbot.keyClicks(panel.editor, "Asked for a <b>refund</b> here")
    qtbot.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not panel.pin_bar.isVisible()  # the next note is pinned nowhere
    assert window.tasks.wait(Lane.WRITE, 5000)
    [note] = window.store.notes.of(call_id)
    assert (note.body, note.position_ms) == ("Asked for a <b>refund</b> here", at)
    qtbot.waitUntil(lambda: len(pins(window)) == 1, timeout=3000)
    [pin] = pins(window)
    assert pin.text().endswith(f"at {formatting.position(at)}")
    # The slider has its mark, where the position is drawn, and says what it is.
    slider = window.detail.player.slider
    assert slider.marks == [(at, "Asked for a <b>refund</b> here")]
    x = slider.mark_x(at)
    assert x is not None and 0 < x < slider.width()
    tip = QHelpEvent(QEvent.Type.ToolTip, QPoint(x, slider.height() // 2),
                     slider.mapToGlobal(QPoint(x, slider.height() // 2)))
    QApplication.sendEvent(slider, tip)
    assert QToolTip.isVisible() and "Asked for a <b>refund</b> here" in QToolTip.text() \
        .replace("&lt;", "<").replace("&gt;", ">")
    QToolTip.hideText()

    # Elsewhere in the recording, Enter on "at m:ss" takes the player back there.
    now.seek(at + 6000 if at + 6000 < now.duration else 0)
    pin.setFocus()
    qtbot.keyClick(pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: now.call_id == call_id and now.state == PLAYING, timeout=5000)
    assert abs(now.position - at) < 1500
    assert pins(window)[0].hasFocus()  # the notes shown again keep the keyboard there

    # Another call playing: the pin loads this call's recording and plays from there.
    other = window.store.calls.id_of("agent-platform", "ap-1002")
    now.play(other)
    qtbot.waitUntil(lambda: now.call_id == other and now.state == PLAYING, timeout=8000)
    [pin] = pins(window)
    qtbot.mouseClick(pin, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: now.call_id == call_id and now.state == PLAYING, timeout=8000)
    assert abs(now.position - at) < 1500


def test_ctrl_shift_n_with_nothing_playing_says_what_to_do(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_N, CTRL_SHIFT)
    assert "Play a call first" in window.statusBar().currentMessage()
    assert not window.detail.notes_panel.pin_bar.isVisible()


def test_ctrl_shift_n_pins_the_note_to_the_call_playing_not_the_one_shown(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    playing = play(qtbot, window, "ap-1001", past_ms=1000, timeout=8000)
    go_to(qtbot, window, "ap-1003")
    qtbot.keyClick(window.table, Qt.Key.Key_N, CTRL_SHIFT)
    qtbot.waitUntil(lambda: window.current_call_id() == playing, timeout=5000)
    panel = window.detail.notes_panel
    qtbot.waitUntil(panel.editor.hasFocus, timeout=3000)
    assert panel.pinned_at is not None and panel.pinned_at > 1000
