"""Importing files from the window: a worker thread, a progress dialog with Cancel, a summary."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from callviewer.sync.importer import ImportReport


class _Worker(QObject):
    progressed = Signal(int, int, str)  # files, records, current file
    finished = Signal(object)  # ImportReport, or a str saying why the import could not run

    def __init__(self, url: str, paths: list[Path]) -> None:
        super().__init__()
        self._url, self._paths = url, paths
        self.cancel = threading.Event()

    def run(self) -> None:
        from callviewer.store import Store, StoreError
        from callviewer.sync.importer import import_paths

        try:
            with Store(self._url) as store:
                report = import_paths(
                    store, self._paths,
                    progress=lambda files, records, path: self.progressed.emit(
                        files, records, str(path)),
                    should_cancel=self.cancel.is_set)
        except StoreError as exc:
            self.finished.emit(str(exc))
            return
        self.finished.emit(report)


class ImportRun(QObject):
    """One import in the background; `done` carries its report when it ends."""

    done = Signal(object)  # ImportReport | str

    def __init__(self, url: str, paths: list[Path], parent: QWidget) -> None:
        super().__init__(parent)
        self._window = parent
        self._thread = QThread(self)
        self._worker = _Worker(url, paths)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self._progressed)
        self._worker.finished.connect(self._finished)
        self._dialog = QProgressDialog("Importing…", "Cancel", 0, 0, parent)
        self._dialog.setWindowTitle("Import")
        self._dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._dialog.setMinimumDuration(300)
        self._dialog.canceled.connect(self._worker.cancel.set)

    def start(self) -> None:
        self._thread.start()

    def _progressed(self, files: int, records: int, path: str) -> None:
        self._dialog.setLabelText(f"Importing {Path(path).name}…\n"
                                  f"{records:,} records read from {files:,} files")

    def _finished(self, result: ImportReport | str) -> None:
        self._dialog.reset()
        self._thread.quit()
        self._thread.wait()
        self.done.emit(result)
        self.deleteLater()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()


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
