"""The daily review loop, as a reviewer works it from the keyboard on the demo calls: Ctrl+2,
then Ctrl+D call after call, none skipped and none twice; Ctrl+Z brings the last back."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from windows import detail_follows, open_window

CTRL = Qt.KeyboardModifier.ControlModifier


def not_done_newest_first(path) -> list[int]:
    conn = sqlite3.connect(path)
    rows = [row[0] for row in conn.execute(
        "SELECT id FROM calls WHERE deleted_at IS NULL AND NOT done "
        "ORDER BY started_at DESC, id DESC")]
    conn.close()
    return rows


def done_ids(path) -> set[int]:
    conn = sqlite3.connect(path)
    rows = {row[0] for row in conn.execute("SELECT id FROM calls WHERE done")}
    conn.close()
    return rows


def queue_settled(qtbot, window, total: int) -> None:
    qtbot.waitUntil(lambda: not window.tasks.busy() and not window.model.stale
                    and window.model.total == total
                    and window.current_call_id() is not None, timeout=10_000)
    detail_follows(qtbot, window)


@pytest.mark.parametrize("pace", ["waiting for each call", "as fast as the keys go"])
def test_six_ctrl_d_in_the_queue_mark_the_six_newest_not_done_calls_in_order(
        qtbot, db, tmp_path, pace):
    queue = not_done_newest_first(db)
    assert len(queue) > 7
    done_before = done_ids(db)
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_2, CTRL)
    queue_settled(qtbot, window, len(queue))
    assert window.queue_action.isChecked() and not window.all_action.isChecked()
    assert window.count_label.text() == f"1 of {len(queue)} to review"
    assert window.current_call_id() == queue[0]
    for n in range(6):
        if pace == "waiting for each call":
            assert window.current_call_id() == queue[n]
        qtbot.keyClick(window.table, Qt.Key.Key_D, CTRL)
        if pace == "waiting for each call":
            queue_settled(qtbot, window, len(queue) - n - 1)
            assert window.current_call_id() == queue[n + 1]
    queue_settled(qtbot, window, len(queue) - 6)
    assert done_ids(db) - done_before == set(queue[:6])
    assert window.current_call_id() == queue[6]
    assert window.count_label.text() == f"1 of {len(queue) - 6} to review"
    listed = [window.model.call_id(row) for row in range(window.model.rowCount())]
    assert listed == queue[6:]  # none twice, none missing
    # Ctrl+Z brings the last one back, current.
    qtbot.keyClick(window.table, Qt.Key.Key_Z, CTRL)
    queue_settled(qtbot, window, len(queue) - 5)
    assert window.current_call_id() == queue[5]
    assert done_ids(db) - done_before == set(queue[:5])
    assert window.statusBar().currentMessage() == "Marked not done again"
    # Alt+Down walks the rest of the queue without a skip.
    seen = [window.current_call_id()]
    for _ in range(len(queue) - 6):
        qtbot.keyClick(window.table, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
        seen.append(window.current_call_id())
    assert seen == queue[5:]


def test_outside_the_queue_ctrl_d_says_what_it_did_and_ctrl_1_shows_all(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    first = window.current_call_id()
    was_done = first in done_ids(db)
    qtbot.keyClick(window.table, Qt.Key.Key_D, CTRL)
    qtbot.waitUntil(lambda: "Ctrl+Z undoes" in window.statusBar().currentMessage(),
                    timeout=5_000)
    assert window.statusBar().currentMessage() == (
        "Marked not done · Ctrl+Z undoes" if was_done else "Marked done · Ctrl+Z undoes")
    assert (first in done_ids(db)) is not was_done
    assert window.current_call_id() == first  # the call stays current in all calls
    qtbot.keyClick(window.table, Qt.Key.Key_2, CTRL)
    qtbot.waitUntil(lambda: window.model.spec.done is False, timeout=5_000)
    qtbot.keyClick(window.table, Qt.Key.Key_1, CTRL)
    qtbot.waitUntil(lambda: window.model.spec.done is None and not window.model.stale,
                    timeout=5_000)
    assert window.all_action.isChecked()
    assert window.filters.done.currentData() is None


def press(qtbot, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key where the keyboard is, as a person presses it."""
    qtbot.keyClick(QApplication.focusWidget(), key, modifiers)


def test_the_loop_space_a_note_ctrl_d_then_space_acts_on_the_next_call(qtbot, db, tmp_path):
    """The loop as a reviewer works it: Space to listen, Ctrl+N and a note, Ctrl+Enter,
    Ctrl+D from the note; then Space again is for the next call (it typed a space into the
    note editor, and Ctrl+Z undid the typing instead of the done)."""
    queue = not_done_newest_first(db)
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_2, CTRL)
    queue_settled(qtbot, window, len(queue))
    for n in range(3):
        call_id = window.current_call_id()
        assert call_id == queue[n]
        press(qtbot, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda call_id=call_id: window.now_playing.call_id == call_id)
        press(qtbot, Qt.Key.Key_N, CTRL)
        editor = window.detail.notes_panel.editor
        qtbot.waitUntil(editor.hasFocus)
        qtbot.keyClicks(editor, f"Reviewed {n}")
        press(qtbot, Qt.Key.Key_Return, CTRL)
        press(qtbot, Qt.Key.Key_D, CTRL)
        queue_settled(qtbot, window, len(queue) - n - 1)
        assert window.table.hasFocus()
        assert editor.toPlainText() == ""
    press(qtbot, Qt.Key.Key_Z, CTRL)  # the last done, undone: back, current
    queue_settled(qtbot, window, len(queue) - 2)
    assert window.current_call_id() == queue[2]
    bodies = {call_id: [note.body for note in window.store.notes.of(call_id)]
              for call_id in queue[:3]}
    assert bodies == {call_id: [f"Reviewed {n}"] for n, call_id in enumerate(queue[:3])}
