"""The detail gives the conversation the room (issue 24): in the real window at 1280×800
the saved notes show their whole text, wrapped, newest first, without a mouse; the
notes grow with their text up to a share of the detail, then scroll; the split set by
hand survives a restart; Alt+N goes into the notes and back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QLabel
from windows import detail_follows, open_window

from callviewer.store import Store
from callviewer.ui.detail import NOTES_SHARE
from callviewer.ui.preferences import login_name

LONG = ("The customer explained that the March invoice was charged twice, once on the 3rd "
        "and again on the 17th, and that the bank already reversed one of them, so we must "
        "not refund it again. Check with accounts before replying, and keep the case open "
        "until the statement arrives.")
BODIES = ("Called back at 4pm; she wants the quote by email.", LONG, "Sent the quote.")


def with_notes(db: Path, bodies=BODIES) -> None:
    """Notes on the call the window opens on (the newest), oldest first."""
    import sqlite3

    conn = sqlite3.connect(db)
    call_id = conn.execute("SELECT id FROM calls ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    conn.close()
    with Store(str(db)) as store:
        for body in bodies:
            store.notes.add(call_id, login_name(), body)


def at_1280(qtbot, window) -> None:
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.height() == 800, timeout=3000)


def note_texts(window) -> list[QLabel]:
    holder = window.detail.notes_panel.notes_list.widget()
    labels = holder.findChildren(QLabel, "note_text")
    return sorted((label for label in labels if not label.isHidden()),
                  key=lambda label: label.mapTo(holder, QPoint(0, 0)).y())


def readable(window, label: QLabel) -> bool:
    """Shown, as tall as its wrapped text, and wholly inside the notes' viewport."""
    viewport = window.detail.notes_panel.notes_list.viewport()
    top_left = label.mapTo(viewport, QPoint(0, 0))
    box = QRect(top_left, label.size())
    return label.isVisible() and label.height() >= label.heightForWidth(label.width()) \
        and viewport.rect().contains(box)


def test_three_notes_show_their_whole_text_at_1280_by_800(qtbot, db, tmp_path):
    with_notes(db)
    window = open_window(qtbot, db, tmp_path)
    at_1280(qtbot, window)
    qtbot.waitUntil(lambda: len(note_texts(window)) == 3, timeout=5000)
    qtbot.waitUntil(lambda: all(readable(window, label) for label in note_texts(window)),
                    timeout=3000)
    labels = note_texts(window)
    # Newest first, each note's whole text (as text, not markup).
    assert [label.text().lstrip("\u200e\u200f") for label in labels] == list(
        reversed(BODIES))
    long = labels[1]
    assert long.height() > 2 * long.fontMetrics().lineSpacing()  # wrapped, all of it
    # The notes take no more than their share; the transcript keeps the rest.
    overview, listening, notes = window.detail.splitter.sizes()
    total = overview + listening + notes
    assert notes <= NOTES_SHARE * total + 1
    assert listening >= 0.3 * total
    window.grab().save(str(tmp_path / "three_notes.png"))


def test_without_notes_the_transcript_takes_most_of_the_detail(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    at_1280(qtbot, window)
    detail_follows(qtbot, window)
    overview, listening, notes = window.detail.splitter.sizes()
    assert listening > 0.5 * (overview + listening + notes)
    assert listening > 2 * notes


def test_many_notes_stop_at_their_share_and_scroll(qtbot, db, tmp_path):
    with_notes(db, [f"{LONG} ({n})" for n in range(8)])
    window = open_window(qtbot, db, tmp_path)
    at_1280(qtbot, window)
    qtbot.waitUntil(lambda: len(note_texts(window)) == 8, timeout=5000)
    overview, listening, notes = window.detail.splitter.sizes()
    assert notes <= NOTES_SHARE * (overview + listening + notes) + 1
    qtbot.waitUntil(lambda: window.detail.notes_panel.notes_list.verticalScrollBar().maximum()
                    > 0, timeout=3000)
    assert readable(window, note_texts(window)[0])  # the newest, at the top


def test_the_detail_split_set_by_hand_survives_a_restart(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    at_1280(qtbot, window)
    splitter = window.detail.splitter
    qtbot.waitUntil(lambda: sum(splitter.sizes()) > 400, timeout=3000)
    before = splitter.sizes()
    splitter.moveSplitter(splitter.sizes()[0] + splitter.sizes()[1] - 120, 2)  # notes up
    chosen = splitter.sizes()
    assert chosen != before and chosen[2] > before[2]
    window.close()
    again = open_window(qtbot, db, tmp_path)
    at_1280(qtbot, again)
    qtbot.waitUntil(lambda: again.detail.splitter.sizes() == chosen, timeout=3000)
    # Another call keeps the person's split too.
    qtbot.keyClick(again.table, Qt.Key.Key_Down)
    detail_follows(qtbot, again)
    assert again.detail.splitter.sizes() == chosen


def test_alt_n_goes_into_the_notes_and_back(qtbot, db, tmp_path):
    with_notes(db)
    window = open_window(qtbot, db, tmp_path)
    notes_list = window.detail.notes_panel.notes_list
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClick(window.table, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is notes_list
    qtbot.keyClick(notes_list, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is window.table
    # From the transcript, and back to it.
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    bubbles = window.detail.transcript_view.list_view
    qtbot.waitUntil(bubbles.hasFocus)
    qtbot.keyClick(bubbles, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is notes_list
    qtbot.keyClick(notes_list, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is bubbles


def test_f1_and_the_readme_list_the_notes_keys():
    from callviewer.ui.window import SHORTCUTS

    keys = [keys for keys, _what in SHORTCUTS]
    assert "Alt+N" in keys and "Ctrl+Shift+N" in keys
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "Alt+N" in text and "Ctrl+Shift+N" in text
