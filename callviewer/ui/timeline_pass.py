"""The background pass that measures the calls with an archived recording: each call's
timeline (its recording's peaks and lanes, with its transcript's times) made into its
statistics (timeline/stats.py), kept in the store (store.stats) for the detail and the
list's "Cust. talk" sort. A call without one is measured when it is shown (from its
transcript's times, or estimated): a million of them walked at every start kept a core
busy for hours.

One call at a time on the task runner's JOB lane; the figures of a batch are written on
the WRITE lane, and the list is read again at most every LIST_REFRESH_MS. The status bar says
"Measuring calls · 120 of 480" with a Cancel; a pass canceled, or the window closed, is
resumed by the next (after attach, after a sync, View ▸ Measure calls now): it measures
only the calls still without statistics, which are also those whose transcript, length
or recording changed since (migration 0014's triggers).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from callviewer.errors import ExpectedError
from callviewer.store.records import StoredStats
from callviewer.ui.tasks import Lane, Task

if TYPE_CHECKING:
    from callviewer.store import Store

log = logging.getLogger(__name__)

BATCH = 20  # calls measured between two writes
LIST_REFRESH_MS = 5000
START_DELAY_MS = 2000  # after the window is attached: start-up's reads and paints first
ORIGINS = {"transcript": "transcript", "channels": "channels", "estimate": "estimated"}


def measure(store: Store, call_id: int) -> StoredStats:
    """On a worker: a call's statistics, from its archived recording when this computer
    has it (its peaks kept in the archive's folder, as the detail's timeline keeps them),
    else from its transcript's times, else estimated from its messages' lengths."""
    from callviewer.timeline.lanes import lanes_of
    from callviewer.timeline.recording import decode, local_recording, peaks_file

    found = store.stats.inputs(call_id)
    if found is None or found[2]:  # gone, or purged: nothing to measure
        return StoredStats("none")
    messages, duration_ms, _purged = found
    lanes, silences, length = None, None, duration_ms
    source = store.archive.source(call_id)
    # A team's recording not cached here is not fetched for this: measured from its
    # transcript now, and again once its recording is archived (the trigger).
    if not callable(source) and (path := local_recording(source)) is not None \
            and path.is_file():
        try:
            decoded = decode(lambda: source, peaks_file(store.archive.folder, call_id),
                             messages, duration_ms)
        except ExpectedError as exc:  # a damaged recording: its transcript's times
            log.info("measuring call %s without its recording: %s", call_id, exc)
        else:
            if decoded.peaks is not None:
                from callviewer.timeline.silence import find_silences

                lanes, silences = decoded.lanes, find_silences(decoded.peaks)
                length = decoded.peaks.duration_ms
    if lanes is None:
        lanes = lanes_of(messages, duration_ms)
    return stats_of(lanes, length, silences)


def stats_of(lanes, length_ms: int | None, silences=None) -> StoredStats:
    """A call's figures from its lanes (timeline/lanes.py), as the store keeps them."""
    from callviewer.timeline.lanes import SPOKEN
    from callviewer.timeline.stats import call_stats

    if not any(block.role in SPOKEN for block in lanes.blocks):
        return StoredStats("none")
    stats = call_stats(lanes, length_ms, silences)
    return StoredStats(
        ORIGINS.get(lanes.origin, "estimated"), stats.talk_ms["agent"],
        stats.talk_ms["customer"], stats.silence_ms, stats.longest_monologue_ms,
        stats.longest_monologue_role, stats.interruptions)


class PassStatus(QWidget):
    """The status bar's part while the pass runs: "Measuring calls · 120 of 480" and
    Cancel; hidden otherwise."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setAccessibleName("Measuring calls")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Stop measuring the calls")
        self.cancel_button.setToolTip("Stop measuring; the next pass goes on from here")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.cancel_button)
        self.hide()

    def show_progress(self, done: int, total: int) -> None:
        self.label.setText(f"Measuring calls · {done:,} of {total:,}")
        self.show()


class TimelinePass(QObject):
    """Measures the window's calls without statistics, one at a time (see the module)."""

    landed = Signal(list)  # the ids of a batch just written (the list is read again)
    finished = Signal(int)  # how many calls this pass measured (canceled or not)

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self.status = PassStatus()
        window.statusBar().addWidget(self.status)
        self.status.cancel_button.clicked.connect(self.cancel)
        self._task: Task | None = None
        self._running = False
        self._again = False  # asked to start while running: once more after this one
        self._done = self._total = 0
        self._after = 0  # the last call id taken
        self._queue: list[int] = []
        self._measured: list[tuple[int, StoredStats]] = []
        self._asked: set[int] = set()  # calls shown and measured on the way, this session
        # The list is read again at most this often while a pass runs, and once at its end:
        # a refresh after each batch repainted the whole list every second or so.
        self._refresh = QTimer(self, singleShot=True, interval=LIST_REFRESH_MS)
        self._refresh.timeout.connect(window._refresh_in_place)
        window.detail.call_shown.connect(self._shown)

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Measure the calls still without statistics (again after the one running, if
        one is: a sync may have brought more)."""
        if self._running:
            self._again = True
            return
        store = self._store
        if store is None or store.damaged is not None:
            return
        self._running, self._again = True, False
        self._done, self._after, self._queue, self._measured = 0, 0, [], []
        self._task = self._tasks.run(lambda: store.stats.unmeasured_count(archived_only=True),
                                     self._counted,
                                     failed=self._failed, lane=Lane.READ,
                                     name="counting the calls to measure")

    def cancel(self) -> None:
        """Stop after writing what is measured; the next pass goes on from there."""
        if not self._running:
            return
        self._again = False
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._write(then=self._end)

    # --- the steps, each answered on this thread ----------------------------------

    @property
    def _store(self) -> Store | None:
        return self._window.store

    @property
    def _tasks(self):
        return self._window.tasks

    def _counted(self, total: int) -> None:
        self._total = total
        if not total:
            self._end()
            return
        self.status.show_progress(0, total)
        self._next()

    def _next(self) -> None:
        if not self._running:
            return
        if len(self._measured) >= BATCH:
            self._write(then=self._next)
            return
        if self._queue:
            call_id = self._queue.pop(0)
            store = self._store
            self._task = self._tasks.run(lambda: measure(store, call_id),
                                         lambda stats: self._took(call_id, stats),
                                         failed=lambda _sentence: self._skipped(call_id),
                                         lane=Lane.JOB, name="measuring a call")
            return
        store, after = self._store, self._after
        self._task = self._tasks.run(
            lambda: store.stats.unmeasured(after, BATCH, archived_only=True),
            self._listed, failed=self._failed, lane=Lane.READ,
            name="finding the calls to measure")

    def _listed(self, ids: list[int]) -> None:
        if not ids:
            self._write(then=self._end)
            return
        self._queue, self._after = list(ids), ids[-1]
        self._next()

    def _took(self, call_id: int, stats: StoredStats) -> None:
        self._measured.append((call_id, stats))
        self._done += 1
        self.status.show_progress(self._done, max(self._total, self._done))
        self._next()

    def _skipped(self, call_id: int) -> None:
        """A call that could not be measured (a bug: the crash dialog has said so) is
        left for another pass."""
        log.info("call %s not measured", call_id)
        self._next()

    def _write(self, then) -> None:
        batch, self._measured = self._measured, []
        if not batch:
            then()
            return
        store = self._store

        def written(_result) -> None:
            self._measured_now(batch)
            then()

        self._tasks.run(lambda: store.stats.write_many(batch), written,
                        failed=self._failed, lane=Lane.WRITE, name="keeping the calls' figures")

    def _measured_now(self, batch: list[tuple[int, StoredStats]]) -> None:
        """Figures written: the detail's header shows them if its call is among them (not
        read again), and the list (its column, its sort by talk share) is read again
        within LIST_REFRESH_MS."""
        detail = self._window.detail
        for call_id, stats in batch:
            if detail is not None:
                detail.set_stats(call_id, stats)
        if not self._refresh.isActive():
            self._refresh.start()
        self.landed.emit([call_id for call_id, _stats in batch])

    def _shown(self, call_id: int | None) -> None:
        """A call without an archived recording (the pass measures those), shown without
        figures: measured from the transcript the detail has read (not read again: one
        message can be 50 MB), its times or else an estimate."""
        from callviewer.recording_state import ARCHIVED
        from callviewer.timeline.lanes import lanes_of

        call = self._window.detail.shown(call_id) if call_id is not None else None
        store = self._store
        if call is None or call.stats is not None or call.recording_state == ARCHIVED \
                or call_id in self._asked or store is None:
            return
        self._asked.add(call_id)
        messages = call.transcript if isinstance(call.transcript, list) else []
        length = call.duration_ms

        def measured(stats: StoredStats) -> None:
            self._tasks.run(lambda: store.stats.write_many([(call_id, stats)]),
                            lambda _written: self._measured_now([(call_id, stats)]),
                            failed=lambda _sentence: None, lane=Lane.WRITE,
                            name="keeping the call's figures")

        self._tasks.run(lambda: stats_of(lanes_of(messages, length), length), measured,
                        failed=lambda _sentence: None, lane=Lane.JOB,
                        name="measuring the call shown")

    def _failed(self, sentence: str) -> None:
        self._window.statusBar().showMessage(f"Measuring the calls stopped: {sentence}", 8000)
        self._end()

    def _end(self, *_args) -> None:
        was_running = self._running
        self._running, self._task = False, None
        self.status.hide()
        if self._refresh.isActive():  # what landed last, now
            self._refresh.stop()
            self._window._refresh_in_place()
        if was_running:
            self.finished.emit(self._done)
        if self._again:
            self.start()
