"""Start-up of the desktop app: logging, crash reports, one instance per user, the window.

Only what the first paint needs is imported here; VLC, HTTP and the keyring
load on first use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import faulthandler
import hashlib
import json
import logging
import logging.handlers
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TextIO

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from callviewer import __version__
from callviewer.paths import data_dir, log_dir
from callviewer.redaction import install_log_redaction, redact_text

log = logging.getLogger(__name__)

LOG_FILE = "callviewer.log"
FAULT_FILE = "faults.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
HAND_OVER_MS = 2000


def run(args: argparse.Namespace) -> int:
    """Open the window on the store named by `args.db` (or hand `args.paths` over to the
    window already open), and run until it closes; returns the exit status."""
    started = time.perf_counter()
    setup_logging(args.verbose)
    app = make_application()
    paths = [Path(p).expanduser().resolve() for p in getattr(args, "paths", None) or ()]
    instance = SingleInstance(instance_name())
    if instance.hand_over(paths):
        log.info("handed %d files over to the window already open", len(paths))
        return 0
    reporter = CrashReporter(app)
    reporter.install()

    from callviewer.store import Store, StoreError

    try:
        store = Store(args.db)
    except StoreError as exc:
        QMessageBox.critical(None, "Call Viewer", str(exc))
        return 2
    from callviewer.ui.theme import follow_color_scheme
    from callviewer.ui.window import MainWindow

    follow_color_scheme(app)
    with store:
        window = MainWindow(store)
        reporter.parent_window = window
        instance.listen(lambda given: _handed_over(window, given))
        FirstRows(window, started)
        window.show()
        if paths:
            QTimer.singleShot(0, lambda: window.import_paths(paths))
        status = app.exec()
    instance.close()
    return status


def make_application() -> QApplication:
    """The QApplication with the names settings, the dock and the desktop entry go by."""
    from callviewer.desktop import DESKTOP_ID, app_icon

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("callviewer")
    app.setOrganizationName("callviewer")
    app.setApplicationDisplayName("Call Viewer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(DESKTOP_ID)
    app.setWindowIcon(app_icon())
    return app


def _handed_over(window: QWidget, paths: list[Path]) -> None:
    window.showNormal() if window.isMinimized() else window.show()
    window.raise_()
    window.activateWindow()
    QApplication.alert(window)  # where the window manager refuses to raise it
    if paths:
        window.import_paths(paths)


# --- logging -------------------------------------------------------------------------------

_faults: TextIO | None = None


def setup_logging(verbose: bool) -> Path | None:
    """Log to a rotating file in the platform's log folder (and to stderr with --verbose);
    hard crashes go to faults.log beside it. Returns the log folder, None when it cannot
    be written."""
    global _faults
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    form = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose:
        to_stderr = logging.StreamHandler()
        to_stderr.setFormatter(form)
        root.addHandler(to_stderr)
    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        to_file = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
        _faults = (folder / FAULT_FILE).open("a", encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write logs in %s: %s", folder, exc.strerror)
        return None
    to_file.setFormatter(form)
    root.addHandler(to_file)
    faulthandler.enable(_faults)
    install_log_redaction()
    log.info("Call Viewer %s starting; data in %s", __version__, data_dir())
    return folder


# --- crash reports -------------------------------------------------------------------------

class CrashReporter(QObject):
    """Every uncaught exception, in the GUI thread or another, ends in a dialog that says
    what happened in one sentence and where the details were saved, and offers to copy
    them; the app goes on."""

    caught = Signal(str, str, str)  # sentence, details, report path ("" when unsaved)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.parent_window: QWidget | None = None
        self.dialog: QMessageBox | None = None
        self.caught.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._previous = (sys.excepthook, threading.excepthook)

    def install(self) -> None:
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def _sys_hook(self, kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        self.report(kind, value, tb, threading.current_thread().name)

    def _thread_hook(self, hook_args) -> None:
        if hook_args.exc_type is SystemExit:
            return
        thread = hook_args.thread.name if hook_args.thread else "a worker"
        self.report(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback, thread)

    def report(self, kind, value, tb, thread: str) -> None:
        """Log the exception, save a report, and have the GUI thread show the dialog."""
        details = "".join(traceback.format_exception(kind, value, tb))
        details = redact_text(f"Call Viewer {__version__}, Python {sys.version.split()[0]}, "
                            f"thread {thread}\n\n{details}")
        log.error("uncaught exception in thread %s:\n%s", thread, details)
        path = save_report(details)
        message = redact_text(str(value)).strip().rstrip(".")
        what = f"{kind.__name__}: {message}" if message else kind.__name__
        self.caught.emit(f"Call Viewer ran into a problem it did not expect ({what}).",
                         details, str(path) if path else "")

    def _show(self, sentence: str, details: str, path: str) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            return  # one at a time; every report is in the log
        where = (f"The details were saved to {path}." if path
                 else "The details could not be saved; copy them instead.")
        box = QMessageBox(QMessageBox.Icon.Critical, "Call Viewer",
                          f"{sentence}\n\n{where} Call Viewer carries on; if something "
                          "looks wrong, restart it.", QMessageBox.StandardButton.NoButton,
                          self.parent_window)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.disconnect()  # keep the dialog open after copying
        copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
        box.addButton("Quit", QMessageBox.ButtonRole.DestructiveRole).clicked.connect(
            QApplication.quit)
        box.setDefaultButton(box.addButton("Continue", QMessageBox.ButtonRole.AcceptRole))
        box.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.dialog = box
        box.show()


def save_report(details: str) -> Path | None:
    """Write a crash report into the log folder; its path, or None when it cannot."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = log_dir() / f"crash-{stamp}.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(details, encoding="utf-8")
    except OSError:
        return None
    return path


# --- one instance per user --------------------------------------------------------------------

def instance_name() -> str:
    """The local socket's name: one per user and data folder (a fresh HOME, a fresh app)."""
    import getpass

    key = hashlib.sha256(str(data_dir()).encode()).hexdigest()[:16]
    return f"callviewer-{getpass.getuser()}-{key}"


class SingleInstance(QObject):
    """The first launch listens on a local socket; later ones hand their files over to it
    and exit. A socket left by a crashed instance is removed."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None
        self._on_message = None

    def hand_over(self, paths: list[Path]) -> bool:
        """True when a running instance took the files (and raised its window)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(HAND_OVER_MS // 4):
            return False
        socket.write(json.dumps({"paths": [str(p) for p in paths]}).encode() + b"\n")
        socket.waitForBytesWritten(HAND_OVER_MS)
        answered = socket.waitForReadyRead(HAND_OVER_MS) and socket.readAll().data() == b"ok\n"
        socket.disconnectFromServer()
        return answered

    def listen(self, on_message) -> None:
        """Take hand-overs from later launches: `on_message(paths)` in the GUI thread."""
        self._on_message = on_message
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            QLocalServer.removeServer(self.name)  # left by an instance that crashed
            if not server.listen(self.name):
                log.warning("a second launch cannot reach this window: %s",
                            server.errorString())
                return
        server.newConnection.connect(self._accept)
        self._server = server

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _accept(self) -> None:
        while self._server is not None and self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        line = socket.readLine().data()
        try:
            paths = [Path(p) for p in json.loads(line)["paths"]]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed hand-over from a second launch")
            socket.disconnectFromServer()
            return
        socket.write(b"ok\n")
        socket.flush()
        if self._on_message is not None:
            self._on_message(paths)


# --- start-up timing -----------------------------------------------------------------------------

class FirstRows(QObject):
    """Logs when the list first paints its rows (or the welcome panel): the launch benchmark
    reads this line."""

    MESSAGE = "first paint after %.0f ms"

    def __init__(self, window, started: float) -> None:
        super().__init__(window)
        self._window, self._started = window, started
        window.table.viewport().installEventFilter(self)
        window.empty.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and (
                watched is self._window.empty or self._window.model.rowCount() > 0):
            self._window.table.viewport().removeEventFilter(self)
            self._window.empty.removeEventFilter(self)
            QTimer.singleShot(0, self._say)
        return False

    def _say(self) -> None:
        log.info(self.MESSAGE, (time.perf_counter() - self._started) * 1000)
