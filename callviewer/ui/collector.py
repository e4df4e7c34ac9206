"""Python's garbage collection, run where the window chooses: on its thread, between events.

Left to itself, Python collects whenever enough objects have been made, in whichever
thread made the last of them:

- in a worker (a sync building ten thousand records), a full collection held Python's
  lock 73 ms, and the window could not paint or answer a key meanwhile
  (tests/bench/bench_stall.py);
- in the middle of a paint, it freed a closed window's Qt objects and crashed the
  interpreter now and then (tests/integration/test_keyboard.py).

So while a window lives, automatic collection is off, and a timer on the window's thread
collects the generations whose counts passed Python's own thresholds, as Python would,
only never inside a paint and never in a worker. The objects made by start-up (modules,
classes, the window's widgets) are frozen once (`gc.freeze`): they live as long as the
app, and a full collection no longer walks them all.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 250  # how often the counts are looked at (a look is a few microseconds)

_frozen = False  # start-up's objects are frozen once per process


class Collector(QObject):
    """Turns automatic collection off until `stop()`, and collects on a timer instead."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.slowest_ms = 0.0  # the longest collection so far (the stall bench prints it)
        self._long_lived = len(gc.get_objects(2))  # the oldest generation after its last
        self._timer = QTimer(self, interval=CHECK_MS)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        self._timer.start()

    def collect_due(self) -> int | None:
        """Collect the oldest generation due by Python's thresholds; which, or None."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[0] < thresholds[0]:
            return None
        generation = 1 if counts[1] >= thresholds[1] else 0
        # The oldest only once it has grown by a quarter since its last collection, as
        # Python itself does: walking every long-lived object is what takes long.
        if generation == 1 and counts[2] >= thresholds[2]:
            grown = len(gc.get_objects(2)) - self._long_lived
            generation = 2 if grown > self._long_lived // 4 else 1
        started = time.perf_counter()
        gc.collect(generation)
        self.slowest_ms = max(self.slowest_ms, (time.perf_counter() - started) * 1000)
        if generation == 2:
            self._long_lived = len(gc.get_objects(2))
        return generation

    def freeze_start_up(self) -> None:
        """Freeze what exists now (once per process: call it when start-up is done)."""
        global _frozen
        if not _frozen:
            _frozen = True
            gc.collect()  # start-up's garbage is not kept forever
            gc.freeze()
        self._long_lived = len(gc.get_objects(2))

    def stop(self) -> None:
        """Automatic collection again (the window is closing)."""
        self._timer.stop()
        gc.enable()
