"""A call's statistics from its lanes: talk share, longest monologue, silence, interruptions.

Only the two parties count (agent and customer); tool lines take no time. Figures from
estimated lanes are flagged ``estimated``: an estimate has no overlaps and no pauses, so
its interruptions and silence say nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from callviewer.timeline.lanes import SPOKEN, Block, Lanes
from callviewer.timeline.silence import SILENCE_MS, Silence, silences_between

# Two parties at once for less than this is a turn's ragged edge, not an interruption.
INTERRUPTION_MIN_MS = 250


@dataclass(frozen=True)
class CallStats:
    """What the detail view shows and the list sorts by."""

    talk_ms: dict[str, int]  # each party's speaking time (its blocks merged)
    talk_share: dict[str, float]  # each party's part of all the talk, 0..1
    longest_monologue_ms: int
    longest_monologue_role: str | None
    longest_monologue_start_ms: int | None
    silence_ms: int  # the silences over SILENCE_MS, added up
    interruptions: int  # times a party started while the other was speaking
    overlap_ms: int  # time both spoke at once
    estimated: bool


def call_stats(lanes: Lanes, duration_ms: int | None = None,
               silences: list[Silence] | None = None) -> CallStats:
    """The statistics of one call. ``silences`` are the recording's (silence.py, from its
    peaks) when known; else the gaps between the lanes' speech on 0..``duration_ms``."""
    blocks = sorted((b for b in lanes.blocks if b.role in SPOKEN and b.end_ms > b.start_ms),
                    key=lambda b: (b.start_ms, b.end_ms))
    talk = {role: _length(_merged([b for b in blocks if b.role == role])) for role in SPOKEN}
    total = sum(talk.values())
    share = {role: (talk[role] / total if total else 0.0) for role in SPOKEN}
    length, role, start = _longest_monologue(blocks)
    if silences is None:
        end = duration_ms if duration_ms is not None else max((b.end_ms for b in blocks),
                                                             default=0)
        silences = silences_between(_merged(blocks), end, SILENCE_MS)
    interruptions, overlap = _overlaps(blocks)
    return CallStats(talk, share, length, role, start, sum(s.length_ms for s in silences),
                     interruptions, overlap, lanes.estimated)


def _merged(blocks: list[Block]) -> list[tuple[int, int]]:
    """Blocks (in start order) as merged (start, end) stretches."""
    merged: list[list[int]] = []
    for block in blocks:
        if merged and block.start_ms <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], block.end_ms)
        else:
            merged.append([block.start_ms, block.end_ms])
    return [(start, end) for start, end in merged]


def _length(stretches: list[tuple[int, int]]) -> int:
    return sum(end - start for start, end in stretches)


def _longest_monologue(blocks: list[Block]) -> tuple[int, str | None, int | None]:
    """The longest run of one party's blocks with no other party speaking and no silence
    over SILENCE_MS inside: (length, role, start)."""
    best: tuple[int, str | None, int | None] = (0, None, None)
    run: list[int] | None = None  # [start, end]
    run_role = None
    for block in blocks:
        continues = (run is not None and block.role == run_role
                     and block.start_ms - run[1] <= SILENCE_MS)
        if continues:
            run[1] = max(run[1], block.end_ms)
        else:
            run, run_role = [block.start_ms, block.end_ms], block.role
        if run[1] - run[0] > best[0]:
            best = (run[1] - run[0], run_role, run[0])
    return best


def _overlaps(blocks: list[Block]) -> tuple[int, int]:
    """(interruptions, time both parties spoke): a block starting inside the other
    party's speech and overlapping it by INTERRUPTION_MIN_MS or more is one interruption."""
    stretches = {role: _merged([b for b in blocks if b.role == role]) for role in SPOKEN}
    overlap = 0
    first, second = (stretches[role] for role in SPOKEN)
    i = j = 0
    while i < len(first) and j < len(second):
        overlap += max(0, min(first[i][1], second[j][1]) - max(first[i][0], second[j][0]))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    interruptions = 0
    for role, other in ((SPOKEN[0], SPOKEN[1]), (SPOKEN[1], SPOKEN[0])):
        other_starts = [start for start, _ in stretches[other]]
        for start, end in stretches[role]:
            # The other party's stretches are disjoint: only the last one begun can hold it.
            index = bisect_left(other_starts, start) - 1
            if index >= 0:
                other_end = stretches[other][index][1]
                if start < other_end and min(end, other_end) - start >= INTERRUPTION_MIN_MS:
                    interruptions += 1
    return interruptions, overlap
