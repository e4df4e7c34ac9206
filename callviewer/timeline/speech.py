"""Where someone speaks on each channel of a recording, from its peaks' energy.

Thresholds are relative to the channel's own level (its loud 95th percentile and its
quiet 10th), so a quiet recording and a loud one are read alike, with a floor tied to
the loudest channel so that a silent side's noise, or the other party's echo on it, is
not taken for speech; and a channel much quieter than the other at the same moment is
that party's echo, not its speech. Speech starts where the level crosses the upper threshold and
lasts while it stays over the lower one (hysteresis); pauses between words shorter
than ``MIN_GAP_MS`` are bridged, and bursts shorter than ``MIN_SPEECH_MS`` (clicks) dropped.
"""

from __future__ import annotations

import numpy as np

from callviewer.timeline.peaks import FLOOR_DB, Peaks

MIN_SPEECH_MS = 120
MIN_GAP_MS = 350
CONTRAST_DB = 20.0  # the upper threshold is at most this far under the speech level
ECHO_DB = 35.0  # ...and at least this far under the loudest channel's speech
HYSTERESIS_DB = 6.0
ECHO_MARGIN_DB = 12.0  # a channel this much quieter than another at the same moment: echo
SEPARATE_SHARE = 0.5  # channels_apart: the share of heard moments where the two differ
QUIET_DB = -65.0  # nothing quieter than this is speech, however quiet the file

_UNITS_PER_DB = 255 / -FLOOR_DB

Segment = tuple[int, int]  # (start_ms, end_ms)


def speech_segments(peaks: Peaks) -> list[list[Segment]]:
    """Each channel's speech as (start_ms, end_ms) pairs in time order."""
    levels = _without_echo(peaks.levels)
    loudest = max(_percentile(channel, 95) for channel in levels)
    return [_segments(peaks, channel, loudest) for channel in levels]


def channels_apart(peaks: Peaks) -> bool:
    """Whether a two-channel recording holds two different sides (one party a channel),
    not one mix on both channels, as many "stereo" MP3s of a mono call do: while anyone
    is heard, the channels' levels mostly differ by more than ``HYSTERESIS_DB``."""
    if peaks.channels != 2:
        return False
    left, right = peaks.levels.astype(np.int16)
    loudest = max(_percentile(peaks.levels[0], 95), _percentile(peaks.levels[1], 95))
    heard = np.maximum(left, right) >= loudest - CONTRAST_DB * _UNITS_PER_DB
    if not heard.any():
        return False
    apart = np.abs(left - right)[heard] > HYSTERESIS_DB * _UNITS_PER_DB
    return float(apart.mean()) >= SEPARATE_SHARE


def _without_echo(levels: np.ndarray) -> np.ndarray:
    """The levels with each channel silenced (set to its floor) wherever another channel is
    ``ECHO_MARGIN_DB`` louder at the same moment: a phone line's echo of the other party,
    which a real reply over it (an interruption) is not, being as loud as the speech."""
    if levels.shape[0] < 2:
        return levels
    margin = round(ECHO_MARGIN_DB * _UNITS_PER_DB)
    others = np.stack([np.delete(levels, channel, axis=0).max(axis=0)
                       for channel in range(levels.shape[0])])
    echo = others.astype(np.int16) - levels > margin
    floors = np.array([[_percentile(channel, 10)] for channel in levels], dtype=np.uint8)
    return np.where(echo, floors, levels)


def union(segments: list[list[Segment]]) -> list[Segment]:
    """The stretches where at least one channel speaks, merged, in time order."""
    merged: list[list[int]] = []
    for start, end in sorted(s for channel in segments for s in channel):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def thresholds(levels: np.ndarray, loudest: float) -> tuple[float, float]:
    """The (upper, lower) hysteresis thresholds, in level units, for one channel."""
    speech, floor = _percentile(levels, 95), _percentile(levels, 10)
    if speech - floor < 2 * HYSTERESIS_DB * _UNITS_PER_DB:
        # One level throughout (a tone, a hum, nothing): speech if it is loud enough.
        upper = max((QUIET_DB - FLOOR_DB) * _UNITS_PER_DB, loudest - ECHO_DB * _UNITS_PER_DB)
        return upper, upper
    upper = min((speech + floor) / 2, speech - CONTRAST_DB * _UNITS_PER_DB)
    upper = max(upper, floor + HYSTERESIS_DB * _UNITS_PER_DB,
                loudest - ECHO_DB * _UNITS_PER_DB, (QUIET_DB - FLOOR_DB) * _UNITS_PER_DB)
    lower = max(upper - HYSTERESIS_DB * _UNITS_PER_DB, floor + 2 * _UNITS_PER_DB)
    return upper, min(lower, upper)


def _segments(peaks: Peaks, levels: np.ndarray, loudest: float) -> list[Segment]:
    upper, lower = thresholds(levels, loudest)
    over_lower = np.concatenate(([False], levels >= lower, [False]))
    edges = np.flatnonzero(np.diff(over_lower.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]  # runs over the lower threshold: [start, end)
    loud = np.concatenate(([0], np.cumsum(levels >= upper)))
    keep = loud[ends] > loud[starts]  # ...that reach the upper one somewhere
    runs: list[list[int]] = []
    min_gap = _peaks_in(peaks, MIN_GAP_MS)
    for start, end in zip(starts[keep].tolist(), ends[keep].tolist(), strict=True):
        if runs and start - runs[-1][1] < min_gap:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    min_speech = _peaks_in(peaks, MIN_SPEECH_MS)
    return [(peaks.ms_at(start), min(peaks.ms_at(end), peaks.duration_ms))
            for start, end in runs if end - start >= min_speech]


def _peaks_in(peaks: Peaks, milliseconds: int) -> int:
    return max(1, round(milliseconds / peaks.ms_per_peak))


def _percentile(levels: np.ndarray, percent: float) -> float:
    """A percentile of uint8 levels from their histogram (no sort of a long array)."""
    if levels.size == 0:
        return 0.0
    cumulative = np.cumsum(np.bincount(levels, minlength=256))
    return float(np.searchsorted(cumulative, cumulative[-1] * percent / 100))
