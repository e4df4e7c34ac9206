"""From a key press to `playing`, against libVLC's own time to play the same file.

    python tests/bench/bench_play.py [--tries 20]

Opens the real window on the demo calls (VLC with `--aout=dummy`: real time,
no sound card), and for each try makes a call with a recording current,
presses Space, and times until NowPlaying says `playing`. In the same run,
python-vlc alone plays the same files: `set_media` + `play()` until its
Playing event. Prints both medians and their ratio; targets: ≤ 100 ms and
≤ 2× VLC's. The first play, which creates the VLC instance unless the window
already did after its first paint, is reported on its own.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ["CALLVIEWER_VLC_ARGS"] = "--aout=dummy"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from callviewer.paths import demo_dir
from callviewer.playback.now_playing import LOADING, PLAYING, NowPlaying
from callviewer.playback.vlc_player import BASE_ARGS
from callviewer.store import Store
from callviewer.sync.importer import import_paths
from callviewer.ui.window import MainWindow

# Each try, both ways, starts after the same idle pause, as a person's key press does:
# timed back to back, VLC's own start runs with warm caches in 1.3 ms rather than 2.
PAUSE_MS = 300


def until_playing(now: NowPlaying, limit_ms: int = 5000) -> None:
    """Wait in Qt's event loop, idle as the app is between events, until `now` plays.

    (A loop calling processEvents() would keep Python's lock, which VLC's event
    thread needs to report, and so time itself rather than the app.)
    """
    loop = QEventLoop()
    timer = QTimer(singleShot=True, interval=limit_ms)
    timer.timeout.connect(loop.quit)
    now.state_changed.connect(loop.quit)
    timer.start()
    while now.state == LOADING and timer.isActive():
        loop.exec()
    now.state_changed.disconnect(loop.quit)
    if now.state != PLAYING:
        raise RuntimeError(f"playback did not start: {now.state} {now.error}".strip())


def idle(ms: int = PAUSE_MS) -> None:
    """Let the event loop run, idle, for `ms` (painting what is pending on the way)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def ours(app: QApplication, window: MainWindow, calls: list[int], tries: int) -> list[float]:
    now = window.now_playing
    window.table.setFocus()
    times = []
    for i in range(tries):
        call_id = calls[i % len(calls)]
        window.show_in_list(call_id)
        idle()  # the new current call's detail and paint are not part of the try
        t0 = time.perf_counter()
        QTest.keyClick(window.table, Qt.Key.Key_Space)
        until_playing(now)
        times.append(time.perf_counter() - t0)
        now.stop()
    return times


def vlc_alone(files: list[str], tries: int) -> list[float]:
    import vlc

    instance = vlc.Instance([*BASE_ARGS, "--aout=dummy"])
    player = instance.media_player_new()
    playing = threading.Event()
    player.event_manager().event_attach(vlc.EventType.MediaPlayerPlaying,
                                        lambda _event: playing.set())
    times = []
    for i in range(tries):
        time.sleep(PAUSE_MS / 1000)
        playing.clear()
        t0 = time.perf_counter()
        player.set_media(instance.media_new_path(files[i % len(files)]))
        player.play()
        if not playing.wait(5):
            raise TimeoutError("VLC did not start within 5 s")
        times.append(time.perf_counter() - t0)
        player.stop()
    player.release()
    instance.release()
    return times


def line(what: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    median = statistics.median(values)
    return f"{what:<34} median {median * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp())
    with Store(str(folder / "calls.sqlite3")) as store:
        import_paths(store, [demo_dir()])
    conn = sqlite3.connect(folder / "calls.sqlite3")
    rows = conn.execute("SELECT id, recording FROM calls WHERE recording IS NOT NULL "
                        "AND deleted_at IS NULL ORDER BY started_at DESC").fetchall()
    calls = [call_id for call_id, recording in rows if Path(recording).is_file()]
    files = [recording for _call_id, recording in rows if Path(recording).is_file()]

    window = MainWindow.over(Store(str(folder / "calls.sqlite3")),
                        QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    window.show()
    window.show_in_list(calls[-1])
    idle()
    t0 = time.perf_counter()
    QTest.keyClick(window.table, Qt.Key.Key_Space)
    until_playing(window.now_playing)
    first = time.perf_counter() - t0
    window.now_playing.stop()

    mine = ours(app, window, calls, args.tries)
    theirs = vlc_alone(files, args.tries)
    window.close()
    print(f"{len(files)} demo recordings, {args.tries} tries each way")
    print(f"{'first play, creating VLC':<34} {first * 1000:7.1f} ms")
    print(line("Space → playing (the window)", mine))
    print(line("set_media + play() → Playing (VLC)", theirs))
    median, base = statistics.median(mine), statistics.median(theirs)
    ratio = median / base
    print(f"ratio {ratio:.2f}   targets: ≤ 100 ms {'ok' if median <= 0.1 else 'OVER'}, "
          f"≤ 2× VLC's {'ok' if ratio <= 2 else 'OVER'}")
    os._exit(0)


if __name__ == "__main__":
    main()
