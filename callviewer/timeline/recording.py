"""A call's recording made into its timeline, on a worker: where its peaks are kept, and
the decode that reads them (once) and places the messages with them. No Qt here.

numpy is imported only once a recording is decoded (timeline/peaks.py and speech.py
need it): a window that shows calls without a downloaded recording never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse
from urllib.request import url2pathname

from callviewer.store.shared_archive import PEAKS_FOLDER  # a team cache's sweep keeps it

if TYPE_CHECKING:
    from callviewer.timeline.lanes import Lanes
    from callviewer.timeline.peaks import Peaks
    from callviewer.timeline.silence import SkipSilence


def peaks_file(folder: Path, call_id: int) -> Path:
    """Where a call's recording's peaks are kept: in the archive's folder (peaks/<call
    id>.peaks), never beside a file the person imported from a folder of their own."""
    return Path(folder) / PEAKS_FOLDER / f"{call_id}.peaks"


def local_recording(found: str | None) -> Path | None:
    """The file a recording reference names on this computer (a path or a file: URL);
    None for a link at the source (not downloaded: no waveform) or none at all."""
    if not found:
        return None
    if found.startswith("file:"):
        return Path(url2pathname(urlparse(found).path))
    if "://" in found:
        return None
    return Path(found)


@dataclass(frozen=True)
class Decoded:
    """What the worker made of a call's recording: its peaks (None: no archived recording
    here), the lanes with them, the silences to skip, and whose each channel is when the
    recording has one party a channel."""

    peaks: Peaks | None
    lanes: Lanes | None
    skip: SkipSilence | None
    channel_roles: tuple[str, ...] | None = None


def decode(source: Callable[[], str | Callable[[], str | None] | None], cache: Path,
           messages: Sequence[dict], duration_ms: int | None) -> Decoded:
    """On a worker: find the call's recording (`source`: the store's archive lookup, which
    may be a team archive's fetch), decode its peaks once (kept in `cache`) and place the
    messages with them. Raises PeaksError (its sentence) for a file that cannot be read."""
    found = source()
    if callable(found):
        found = found()
    path = local_recording(found)
    if path is None:
        return Decoded(None, None, None)
    # Here, not at the top: these need numpy, which only a decoded recording does.
    from callviewer.timeline.lanes import lanes_of
    from callviewer.timeline.peaks import peaks_of
    from callviewer.timeline.silence import SkipSilence, find_silences
    from callviewer.timeline.speech import channels_apart

    peaks = peaks_of(path, cache)
    lanes = lanes_of(messages, peaks.duration_ms, peaks)
    roles = lanes.channel_roles
    if roles is None and channels_apart(peaks):
        # Timed by the transcript, but one party a channel: whose is whose, for the colours.
        untimed = [{k: v for k, v in m.items() if k not in ("start_ms", "end_ms")}
                   for m in messages]
        roles = lanes_of(untimed, peaks.duration_ms, peaks).channel_roles
    return Decoded(peaks, lanes, SkipSilence(find_silences(peaks), peaks.duration_ms), roles)
