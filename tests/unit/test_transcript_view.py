"""The transcript view: model roles, plain-text painting, copy, highlight, follow-along, scale."""

from __future__ import annotations

import os
from itertools import pairwise

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QFontMetrics, QGuiApplication, QImage, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit

from callviewer.ui.transcript import (
    EMPTY_TEXT,
    NOTICE_TEXT,
    PLAYING_ROLE,
    RUN_START_ROLE,
    SPEAKER_ROLE,
    START_MS_ROLE,
    TIME_TEXT_ROLE,
    TranscriptModel,
    TranscriptView,
    _Fonts,
    _lay_out,
    _normalise,
    _row_height,
    format_offset,
    highlight_ranges,
)

MESSAGES = [
    {"role": "system", "text": "Call connected.", "start_ms": 0, "end_ms": None},
    {"role": "agent", "text": "Bright Smile Dental, how can I help?", "start_ms": 1200,
     "end_ms": 3000},
    {"role": "agent", "text": "We open at nine.", "start_ms": 3500, "end_ms": None},
    {"role": "customer", "text": "I'd like a cleaning.", "start_ms": 42_000, "end_ms": None},
    {"role": "tool", "text": 'find_slots({"day": "wed"})', "start_ms": None, "end_ms": None},
]


@pytest.fixture
def view(qtbot):
    widget = TranscriptView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def messages(count: int) -> list[dict]:
    roles = ("agent", "customer")
    return [{"role": roles[i % 2], "text": f"Message {i} " + "words " * (i % 30),
             "start_ms": i * 1500, "end_ms": None} for i in range(count)]


def test_format_offset():
    assert [format_offset(ms) for ms in (None, 0, 42_900, 61_000, 3_725_000, -5)] == [
        "", "0:00", "0:42", "1:01", "1:02:05", "0:00"]


def test_model_roles(qtmodeltester):
    model = TranscriptModel()
    model.set_messages(MESSAGES)
    qtmodeltester.check(model)
    assert model.rowCount() == 5
    row = model.index(3)
    assert row.data() == "I'd like a cleaning."
    assert row.data(SPEAKER_ROLE) == "customer"
    assert row.data(START_MS_ROLE) == 42_000
    assert row.data(TIME_TEXT_ROLE) == "0:42"
    assert row.data(Qt.ItemDataRole.AccessibleTextRole) == "Customer [0:42]: I'd like a cleaning."
    assert [model.index(r).data(RUN_START_ROLE) for r in range(5)] == [
        True, True, False, True, True]
    assert model.index(4).data(TIME_TEXT_ROLE) == ""


def test_model_tolerates_odd_entries():
    model = TranscriptModel()
    model.set_messages([{"role": "robot", "text": None}, {"role": "agent", "text": 5}])
    assert [model.index(r).data(SPEAKER_ROLE) for r in range(2)] == ["system", "agent"]
    assert [model.index(r).data() for r in range(2)] == ["", "5"]


def test_display_role_is_the_raw_text():
    model = TranscriptModel()
    html = "<b>bold</b> <img src=x onerror=alert(1)>"
    model.set_messages([{"role": "customer", "text": html, "start_ms": None, "end_ms": None}])
    assert model.index(0).data() == html


def bubble_extent(qtbot, text: str) -> int:
    """How far right the painted pixels of a one-message transcript reach."""
    widget = TranscriptView()
    qtbot.addWidget(widget)
    widget.resize(900, 200)
    widget.show()
    # The second of a run has no speaker label to widen the painted area.
    widget.set_messages([{"role": "agent", "text": "."}, {"role": "agent", "text": text}])
    qtbot.wait(10)
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    background = widget.list_view.viewport().palette().color(QPalette.ColorRole.Base).rgb()
    row = widget.list_view.visualRect(widget.model.index(1))
    return max((x for y in range(row.top(), row.bottom(), 2) for x in range(image.width() - 40)
                if image.pixel(x, y) != background), default=0)


def test_html_is_painted_literally(qtbot):
    # Rendered as HTML, "<b>x</b>" would be as narrow as "x"; as text it is much wider.
    plain, html = bubble_extent(qtbot, "x"), bubble_extent(qtbot, "<b>x</b>")
    metrics = QFontMetrics(QApplication.font())
    assert html - plain >= metrics.horizontalAdvance("<b></b>") * 0.8
    img = bubble_extent(qtbot, "<img src=x onerror=alert(1)>")
    assert img - plain >= metrics.horizontalAdvance("<img src=x onerror=alert(1)>") * 0.8


def test_labels_are_plain_text(view):
    view.set_plain_text("AI: hello <b>there</b>")
    labels = view.findChildren(QLabel)
    assert labels
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)


def select_rows(view: TranscriptView, rows: list[int]) -> None:
    selection = view.list_view.selectionModel()
    for row in rows:
        selection.select(view.model.index(row), QItemSelectionModel.SelectionFlag.Select)


def test_ctrl_c_copies_selected_messages(qtbot, view):
    view.set_messages(MESSAGES)
    QGuiApplication.clipboard().clear()
    select_rows(view, [3, 1])
    view.list_view.setFocus()
    qtbot.keyClick(view.list_view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == (
        "Agent [0:01]: Bright Smile Dental, how can I help?\nCustomer [0:42]: I'd like a cleaning.")


def test_copy_api_equivalents(view):
    view.set_messages(MESSAGES)
    select_rows(view, [4])
    assert view.selected_text() == 'Tool: find_slots({"day": "wed"})'
    view.copy_transcript()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0] == "System [0:00]: Call connected."
    assert len(lines) == 5
    view.copy_selection()
    assert QGuiApplication.clipboard().text() == 'Tool: find_slots({"day": "wed"})'


def test_context_menu(view):
    view.set_messages(MESSAGES)
    select_rows(view, [1, 2])
    pos = view.list_view.visualRect(view.model.index(2)).center()
    menu = view.context_menu(pos)
    actions = {action.text(): action for action in menu.actions()}
    assert list(actions) == ["Copy 2 messages", "Select text in message…", "Copy whole transcript"]
    actions["Copy 2 messages"].trigger()
    assert QGuiApplication.clipboard().text().splitlines()[1] == "Agent [0:03]: We open at nine."
    actions["Select text in message…"].trigger()
    editor = view.list_view.viewport().findChild(QPlainTextEdit)
    assert editor.toPlainText() == "We open at nine."


def test_highlight_ranges_match_word_prefixes():
    text = "Cleaning and clean teeth; unclean CLEANER"
    assert highlight_ranges(text, ["clean"]) == [(0, 8), (13, 5), (34, 7)]
    assert highlight_ranges(text, ["  ", '"*']) == []
    assert highlight_ranges("a+b c", ["a+b"]) == [(0, 3)]
    assert highlight_ranges("Dr. Patel", ["pat", "dr"]) == [(0, 2), (4, 5)]


def test_highlight_offsets_count_utf16_units(view):
    from callviewer.ui.transcript import _utf16

    text = "😀 cleaning"
    assert highlight_ranges(text, ["clean"]) == [(2, 8)]
    assert _utf16(text, [(2, 8)]) == [(3, 8)]
    view.set_messages([{"role": "agent", "text": text, "start_ms": None, "end_ms": None}])
    view.set_highlight_terms(["clean"])
    view.grab()  # paints the highlight without errors


def test_highlight_applies_to_plain_text(view):
    view.set_plain_text("AI: hello\r\nUser: cleaning please")
    view.set_highlight_terms(["clean"])
    [selection] = view.findChild(QPlainTextEdit).extraSelections()
    assert selection.cursor.selectedText() == "cleaning"


def test_set_current_message(qtbot, view):
    view.set_messages(MESSAGES)
    before = view.grab().toImage()
    with qtbot.waitSignal(view.model.dataChanged) as changed:
        view.set_current_message(2)
    assert changed.args[2] == [PLAYING_ROLE]
    assert [view.model.index(r).data(PLAYING_ROLE) for r in range(5)] == [
        False, False, True, False, False]
    assert view.grab().toImage() != before
    view.set_current_message(None)
    assert not any(view.model.index(r).data(PLAYING_ROLE) for r in range(5))
    view.set_current_message(99)
    assert view.model.playing_row() is None


def test_click_and_enter_activate_a_message(qtbot, view):
    view.set_messages(MESSAGES)
    centre = view.list_view.visualRect(view.model.index(3)).center()
    with qtbot.waitSignal(view.message_activated) as clicked:
        qtbot.mouseClick(view.list_view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert clicked.args == [3]
    view.list_view.setCurrentIndex(view.model.index(1))
    with qtbot.waitSignal(view.message_activated) as entered:
        qtbot.keyClick(view.list_view, Qt.Key.Key_Return)
    assert entered.args == [1]


def test_f2_opens_read_only_text(qtbot, view):
    view.set_messages(MESSAGES)
    view.list_view.setFocus()
    view.list_view.setCurrentIndex(view.model.index(3))
    qtbot.keyClick(view.list_view, Qt.Key.Key_F2)
    editor = view.list_view.viewport().findChild(QPlainTextEdit)
    assert editor is not None and editor.isReadOnly()
    assert editor.toPlainText() == "I'd like a cleaning."
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert view.model.index(3).data() == "I'd like a cleaning."


def test_five_thousand_messages_scroll_to_the_end(qtbot, view):
    view.set_messages(messages(5000))
    view.grab()
    view.scroll_to_message(4999)
    qtbot.wait(10)
    last = view.list_view.visualRect(view.model.index(4999))
    assert view.list_view.viewport().rect().contains(last.center())
    bar = view.list_view.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0


def laid_out_afresh(view: TranscriptView, rows: int) -> bool:
    """Whether the rows sit one after another at their current sizes (no stale positions)."""
    rects = [view.list_view.visualRect(view.model.index(row)) for row in range(rows)]
    return all(b.top() == a.bottom() + 1 for a, b in pairwise(rects))


def test_resize_and_font_change_rewrap(qtbot, view):
    view.set_messages(messages(40))
    view.scroll_to_message(39)
    index = view.model.index(29)
    wide = view.list_view.visualRect(index).height()
    view.resize(300, 500)
    qtbot.waitUntil(lambda: laid_out_afresh(view, 40))
    narrow = view.list_view.visualRect(index).height()
    assert narrow > wide
    font = view.list_view.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    view.list_view.setFont(font)
    qtbot.waitUntil(lambda: view.list_view.visualRect(index).height() > narrow)
    qtbot.waitUntil(lambda: laid_out_afresh(view, 40))


def test_size_without_layout_matches_layout(view):
    fonts = _Fonts(view.list_view.font())
    texts = ["ok", "Hello there.", "x" * 60, "word " * 30, "tab\there", "two\nlines"]
    for role in ("agent", "customer", "system", "tool"):
        for m in _normalise([{"role": role, "text": t, "start_ms": 5000} for t in texts]):
            for width in (300, 700):
                laid_out = _lay_out(m, fonts, width, False)
                assert _row_height(m, fonts, width, False) == laid_out.height


def test_plain_text_fallback_shows_the_notice(view):
    view.set_plain_text("garbled <b>text</b>")
    notice = [label for label in view.findChildren(QLabel) if label.text() == NOTICE_TEXT]
    assert notice and notice[0].isVisible()
    editor = view.findChild(QPlainTextEdit)
    assert editor.isVisible() and editor.isReadOnly()
    assert editor.toPlainText() == "garbled <b>text</b>"
    assert view.transcript_text() == "garbled <b>text</b>"


def test_empty_transcript_says_so(view):
    view.set_messages([])
    [empty] = [label for label in view.findChildren(QLabel) if label.text() == EMPTY_TEXT]
    assert empty.isVisible()
    view.set_messages(MESSAGES)
    assert not empty.isVisible()
    view.clear()
    assert view.model.rowCount() == 0 and not empty.isVisible()


def test_accessible_names(view):
    assert view.accessibleName() == "Transcript"
    assert view.list_view.accessibleName()


def test_focus_is_drawn_on_the_current_bubble(qtbot, view):
    view.set_messages(MESSAGES)
    view.list_view.setCurrentIndex(view.model.index(1))
    view.list_view.clearSelection()  # the selection colour may change with focus: keep it out
    view.list_view.clearFocus()
    unfocused = view.grab().toImage()
    view.activateWindow()
    view.list_view.setFocus()
    qtbot.waitUntil(view.list_view.hasFocus)
    assert view.grab().toImage() != unfocused
