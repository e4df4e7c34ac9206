"""Skip silence: while on, the playing call jumps over the silences longer than a second
that its decoded recording has (timeline/silence.py), and the time saved is counted.

The silences of a call are known once its timeline was decoded (ui/timeline_view.py
tells `SilenceSkipper.know`); the last few calls' are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from callviewer.playback.now_playing import PLAYING, NowPlaying

if TYPE_CHECKING:
    from callviewer.timeline.silence import SkipSilence

KEPT = 8  # calls whose silences are kept (the timeline keeps as many decoded)
MIN_SKIP_MS = 100  # a skip that would save less is the player landing a little early


class SilenceSkipper(QObject):
    """Skip silence: while on, a playing call whose timeline is known jumps over its
    silences longer than a second, keeping a short lead-in; counts what it saved per call."""

    changed = Signal()  # on or off, or more time saved

    def __init__(self, now: NowPlaying, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._now = now
        self.enabled = False
        self._skips: OrderedDict[int, SkipSilence | None] = OrderedDict()
        self._saved: dict[int, int] = {}
        # (call, target) of the jump under way: the player reports its old time for a tick
        # or two after a seek, which is not a second time in the silence.
        self._landing: tuple[int, int] | None = None
        now.position_changed.connect(self._moved)

    def set_enabled(self, on: bool) -> None:
        if bool(on) != self.enabled:
            self.enabled = bool(on)
            self.changed.emit()
            if on:
                self._moved(self._now.position)

    def toggle(self) -> None:
        self.set_enabled(not self.enabled)

    def know(self, call_id: int, skip: SkipSilence | None) -> None:
        """A call's silences, from its decoded recording."""
        self._skips[call_id] = skip
        self._skips.move_to_end(call_id)
        while len(self._skips) > KEPT:
            self._skips.popitem(last=False)
        self.changed.emit()

    def skip_of(self, call_id: int) -> SkipSilence | None:
        return self._skips.get(call_id)

    def saved_ms(self, call_id: int | None) -> int:
        """The time skipping saved on a call, this session."""
        return self._saved.get(call_id, 0) if call_id is not None else 0

    def _moved(self, position: int) -> None:
        now = self._now
        if not self.enabled or now.state != PLAYING or now.call_id is None:
            return
        call_id = now.call_id
        skip = self._skips.get(call_id)
        target = skip.target_at(position) if skip is not None else None
        landing, self._landing = self._landing, None
        if target is None or target - position < MIN_SKIP_MS:
            return
        if landing == (call_id, target):
            self._landing = landing  # still on the way there
            return
        self._saved[call_id] = self._saved.get(call_id, 0) + target - position
        self._landing = (call_id, target)
        now.seek(target)
        self.changed.emit()
