"""How names and numbers read on screen, laid out by Qt's own text engine."""

from __future__ import annotations

import os
from datetime import datetime

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


def _report(**facts):
    from callviewer.sync.runner import SyncReport

    report = SyncReport(finished_at=synced_at(), synced_here=1)
    counts = facts.pop("counts", {})
    for name, value in counts.items():
        setattr(report.counts, name, value)
    for name, value in facts.items():
        setattr(report, name, value)
    return report


def synced_at() -> int:
    """10:42 today, when the test runs (a suite running past midnight moves "today")."""
    return int(datetime.now().replace(hour=10, minute=42).timestamp() * 1_000_000)


def test_the_status_bar_says_what_a_sync_did():
    assert formatting.sync_sentence(_report(counts={"new": 37, "updated": 5}, downloaded=3)) \
        == "Synced 10:42 · 37 new, 5 updated, 3 recordings"
    assert formatting.sync_sentence(_report(downloaded=1, rejected=2, canceled=True)) \
        == "Sync canceled 10:42 · 0 new, 0 updated, 1 recording, 2 rejected"
    failed = _report(failures={"main": "The API token was refused."},
                     elsewhere={"desk": None})
    assert formatting.sync_sentence(failed) == ("Synced 10:42 · 0 new, 0 updated · desk: "
                                                "another desktop is syncing it · main: "
                                                "The API token was refused.")


def test_a_sync_that_left_everything_to_the_team_says_how_the_team_stands():
    earlier = synced_at() - 3_600_000_000
    assert formatting.sync_sentence(_report(synced_here=0, elsewhere={"main": None})) \
        == "Not synced yet · another desktop is syncing now"
    assert formatting.sync_sentence(_report(synced_here=0, elsewhere={"a": synced_at()},
                                            fresh={"b": earlier})) \
        == "Synced 09:42 · another desktop is syncing now"
    assert formatting.sync_sentence(_report(synced_here=0, fresh={"b": synced_at()})) \
        == "Synced 10:42"


def test_the_teams_last_sync_is_the_oldest_of_its_connections():
    # The sync's own line took the oldest, the window's "another desktop synced" line the
    # newest; "Synced 10:42" claims every connection is at least that fresh.
    earlier = synced_at() - 3_600_000_000
    assert formatting.last_synced([synced_at(), None, earlier]) == "Synced 09:42"
    assert formatting.last_synced([None]) == "Not synced yet"
