"""The waveform's shape from a recording's peaks: a height per drawn column, and the
outline around a middle line. No Qt here: the widget (ui/timeline_paint.py) draws the
points this gives.

This module needs numpy; the window imports it only when it draws a decoded recording.
"""

from __future__ import annotations

import numpy as np

from callviewer.timeline.peaks import FLOOR_DB, Peaks

QUIET_DB = -60.0  # drawn as no height: a phone line's noise floor is around here


def columns(peaks: Peaks, count: int) -> np.ndarray:
    """Each channel's loudest peak in each of `count` equal stretches, as a height 0..1
    on a decibel scale (QUIET_DB and below: none; the recording's loudest: 1)."""
    levels = peaks.levels
    edges = np.linspace(0, peaks.count, count + 1)[:-1].astype(np.int64)
    edges = np.minimum(edges, max(peaks.count - 1, 0))
    loudest = np.maximum.reduceat(levels, edges, axis=1).astype(np.float32)
    db = loudest * (-FLOOR_DB / 255) + FLOOR_DB
    top = max(float(db.max()), QUIET_DB + 6)
    return np.clip((db - QUIET_DB) / (top - QUIET_DB), 0.0, 1.0)


def column_xs(left: float, count: int, ratio: float) -> np.ndarray:
    """The middle of each of `count` device pixels from `left`, in logical coordinates."""
    return left + (np.arange(count, dtype=np.float64) + 0.5) / ratio


def envelope(xs: np.ndarray, middle: float, upper: np.ndarray,
             lower: np.ndarray | None) -> list[tuple[float, float]]:
    """A closed outline's points from the middle line: `upper` offsets along xs, back
    along `lower` (None: the middle line itself)."""
    top = list(zip(xs.tolist(), (middle + upper.astype(np.float64)).tolist(), strict=True))
    if lower is None:
        return [*top, (float(xs[-1]), middle), (float(xs[0]), middle)]
    back = list(zip(xs.tolist(), (middle + lower.astype(np.float64)).tolist(), strict=True))
    back.reverse()
    return top + back
