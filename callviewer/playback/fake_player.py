"""A player backend without VLC whose clock moves only when told (`advance`).

It keeps the same contract as the VLC backend (playback/player.py), so NowPlaying
can be tested without VLC and without waiting: its news is queued, and is delivered
when the event loop next runs (`QCoreApplication.processEvents()`).

It behaves as libVLC does where it matters (FACTS.md): a missing or empty file
fails; an undecodable one (`CORRUPT`, length 0) reports playing, then ended with
length 0 and no error.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from callviewer.playback.player import UNDECODABLE, PlayerEvent, PlayerUnavailable, not_found

DEFAULT_LENGTH_MS = 20_000
CORRUPT = 0  # a length: plays for no time, then ends
UNOPENABLE = -1  # a length: fails when played


class FakePlayer(QObject):
    """Plays references of known lengths (`lengths`, else `default_ms`) on a clock of its
    own. `rate`, `volume`, `reference` and `state` are there to be read by tests."""

    event = Signal(object, str)  # (PlayerEvent, sentence)
    _reported = Signal(object, str, int)  # (PlayerEvent, sentence, generation)

    def __init__(self, lengths: Mapping[str, int] | None = None,
                 default_ms: int = DEFAULT_LENGTH_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lengths = dict(lengths or {})
        self._default_ms = default_ms
        self.reference: str | None = None
        self.state = "stopped"  # stopped, playing, paused, ended, failed
        self.rate = 1.0
        self.volume = 100
        self.prepared = False
        self.closed = False
        self._position = 0
        self._length = 0  # known once opened
        self._started = False
        self._generation = 0
        self._reported.connect(self._relay, Qt.ConnectionType.QueuedConnection)

    # --- the Player protocol ---------------------------------------------------------

    def prepare(self) -> None:
        self._check_open()
        self.prepared = True

    def load(self, reference: str) -> None:
        self._check_open()
        self._forget()
        self.reference = reference

    def play(self) -> None:
        if self.reference is None or self.closed:
            return
        if self._started:
            if self.state == "paused":
                self.state = "playing"
                self._post(PlayerEvent.PLAYING)
            return
        self._started = True
        length = self._length_of(self.reference)
        if length == UNOPENABLE:
            self.fail(self._why_not(self.reference))
            return
        self._length = length
        if length > 0:
            self._post(PlayerEvent.OPENED)
        self.state = "playing"
        self._post(PlayerEvent.PLAYING)
        if length == CORRUPT:  # libVLC's way with random bytes: played, for no time at all
            self._end()

    def pause(self) -> None:
        if self.state == "playing":
            self.state = "paused"
            self._post(PlayerEvent.PAUSED)

    def stop(self) -> None:
        self._forget()

    def seek(self, ms: int) -> None:
        if self.state in ("playing", "paused"):
            self._position = max(0, min(int(ms), self._length))

    def set_rate(self, rate: float) -> None:
        self.rate = rate

    def set_volume(self, volume: int) -> None:
        self.volume = volume

    def time_ms(self) -> int:
        return self._position

    def length_ms(self) -> int:
        return self._length

    def close(self) -> None:
        self._forget()
        self.closed = True

    # --- for tests ---------------------------------------------------------------------

    def advance(self, ms: int) -> None:
        """Let `ms` of real time pass: the media moves on by `ms` × rate while playing,
        and ends at its length."""
        if self.state != "playing":
            return
        self._position = min(self._position + int(ms * self.rate), self._length)
        if self._position >= self._length:
            self._end()

    def fail(self, sentence: str) -> None:
        """Fail now, as a dropped stream or a decoder error would."""
        if self.reference is None or self.closed:
            return
        self.state = "failed"
        self._post(PlayerEvent.FAILED, sentence)

    # --- inside --------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise PlayerUnavailable("The player has been closed.")

    def _length_of(self, reference: str) -> int:
        if reference in self._lengths:
            return self._lengths[reference]
        if "://" not in reference:
            path = Path(reference)
            if not path.is_file() or path.stat().st_size == 0:
                return UNOPENABLE
        return self._default_ms

    @staticmethod
    def _why_not(reference: str) -> str:
        if "://" not in reference and not Path(reference).is_file():
            return not_found(reference)
        return UNDECODABLE

    def _end(self) -> None:
        self.state = "ended"
        self._post(PlayerEvent.ENDED)

    def _forget(self) -> None:
        """Stop; news not yet delivered is old news."""
        self._generation += 1
        self._started = False
        self._position = self._length = 0
        self.state = "stopped"

    def _post(self, news: PlayerEvent, sentence: str = "") -> None:
        self._reported.emit(news, sentence, self._generation)

    def _relay(self, news: PlayerEvent, sentence: str, generation: int) -> None:
        if generation == self._generation and not self.closed:
            self.event.emit(news, sentence)
