"""Sync from the window: a process of its own (sync/process.py) watched from the
runner's JOB lane, progress and Cancel in the status bar, then "Synced 10:42 · 37 new,
5 updated, 3 recordings"; again every few minutes and on F5."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from callviewer.ui.formatting import last_synced, sync_sentence
from callviewer.ui.tasks import Lane, Task, TaskRunner

if TYPE_CHECKING:
    from callviewer.sync.process import SyncProcess

INTERVAL_KEY = "sync/interval_minutes"
DEFAULT_INTERVAL_MINUTES = 5
PROGRESS_MS = 250  # the status bar shows a sync's progress this often
SETTLE_MS = 2_000  # a watched folder's files unchanged this long are synced


def sync_interval(settings: QSettings) -> int:
    """Minutes between automatic syncs; 0: only on F5."""
    try:
        return max(int(settings.value(INTERVAL_KEY, DEFAULT_INTERVAL_MINUTES)), 0)
    except (TypeError, ValueError):
        return DEFAULT_INTERVAL_MINUTES


class SyncStatus(QWidget):
    """The status bar's part: what the sync is doing (a bar, determinate when the total is
    known, and Cancel) or how the last one ended."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setAccessibleName("Sync status")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the sync")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.show_idle("")

    def show_running(self, done: int, total: int | None, what: str) -> None:
        self.label.setText(what or "Syncing…")
        self.bar.setRange(0, total or 0)  # 0..0: busy, for an unknown total
        if total:
            self.bar.setValue(min(done, total))
        self.bar.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)

    def show_idle(self, sentence: str) -> None:
        self.label.setText(sentence)
        self.label.setToolTip(sentence)
        self.bar.hide()
        self.cancel_button.hide()


class FolderWatch(QObject):
    """One watched folder: `changed` once its files have settled after a change (each change
    restarts the wait: a file being written keeps postponing the sync), and every
    `rescan_seconds` in any case. Both waits are timers on this thread."""

    changed = Signal()

    def __init__(self, folder: Path, rescan_seconds: float, tasks: TaskRunner,
                 parent: QObject | None = None, settle_ms: int = SETTLE_MS) -> None:
        from callviewer.sync.sources.folder import FolderWatcher

        super().__init__(parent)
        self._settle = QTimer(self, singleShot=True, interval=settle_ms)
        self._settle.timeout.connect(self.changed)
        self._rescan = QTimer(self, interval=max(1, int(rescan_seconds * 1000)))
        self._rescan.timeout.connect(self.changed)
        self._rescan.start()
        self._watcher = FolderWatcher(folder, tasks.on_gui(self._settle.start))
        self._watcher.start()

    def stop(self) -> None:
        self._settle.stop()
        self._rescan.stop()
        self._watcher.stop()


class SyncController(QObject):
    """Runs syncs for the window, one at a time, on the task runner: on demand, every few
    minutes, and when a watched folder changes (that folder's connection only)."""

    started = Signal()
    synced = Signal(object)  # SyncReport | str

    def __init__(self, store, settings: QSettings, status: SyncStatus, tasks: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store, self._settings, self.status = store, settings, status
        self._tasks = tasks
        self._task: Task | None = None
        self._stop: threading.Event | None = None  # the running sync's Cancel
        self._process: SyncProcess | None = None
        self._automatic = False
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._timed_sync)
        self._latest: tuple | None = None  # the sync's last progress, shown by the timer
        self._shown_progress = QTimer(self, singleShot=True, interval=PROGRESS_MS)
        self._shown_progress.timeout.connect(self._show_progress)
        self._watched: dict[str, FolderWatch] = {}  # by connection name
        self._waiting: set[str] = set()  # folders that changed while a sync ran
        status.cancel_button.clicked.connect(self.cancel)
        self.apply_interval()
        QTimer.singleShot(0, self.watch_folders)  # watchdog loads after the first paint

    @property
    def running(self) -> bool:
        return self._task is not None

    def apply_interval(self) -> None:
        minutes = sync_interval(self._settings)
        if minutes:
            self._timer.start(minutes * 60_000)
        else:
            self._timer.stop()

    def watch_folders(self) -> None:
        """Watch the folders of the folder connections (again, after Preferences)."""
        self._tasks.run(self._store.sync.connections, self._watch, lane=Lane.READ,
                        name="reading the watched folders")

    def _watch(self, rows: list) -> None:
        folders = {row.name: row.settings for row in rows if row.kind == "folder"}
        for name in set(self._watched) - set(folders):
            self._watched.pop(name).stop()
        for name, settings in folders.items():
            folder = settings.get("folder")
            if name not in self._watched and isinstance(folder, str) and Path(folder).is_dir():
                watched = FolderWatch(Path(folder), float(settings.get("rescan_seconds", 60)),
                                         self._tasks, self)
                watched.changed.connect(lambda n=name: self._sync_folder(n))
                self._watched[name] = watched

    def _timed_sync(self) -> None:
        # In a team, a connection another desktop synced within this interval is not
        # synced again: its state (read from the database) is shown instead.
        self.sync(automatic=True, fresh_for=sync_interval(self._settings) * 60 * 0.9)

    def _sync_folder(self, name: str) -> None:
        if not self.sync(name=name, automatic=True):
            self._waiting.add(name)

    def sync(self, full: bool = False, automatic: bool = False,
             name: str | None = None, fresh_for: float | None = None) -> bool:
        """Start a sync of every connection (or the one named); False when one is running.
        It runs in a process of its own (sync/process.py), watched from the JOB lane."""
        from callviewer.sync.process import SyncProcess

        if self._task is not None:
            return False
        stop = threading.Event()
        process = SyncProcess(self._store.url, name, full=full, fresh_for=fresh_for,
                              canceled=stop)
        progress = self._tasks.on_gui(self._progressed)
        self._stop, self._process, self._automatic = stop, process, automatic
        self._task = self._tasks.run(lambda: process.run(progress), self._finished,
                                     failed=self._finished, name="the sync", canceled=stop)
        self.status.show_running(0, None, "Syncing…")
        self.started.emit()
        return True

    def _progressed(self, done: int, total: int | None, what: str) -> None:
        # A sync reports every page, a hundred times a second on a fast source: the
        # status bar shows the latest a few times a second (each showing repaints it).
        self._latest = (done, total, what)
        if not self._shown_progress.isActive():
            self._shown_progress.start()

    def _show_progress(self) -> None:
        if self._task is not None and self._latest is not None:  # not once it has ended
            self.status.show_running(*self._latest)

    def cancel(self) -> None:
        """Ask the running sync to stop after its page; it still reports what it did."""
        if self._process is not None:
            from callviewer.sync.process import ENDING_S

            process = self._process
            process.cancel()
            # A process that does not end within ENDING_S of its Cancel (hung on a server
            # that stopped answering) is ended: its pages are committed whole.
            QTimer.singleShot(ENDING_S * 1000, process.kill)
            self.status.cancel_button.setEnabled(False)
            self.status.label.setText("Canceling…")

    def wait(self, timeout_ms: int = 10_000) -> None:
        """Stop watching, cancel a running sync and wait for it (the window is closing)."""
        for watched in self._watched.values():
            watched.stop()
        self._watched.clear()
        if self._task is not None:
            self.cancel()
            if not self._tasks.wait(Lane.JOB, timeout_ms) and self._process is not None:
                self._process.kill()  # it did not stop in time: its pages are whole
                self._tasks.wait(Lane.JOB, timeout_ms)

    def _finished(self, result) -> None:
        self._task = self._stop = self._process = self._latest = None
        if not isinstance(result, str) and not result.connections:
            result = "" if self._automatic else \
                "Nothing to sync: add a connection in Preferences."
        self.status.show_idle(result if isinstance(result, str) else sync_sentence(result))
        self.apply_interval()  # the next automatic sync counts from this one
        self.synced.emit(result)
        if self._waiting:
            self._sync_folder(self._waiting.pop())

    def show_shared_state(self) -> None:
        """Another desktop of the team synced: show when the last sync was, as the
        database has it (unless this desktop is syncing now)."""
        self._tasks.run(self._store.sync.connections, self._show_shared, lane=Lane.READ,
                        name="reading the team's sync state")

    def _show_shared(self, rows: list) -> None:
        times = [row.last_sync_at for row in rows if row.last_sync_at]
        if times and self._task is None:
            self.status.show_idle(last_synced(times))
