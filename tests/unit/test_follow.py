"""Follow-along timeline: given, estimated and mixed starts; lookups both ways."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callviewer.playback.follow import CHARS_PER_SECOND, PAD_CHARS, Timeline
from callviewer.record import message


def timed(*starts: float | None, role: str = "agent") -> list[dict]:
    return [message(role, f"line {i}", start) for i, start in enumerate(starts)]


def starts_of(timeline: Timeline, count: int) -> list[int]:
    return [timeline.start_of(row) for row in range(count)]


# --- given starts -------------------------------------------------------------


def test_given_starts_are_used_and_each_message_lasts_until_the_next():
    timeline = Timeline(timed(0, 2000, 5000), duration_ms=9000)
    assert not timeline.estimated
    assert starts_of(timeline, 3) == [0, 2000, 5000]
    assert [timeline.row_at(p) for p in (0, 1999, 2000, 4999, 5000, 8999)] == [0, 0, 1, 1, 2, 2]


def test_position_before_the_first_start_is_no_row():
    timeline = Timeline(timed(3000, 4000), duration_ms=9000)
    assert timeline.row_at(0) is None
    assert timeline.row_at(2999) is None
    assert timeline.row_at(3000) == 0


def test_position_beyond_the_end_is_the_last_row():
    timeline = Timeline(timed(0, 1000, 2000), duration_ms=3000)
    assert timeline.row_at(3000) == 2
    assert timeline.row_at(10**12) == 2


def test_out_of_order_starts_are_raised_to_a_running_maximum():
    timeline = Timeline(timed(0, 5000, 3000, 8000), duration_ms=9000)
    assert starts_of(timeline, 4) == [0, 5000, 5000, 8000]
    assert timeline.row_at(4000) == 0
    # Rows 1 and 2 tie at 5000; both spoken, so the later one is shown.
    assert timeline.row_at(5000) == 2
    assert timeline.row_at(7999) == 2


def test_negative_starts_count_as_zero_and_floats_are_rounded():
    timeline = Timeline(timed(-500, 1500.6, 2400.2), duration_ms=None)
    assert not timeline.estimated
    assert starts_of(timeline, 3) == [0, 1501, 2400]
    assert timeline.row_at(0) == 0
    assert timeline.row_at(1500) == 0
    assert timeline.row_at(1501) == 1


def test_a_tie_shows_the_spoken_line_over_a_tool_line_logged_with_it():
    messages = [message("agent", "Let me check.", 1000), message("tool", "lookup()", 1000),
                message("customer", "Thanks.", 4000)]
    timeline = Timeline(messages, duration_ms=6000)
    assert timeline.row_at(1000) == 0
    assert timeline.row_at(3999) == 0
    assert timeline.row_at(4000) == 2


def test_a_tie_of_silent_lines_only_shows_the_last():
    messages = [message("system", "Call started", 0), message("system", "Recording on", 0),
                message("agent", "Hello.", 500)]
    timeline = Timeline(messages, duration_ms=6000)
    assert timeline.row_at(0) == 1
    assert timeline.row_at(500) == 2


def test_empty_transcript_has_no_rows():
    timeline = Timeline([], duration_ms=60000)
    assert not timeline.estimated
    assert timeline.row_at(0) is None
    assert timeline.row_at(10**9) is None
    with pytest.raises(IndexError):
        timeline.start_of(0)


@pytest.mark.parametrize("row", [-1, 2, 99])
def test_start_of_a_row_outside_the_transcript_is_an_index_error(row):
    timeline = Timeline(timed(0, 1000), duration_ms=2000)
    with pytest.raises(IndexError):
        timeline.start_of(row)


# --- estimated starts -----------------------------------------------------------


def test_no_starts_share_the_duration_by_text_length_and_silent_lines_get_none():
    short, long = "Hi there.", "I would like to change the delivery address on my order. " * 3
    messages = [message("agent", short), message("system", "Transferred to billing."),
                message("customer", long), message("agent", "")]
    timeline = Timeline(messages, duration_ms=120_000)
    assert timeline.estimated
    starts = starts_of(timeline, 4)
    assert starts[0] == 0
    # The system line takes no time: it starts where the next spoken message does,
    # and that spoken message is the one shown there.
    assert starts[1] == starts[2]
    assert timeline.row_at(starts[1]) == 2
    spans = [starts[2] - starts[0], starts[3] - starts[2], 120_000 - starts[3]]
    weights = [len(short) + PAD_CHARS, len(long) + PAD_CHARS, PAD_CHARS]
    for span, weight in zip(spans, weights, strict=True):
        assert span == pytest.approx(120_000 * weight / sum(weights), abs=1)
    # An empty message still gets a sliver of time.
    assert starts[3] < 120_000
    assert timeline.row_at(119_999) == 3


@pytest.mark.parametrize("duration", [None, 0, -5])
def test_no_starts_and_unknown_duration_use_the_speaking_rate(duration):
    messages = [message("customer", "x" * 30), message("tool", "lookup()"),
                message("agent", "y" * 45), message("customer", "z")]
    timeline = Timeline(messages, duration_ms=duration)
    assert timeline.estimated
    first = round((30 + PAD_CHARS) * 1000 / CHARS_PER_SECOND)
    second = round((30 + 45 + 2 * PAD_CHARS) * 1000 / CHARS_PER_SECOND)
    assert starts_of(timeline, 4) == [0, first, first, second]
    assert timeline.row_at(first) == 2


def test_mixed_starts_keep_anchors_and_spread_the_missing_between_them():
    messages = [message("agent", "a" * 10),                 # before the first anchor
                message("customer", "b" * 30, 10_000),      # anchor
                message("agent", "c" * 10),                 # shares 10 s with the anchor
                message("customer", "d", 20_000),           # anchor
                message("agent", "e" * 100)]                # after the last anchor
    timeline = Timeline(messages, duration_ms=30_000)
    assert timeline.estimated
    starts = starts_of(timeline, 5)
    assert starts[0] == 0
    assert starts[1] == 10_000
    assert starts[2] == 10_000 + round(10_000 * (30 + PAD_CHARS) / (30 + 10 + 2 * PAD_CHARS))
    assert starts[3] == 20_000
    assert starts[4] == 20_000 + round(10_000 * (1 + PAD_CHARS) / (1 + 100 + 2 * PAD_CHARS))
    assert [timeline.row_at(s) for s in starts] == [0, 1, 2, 3, 4]


def test_mixed_starts_after_the_last_anchor_use_the_rate_without_a_duration():
    messages = [message("agent", "a" * 22, 5_000), message("customer", "b")]
    timeline = Timeline(messages, duration_ms=None)
    assert starts_of(timeline, 2) == [5_000, 5_000 + round((22 + PAD_CHARS) * 1000 / 15)]


def test_mixed_starts_with_an_anchor_past_the_duration_use_the_rate():
    messages = [message("agent", "a" * 22, 50_000), message("customer", "b")]
    timeline = Timeline(messages, duration_ms=40_000)
    assert timeline.start_of(1) == 50_000 + round((22 + PAD_CHARS) * 1000 / 15)


def test_silent_lines_between_anchors_start_at_the_next_anchor():
    messages = [message("agent", "Let me check.", 1000), message("tool", "lookup()"),
                message("system", "Hold music"), message("agent", "Found it.", 9000)]
    timeline = Timeline(messages, duration_ms=12_000)
    assert starts_of(timeline, 4) == [1000, 9000, 9000, 9000]
    assert timeline.row_at(8999) == 0
    assert timeline.row_at(9000) == 3


def test_silent_lines_after_a_silent_anchor_still_wait_for_the_next_spoken_one():
    messages = [message("system", "Call started", 0), message("tool", "lookup()"),
                message("agent", "Hello.", 3000)]
    timeline = Timeline(messages, duration_ms=6000)
    assert starts_of(timeline, 3) == [0, 3000, 3000]
    assert timeline.row_at(2999) == 0
    assert timeline.row_at(3000) == 2


def test_bad_values_count_as_missing():
    messages = [{"role": "agent", "text": None, "start_ms": "soon"},
                {"text": "no role", "start_ms": math.nan},
                {"role": "customer", "text": "ok", "start_ms": True},
                {"role": "agent", "text": "fine", "start_ms": math.inf}]
    timeline = Timeline(messages, duration_ms=1000)
    assert timeline.estimated
    starts = starts_of(timeline, 4)
    # Row 1 has no known role, so it is silent and starts with row 2.
    assert starts[0] == 0
    assert starts[1] == starts[2] == round(1000 * PAD_CHARS / (3 * PAD_CHARS + 2 + 4))
    assert timeline.row_at(starts[1]) == 2


# --- properties -----------------------------------------------------------------

ROLES = st.sampled_from(["agent", "customer", "system", "tool", "other"])
START = st.one_of(st.none(), st.integers(-10**7, 10**8), st.floats(-1e7, 1e8),
                  st.sampled_from([math.nan, math.inf, -math.inf, "3", True]))
MESSAGE = st.builds(lambda role, text, start: {"role": role, "text": text, "start_ms": start,
                                               "end_ms": None},
                    ROLES, st.text(max_size=60), START)
MESSAGES = st.lists(MESSAGE, max_size=30)
DURATION = st.one_of(st.none(), st.integers(-1000, 10**8))


def usable(value) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def spoken(m: dict) -> bool:
    return m["role"] in ("agent", "customer")


@settings(max_examples=300)
@given(MESSAGES, DURATION)
def test_starts_are_non_negative_and_non_decreasing(messages, duration):
    starts = starts_of(Timeline(messages, duration), len(messages))
    assert all(s >= 0 for s in starts)
    assert starts == sorted(starts)


@settings(max_examples=300)
@given(MESSAGES, DURATION)
def test_given_starts_are_kept_as_a_running_maximum(messages, duration):
    timeline = Timeline(messages, duration)
    floor = 0
    for row, m in enumerate(messages):
        if usable(m["start_ms"]):
            floor = max(floor, round(m["start_ms"]))
            assert timeline.start_of(row) == floor
    assert timeline.estimated == (not all(usable(m["start_ms"]) for m in messages))


@settings(max_examples=300)
@given(MESSAGES, st.integers(1, 10**8))
def test_estimates_without_anchors_stay_within_the_recording(messages, duration):
    for m in messages:
        m["start_ms"] = None
    starts = starts_of(Timeline(messages, duration), len(messages))
    assert all(0 <= s <= duration for s in starts)
    if any(spoken(m) for m in messages):
        assert starts[0] == 0


@settings(max_examples=300)
@given(MESSAGES, DURATION)
def test_seeking_to_a_row_shows_it_or_a_row_tied_with_it(messages, duration):
    timeline = Timeline(messages, duration)
    starts = starts_of(timeline, len(messages))
    for row, start in enumerate(starts):
        shown = timeline.row_at(start)
        assert shown is not None
        assert timeline.start_of(shown) == start
        has_span = row + 1 == len(starts) or starts[row + 1] > start
        if spoken(messages[row]) and has_span:
            assert shown == row


@settings(max_examples=300)
@given(MESSAGES, DURATION, st.lists(st.integers(-10, 2 * 10**8), min_size=2, max_size=20))
def test_row_at_moves_forward_with_position_and_matches_a_scan(messages, duration, positions):
    timeline = Timeline(messages, duration)
    starts = starts_of(timeline, len(messages))
    rows = []
    for position in sorted(positions):
        row = timeline.row_at(position)
        rows.append(-1 if row is None else row)
        # The rule, by a linear scan: among rows starting at or before the position,
        # those with the latest start; the last spoken of them, else the last.
        before = [r for r, s in enumerate(starts) if s <= position]
        if not before:
            assert row is None
            continue
        tied = [r for r in before if starts[r] == starts[before[-1]]]
        talking = [r for r in tied if spoken(messages[r])]
        assert row == (talking or tied)[-1]
    assert rows == sorted(rows)
