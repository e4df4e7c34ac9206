"""Garbage is collected on the window's thread between events, never in a worker: a full
collection started by a sync's worker held Python's lock 73 ms (tests/bench/bench_stall.py),
and one inside a paint freed a closed window's Qt objects (a crash)."""

from __future__ import annotations

import gc
import threading

from callviewer.ui.collector import Collector


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_worker_making_garbage_never_collects_and_the_window_thread_does(qtbot):
    threads: list[str] = []

    def seen(phase: str, _info: dict) -> None:
        if phase == "start":
            threads.append(threading.current_thread().name)

    collector = Collector()
    gc.callbacks.append(seen)
    try:
        worker = threading.Thread(target=lambda: [Cycle() for _ in range(200_000)],
                                  name="worker")
        worker.start()
        worker.join(30)
        assert "worker" not in threads  # thousands of allocations, no collection there
        assert gc.get_count()[0] >= gc.get_threshold()[0]
        qtbot.waitUntil(lambda: "MainThread" in threads, timeout=2000)  # the timer's
    finally:
        gc.callbacks.remove(seen)
        collector.stop()
    assert gc.isenabled()
