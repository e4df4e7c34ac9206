"""The libVLC player backend (playback/player.py's `Player`).

libVLC is loaded and its instance created on first use, so that start-up does
not pay for VLC (100–260 ms). libVLC calls its event callbacks on a thread of
its own: they only emit, and Qt queues the news to the thread that owns this
object; nothing calls libVLC from inside a callback. Extra VLC options come from
the environment variable ``CALLVIEWER_VLC_ARGS`` (tests use ``--aout=dummy``).
"""

from __future__ import annotations

import os
import shlex
import sys
import time

from PySide6.QtCore import QObject, Qt, Signal

from callviewer.playback.player import UNDECODABLE, PlayerEvent, PlayerUnavailable

__all__ = ["ARGS_VARIABLE", "BASE_ARGS", "PlayerUnavailable", "VlcPlayer", "install_hint",
           "vlc_version"]

ARGS_VARIABLE = "CALLVIEWER_VLC_ARGS"
BASE_ARGS = ("--no-video", "--quiet", "--no-xlib")


def install_hint() -> str:
    if sys.platform.startswith("linux"):
        return ("Playing recordings needs VLC. On Debian or Ubuntu: "
                "sudo apt install libvlc5 vlc-plugin-base")
    if sys.platform == "darwin":
        return "Playing recordings needs VLC: install it from videolan.org (or brew install vlc)."
    return "Playing recordings needs VLC: install the 64-bit VLC from videolan.org."


def _load_vlc():
    """python-vlc's module, or PlayerUnavailable saying how to install VLC."""
    try:
        import vlc
    # python-vlc raises NotImplementedError when it finds no libVLC, and calls
    # sys.exit when the library named in PYTHON_VLC_LIB_PATH will not load.
    except (ImportError, OSError, NotImplementedError, SystemExit) as exc:
        raise PlayerUnavailable(install_hint()) from exc
    return vlc


def vlc_version() -> str:
    """The version of the libVLC that plays (for About), e.g. "3.0.21 Vetinari"."""
    return _load_vlc().libvlc_get_version().decode(errors="replace")


class VlcPlayer(QObject):
    """One libVLC media player."""

    event = Signal(object, str)  # (PlayerEvent, sentence)
    _reported = Signal(object, int)  # (PlayerEvent, generation), from VLC's thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vlc = None
        self._instance = None
        self._player = None  # the libVLC media player (selftest.py reads its clock)
        self._rate = 1.0
        self._volume = 100
        self._started = False  # play() resumes rather than starts
        self._running = False  # VLC's clock moves: time_ms() interpolates
        self._clock = (0, 0.0)  # (VLC's last reported time, when we saw it change)
        # News from before the latest load/stop/close is dropped: VLC may have queued it.
        self._generation = 0
        self._closed = False
        self._reported.connect(self._relay, Qt.ConnectionType.QueuedConnection)

    def _ensure(self):
        if self._closed:
            raise PlayerUnavailable("The player has been closed.")
        if self._player is not None:
            return self._player
        vlc = _load_vlc()
        args = [*BASE_ARGS, *shlex.split(os.environ.get(ARGS_VARIABLE, ""))]
        instance = vlc.Instance(args)
        if instance is None:
            extra = os.environ.get(ARGS_VARIABLE, "").strip()
            raise PlayerUnavailable(
                f"VLC would not start with the options in {ARGS_VARIABLE} ({extra})."
                if extra else install_hint())
        player = instance.media_player_new()
        events = player.event_manager()
        for kind, news in ((vlc.EventType.MediaPlayerPlaying, PlayerEvent.PLAYING),
                           (vlc.EventType.MediaPlayerPaused, PlayerEvent.PAUSED),
                           (vlc.EventType.MediaPlayerEndReached, PlayerEvent.ENDED),
                           (vlc.EventType.MediaPlayerEncounteredError, PlayerEvent.FAILED),
                           (vlc.EventType.MediaPlayerLengthChanged, PlayerEvent.OPENED)):
            events.event_attach(kind, self._callback(news))
        self._vlc, self._instance, self._player = vlc, instance, player
        return player

    def _callback(self, news: PlayerEvent):
        emit = self._reported.emit

        def on_event(_event) -> None:  # VLC's thread: hand over, touch nothing
            emit(news, self._generation)

        return on_event

    def _relay(self, news: PlayerEvent, generation: int) -> None:
        if generation != self._generation or self._closed:
            return  # about a media stopped or replaced since
        if news is PlayerEvent.PLAYING:
            self._running = True
            self._clock = (self._vlc_time(), time.monotonic())
        elif news in (PlayerEvent.PAUSED, PlayerEvent.ENDED, PlayerEvent.FAILED):
            self._running = False
        # VLC gives no reason for an error; NowPlaying looks for a better one.
        self.event.emit(news, UNDECODABLE if news is PlayerEvent.FAILED else "")

    def _forget(self) -> None:
        """What happened so far is old news."""
        self._generation += 1
        self._started = self._running = False
        self._clock = (0, time.monotonic())

    def prepare(self) -> None:
        """Create the instance now (after the first paint, before the first Space)."""
        self._ensure()

    def load(self, reference: str) -> None:
        """Take a file path or URL (stopping what played)."""
        player = self._ensure()
        media = self._instance.media_new(reference) if "://" in reference \
            else self._instance.media_new_path(reference)
        player.set_media(media)
        self._forget()

    def play(self) -> None:
        if self._player is None:
            return
        if self._started:
            self._player.set_pause(0)
            self._running = True
            self._clock = (self._vlc_time(), time.monotonic())
            return
        self._started = True
        self._player.audio_set_volume(self._volume)
        if self._rate != self._player.get_rate():  # set while VLC starts, it slows the start
            self._player.set_rate(self._rate)
        self._player.play()

    def pause(self) -> None:
        if self._player is not None:
            self._player.set_pause(1)
            self._running = False

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._forget()

    def _vlc_time(self) -> int:
        return max(self._player.get_time(), 0) if self._player is not None else 0

    def time_ms(self) -> int:
        """VLC's time, moved on smoothly while playing: VLC updates its own only every few
        hundred ms. Without a known length (a corrupt file) it is VLC's own."""
        reported, since = self._clock
        now_reported, now = self._vlc_time(), time.monotonic()
        if now_reported != reported:
            self._clock = (now_reported, now)
            reported, since = now_reported, now
        length = self.length_ms()
        if not self._running or length <= 0:
            return reported
        return min(reported + int((now - since) * 1000 * self._rate), length)

    def length_ms(self) -> int:
        return max(self._player.get_length(), 0) if self._player is not None else 0

    def seek(self, ms: int) -> None:
        if self._player is not None:
            self._player.set_time(int(ms))
            self._clock = (int(ms), time.monotonic())

    def set_rate(self, rate: float) -> None:
        self._rate = rate
        if self._player is not None:
            self._player.set_rate(rate)

    def set_volume(self, volume: int) -> None:
        self._volume = volume
        if self._player is not None:
            self._player.audio_set_volume(volume)

    def close(self) -> None:
        """Stop and free VLC; no news comes after this."""
        self._closed = True
        if self._player is not None:
            self._player.stop()
            self._player.release()
            self._instance.release()
            self._player = self._instance = None
        self._forget()
