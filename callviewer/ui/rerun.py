"""Call ▸ Re-run analysis: asks the call module a call came from to run its analyzers on it
again (``POST /api/calls/:id/rerun``), off the GUI thread (a worker on a QThread, as
syncing.py runs a sync), and says in the status bar what happened. The new runs arrive
with the next sync of that call, appended to the stored ones."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QAction

KIND = "call-module"  # the connections that can re-run an analysis
SOURCE = "twilio"  # their calls' source (callviewer/sync/twilio.py's NAME)
NOT_OFFERED = "Re-run analysis is for calls synced from a call module connection."


def rerun_target(store, call_id: int | None) -> tuple[dict, str] | None:
    """The call-module connection a call came from and the call's id there; None when the
    call is not the call module's (another source, a file import, no such connection)."""
    if call_id is None:
        return None
    call = store.call(call_id)
    if call is None or call["source"] != SOURCE:
        return None
    brought = set(store.call_connections(call_id))
    rows = [row for row in store.connections() if row["kind"] == KIND and row["id"] in brought]
    return (rows[0], call["source_id"]) if rows else None


class _Worker(QObject):
    finished = Signal(str)  # the sentence saying what happened

    def __init__(self, row: dict, source_id: str) -> None:
        super().__init__()
        self._row, self._source_id = row, source_id

    def run(self) -> None:
        from callviewer.sync.connection import open_connection
        from callviewer.sync.errors import SyncFailed
        from callviewer.sync.tokens import load_token

        try:
            connection = open_connection(self._row, load_token(self._row["secret_key"]))
        except (SyncFailed, ValueError) as exc:
            self.finished.emit(str(exc))
            return
        try:
            self.finished.emit(connection.rerun(self._source_id))
        except Exception as exc:  # never leave the window waiting on a worker that died
            self.finished.emit(f"The analysis was not re-run: {exc}")
        finally:
            connection.close()


class RerunAnalysis(QObject):
    """The Call menu's action: enabled for a call-module call (checked as the menu opens),
    one request at a time."""

    done = Signal(str)

    def __init__(self, window, menu) -> None:
        super().__init__(window)
        self._window = window
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self.action = QAction("Re-run &analysis", window)
        self.action.triggered.connect(self.start)
        menu.addAction(self.action)
        menu.aboutToShow.connect(self.update)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def update(self) -> None:
        """Enable the action for the current call if it is a call-module call."""
        from callviewer.store import StoreError

        try:
            target = rerun_target(self._window.store, self._window.current_call_id())
        except StoreError:
            target = None
        self.action.setEnabled(target is not None and not self.running)

    def start(self) -> None:
        from callviewer.store import StoreError

        if self.running:
            return
        try:
            target = rerun_target(self._window.store, self._window.current_call_id())
        except StoreError as exc:
            self._say(str(exc))
            return
        if target is None:
            self._say(NOT_OFFERED)
            return
        row, source_id = target
        self._thread = QThread(self)
        self._worker = _Worker(row, source_id)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.finished.connect(self._finished)
        self._window.statusBar().showMessage(f"Asking {row['name']} to re-run the analysis…")
        self.action.setEnabled(False)
        self._thread.start()

    def wait(self) -> None:
        """Wait for a request under way (the window is closing)."""
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()

    def _finished(self, sentence: str) -> None:
        self._thread.quit()
        self._thread.wait()
        self._thread = self._worker = None
        self.action.setEnabled(True)
        self._say(sentence)
        self.done.emit(sentence)

    def _say(self, sentence: str) -> None:
        self._window.statusBar().showMessage(sentence, 15_000)
