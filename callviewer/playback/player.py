"""What NowPlaying asks of a player backend (VLC, or the fake the tests drive).

A backend plays one reference at a time and reports what happened through its
`event` signal as `(PlayerEvent, sentence)`. Whatever thread the backend's engine
reports on, `event` is emitted on the thread that owns the backend (the GUI thread),
later than the call that caused it — never from inside a call to the backend — and
never for a media that has since been stopped or replaced, nor after `close()`.
tests/unit/test_player_contract.py holds every backend to this.
"""

from __future__ import annotations

import enum
from typing import Protocol

from PySide6.QtCore import SignalInstance

from callviewer.errors import ExpectedError

UNDECODABLE = "The recording could not be decoded."


def not_found(path: str) -> str:
    return f"Recording file not found: {path}"


class PlayerUnavailable(ExpectedError, RuntimeError):
    """The backend cannot play on this machine; the message says what to do."""


class PlayerEvent(enum.Enum):
    """What a backend reports."""

    OPENED = "opened"  # the media is open: length_ms() is known, or has changed (may repeat)
    PLAYING = "playing"  # started, or resumed after a pause
    PAUSED = "paused"
    ENDED = "ended"  # played to its end (length 0 and no time played: it was undecodable)
    FAILED = "failed"  # could not be opened or played; the sentence says why


class Player(Protocol):
    """One media player. Rate and volume hold across references."""

    event: SignalInstance  # (PlayerEvent, sentence: "" unless FAILED)

    def prepare(self) -> None:
        """Do the slow start-up now (VLC: 100–260 ms), or raise PlayerUnavailable."""

    def load(self, reference: str) -> None:
        """Stop what plays and take a file path or URL; raise PlayerUnavailable if the
        backend cannot play at all."""

    def play(self) -> None:
        """Start the loaded reference, or resume it after `pause()`."""

    def pause(self) -> None: ...

    def stop(self) -> None:
        """Stop and go back to the start; the reference stays loaded. No event follows."""

    def seek(self, ms: int) -> None: ...

    def set_rate(self, rate: float) -> None: ...

    def set_volume(self, volume: int) -> None:
        """0..100."""

    def time_ms(self) -> int:
        """Where it plays, in ms (0 when it does not know)."""

    def length_ms(self) -> int:
        """The media's length in ms, 0 while unknown."""

    def close(self) -> None:
        """Stop and free the engine; no event comes after this."""
