"""The transcript view: model roles, plain-text painting, copy, highlight, follow-along, scale."""

from __future__ import annotations

import json
import os
from itertools import pairwise

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QFontMetrics, QGuiApplication, QImage, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit

from callviewer.ui.transcript import (
    EMPTY_TEXT,
    NO_RESULT,
    NOTICE_TEXT,
    PLAYING_ROLE,
    RESULT_LINES,
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


def tool_entry(name, arguments, result, start_ms=None) -> dict:
    """A tool entry shaped as ``record.tool_message`` makes it."""
    def compact(value) -> str:
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))

    text = f"{name or 'tool'}({compact(arguments or '')})"
    text += "" if result is None else f" → {compact(result)}"
    return {"role": "tool", "text": text, "start_ms": start_ms, "end_ms": None,
            "tool": {"name": name, "arguments": arguments, "result": result}}


TOOL_CALL = tool_entry("lookup_order", {"id": 1}, {"status": "shipped"}, 16_000)
TOOL_MESSAGES = [*MESSAGES[:4], TOOL_CALL,
                 {"role": "agent", "text": "It has shipped.", "start_ms": 18_000, "end_ms": None}]


def shown_lines(view: TranscriptView, row: int) -> list[str]:
    """The lines of bubble ``row`` as the view lays them out to paint them."""
    layout = view.list_view.itemDelegate().bubble(view.model.index(row)).layout
    text = layout.text()
    lines = (layout.lineAt(i) for i in range(layout.lineCount()))
    return [text[line.textStart():line.textStart() + line.textLength()].rstrip("\u2028")
            for line in lines]


def test_tool_bubble_shows_name_arguments_and_result(view):
    view.set_messages(TOOL_MESSAGES)
    assert shown_lines(view, 4) == [
        "\u2699 lookup_order", '{"id": 1}', '\u2192\u00a0{"status": "shipped"}']
    # Its own bubble: three lines high, where a tool line without the structure has one.
    plain = dict(TOOL_CALL)
    del plain["tool"]
    view.set_messages([*TOOL_MESSAGES[:4], plain, TOOL_MESSAGES[5]])
    assert shown_lines(view, 4) == [plain["text"]]
    one_line = view.list_view.visualRect(view.model.index(4)).height()
    view.set_messages(TOOL_MESSAGES)
    view.list_view.lay_out_now()
    assert view.list_view.visualRect(view.model.index(4)).height() > 2 * one_line


def test_tool_parts_as_the_source_gave_them(view):
    view.set_messages([
        tool_entry("send_sms", '{\n  "to": "+1555",\n  "body": "hi"\n}', None),
        tool_entry(None, None, "sunny"),
        tool_entry("ping", "", ""),
    ])
    assert shown_lines(view, 0) == [
        "\u2699 send_sms", '{"to": "+1555", "body": "hi"}', f"\u2192\u00a0{NO_RESULT}"]
    assert shown_lines(view, 1) == ["\u2699 tool", "\u2192\u00a0sunny"]
    assert shown_lines(view, 2) == ["\u2699 ping", f"\u2192\u00a0{NO_RESULT}"]


def tool_extent(qtbot, result: str) -> int:
    """How wide the painted pixels of a tool bubble with ``result`` are."""
    widget = TranscriptView()
    qtbot.addWidget(widget)
    widget.resize(900, 200)
    widget.show()
    widget.set_messages([tool_entry("t", None, result)])
    qtbot.wait(10)
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    background = widget.list_view.viewport().palette().color(QPalette.ColorRole.Base).rgb()
    row = widget.list_view.visualRect(widget.model.index(0))
    xs = [x for y in range(row.top(), row.bottom(), 2) for x in range(image.width())
          if image.pixel(x, y) != background]
    return max(xs) - min(xs)


def test_html_in_a_tool_result_is_text(qtbot, view):
    html = "<b>bold</b> <img src=x onerror=alert(1)>"
    view.set_messages([tool_entry("t", {"q": "<i>a</i>"}, html)])
    assert shown_lines(view, 0)[1:] == ['{"q": "<i>a</i>"}', f"\u2192\u00a0{html}"]
    # Painted as HTML, the result would be as narrow as "bold"; as text it is much wider.
    fonts = _Fonts(view.list_view.font())
    wider = QFontMetrics(fonts.tool).horizontalAdvance("<b></b> <img src=x onerror=alert(1)>")
    assert tool_extent(qtbot, html) - tool_extent(qtbot, "bold") >= wider * 0.8


def test_a_long_result_is_elided_and_kept_whole_for_copy(qtbot, view):
    result = {f"key{i}": f"value {i}" for i in range(300)}
    view.set_messages([tool_entry("search", {"q": "x" * 500}, result)])
    lines = shown_lines(view, 0)
    answer_at = next(i for i, line in enumerate(lines) if line.startswith("\u2192"))
    arguments, answer = lines[1:answer_at], lines[answer_at:]
    assert 1 <= len(arguments) <= 3 and arguments[-1].endswith("\u2026")
    assert len(answer) == RESULT_LINES and answer[-1].endswith("\u2026")
    assert "key299" not in "".join(lines)
    row_height = view.list_view.visualRect(view.model.index(0)).height()
    assert row_height < 12 * QFontMetrics(view.list_view.font()).height()
    # The whole call stays available: copy, and F2's read-only text.
    select_rows(view, [0])
    view.copy_selection()
    assert QGuiApplication.clipboard().text().endswith('"key299":"value 299"}')
    view.list_view.setFocus()
    view.list_view.setCurrentIndex(view.model.index(0))
    qtbot.keyClick(view.list_view, Qt.Key.Key_F2)
    editor = view.list_view.viewport().findChild(QPlainTextEdit)
    assert editor.isReadOnly() and '  "key299": "value 299"' in editor.toPlainText()
    assert editor.toPlainText().startswith("search\n{\n")


def test_tool_bubble_seeks_follows_and_highlights(qtbot, view):
    view.set_messages(TOOL_MESSAGES)
    rect = view.list_view.visualRect(view.model.index(4))
    bubble = view.list_view.itemDelegate().bubble(view.model.index(4))
    assert rect.height() == bubble.height  # the size cache and the painted bubble agree
    point = bubble.rect.center().toPoint() + rect.topLeft()
    with qtbot.waitSignal(view.message_activated) as clicked:
        qtbot.mouseClick(view.list_view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert clicked.args == [4]
    view.list_view.setFocus()
    qtbot.keyClick(view.list_view, Qt.Key.Key_Down)
    assert view.list_view.currentIndex().row() == 5
    qtbot.keyClick(view.list_view, Qt.Key.Key_Up)
    with qtbot.waitSignal(view.message_activated) as entered:
        qtbot.keyClick(view.list_view, Qt.Key.Key_Return)
    assert entered.args == [4]
    view.list_view.clearSelection()
    plain = view.list_view.viewport().grab(rect).toImage()
    view.set_current_message(4)
    playing = view.list_view.viewport().grab(rect).toImage()
    assert playing != plain
    view.set_current_message(None)
    view.set_highlight_terms(["shipped"])
    assert view.list_view.viewport().grab(rect).toImage() not in (plain, playing)
    view.set_highlight_terms([])
    assert view.list_view.viewport().grab(rect).toImage() == plain


def test_tool_rows_keep_their_size_cache_right(qtbot, view):
    fonts = _Fonts(view.list_view.font())
    for m in _normalise([TOOL_CALL, tool_entry("x", "word " * 80, "word " * 200, 5000)]):
        for width in (200, 300, 700):
            assert _row_height(m, fonts, width, False) == _lay_out(m, fonts, width, False).height
    view.set_messages([TOOL_CALL, tool_entry("x", "word " * 20, "word " * 30), *messages(20)])
    view.list_view.lay_out_now()
    wide = view.list_view.visualRect(view.model.index(1)).height()
    view.resize(320, 500)
    qtbot.waitUntil(lambda: laid_out_afresh(view, 22))
    assert view.list_view.visualRect(view.model.index(1)).height() > wide
