"""numpy (about 15 MB) is loaded only once a waveform is computed or drawn: the window, and
the timeline of a call without a downloaded recording, do without it.

Run in a process of its own, so that what other tests imported does not count."""

from __future__ import annotations

import json
import subprocess
import sys

# The real window on the demo calls, oldest first: the first call shown, ap-1008, and then
# vapi-call-3 have no recording, so nothing is decoded; each stage prints whether numpy
# is loaded.
SCRIPT = r"""
import json, sys, time
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

db, settings_path = sys.argv[1], sys.argv[2]
seen = {}
import callviewer.ui.window, callviewer.ui.detail
seen["imported"] = "numpy" in sys.modules
from callviewer.store import Store
from callviewer.ui.window import MainWindow

app = QApplication([])
settings = QSettings(settings_path, QSettings.Format.IniFormat)
settings.setValue("list/filters", json.dumps({"sort": "started", "descending": False}))
store = Store(db)
window = MainWindow.over(store, settings)
window.resize(1280, 800)
window.show()
seen["built"] = "numpy" in sys.modules

def wait(condition, seconds=10.0):
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.005)

detail = window.detail
wait(lambda: detail.current_call_id is not None
     and detail.current_call_id == window.current_call_id())
seen["first"] = store.calls.get(window.current_call_id()).source_id
call_id = store.calls.id_of("vapi", "vapi-call-3")
window.show_in_list(call_id)
wait(lambda: detail.current_call_id == call_id)
timeline = detail.timeline
wait(lambda: timeline.isVisible() and bool(timeline.lanes.blocks))
timeline.grab()  # drawn: the lanes and the "No recording" line
for _ in range(20):
    app.processEvents()
    time.sleep(0.01)
seen["shown"] = "numpy" in sys.modules
seen["status"] = timeline.status
window.close()
print(json.dumps(seen))
"""


def test_the_window_and_a_call_without_a_recording_do_not_load_numpy(db, tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(db), str(tmp_path / "s.ini")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["first"] == "ap-1008"  # oldest first: no recording to decode
    assert seen["status"].startswith("No recording")
    assert seen == {**seen, "imported": False, "built": False, "shown": False}
