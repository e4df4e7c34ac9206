"""The window's event loop while the database is busy: its longest stall.

    python tests/bench/bench_stall.py [--calls 10000] [--lock-s 5]

Opens the real window (offscreen, 1280×800) on a database, runs a full sync
of N calls from the test suite's fake calls API on loopback (the window's sync,
in its own process), and, while it runs, has another process hold SQLite's
write lock (BEGIN IMMEDIATE) for
`--lock-s` seconds. A 4 ms precise timer records the longest gap between its
ticks beyond its interval: the longest the window could not answer. Three
runs: nobody typing (the target: ≤ 16 ms, one frame); a person working
meanwhile (a key every 60 ms in the list: Down, PgDn now and then, End once,
Ctrl+D every tenth; each move reads a call's detail, each Ctrl+D writes);
and the same keys with no sync and no lock, which is what painting the
moves costs by itself. The same meter runs first on a minimal PySide6
window doing nothing, in the same process: the baseline.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CALLVIEWER_VLC_ARGS", "--aout=dummy")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from fake_calls_api import add_connection
from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from callviewer.store import Store

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
TICK_MS = 4
# The fake calls API in a process of its own, as a vendor's server is: in this process its
# threads would take turns at Python's lock with the window's. "more" on its standard
# input adds as many calls again, newer than the last.
SERVE = """
import random, sys
from datetime import UTC, datetime, timedelta
sys.path.insert(0, sys.argv[1])
from fake_calls_api import FakeCallsApi
calls = int(sys.argv[2])
api = FakeCallsApi().__enter__()
api.seed(calls, spacing_s=17, with_audio=0.0)
print(api.url, flush=True)
for n, _line in enumerate(sys.stdin, start=1):
    api.seed(calls, start=datetime.now(UTC) + timedelta(days=n), spacing_s=17,
             with_audio=0.0, rng=random.Random(calls + n))
    print("seeded", flush=True)
"""
HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


class GapMeter:
    """The longest gap between a precise timer's ticks, beyond its interval, in ms."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self.gaps: list[tuple[float, float]] = []  # (when it ended, perf_counter s; ms)
        self._clock = QElapsedTimer()
        self._timer = QTimer(interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.worst, self.ticks, self.gaps = 0.0, 0, []
        self._clock.start()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.worst

    def _tick(self) -> None:
        gap = self._clock.nsecsElapsed() / 1e6 - TICK_MS
        self._clock.restart()
        self.ticks += 1
        if self.ticks > 1:  # the first tick measures the start itself
            self.worst = max(self.worst, gap)
            if gap > 1:
                self.gaps.append((time.perf_counter(), gap))

    def worst_before(self, moment: float) -> float:
        """The worst gap that ended before `moment` (perf_counter seconds)."""
        return max((gap for when, gap in self.gaps if when < moment), default=0.0)


def run_for(app: QApplication, seconds: float, until=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until()):
        app.processEvents()
        time.sleep(0.0005)


def baseline(app: QApplication, seconds: float) -> float:
    window = QWidget()
    window.resize(1280, 800)
    window.show()
    meter = GapMeter()
    meter.start()
    run_for(app, seconds)
    window.close()
    return meter.stop()


class Person:
    """Presses a key in the list every 60 ms: Down mostly, PgDn now and then, End once,
    Ctrl+D every tenth (each move reads a call's detail, each Ctrl+D writes)."""

    def __init__(self, window) -> None:
        self.window, self.keys = window, 0
        self._timer = QTimer(interval=60)
        self._timer.timeout.connect(self._press)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _press(self) -> None:
        self.keys += 1
        table, n = self.window.table, self.keys
        if n % 10 == 0:
            QTest.keyClick(table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        elif n == 25:
            QTest.keyClick(table, Qt.Key.Key_End)
        elif n % 7 == 0:
            QTest.keyClick(table, Qt.Key.Key_PageDown)
        else:
            QTest.keyClick(table, Qt.Key.Key_Down)


def while_busy(app: QApplication, window, db: Path, lock_s: float, typing: bool) -> dict:
    """Sync (the calls the source has that this database has not) while another process
    holds the write lock for `lock_s`; with `typing`, a person works meanwhile."""
    meter, person = GapMeter(), Person(window)
    started = time.perf_counter()
    synced: list[float] = []
    window.syncing.synced.connect(lambda _result: synced.append(time.perf_counter()))
    meter.start()
    if typing:
        person.start()
    assert window.syncing.sync()
    run_for(app, 0.5)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db), str(lock_s)],
                              stdout=subprocess.PIPE)
    os.set_blocking(holder.stdout.fileno(), False)  # the loop runs while it starts
    said = bytearray()
    run_for(app, 30, until=lambda: said.extend(holder.stdout.read() or b"") or b"locked" in said)
    assert b"locked" in said
    run_for(app, lock_s + 120, until=lambda: holder.poll() is not None
            and not window.syncing.running)
    holder.wait(10)
    run_for(app, 1.0)  # the writes that waited for the lock land
    person.stop()
    worst = meter.stop()
    return {"worst": worst, "during": meter.worst_before(synced[0]),
            "elapsed": time.perf_counter() - started,
            "keys": person.keys, "said": window.sync_status.label.text()}


def moves_alone(app: QApplication, window, seconds: float) -> dict:
    """The same person with nothing else running: what painting their moves costs."""
    meter, person = GapMeter(), Person(window)
    meter.start()
    person.start()
    run_for(app, seconds)
    person.stop()
    return {"worst": meter.stop(), "keys": person.keys}


def measure(app: QApplication, folder: Path, calls: int, lock_s: float) -> dict:
    from callviewer.ui.window import MainWindow

    server = subprocess.Popen([sys.executable, "-c", SERVE, str(INTEGRATION), str(calls)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        api = SimpleNamespace(url=server.stdout.readline().strip())
        db = folder / "calls.sqlite3"
        with Store(str(db)) as store:
            add_connection(store, api)
        store = Store(str(db))
        window = MainWindow.over(store, QSettings(str(folder / "settings.ini"),
                                                  QSettings.Format.IniFormat))
        window.resize(1280, 800)
        window.show()
        run_for(app, 1.0)  # libVLC and the folder watchers start after the first paint
        idle = while_busy(app, window, db, lock_s, typing=False)
        server.stdin.write("more\n")  # new calls for the sync the person works through
        server.stdin.flush()
        assert server.stdout.readline().strip() == "seeded"
        typing = while_busy(app, window, db, lock_s, typing=True)
        results = {"idle": idle, "typing": typing, "moves": moves_alone(app, window, 6.0),
                   "collection_ms": window.collector.slowest_ms}
        window.close()
        store.close()
        return results
    finally:
        server.stdin.close()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--lock-s", type=float, default=5.0)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    base = baseline(app, 3.0)
    with tempfile.TemporaryDirectory() as folder:
        found = measure(app, Path(folder), args.calls, args.lock_s)
    idle, typing, moves = found["idle"], found["typing"], found["moves"]
    what = f"syncing {args.calls:,} calls, another process holding the write lock " \
           f"{args.lock_s:g} s"
    print(f"minimal PySide6 window, idle                     worst stall {base:6.1f} ms")
    print(f"Call Viewer, {what}, nobody typing ({idle['elapsed']:.1f} s)")
    print(f"  while the sync wrote and the lock was held     worst stall {idle['during']:6.1f} ms"
          f"   target ≤ 16 ms: {'met' if idle['during'] <= 16 else 'NOT met'}")
    print(f"  including the list's repaint once it ended     worst stall {idle['worst']:6.1f} ms")
    print(f"the same, a key every 60 ms ({typing['keys']} keys over {typing['elapsed']:.1f} s)")
    print(f"  while the sync wrote and the lock was held     worst stall "
          f"{typing['during']:6.1f} ms")
    print(f"  including the list's repaint once it ended     worst stall "
          f"{typing['worst']:6.1f} ms")
    print(f"the same keys, nothing else running ({moves['keys']} keys): worst stall "
          f"{moves['worst']:6.1f} ms (painting a move)")
    print(f"longest garbage collection (on the window's thread, between events): "
          f"{found['collection_ms']:.1f} ms")
    print(f"status bar at the end: {typing['said']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
