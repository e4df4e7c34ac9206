"""Stretches where nobody speaks, and the jumps that skip them while playing.

A silence is a stretch of more than ``SILENCE_MS`` where no channel of the recording has
speech (speech.py). Skipping one keeps ``LEAD_OUT_MS`` after the speech before it (the
last word's decay) and lands ``LEAD_IN_MS`` before the speech after it, so the listener
hears the next words begin instead of being dropped into them.

The player asks `SkipSilence.next_jump` with its polled position; when the position is
inside a jump's span it seeks to the jump's target.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callviewer.timeline.peaks import Peaks
# speech.py (numpy) is imported by `find_silences`, not here: the window knows these types
# before, or without, a decoded recording (and numpy).

SILENCE_MS = 1000
LEAD_IN_MS = 300
LEAD_OUT_MS = 150


@dataclass(frozen=True)
class Silence:
    """Nobody speaks from ``start_ms`` to ``end_ms``."""

    start_ms: int
    end_ms: int

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Jump:
    """While playing between ``from_ms`` and ``to_ms``, go to ``to_ms``."""

    from_ms: int
    to_ms: int

    @property
    def saves_ms(self) -> int:
        return self.to_ms - self.from_ms


def find_silences(peaks: Peaks, min_ms: int = SILENCE_MS) -> list[Silence]:
    """The silences longer than ``min_ms`` in the recording, in time order, including one
    at its start or end."""
    from callviewer.timeline.speech import speech_segments, union

    return silences_between(union(speech_segments(peaks)), peaks.duration_ms, min_ms)


def silences_between(speech: list[tuple[int, int]], duration_ms: int,
                     min_ms: int = SILENCE_MS) -> list[Silence]:
    """The gaps longer than ``min_ms`` between merged, ordered speech stretches on
    0..``duration_ms``."""
    found = []
    at = 0
    for start, end in [*speech, (duration_ms, duration_ms)]:
        if start - at > min_ms:
            found.append(Silence(at, start))
        at = max(at, end)
    return found


class SkipSilence:
    """The jumps over a recording's silences, and the time they save."""

    def __init__(self, silences: list[Silence], duration_ms: int | None = None,
                 lead_in_ms: int = LEAD_IN_MS, lead_out_ms: int = LEAD_OUT_MS) -> None:
        jumps = []
        for silence in silences:
            start = silence.start_ms + (lead_out_ms if silence.start_ms > 0 else 0)
            # A silence to the end of the recording: jump to the end (the player stops).
            ends_call = duration_ms is not None and silence.end_ms >= duration_ms
            target = silence.end_ms if ends_call else silence.end_ms - lead_in_ms
            if target > start:
                jumps.append(Jump(start, target))
        self.jumps: tuple[Jump, ...] = tuple(jumps)
        self._targets = [jump.to_ms for jump in jumps]

    @property
    def saved_ms(self) -> int:
        """How much of the recording skipping every silence leaves out."""
        return sum(jump.saves_ms for jump in self.jumps)

    def next_jump(self, position_ms: int) -> Jump | None:
        """The first jump not yet behind ``position_ms``: the one to take now when
        ``jump.from_ms <= position_ms``, else the next one ahead (None when none is)."""
        index = bisect_right(self._targets, position_ms)
        return self.jumps[index] if index < len(self.jumps) else None

    def target_at(self, position_ms: int) -> int | None:
        """Where to seek from ``position_ms`` if it is inside a silence; else None."""
        jump = self.next_jump(position_ms)
        return jump.to_ms if jump is not None and jump.from_ms <= position_ms else None

    def saved_after(self, position_ms: int) -> int:
        """The time skipping would still save from ``position_ms`` to the end."""
        return sum(jump.to_ms - max(jump.from_ms, position_ms) for jump in self.jumps
                   if jump.to_ms > position_ms)
