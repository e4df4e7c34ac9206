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

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from callviewer.paths import demo_dir
from callviewer.playback.now_playing import PLAYING
from callviewer.playback.vlc_player import BASE_ARGS
from callviewer.store import Store
from callviewer.sync.importer import import_paths
from callviewer.ui.window import MainWindow


def until(app: QApplication, done, limit: float = 5.0) -> None:
    deadline = time.perf_counter() + limit
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError("playback did not start within 5 s")
        app.processEvents()


def settle(app: QApplication) -> None:
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        app.processEvents()


def ours(app: QApplication, window: MainWindow, calls: list[int], tries: int) -> list[float]:
    now = window.now_playing
    window.table.setFocus()
    times = []
    for i in range(tries):
        call_id = calls[i % len(calls)]
        window.show_in_list(call_id)
        settle(app)  # the new current call's detail and paint are not part of the try
        t0 = time.perf_counter()
        QTest.keyClick(window.table, Qt.Key.Key_Space)
        until(app, lambda: now.state == PLAYING)
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

    window = MainWindow(Store(str(folder / "calls.sqlite3")),
                        QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    window.show()
    window.show_in_list(calls[-1])
    settle(app)
    t0 = time.perf_counter()
    QTest.keyClick(window.table, Qt.Key.Key_Space)
    until(app, lambda: window.now_playing.state == PLAYING)
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
