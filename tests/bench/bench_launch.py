"""Launch to the window shown with its rows: the app on a big database against a minimal
PySide6 window launched the same way, in one run.

    xvfb-run -a python tests/bench/bench_launch.py DB [--tries 7]

DB is a database made by `tests/bench/bigdb.py` (1,000,000 calls); it is opened
once first, untimed, so that a schema upgrade is not part of any try, and the
package's bytecode is compiled, as an install has it. Each try starts a fresh
process with a fresh HOME (as a double-click does, with no window of ours open:
`callviewer-gui`, the desktop entry's command) on the real X display, and stops
the clock when the process says it painted: the app logs "first paint after"
once its list has painted rows; the minimal window prints when it has painted.
Prints the medians and the ratio; target ≤ 1.5×. For reference it also times the
minimal window asking for the system's colour scheme, as the app must to follow it:
PySide6 answers with a `Qt.ColorScheme`, and makes every enum of the `Qt` namespace
(93, about 11 ms) to do so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MINIMAL = """
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

class Painted(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, lambda: print("painted", flush=True))
        return False

app = QApplication(sys.argv)
window = QMainWindow()
label = QLabel("Hello")
window.setCentralWidget(label)
painted = Painted()
label.installEventFilter(painted)
window.resize(1280, 780)
window.show()
app.exec()
"""
SCHEME = MINIMAL.replace("app = QApplication(sys.argv)\n",
                         "app = QApplication(sys.argv)\napp.styleHints().colorScheme()\n")
assert SCHEME != MINIMAL


def timed_launch(command: list[str], marker: str, env: dict[str, str]) -> float:
    """Seconds from starting `command` to a line of its output containing `marker`."""
    seen = threading.Event()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def read() -> None:
        for line in process.stdout:
            if marker in line and not seen.is_set():
                seen.set()
                return

    threading.Thread(target=read, daemon=True).start()
    try:
        if not seen.wait(120):
            raise TimeoutError(f"{command} never said {marker!r}")
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(10)


def fresh_env(base: Path, i: int) -> dict[str, str]:
    home = base / f"home-{i}"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CALLVIEWER_"))}
    env["HOME"] = str(home)
    env.pop("QT_QPA_PLATFORM", None)  # the real X display
    return env


def line(what: str, values: list[float]) -> str:
    return (f"{what:<36} median {statistics.median(values) * 1000:7.0f} ms   "
            f"min {min(values) * 1000:7.0f} ms   max {max(values) * 1000:7.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--tries", type=int, default=7)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("bench_launch: run it under xvfb-run (or on a desktop).")
    import callviewer
    from callviewer.store import Store

    with Store(str(args.db)) as store:  # an upgrade, if any, is not part of a try
        calls = store.calls.summary().calls
    # An installed app has its bytecode compiled (pip does it); a checkout may not yet.
    subprocess.run([sys.executable, "-m", "compileall", "-q", callviewer.__path__[0]],
                   check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
    base = Path(tempfile.mkdtemp())
    script, scheme_script = base / "minimal.py", base / "scheme.py"
    script.write_text(MINIMAL)
    scheme_script.write_text(SCHEME)
    # What a launcher runs (the desktop entry's Exec), from this Python's environment.
    app = [str(Path(sys.executable).with_name("callviewer-gui")), "-v", "--db", str(args.db)]
    minimal = [sys.executable, str(script)]
    scheme = [sys.executable, str(scheme_script)]
    ours, theirs, schemes = [], [], []
    for i in range(args.tries):  # interleaved: all see the same machine and page cache
        theirs.append(timed_launch(minimal, "painted", fresh_env(base, 3 * i)))
        schemes.append(timed_launch(scheme, "painted", fresh_env(base, 3 * i + 1)))
        ours.append(timed_launch(app, "first paint after", fresh_env(base, 3 * i + 2)))
    print(f"{calls:,} calls, {args.tries} launches each, under {os.environ['DISPLAY']}")
    print(line("minimal PySide6 window", theirs))
    print(line("minimal window asking the scheme", schemes))
    print(line("Call Viewer, rows painted", ours))
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"ratio {ratio:.2f}   target ≤ 1.5× {'ok' if ratio <= 1.5 else 'OVER'}   (to the "
          f"window asking the scheme: {statistics.median(ours) / statistics.median(schemes):.2f})")


if __name__ == "__main__":
    main()
