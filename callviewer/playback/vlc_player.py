"""The one libVLC media player, behind Qt signals.

Created on first use, so that start-up does not pay for VLC (100–260 ms).
libVLC calls its event callbacks on a thread of its own: they only emit
`event`, which Qt queues to the thread that owns this object; nothing calls
libVLC from inside a callback. Extra VLC options come from the environment
variable ``CALLVIEWER_VLC_ARGS`` (tests use ``--aout=dummy``).
"""

from __future__ import annotations

import os
import shlex
import sys

from PySide6.QtCore import QObject, Signal

ARGS_VARIABLE = "CALLVIEWER_VLC_ARGS"
BASE_ARGS = ("--no-video", "--quiet", "--no-xlib")


class PlayerUnavailable(RuntimeError):
    """libVLC is not on this machine; the message says how to install it."""


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
    """One media player; `event` carries "playing", "paused", "ended", "error", "length"."""

    event = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vlc = None
        self._instance = None
        self._player = None

    def _ensure(self):
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
        for kind, name in ((vlc.EventType.MediaPlayerPlaying, "playing"),
                           (vlc.EventType.MediaPlayerPaused, "paused"),
                           (vlc.EventType.MediaPlayerEndReached, "ended"),
                           (vlc.EventType.MediaPlayerEncounteredError, "error"),
                           (vlc.EventType.MediaPlayerLengthChanged, "length")):
            events.event_attach(kind, self._callback(name))
        self._vlc, self._instance, self._player = vlc, instance, player
        return player

    def _callback(self, name: str):
        emit = self.event.emit

        def on_event(_event) -> None:  # VLC's thread: hand over, touch nothing
            emit(name)

        return on_event

    def prepare(self) -> None:
        """Create the instance now (after the first paint, before the first Space)."""
        self._ensure()

    def open(self, mrl: str, rate: float, volume: int) -> None:
        """Load a file path or URL and start playing it."""
        player = self._ensure()
        media = self._instance.media_new(mrl) if "://" in mrl \
            else self._instance.media_new_path(mrl)
        player.set_media(media)
        player.audio_set_volume(volume)
        if rate != player.get_rate():  # set while VLC starts, it slows the start
            player.set_rate(rate)
        player.play()

    def resume(self) -> None:
        self._player.set_pause(0)

    def pause(self) -> None:
        self._player.set_pause(1)

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()

    def time_ms(self) -> int:
        return max(self._player.get_time(), 0) if self._player is not None else 0

    def length_ms(self) -> int:
        return max(self._player.get_length(), 0) if self._player is not None else 0

    def seek(self, ms: int) -> None:
        self._player.set_time(int(ms))

    def set_rate(self, rate: float) -> None:
        if self._player is not None:
            self._player.set_rate(rate)

    def set_volume(self, volume: int) -> None:
        if self._player is not None:
            self._player.audio_set_volume(volume)

    def release(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player.release()
            self._instance.release()
            self._player = self._instance = None

