"""Who spoke when: one block per stretch of speech, on a lane per party.

Three sources, best first:

1. The transcript's own times (``start_ms``, and ``end_ms`` when the source gives it):
   a block per message. Messages without a time between timed ones are placed by the
   follow-along's estimate and flagged ``estimated``.
2. A two-channel recording, one party per channel (not one mix on both: speech.py
   `channels_apart`): each channel's speech.
   Which channel is whose is read from the transcript's order of turns when there is
   one, else ``DEFAULT_CHANNEL_ROLES``. When the channel's turns and the transcript's
   turns agree one to one, each block names its message (``row``).
3. Otherwise the follow-along's length-based estimate (playback/follow.py): a block per
   message, every one ``estimated``, so the widget can draw it as a guess.

System lines are not spoken and have no block; tool lines are instants on their lane.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from callviewer.playback.follow import CHARS_PER_SECOND, PAD_CHARS, Timeline

if TYPE_CHECKING:
    from callviewer.timeline.peaks import Peaks
# speech.py (numpy) is imported where peaks are measured, not here: the transcript's and
# the estimate's lanes are drawn before, or without, a recording (and numpy).

SPOKEN = ("agent", "customer")
LANE_ROLES = ("agent", "customer", "tool")
# Channel 0 (left), channel 1 (right). Twilio's dual-channel recordings put the parent
# call leg (the caller, for a call coming in) on the first channel and the agent on the
# second (Twilio's Flex docs: customer left, agent right); Vapi's stereo recordings put
# the two sides on separate channels without documenting which, hence the check
# against the transcript's order of turns.
DEFAULT_CHANNEL_ROLES = ("customer", "agent")
# Without an end from the source, a message lasts at most this long per character (a
# slow 10 characters a second), or until the next one starts.
MAX_MS_PER_CHAR = 100


@dataclass(frozen=True)
class Block:
    """``role`` speaks from ``start_ms`` to ``end_ms``; ``row`` is the transcript
    message it belongs to (None: speech heard on a channel but not matched to one)."""

    start_ms: int
    end_ms: int
    role: str
    row: int | None
    estimated: bool = False


@dataclass(frozen=True)
class Lanes:
    """The blocks of one call in time order, and where their times came from:
    ``origin`` is "transcript", "channels", "estimate" or "none" (nothing to show)."""

    blocks: tuple[Block, ...]
    origin: str
    channel_roles: tuple[str, ...] | None = None

    @property
    def estimated(self) -> bool:
        """Whether any block's time is a guess."""
        return any(block.estimated for block in self.blocks)

    def lane(self, role: str) -> tuple[Block, ...]:
        """The blocks of one party, in time order."""
        return tuple(block for block in self.blocks if block.role == role)

    def of_row(self, row: int) -> tuple[Block, ...]:
        """The blocks of transcript message ``row`` (several when a channel heard pauses)."""
        return tuple(block for block in self.blocks if block.row == row)

    def next_block(self, position_ms: int, role: str | None = None) -> Block | None:
        """The first spoken block starting after ``position_ms`` (of ``role`` if given):
        "next message" / "next customer turn"."""
        for block in self._spoken(role):
            if block.start_ms > position_ms:
                return block
        return None

    def previous_block(self, position_ms: int, role: str | None = None,
                       grace_ms: int = 1500) -> Block | None:
        """The spoken block before the one being heard: like a player's "previous", a
        block that started less than ``grace_ms`` ago counts as not yet heard."""
        found = None
        for block in self._spoken(role):
            if block.start_ms >= position_ms - grace_ms:
                break
            found = block
        return found

    def timed(self, messages: Sequence[dict]) -> list[dict]:
        """Copies of ``messages`` with the start and end the lanes measured (from the
        channels), for the follow-along; messages the lanes did not measure are as given."""
        out = [dict(message) for message in messages]
        if self.origin != "channels":
            return out
        measured: dict[int, tuple[int, int]] = {}
        for block in self.blocks:
            if block.row is not None and not block.estimated:
                start, end = measured.get(block.row, (block.start_ms, block.end_ms))
                measured[block.row] = (min(start, block.start_ms), max(end, block.end_ms))
        for row, (start, end) in measured.items():
            out[row].update(start_ms=start, end_ms=end)
        return out

    def _spoken(self, role: str | None) -> list[Block]:
        return [block for block in self.blocks
                if block.role in SPOKEN and (role is None or block.role == role)]


def lanes_of(messages: Sequence[dict], duration_ms: int | None = None,
             peaks: Peaks | None = None,
             channel_roles: tuple[str, str] | None = None) -> Lanes:
    """The call's lanes from its transcript ``messages`` (canonical entries: role, text,
    start_ms, end_ms), its length and, when decoded, its recording's ``peaks``.

    ``channel_roles`` says whose each channel of a two-channel recording is; None reads it
    from the transcript's order of turns.
    """
    if duration_ms is None and peaks is not None:
        duration_ms = peaks.duration_ms
    rows = [(row, m) for row, m in enumerate(messages) if m.get("role") in LANE_ROLES]
    if any(_ms(m.get("start_ms")) is not None for _, m in rows if m["role"] in SPOKEN):
        return Lanes(tuple(_from_transcript(messages, rows, duration_ms)), "transcript")
    if peaks is not None:
        from callviewer.timeline.speech import channels_apart

        if channels_apart(peaks):
            return _from_channels(messages, peaks, channel_roles)
    if not rows:
        return Lanes((), "none")
    return Lanes(tuple(_from_transcript(messages, rows, duration_ms)), "estimate")


def _from_transcript(messages: Sequence[dict], rows: list[tuple[int, dict]],
                     duration_ms: int | None) -> list[Block]:
    """A block per message: the source's times where given, the follow-along's elsewhere."""
    estimate = Timeline(messages, duration_ms)
    placed = []
    for row, message in rows:
        given = _ms(message.get("start_ms"))
        start = given if given is not None else estimate.start_of(row)
        placed.append((row, message, start, given is None))
    blocks = []
    starts = sorted(start for _, m, start, _ in placed if m["role"] in SPOKEN)
    for row, message, start, guessed in placed:
        blocks.append(Block(start, _end(message, start, starts, duration_ms), message["role"],
                            row, guessed))
    blocks.sort(key=lambda block: (block.start_ms, block.row))
    return blocks


def _end(message: dict, start: int, starts: list[int], duration_ms: int | None) -> int:
    """Where a message ends: the source's end, else the next message's start (no later
    than a slow reading of its text), never past the recording."""
    if message["role"] not in SPOKEN:
        end = _ms(message.get("end_ms"))
        return end if end is not None and end >= start else start
    end = _ms(message.get("end_ms"))
    if end is None or end <= start:
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        end = start + (len(text) + PAD_CHARS) * MAX_MS_PER_CHAR
        later = bisect_right(starts, start)
        if later < len(starts):
            end = min(end, starts[later])
        if end <= start:  # the next one starts at the same time: a reading at normal speed
            end = start + (len(text) + PAD_CHARS) * 1000 // CHARS_PER_SECOND
    if duration_ms is not None and start < duration_ms:
        end = min(end, duration_ms)
    return end


def _from_channels(messages: Sequence[dict], peaks: Peaks,
                   channel_roles: tuple[str, str] | None) -> Lanes:
    from callviewer.timeline.speech import speech_segments

    segments = speech_segments(peaks)
    heard = sorted((start, end, channel) for channel, found in enumerate(segments)
                   for start, end in found)
    spoken_rows = [(row, m) for row, m in enumerate(messages) if m.get("role") in SPOKEN]
    said = _turns([m["role"] for _, m in spoken_rows])
    if channel_roles is None:
        channel_roles = _channel_roles(heard, said)
    blocks = [Block(start, end, channel_roles[channel], None) for start, end, channel in heard]
    turns = _turns([block.role for block in blocks])
    if said and [role for role, _ in turns] == [role for role, _ in said]:
        blocks = _match_rows(blocks, turns, said, spoken_rows)
        blocks += _tool_instants(messages, blocks)
        blocks.sort(key=lambda block: (block.start_ms, block.row if block.row is not None else -1))
    return Lanes(tuple(blocks), "channels", tuple(channel_roles))


def _turns(roles: list[str]) -> list[tuple[str, int]]:
    """Runs of one role in order: (role, how many items), e.g. agent×2, customer×1."""
    runs: list[tuple[str, int]] = []
    for role in roles:
        if runs and runs[-1][0] == role:
            runs[-1] = (role, runs[-1][1] + 1)
        else:
            runs.append((role, 1))
    return runs


def _channel_roles(heard: list[tuple[int, int, int]],
                   said: list[tuple[str, int]]) -> tuple[str, str]:
    """The channels' roles whose turn order is closest to the transcript's; the default
    when the transcript says nothing or both fit as well."""
    options = (DEFAULT_CHANNEL_ROLES, DEFAULT_CHANNEL_ROLES[::-1])
    if not said or not heard:
        return options[0]
    wanted = [role for role, _ in said]

    def fit(roles: tuple[str, str]) -> float:
        order = [role for role, _ in _turns([roles[channel] for _, _, channel in heard])]
        return SequenceMatcher(None, order, wanted, autojunk=False).ratio() + \
            (0.5 if order[0] == wanted[0] else 0)

    return max(options, key=fit)


def _match_rows(blocks: list[Block], turns: list[tuple[str, int]],
                said: list[tuple[str, int]], spoken_rows: list[tuple[int, dict]]) -> list[Block]:
    """Name each block's message: the k-th turn heard is the k-th turn said; within a turn
    of several messages, a block goes to the message whose share of the turn's text
    covers the block's middle."""
    matched: list[Block] = []
    at_block = at_row = 0
    for (_, heard_count), (_, said_count) in zip(turns, said, strict=True):
        turn = blocks[at_block:at_block + heard_count]
        rows = spoken_rows[at_row:at_row + said_count]
        weights = [len(m.get("text") or "") + PAD_CHARS for _, m in rows]
        begin, end = turn[0].start_ms, max(block.end_ms for block in turn)
        for block in turn:
            share = ((block.start_ms + block.end_ms) / 2 - begin) / max(1, end - begin)
            index, covered = 0, weights[0]
            while index + 1 < len(rows) and covered < share * sum(weights):
                index += 1
                covered += weights[index]
            matched.append(replace(block, row=rows[index][0]))
        at_block += heard_count
        at_row += said_count
    return matched


def _tool_instants(messages: Sequence[dict], blocks: list[Block]) -> list[Block]:
    """Tool lines placed where the next spoken message starts (else the last one ends),
    estimated: the channels hear no tool."""
    first_of_row: dict[int, int] = {}
    for block in blocks:
        first_of_row.setdefault(block.row, block.start_ms)
    end = max((block.end_ms for block in blocks), default=0)
    instants = []
    for row, message in enumerate(messages):
        if message.get("role") != "tool":
            continue
        later = [start for r, start in first_of_row.items() if r is not None and r > row]
        at = min(later) if later else end
        instants.append(Block(at, at, "tool", row, True))
    return instants


def _ms(value: object) -> int | None:
    """A usable time in whole ms (negative as 0), or None for a missing or bad one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return max(0, round(value))
