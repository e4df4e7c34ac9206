"""Sync from the window: a worker thread with its own database connection, progress and
Cancel in the status bar, then "Synced 10:42 · 37 new, 5 updated, 3 recordings"; again
every few minutes and on F5."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

INTERVAL_KEY = "sync/interval_minutes"
DEFAULT_INTERVAL_MINUTES = 5


def sync_interval(settings: QSettings) -> int:
    """Minutes between automatic syncs; 0: only on F5."""
    try:
        return max(int(settings.value(INTERVAL_KEY, DEFAULT_INTERVAL_MINUTES)), 0)
    except (TypeError, ValueError):
        return DEFAULT_INTERVAL_MINUTES


class _Worker(QObject):
    progressed = Signal(int, object, str)  # done, total or None, what
    finished = Signal(object)  # SyncReport, or a str saying why it could not run

    def __init__(self, url: str, full: bool, name: str | None,
                 fresh_for: float | None = None) -> None:
        super().__init__()
        self._url, self._full, self._name, self._fresh_for = url, full, name, fresh_for
        self.cancel = threading.Event()

    def run(self) -> None:
        from callviewer.store import StoreError
        from callviewer.sync.runner import run_sync

        try:
            report = run_sync(self._url, self._name, full=self._full, cancel=self.cancel,
                              fresh_for=self._fresh_for,
                              progress=lambda done, total, what: self.progressed.emit(
                                  done, total, what))
        except StoreError as exc:
            self.finished.emit(str(exc))
            return
        self.finished.emit(report)


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


class SyncController(QObject):
    """Runs syncs for the window, one at a time: on demand, every few minutes, and when a
    watched folder changes (that folder's connection only)."""

    started = Signal()
    synced = Signal(object)  # SyncReport | str
    _folder_changed = Signal(str)  # from a watcher's thread: the connection's name

    def __init__(self, store, settings: QSettings, status: SyncStatus,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store, self._settings, self.status = store, settings, status
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._timed_sync)
        self._watchers: dict[str, object] = {}  # connection name -> FolderWatcher
        self._waiting: set[str] = set()  # folders that changed while a sync ran
        self._folder_changed.connect(self._sync_folder, Qt.ConnectionType.QueuedConnection)
        status.cancel_button.clicked.connect(self.cancel)
        self.apply_interval()
        QTimer.singleShot(0, self.watch_folders)  # watchdog loads after the first paint

    @property
    def running(self) -> bool:
        return self._thread is not None

    def apply_interval(self) -> None:
        minutes = sync_interval(self._settings)
        if minutes:
            self._timer.start(minutes * 60_000)
        else:
            self._timer.stop()

    def watch_folders(self) -> None:
        """Watch the folders of the folder connections (again, after Preferences)."""
        from callviewer.sync.sources.folder import FolderWatcher

        folders = {row["name"]: Path(row["settings"]["folder"])
                   for row in self._store.connections() if row["kind"] == "folder"}
        for name in set(self._watchers) - set(folders):
            self._watchers.pop(name).stop()
        for name, folder in folders.items():
            if name not in self._watchers and folder.is_dir():
                watcher = FolderWatcher(folder, lambda n=name: self._folder_changed.emit(n))
                watcher.start()
                self._watchers[name] = watcher

    def _timed_sync(self) -> None:
        # In a team, a connection another desktop synced within this interval is not
        # synced again: its state (read from the database) is shown instead.
        self.sync(automatic=True, fresh_for=sync_interval(self._settings) * 60 * 0.9)

    def _sync_folder(self, name: str) -> None:
        if not self.sync(name=name, automatic=True) and self._thread is not None:
            self._waiting.add(name)

    def sync(self, full: bool = False, automatic: bool = False,
             name: str | None = None, fresh_for: float | None = None) -> bool:
        """Start a sync of every connection (or the one named); False when one is running
        or there are none."""
        if self._thread is not None or not self._has_connections():
            if not automatic and not self._has_connections():
                self.status.show_idle("Nothing to sync: add a connection in Preferences.")
            return False
        self._thread = QThread(self)
        self._worker = _Worker(self._store.url, full, name, fresh_for)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self.status.show_running)
        self._worker.finished.connect(self._finished)
        self.status.show_running(0, None, "Syncing…")
        self._thread.start()
        self.started.emit()
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel.set()
            self.status.cancel_button.setEnabled(False)
            self.status.label.setText("Canceling…")

    def wait(self) -> None:
        """Stop watching, cancel and wait for a running sync (the window is closing)."""
        for watcher in self._watchers.values():
            watcher.stop()
        self._watchers.clear()
        if self._thread is not None:
            self.cancel()
            self._thread.quit()
            self._thread.wait()

    def _finished(self, result) -> None:
        self._thread.quit()
        self._thread.wait()
        self._thread = self._worker = None
        self.status.show_idle(result if isinstance(result, str) else result.status_line())
        self.apply_interval()  # the next automatic sync counts from this one
        self.synced.emit(result)
        if self._waiting:
            self._sync_folder(self._waiting.pop())

    def show_shared_state(self) -> None:
        """Another desktop of the team synced: show when the last sync was, as the
        database has it (unless this desktop is syncing now)."""
        from callviewer.sync.runner import local_clock

        if self._thread is not None:
            return
        times = [row["last_sync_at"] for row in self._store.connections() if row["last_sync_at"]]
        if times:
            self.status.show_idle(f"Synced {local_clock(max(times))}")

    def _has_connections(self) -> bool:
        return bool(self._store.connections())
