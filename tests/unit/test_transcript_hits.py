"""Search hits inside one transcript: counted, the first in view, F3's next/previous with
wrapping, the current one marked apart, plain-text transcripts too."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from callviewer.record import message
from callviewer.ui.big_text import SHOWN_MAX
from callviewer.ui.transcript import TranscriptView


@pytest.fixture
def view(qtbot):
    widget = TranscriptView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def lines(count: int, said: dict[int, str]) -> list[dict]:
    return [message("agent" if i % 2 else "customer", said.get(i, f"Line {i}, nothing more"))
            for i in range(count)]


def test_hits_are_counted_per_match_and_the_first_is_current_and_in_view(view):
    view.set_highlight_terms(["refund"])
    view.set_messages(lines(200, {150: "A refund, a refund!", 190: "Refunded yesterday"}))
    assert view.hit_count() == 3
    assert view.hit_label.isVisible() and view.hit_label.text().startswith("1 of 3 matches")
    bubbles = view.list_view
    assert bubbles.currentIndex().row() == 150
    assert not bubbles.selectionModel().selectedIndexes()  # current, not selected
    assert bubbles.viewport().rect().intersects(bubbles.visualRect(view.model.index(150)))
    before = bubbles.viewport().grab().toImage()
    assert view.go_to_hit(1)  # the second match, in the same bubble: marked apart
    assert view.hit_label.text().startswith("2 of 3")
    assert bubbles.currentIndex().row() == 150
    assert bubbles.viewport().grab().toImage() != before
    assert view.go_to_hit(1) and bubbles.currentIndex().row() == 190
    assert view.go_to_hit(1) and view.hit_label.text().startswith("1 of 3")  # wraps
    assert view.go_to_hit(-1) and view.hit_label.text().startswith("3 of 3")


def test_the_same_search_keeps_the_hit_and_another_starts_again(view):
    view.set_highlight_terms(["refund"])
    view.set_messages(lines(40, {10: "refund", 20: "refund", 30: "invoice"}))
    view.go_to_hit(1)
    view.set_highlight_terms(["refund"])  # another filter changed: the search did not
    assert view.hit_label.text().startswith("2 of 2")
    view.set_highlight_terms(["invoice"])
    assert view.hit_label.text().startswith("1 of 1 match ")
    assert view.list_view.currentIndex().row() == 30
    view.set_highlight_terms([])
    assert view.hit_count() == 0 and view.hit_label.isHidden()
    assert not view.go_to_hit(1)


def test_no_hit_no_line(view):
    view.set_highlight_terms(["refund"])
    view.set_messages(lines(10, {}))
    assert view.hit_count() == 0 and view.hit_label.isHidden()
    view.clear()
    assert view.hit_label.isHidden()


def test_a_huge_message_counts_only_what_its_bubble_shows(view):
    text = "refund " + "x" * SHOWN_MAX + " refund"
    view.set_highlight_terms(["refund"])
    view.set_messages([message("agent", text)])
    assert view.hit_count() == 1


def test_hits_in_a_plain_text_transcript_are_selected_in_turn(view):
    view.set_highlight_terms(["refund"])
    view.set_plain_text("Agent: hello\r\nCustomer: I want a refund 🚀 now\r\nAgent: a refund, yes")
    assert view.hit_count() == 2
    assert view.hit_label.text().startswith("1 of 2") and "Enter" not in view.hit_label.text()
    assert view.go_to_hit(1)
    plain = QApplication.focusWidget()
    assert plain.accessibleName() == "Transcript text"
    cursor = plain.textCursor()
    assert cursor.selectedText() == "refund"
    before = plain.toPlainText().encode("utf-16-le")[:2 * cursor.selectionStart()]
    assert before.decode("utf-16-le").endswith("Agent: a ")  # Qt counts 🚀 as two


@pytest.mark.parametrize("page", ["bubbles", "plain"])
def test_space_is_left_to_the_window(view, page):
    """Neither page takes Space (no search by typing, no page down): it goes on to the
    window, which plays."""
    if page == "bubbles":
        view.set_messages(lines(5, {}))
        target = view.list_view
    else:
        view.set_plain_text("Agent: hello")
        target = view.focusProxy()
    event = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier,
                      " ")
    QApplication.sendEvent(target, event)
    assert not event.isAccepted()
