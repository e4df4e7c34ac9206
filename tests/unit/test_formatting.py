"""How names and numbers read on screen, laid out by Qt's own text engine."""

from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QTextLayout

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from callviewer.ui import formatting


def visual_x(qapp, text: str, index: int) -> float:
    layout = QTextLayout(text, qapp.font())
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(2000)
    layout.endLayout()
    return line.cursorToX(index)[0]


@pytest.mark.parametrize("name", ["ليلى حداد", "דנה לוי", "Maya Cohen", "王小明"])
def test_the_number_reads_left_to_right_after_the_name_whatever_the_script(qapp, name):
    text = formatting.who(name, "+97145550102")
    plus, last_digit = text.index("+"), text.index("2", text.index("+"))
    # The plus sign is drawn before (left of) the digits, and the name comes first.
    assert visual_x(qapp, text, plus) < visual_x(qapp, text, last_digit)
    start = text.index(name)
    assert all(visual_x(qapp, text, i) < visual_x(qapp, text, plus)
               for i in range(start, start + len(name)))


def test_without_isolates_an_arabic_name_would_reorder_the_number(qapp):
    text = "ليلى حداد · +97145550102"
    plus = text.index("+")
    assert visual_x(qapp, text, plus) > visual_x(qapp, text, len(text) - 1)


def test_who_says_unknown_caller_when_there_is_neither():
    assert formatting.who(None, None) == "Unknown caller"
    assert formatting.who(None, "+14155550100").strip("\u2066\u2069") == "+14155550100"


@pytest.mark.parametrize(("text", "mark"), [
    ("ليلى حداد called; the agent handled the request.", "\u200e"),
    ("مرحبا، أريد حجز موعد يوم الثلاثاء. Thanks", "\u200f"),
    ("Plain English.", "\u200e"),
])
def test_a_paragraph_reads_in_the_direction_of_most_of_its_letters(qapp, text, mark):
    shown = formatting.paragraph(text)
    assert shown == mark + text
    layout = QTextLayout(shown, qapp.font())
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(4000)
    layout.endLayout()
    # Left to right: the first letter is drawn further left than the last one.
    first, last = 1, len(shown) - 1
    assert (line.cursorToX(first)[0] < line.cursorToX(last)[0]) == (mark == "\u200e")
