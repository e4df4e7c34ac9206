"""`callviewer selftest`: prove this installation works end to end, from a pip install or
from a bundle.

It makes a temporary store, imports the bundled demo calls, opens the real main window
(made by the app's own start-up), runs its sync in the sync's own process, plays the
first call with a recording through the window's NowPlaying until VLC's own clock has
moved and VLC counts audio decoded and played, stops, closes the window and quits.
Every step prints one line; a failed step prints one sentence saying what failed and
exits 1. Nothing of the user's is touched: the store, the window's settings and Qt's
default settings all live in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from callviewer import __version__

WINDOW_TIMEOUT_MS = 10_000
PLAY_TIMEOUT_MS = 15_000
SYNC_TIMEOUT_MS = 30_000
ADVANCE_MS = 500  # how far VLC's clock must move for the recording to count as playing


class SelftestFailed(Exception):
    """A step failed; the message is the sentence to print."""


def run(args: argparse.Namespace) -> int:
    """The `selftest` command: 0 when everything worked, 1 with a sentence when not."""
    with tempfile.TemporaryDirectory(prefix="callviewer-selftest-") as folder:
        try:
            _selftest(Path(folder))
        except SelftestFailed as exc:
            _say(f"selftest failed: {exc}", sys.stderr)
            return 1
        except Exception as exc:  # a bug or a broken installation: say it, then the details
            _say(f"selftest failed: {type(exc).__name__}: {exc}", sys.stderr)
            _say(traceback.format_exc().rstrip(), sys.stderr)
            return 1
    _say("ok")
    return 0


def _say(line: str, stream=None) -> None:
    stream = stream or sys.stdout
    if stream is not None:  # None in a windowed bundle started with no console
        print(line, file=stream, flush=True)


def _selftest(folder: Path) -> None:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QSettings

    # Any QSettings() made without a file (here or deep in the window) goes to the
    # temporary folder too, never to the user's settings.
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.SystemScope, str(folder))
    from callviewer.app import make_application
    from callviewer.ui.theme import follow_color_scheme

    # The app's own start-up (names, desktop entry, icon, colour scheme); not its logging,
    # crash dialog or single instance, which are the user's and would meet a running app.
    app = make_application()
    follow_color_scheme(app)
    if app.windowIcon().isNull():
        raise SelftestFailed("the app's icon did not load (its PNGs are missing from the "
                             "installed resources).")
    where = "a bundle" if getattr(sys, "frozen", False) else sys.executable
    _say(f"Call Viewer {__version__} on Python {platform.python_version()} ({where}), "
         f"PySide6 {pyside_version}, Qt platform {app.platformName()}")

    from callviewer.paths import demo_dir
    from callviewer.store import Store
    from callviewer.sync.importer import import_paths

    demo = demo_dir()
    if not demo.is_dir():
        raise SelftestFailed(f"the demo data is missing: {demo} is not a folder.")
    with Store(str(folder / "calls.sqlite3")) as store:
        report = import_paths(store, [demo])
        if report.unreadable or report.rejected or not report.counts.new:
            problems = [*report.unreadable, *map(str, report.rejects)]
            raise SelftestFailed(f"the demo data did not import cleanly ({report.summary_line()})"
                                 + (f": {problems[0]}" if problems else "."))
        _say(f"imported the demo calls from {demo}: {report.summary_line()}")
        settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
        _with_window(app, store, settings)
        del settings


def _with_window(app, store, settings) -> None:
    from callviewer.ui.window import MainWindow

    window = MainWindow.over(store, settings)
    try:
        window.show()
        if not _wait_until(lambda: window.windowHandle() is not None
                           and window.windowHandle().isExposed(), WINDOW_TIMEOUT_MS):
            raise SelftestFailed(f"the window was not shown within "
                                 f"{WINDOW_TIMEOUT_MS // 1000} s.")
        model = window.model  # its first page is read before the window shows
        if not model.rowCount():
            raise SelftestFailed("the window was shown with no calls in its list.")
        _say(f"window shown with {model.total} calls")
        _sync_in_its_process(window)
        _play_first_recording(window)
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()


def _sync_in_its_process(window) -> None:
    """The window's sync, which runs in a process of its own (in a bundle, the bundle's
    executable started again): with no connection it says there is nothing to sync."""
    syncing = window.syncing
    if not syncing.sync():
        raise SelftestFailed("the window's sync did not start.")
    if not _wait_until(lambda: not syncing.running, SYNC_TIMEOUT_MS):
        raise SelftestFailed(f"the window's sync did not end within "
                             f"{SYNC_TIMEOUT_MS // 1000} s.")
    said = window.sync_status.label.text()
    if not said.startswith("Nothing to sync"):
        raise SelftestFailed(f"the window's sync did not run in its process: {said}")
    _say("ran the window's sync in a process of its own")


def _play_first_recording(window) -> None:
    from callviewer.playback.now_playing import ERROR, PLAYING

    model, now = window.model, window.now_playing
    for row in range(model.rowCount()):
        call_id = model.call_id(row)
        recording = window.store.archive.recording(call_id)
        if recording:
            break
    else:
        raise SelftestFailed("none of the demo calls has a recording.")
    window.table.setCurrentIndex(model.index(row, 2))  # as a person would: the call, then Play
    started = time.monotonic()
    now.play(call_id)

    def played() -> bool:
        return now.state == ERROR or (now.state == PLAYING and now.duration > 0
                                      and _vlc_player(now).get_time() >= ADVANCE_MS)

    done = _wait_until(played, PLAY_TIMEOUT_MS)
    name = Path(recording).name
    if now.state == ERROR:
        raise SelftestFailed(f"playing {name} failed: {now.error}")
    player = _vlc_player(now)
    if not done:
        raise SelftestFailed(f"{name} did not play within {PLAY_TIMEOUT_MS // 1000} s "
                             f"(state {now.state}, VLC's clock at {player.get_time()} ms).")
    import vlc  # loaded by now: NowPlaying made its player

    played_ms, stats = player.get_time(), vlc.MediaStats()
    player.get_media().get_stats(stats)
    now.stop()
    if stats.decoded_audio <= 0:
        raise SelftestFailed(f"VLC played {name} for {played_ms} ms but decoded no audio "
                             f"(is its MPEG audio decoder plugin missing?).")
    if stats.played_abuffers <= 0:
        raise SelftestFailed(
            f"VLC decoded {name} but no audio output took it ({stats.lost_abuffers} buffers "
            f"lost): is there a sound device? Without one, set CALLVIEWER_VLC_ARGS=--aout=dummy.")
    version = vlc.libvlc_get_version().decode(errors="replace")
    _say(f"played {name}: {played_ms / 1000:.1f} s of {now.duration / 1000:.1f} s "
         f"({stats.played_abuffers} audio buffers) in {time.monotonic() - started:.1f} s, "
         f"VLC {version} ({vlc.dll._name})")


def _vlc_player(now):
    """The libVLC media player behind NowPlaying. NowPlaying's own position moves on
    between VLC's reports by interpolation, so only VLC's clock and its decoding counts
    prove that the recording was decoded and played."""
    return now._player._player


def _wait_until(condition: Callable[[], bool], timeout_ms: int) -> bool:
    """Run Qt's event loop until `condition()` holds or `timeout_ms` passes."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return True
    loop = QEventLoop()
    poll = QTimer(interval=20)
    poll.timeout.connect(lambda: condition() and loop.quit())
    give_up = QTimer(singleShot=True, interval=timeout_ms)
    give_up.timeout.connect(loop.quit)
    poll.start()
    give_up.start()
    loop.exec()
    poll.stop()
    give_up.stop()
    return condition()
