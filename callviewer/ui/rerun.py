"""Call ▸ Re-run analysis: asks the call module a call came from to run its analyzers on it
again (``POST /api/calls/:id/rerun``), off the GUI thread (a task on the window's
runner, ui/tasks.py), and says in the status bar what happened. The new runs arrive
with the next sync of that call, appended to the stored ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from callviewer.ui.tasks import Lane, Task

if TYPE_CHECKING:
    from callviewer.store import SyncConnection

KIND = "call-module"  # the connections that can re-run an analysis
SOURCE = "twilio"  # their calls' source (callviewer/sync/twilio.py's NAME)
NOT_OFFERED = "Re-run analysis is for calls synced from a call module connection."


def rerun_target(store, call_id: int | None) -> tuple[SyncConnection, str] | None:
    """The call-module connection a call came from and the call's id there; None when the
    call is not the call module's (another source, a file import, no such connection)."""
    if call_id is None:
        return None
    call = store.calls.get(call_id)
    if call is None or call.source != SOURCE:
        return None
    brought = set(store.calls.connections_of(call_id))
    rows = [row for row in store.sync.connections() if row.kind == KIND and row.id in brought]
    return (rows[0], call.source_id) if rows else None


def rerun(url: str, call_id: int | None) -> str:
    """Find the call-module connection of a call and ask it to re-run the analysis (on the
    runner's JOB lane, a store of its own); the sentence saying what happened."""
    from callviewer.secrets import load_secret
    from callviewer.store import Store
    from callviewer.sync.connection import open_connection
    from callviewer.sync.errors import SyncFailed

    with Store(url) as store:
        target = rerun_target(store, call_id)
    if target is None:
        return NOT_OFFERED
    row, source_id = target
    try:
        connection = open_connection(row.name, row.kind, row.settings,
                                     load_secret(row.secret_key))
    except (SyncFailed, ValueError) as exc:
        return str(exc)
    try:
        return connection.rerun(source_id)
    finally:
        connection.close()


class RerunAnalysis(QObject):
    """The Call menu's action, one request at a time, enabled for a call-module call: found
    out off this thread as the menu opens (the action follows a moment later)."""

    done = Signal(str)

    def __init__(self, window, menu) -> None:
        super().__init__(window)
        self._window = window
        self._task: Task | None = None
        self.action = QAction("Re-run &analysis", window)
        self.action.triggered.connect(self.start)
        menu.addAction(self.action)
        menu.aboutToShow.connect(self.update)

    @property
    def running(self) -> bool:
        return self._task is not None

    def update(self) -> None:
        """Enable the action for the current call if it is a call-module call."""
        store, call_id = self._window.store, self._window.current_call_id()
        self._window.tasks.run(lambda: rerun_target(store, call_id) is not None,
                               self._offered, failed=lambda _sentence: self._offered(False),
                               lane=Lane.READ, name="finding the call's connection")

    def _offered(self, offered: bool) -> None:
        self.action.setEnabled(offered and not self.running)

    def start(self) -> None:
        if self.running:
            return
        url, call_id = self._window.store.url, self._window.current_call_id()
        self._window.statusBar().showMessage("Asking for the analysis to be re-run…")
        self.action.setEnabled(False)
        self._task = self._window.tasks.run(lambda: rerun(url, call_id), self._finished,
                                            failed=self._finished,
                                            name="re-running the analysis")

    def _finished(self, sentence: str) -> None:
        self._task = None
        self.action.setEnabled(True)
        self._window.statusBar().showMessage(sentence, 15_000)
        self.done.emit(sentence)
