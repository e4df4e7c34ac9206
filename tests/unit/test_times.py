"""One formatter per fact: durations, local times, days (callviewer.times, no Qt)."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import pytest

from callviewer import times
from callviewer.ui import formatting

PACKAGE = Path(times.__file__).parent


def micros(*moment: int) -> int:
    """Epoch microseconds of a local (naive) date and time."""
    return int(datetime(*moment).timestamp() * 1_000_000)


@pytest.mark.parametrize(("ms", "shown"), [
    (None, ""), (0, "0 s"), (42_900, "42 s"), (59_999, "59 s"), (60_000, "1 min 00 s"),
    (61_000, "1 min 01 s"), (1_265_000, "21 min 05 s"), (3_599_999, "59 min 59 s"),
    (3_725_000, "1 h 02 min"), (36_000_000, "10 h 00 min"), (-5, "0 s"),
])
def test_a_calls_length_reads_in_units_never_as_a_clock(ms, shown):
    # "21:00" read like a time of day (issue 24): a length says its units.
    assert times.duration(ms) == shown
    assert not any(char == ":" for char in shown)


@pytest.mark.parametrize(("ms", "shown"), [
    (None, ""), (0, "0:00"), (42_900, "0:42"), (61_000, "1:01"), (3_725_000, "1:02:05"),
    (-5, "0:00"), (59_999, "0:59"), (36_000_000, "10:00:00"),
])
def test_a_position_reads_m_ss_and_h_mm_ss_from_an_hour(ms, shown):
    assert times.position(ms) == shown


def test_a_calls_length_reads_the_same_in_the_list_and_in_the_player():
    # 59.6 s was "1:00" in the list and "0:59" in the player: one call, two lengths. Both
    # are whole units gone by now, and the player's position at the end never passes it.
    assert formatting.duration(59_600) == times.duration(59_600) == "59 s"
    assert times.position(59_600) == "0:59"
    assert formatting.duration is times.duration and formatting.position is times.position


def test_every_rows_time_says_its_day_and_its_time_of_day():
    now = datetime(2026, 3, 12, 18, 0)  # a Thursday
    row = [times.local_time(micros(*moment), now, row=True) for moment in (
        (2026, 3, 12, 9, 5), (2026, 3, 11, 23, 59), (2026, 3, 9, 14, 3), (2026, 3, 6, 8, 0),
        (2026, 3, 5, 23, 59), (2025, 12, 31, 12, 0), (2026, 3, 13, 7, 30))]
    assert row == ["Today 09:05", "Yesterday 23:59", "Mon 14:03", "Fri 08:00",
                   "5 Mar 23:59", "31 Dec 2025 12:00", "13 Mar 2026 07:30"]
    assert times.local_time(None, now, row=True) == ""


def test_in_words_today_is_the_clock_and_yesterday_a_word():
    # "Synced 14:03", "marked by Ann, yesterday 09:12": a sentence's day reads as speech.
    now = datetime(2026, 3, 12, 18, 0)
    assert times.local_time(micros(2026, 3, 12, 9, 5), now) == "09:05"
    assert times.local_time(micros(2026, 3, 11, 9, 5), now) == "yesterday 09:05"
    assert times.local_time(micros(2026, 3, 9, 14, 3), now) == "Mon 14:03"
    assert times.local_time(micros(2026, 3, 5, 23, 59), now) == "5 Mar 23:59"
    assert times.local_time(micros(2025, 12, 31, 12, 0), now) == "31 Dec 2025 12:00"
    assert times.local_time(None, now) == ""


def test_a_full_time_has_the_weekday_the_day_and_the_second():
    assert times.full_time(micros(2026, 3, 9, 14, 3, 22)) == "Mon 9 Mar 2026, 14:03:22"
    assert times.full_time(None) == "Time unknown"


def test_a_day_leaves_out_this_years_number():
    today = datetime(2026, 3, 12)
    assert times.day(micros(2026, 3, 3, 10), today) == "3 Mar"
    assert times.day(micros(2025, 3, 3, 10), today) == "3 Mar 2025"


def test_no_module_formats_a_time_or_a_duration_by_hand():
    # m:ss was written three ways and the local time two (plus a day of its own): each
    # fact now has one formatter, in callviewer/times.py. A second one would show up as a
    # `:02d` pair of minutes and seconds or a local `fromtimestamp`.
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "times.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.JoinedStr) and _minutes_and_seconds(node)) or (
                    isinstance(node, ast.Call) and _local_fromtimestamp(node)):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []


def _minutes_and_seconds(node: ast.JoinedStr) -> bool:
    specs = [part.format_spec for part in node.values
             if isinstance(part, ast.FormattedValue) and part.format_spec is not None]
    return sum(ast.unparse(spec).strip("f'\"") == "02d" for spec in specs) >= 2


def _local_fromtimestamp(node: ast.Call) -> bool:
    """`datetime.fromtimestamp(x)` without a time zone: a local time."""
    function = node.func
    return (isinstance(function, ast.Attribute) and function.attr == "fromtimestamp"
            and len(node.args) < 2 and not node.keywords)
