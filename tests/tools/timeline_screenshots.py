"""The README's timeline screenshots: the detail at 1280×800, light and dark.

    QT_QPA_PLATFORM=offscreen CALLVIEWER_VLC_ARGS=--aout=dummy \
        .venv/bin/python tests/tools/timeline_screenshots.py [folder]

Three demo calls: the stereo call (timed, one party a channel), Retell's (a timed
transcript with a tool call) and the Twilio call module's (no times: estimated), each
paused part-way so the position line shows, with a note pinned and a search hit.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CALLVIEWER_VLC_ARGS", "--aout=dummy")

from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from callviewer.paths import demo_dir
from callviewer.playback.now_playing import PAUSED, PLAYING
from callviewer.store import Store
from callviewer.sync.importer import import_paths
from callviewer.ui.theme import dark_palette
from callviewer.ui.window import MainWindow

REPOSITORY = Path(__file__).resolve().parents[2]
CALLS = [  # (file name, source, source id, play from, pause at ms, search, skip silence)
    ("stereo", "vapi", "vapi-call-5-stereo", 10_500, 16_200, "cabinet", True),
    ("timed", "retell", "call_5d2f0b7c9e1a4c3b8d6e", 4_000, 5_200, "", False),
    ("estimated", "twilio", "tw-1", 8_000, 9_000, "", False),
]
PINNED = ("retell", "call_5d2f0b7c9e1a4c3b8d6e", 6_000,
          "Check the Wednesday slot was really booked.")


def wait(app: QApplication, until, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def small(image: QImage, keep: QRect) -> QImage:
    """The screenshot in its 256 most used colours (each pixel the nearest of them), those
    of `keep` (the timeline) first: a window's flat colours survive, and the file is a
    quarter of the size."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32,
                           count=image.width() * image.height()).reshape(image.height(), -1)
    part = pixels[keep.top():keep.bottom() + 1, keep.left():keep.right() + 1]
    tables = []
    for some, room in ((part, 64), (pixels, 256)):
        colours, counts = np.unique(some & 0xFFFFFF, return_counts=True)
        tables.append(colours[np.argsort(counts)[::-1][:room]])
    table = list(dict.fromkeys(np.concatenate(tables).tolist()))[:256]
    return image.convertToFormat(QImage.Format.Format_Indexed8,
                                 [int(c) | 0xFF000000 for c in table],
                                 Qt.ImageConversionFlag.ThresholdDither)


def shoot(app: QApplication, folder: Path, scheme: str) -> list[Path]:
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())
    shots = []
    with tempfile.TemporaryDirectory() as temporary:
        database = Path(temporary) / "calls.sqlite3"
        with Store(str(database)) as store:
            import_paths(store, [demo_dir()])
            source, source_id, at_ms, body = PINNED
            store.notes.add(store.calls.id_of(source, source_id), "Dana", body,
                            position_ms=at_ms)
        store = Store(str(database))
        window = MainWindow.over(store, QSettings(str(Path(temporary) / "s.ini"),
                                                  QSettings.Format.IniFormat))
        window.resize(1280, 800)
        window.show()
        for name, source, source_id, from_ms, at_ms, search, skip in CALLS:
            call_id = store.calls.id_of(source, source_id)
            window.filters.search.setText(search)
            window.filters.changed.emit()
            wait(app, lambda search=search: window.model.spec.search == search)
            window.show_in_list(call_id)
            wait(app, lambda call_id=call_id: window.detail.current_call_id == call_id)
            timeline = window.detail.timeline
            wait(app, lambda timeline=timeline: not timeline.waiting)
            now = window.now_playing
            window.detail.skipper.set_enabled(skip)
            now.play(call_id, from_ms)
            wait(app, lambda now=now, at_ms=at_ms: now.state == PLAYING and now.position >= at_ms)
            now.pause()
            wait(app, lambda now=now: now.state == PAUSED)
            window.table.setFocus()
            for _ in range(20):
                app.processEvents()
                time.sleep(0.01)
            target = folder / f"timeline-{name}-{scheme}.png"
            timeline = window.detail.timeline
            keep = QRect(timeline.mapTo(window, QPoint(0, 0)), timeline.size())
            small(window.grab().toImage(), keep).save(str(target), "PNG", 0)
            shots.append(target)
        now.stop()
        window.close()
        store.close()
    return shots


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else REPOSITORY / "resources" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    for scheme in ("light", "dark"):
        for shot in shoot(app, folder, scheme):
            print(shot, shot.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
