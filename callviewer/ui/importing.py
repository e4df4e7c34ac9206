"""Importing files from the window: a task on the runner, a progress dialog with Cancel, a
summary."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from callviewer.sync.importer import ImportReport
from callviewer.ui.tasks import Task, TaskRunner


def _import(url: str, paths: list[Path], progress, canceled: threading.Event) -> ImportReport:
    """The import itself, on the runner's JOB lane, on a store of its own."""
    from callviewer.store import Store
    from callviewer.sync.importer import import_paths

    with Store(url) as store:
        return import_paths(store, paths,
                            progress=lambda files, records, path: progress(files, records,
                                                                           str(path)),
                            should_cancel=canceled.is_set)


class ImportRun(QObject):
    """One import in the background, with a progress dialog and Cancel; `done` carries its
    report (or the sentence saying why it could not run) when it ends, whatever happened."""

    done = Signal(object)  # ImportReport | str

    def __init__(self, tasks: TaskRunner, url: str, paths: list[Path], parent: QWidget) -> None:
        super().__init__(parent)
        self._tasks, self._url, self._paths = tasks, url, paths
        self._stop = threading.Event()
        self._task: Task | None = None
        self._dialog = QProgressDialog("Importing…", "Cancel", 0, 0, parent)
        self._dialog.setWindowTitle("Import")
        self._dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._dialog.setMinimumDuration(300)
        self._dialog.canceled.connect(self._stop.set)

    def start(self) -> None:
        url, paths, stop = self._url, self._paths, self._stop
        progress = self._tasks.on_gui(self._progressed)
        self._task = self._tasks.run(lambda: _import(url, paths, progress, stop),
                                     self._finished, failed=self._finished,
                                     name="the import", canceled=stop)

    def _progressed(self, files: int, records: int, path: str) -> None:
        if self._task is not None:
            self._dialog.setLabelText(f"Importing {Path(path).name}…\n"
                                      f"{records:,} records read from {files:,} files")

    def _finished(self, result: ImportReport | str) -> None:
        self._task = None
        self._dialog.reset()
        self.done.emit(result)
        self.deleteLater()

    @property
    def running(self) -> bool:
        return self._task is not None


def show_summary(parent: QWidget, result: ImportReport | str) -> QMessageBox:
    """Tell what an import did: counts, then every reject by file and reason (not blocking)."""
    box = QMessageBox(parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if isinstance(result, str):
        box.setWindowTitle("Import failed")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(result)
        box.open()
        return box
    lines = [result.summary_line() + "."]
    if result.canceled:
        lines.append("The import was canceled; what was read before is kept.")
    if result.unreadable:
        lines.append(f"{len(result.unreadable)} files could not be read.")
    box.setWindowTitle("Import finished")
    box.setText("\n".join(lines))
    details = [*result.unreadable, *(str(reject) for reject in result.rejects)]
    if result.rejected > len(result.rejects):
        details.append(f"… and {result.rejected - len(result.rejects):,} more rejects.")
    warnings = [f"Warning: {warning}" for warning in result.warnings]
    if details or warnings:
        box.setDetailedText("\n".join([*details, *warnings]))
    box.setIcon(QMessageBox.Icon.Warning if details else QMessageBox.Icon.Information)
    box.open()
    return box
