"""Follow-along: which transcript message is spoken at a playback position, and back.

No Qt here, so it runs headless. Starts the source gives are kept (negative
ones as 0, and made non-decreasing with a running maximum, since a message
before another cannot start after it); missing ones are estimated from text
length. Only agent and customer lines are spoken: system and tool lines take
no time and start where the next spoken message starts (or where the
recording ends), as the transcript view shows other roles as system lines.

A message lasts until the next one starts; ``end_ms`` is not used.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

SPOKEN_ROLES = frozenset({"agent", "customer"})
PAD_CHARS = 8  # added to every spoken line, so a bare "Yes." still gets a breath
CHARS_PER_SECOND = 15  # speaking rate used when the recording's length is unknown


class Timeline:
    """Where each message of one transcript starts on its recording.

    ``row_at`` finds the last row starting at or before a position with one
    bisect. Rows sharing a start are a tie: the last *spoken* one of them wins,
    else the last one. Estimated silent lines share the start of the spoken
    message after them, so that message is the one shown.
    """

    def __init__(self, messages: Sequence[dict], duration_ms: int | None) -> None:
        given = [_milliseconds(m.get("start_ms")) for m in messages]
        spoken = [m.get("role") in SPOKEN_ROLES for m in messages]
        weights = [_weight(m) if talks else 0 for m, talks in zip(messages, spoken, strict=True)]
        # True when any start was estimated rather than given by the source.
        self.estimated = None in given
        self._starts = _starts(given, weights, _milliseconds(duration_ms) or None)
        self._shown = _tie_winners(self._starts, spoken)

    def row_at(self, position_ms: int) -> int | None:
        """The row being spoken at ``position_ms``; None before the first start or if empty."""
        index = bisect_right(self._starts, position_ms) - 1
        return self._shown[index] if index >= 0 else None

    def start_of(self, row: int) -> int:
        """The position, in ms, to seek to for ``row``."""
        if not 0 <= row < len(self._starts):
            raise IndexError(f"No message {row} in a transcript of {len(self._starts)}.")
        return self._starts[row]


def _milliseconds(value: object) -> int | None:
    """A usable offset in whole ms (negative as 0), or None for missing or bad values."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return max(0, round(value))


def _weight(message: dict) -> int:
    text = message.get("text")
    return (len(text) if isinstance(text, str) else 0) + PAD_CHARS


def _starts(given: list[int | None], weights: list[int], duration: int | None) -> list[int]:
    """Every row's start: given ones as anchors, the rows between spread by weight."""
    anchors: list[tuple[int, int]] = []  # (row, start), starts non-decreasing
    floor = 0
    for row, start in enumerate(given):
        if start is not None:
            floor = max(floor, start)
            anchors.append((row, floor))
    starts = [0] * len(given)
    # Rows before the first anchor share the time from 0 up to it (or the whole recording).
    first_row, first_start = anchors[0] if anchors else (len(given), duration)
    _spread(starts, weights, 0, range(first_row), 0, first_start)
    # Each anchor and the missing rows after it share the time up to the next anchor.
    for k, (row, start) in enumerate(anchors):
        if k + 1 < len(anchors):
            next_row, end = anchors[k + 1]
        else:
            next_row = len(given)
            end = duration if duration is not None and duration > start else None
        starts[row] = start
        _spread(starts, weights, weights[row], range(row + 1, next_row), start, end)
    return starts


def _spread(starts: list[int], weights: list[int], lead: int, rows: range,
            base: int, end: int | None) -> None:
    """Start ``rows`` between ``base`` and ``end`` by weight, after ``lead`` weight already spoken.

    Without an end, at ``CHARS_PER_SECOND``. If nothing here is spoken, the rows
    start at ``end``: where the next spoken message starts.
    """
    total = lead + sum(weights[row] for row in rows)
    done = lead
    for row in rows:
        if end is None:
            offset = _share(1000, done, CHARS_PER_SECOND)
        elif total:
            offset = _share(end - base, done, total)
        else:
            offset = end - base
        starts[row] = base + offset
        done += weights[row]


def _share(span: int, part: int, whole: int) -> int:
    """``span * part / whole`` rounded half up; integers, so ``part == whole`` gives ``span``."""
    return (2 * span * part + whole) // (2 * whole)


def _tie_winners(starts: list[int], spoken: list[bool]) -> list[int]:
    """The row shown for each row a bisect can land on, the last of a run of equal starts.

    That is the run's last spoken row, else the row itself; other rows map to themselves.
    """
    shown = list(range(len(starts)))
    last_spoken = None
    for row, start in enumerate(starts):
        if spoken[row]:
            last_spoken = row
        if row + 1 == len(starts) or starts[row + 1] != start:
            if last_spoken is not None:
                shown[row] = last_spoken
            last_spoken = None
    return shown
