"""Start-up of the desktop app: logging, crash reports, one instance per user, the window.

Only what the first paint needs is imported here; VLC, HTTP and the keyring
load on first use.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import sys
import threading
import time
import traceback
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from PySide6.QtCore import QDir, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from callviewer import __version__
from callviewer.paths import data_dir, log_dir
from callviewer.redaction import install_log_redaction, redact_text

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket
    from PySide6.QtWidgets import QMessageBox

log = logging.getLogger(__name__)

LOG_FILE = "callviewer.log"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FAULT_FILE = "faults.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
HAND_OVER_MS = 2000


def run(args: argparse.Namespace) -> int:
    """Open the window on the store named by `args.db` (or hand `args.paths` over to the
    window already open), and run until it closes; returns the exit status."""
    started = time.perf_counter()
    folder = setup_logging(args.verbose)
    try:
        return _run(args, started, folder)
    finally:
        if folder is not None:
            log_to_file(folder)  # when it ended before the first paint


def _run(args: argparse.Namespace, started: float, folder: Path | None) -> int:
    app = make_application(icon=False)  # the dock takes it from the desktop entry meanwhile
    paths = [Path(p).expanduser().resolve() for p in getattr(args, "paths", None) or ()]
    instance = SingleInstance(instance_name())
    if instance.hand_over(paths):
        log.info("handed %d files over to the window already open", len(paths))
        return 0
    reporter = CrashReporter(app)
    reporter.install()
    from callviewer.ui.theme import follow_color_scheme

    follow_color_scheme(app)
    start = Start(args.db, paths)
    if not start.open():
        return 2
    reporter.parent_window = start.window

    def after_first_paint() -> None:
        if folder is not None:
            log_to_file(folder)
        set_icon(app)
        instance.listen(start.hand_over)
        start.finish()

    from callviewer.ui.shutdown import Shutdown

    # SIGTERM, SIGINT, the session's logout and quitting: one close, which saves.
    shutdown = Shutdown(app, start.window)
    shutdown.install()
    FirstRows(start.window, started, then=after_first_paint)
    start.window.show()
    status = app.exec()
    shutdown.uninstall()
    instance.close()
    start.close()
    return status


def open_store(url: str):
    """The Store on `url`, SQLAlchemy imported on the calling thread (a worker's)."""
    from callviewer.store import Store

    return Store(url)


class Start:
    """The window's start, doing only what the first paint needs first.

    An SQLite file already at this version's schema shows its list straight from
    the file, and the store (SQLAlchemy) and the rest of the window follow the first
    paint. Anything else (a new file, an upgrade, a damaged file) opens the store first,
    so its problems are explained before any window. Files handed over by a second
    launch before the store is open wait for it.
    """

    def __init__(self, db: str | None, paths: list[Path]) -> None:
        from callviewer.dbfile import sqlite_path

        self.url = database_url(db)
        self.path = sqlite_path(self.url)
        self.store = None
        self.window = None
        self.own_instead = False  # this computer's calls, the team's out of reach
        self._waiting = list(paths)

    def open(self) -> bool:
        """Build the window (and open the store first when it must be); False when the
        store cannot be opened, which has been said."""
        from callviewer.dbfile import is_current
        from callviewer.ui.window import MainWindow

        if self.path is not None and is_current(self.path):
            self.window = MainWindow(self.path)
            return True
        if not self._open_store():
            return False
        self.window = MainWindow.over(self.store)
        if self.own_instead:
            self._say_own_instead()
        return True

    def finish(self) -> None:
        """After the first paint: the store (opened on the window's task runner, so the
        window answers while SQLAlchemy loads), the rest of the window, the files given."""
        if self.store is not None:
            self._attached()
            return
        self.window.tasks.run(lambda: open_store(self.url), self._opened,
                              failed=self._open_failed, name="opening the database")

    def _opened(self, store) -> None:
        self.store = store
        self.window.attach(store)
        self._attached()

    def _open_failed(self, _sentence: str) -> None:
        # Said by _open_store, which asks what to do (a team's database out of reach).
        if not self._open_store():
            QApplication.exit(2)
            return
        self.window.attach(self.store)
        self._attached()

    def _attached(self) -> None:
        if self._waiting:
            self.window.import_paths(self._waiting)
            self._waiting = []

    def hand_over(self, paths: list[Path]) -> None:
        """A second launch's files: imported now, or once the store is open."""
        window = self.window
        window.showNormal() if window.isMinimized() else window.show()
        window.raise_()
        window.activateWindow()
        QApplication.alert(window)  # where the window manager refuses to raise it
        if self.store is None:
            self._waiting.extend(paths)
        elif paths:
            window.import_paths(paths)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def _open_store(self) -> bool:
        """Open the store; False when it cannot be, which has been said. A team database
        out of reach offers to try again or to work on this computer's own calls."""
        from PySide6.QtWidgets import QMessageBox

        from callviewer.dbfile import DEFAULT_FILENAME, is_server_url, resolve_url, sqlite_path
        from callviewer.store import Store, StoreError

        while True:
            try:
                self.store = Store(self.url)
                return True
            except StoreError as exc:
                if not is_server_url(self.url):
                    QMessageBox.critical(self.window, "Call Viewer", str(exc))
                    return False
                choice = ask_about_team(str(exc))
            if choice is None:
                return False
            if choice == "own":
                self.url = resolve_url(str(data_dir() / DEFAULT_FILENAME))
                self.path = sqlite_path(self.url)
                self.own_instead = True

    def _say_own_instead(self) -> None:
        self.window.setWindowTitle("Call Viewer — this computer's calls")
        self.window.statusBar().showMessage(
            "The team database was out of reach: these are this computer's own calls. "
            "Restart Call Viewer to open the team's.")


def database_url(given: str | None) -> str:
    """The database to open: `--db` if given, else $CALLVIEWER_DB, else the team database
    chosen in Preferences (read from the window's settings here, and passed down), else
    the file in the user data folder (callviewer/dbfile.py `resolve_url`)."""
    from callviewer.dbfile import ENV_VAR, resolve_url

    chosen = None if given or os.environ.get(ENV_VAR) else chosen_team_url()
    return resolve_url(given, chosen)


def chosen_team_url() -> str | None:
    """The team database chosen in Preferences (a URL without a password), or None for
    this computer's own file: the window's QSettings file, read without a QApplication."""
    from PySide6.QtCore import QSettings

    from callviewer.dbfile import SETTINGS_APPLICATION, SETTINGS_ORGANIZATION, TEAM_DB_KEY

    value = QSettings(SETTINGS_ORGANIZATION, SETTINGS_APPLICATION).value(TEAM_DB_KEY, "")
    return str(value or "").strip() or None


def ask_about_team(sentence: str) -> str | None:
    """What to do when the team database cannot be opened at start: "retry", "own" (this
    computer's own database, until the app is restarted) or None (quit)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Warning, "Call Viewer",
                      f"The team database cannot be opened. {sentence}\n\nMeanwhile you can "
                      "work on this computer's own calls, until Call Viewer is restarted.")
    box.setTextFormat(Qt.TextFormat.PlainText)
    retry = box.addButton("Try Again", QMessageBox.ButtonRole.AcceptRole)
    own = box.addButton("Open This Computer's Calls", QMessageBox.ButtonRole.ActionRole)
    box.setEscapeButton(box.addButton("Quit", QMessageBox.ButtonRole.RejectRole))
    box.setDefaultButton(retry)
    box.exec()
    clicked = box.clickedButton()
    return "retry" if clicked is retry else "own" if clicked is own else None


def make_application(icon: bool = True) -> QApplication:
    """The QApplication with the names settings, the dock and the desktop entry go by, and
    the app's icon (start-up sets it after the first paint: `icon=False`)."""
    from callviewer.desktop import DESKTOP_ID

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("callviewer")
    app.setOrganizationName("callviewer")
    app.setApplicationDisplayName("Call Viewer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(DESKTOP_ID)
    if icon:
        set_icon(app)
    return app


def set_icon(app: QApplication) -> None:
    from callviewer.desktop import app_icon

    app.setWindowIcon(app_icon())


# --- logging -------------------------------------------------------------------------------

_faults: TextIO | None = None


class _Held(logging.Handler):
    """Keeps the records logged before the first paint for the log file (whose handler
    loads after it)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def setup_logging(verbose: bool) -> Path | None:
    """Log to stderr with --verbose, and hold the records for the log file, which
    `log_to_file` opens; hard crashes go to faults.log at once. Returns the log folder,
    None when it cannot be written."""
    global _faults
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if verbose:
        to_stderr = logging.StreamHandler()
        to_stderr.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(to_stderr)
    install_log_redaction()
    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _faults = (folder / FAULT_FILE).open("a", encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write logs in %s: %s", folder, exc.strerror)
        return None
    faulthandler.enable(_faults)
    root.addHandler(_Held())
    log.info("Call Viewer %s starting; data in %s", __version__, data_dir())
    return folder


def log_to_file(folder: Path) -> None:
    """Log to a rotating file in `folder` from now on, beginning with the records held."""
    import logging.handlers

    root = logging.getLogger()
    held = [h for h in root.handlers if isinstance(h, _Held)]
    if not held:
        return  # already logging to the file
    try:
        to_file = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write logs in %s: %s", folder, exc.strerror)
        to_file = None
    for handler in held:
        root.removeHandler(handler)
    if to_file is None:
        return
    to_file.setFormatter(logging.Formatter(LOG_FORMAT))
    for handler in held:
        for record in handler.records:
            to_file.handle(record)
    root.addHandler(to_file)


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
        from PySide6.QtWidgets import QMessageBox

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
    import datetime as dt

    from callviewer.atomic import write_text

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = log_dir() / f"crash-{stamp}.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, details)  # whole or not at all
    except OSError:
        return None
    return path


# --- one instance per user --------------------------------------------------------------------

def instance_name() -> str:
    """The local socket's name: one per user and data folder (a fresh HOME, a fresh app)."""
    import getpass

    return f"callviewer-{getpass.getuser()}-{zlib.crc32(str(data_dir()).encode()):08x}"


class SingleInstance(QObject):
    """The first launch listens on a local socket; later ones hand their files over to it
    and exit. A socket left by a crashed instance is removed.

    QtNetwork loads only when a socket is there to try (on Unix, its file is): the first
    launch checks a path, and listens after its first paint.
    """

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None
        self._on_message = None

    def hand_over(self, paths: list[Path]) -> bool:
        """True when a running instance took the files (and raised its window)."""
        if os.name != "nt" and not self.socket_file().exists():
            return False
        from PySide6.QtNetwork import QLocalSocket

        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(HAND_OVER_MS // 4):
            return False
        import json

        socket.write(json.dumps({"paths": [str(p) for p in paths]}).encode() + b"\n")
        socket.waitForBytesWritten(HAND_OVER_MS)
        answered = socket.waitForReadyRead(HAND_OVER_MS) and socket.readAll().data() == b"ok\n"
        socket.disconnectFromServer()
        return answered

    def listen(self, on_message) -> None:
        """Take hand-overs from later launches: `on_message(paths)` in the GUI thread."""
        from PySide6.QtNetwork import QLocalServer

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

    def socket_file(self) -> Path:
        """Where the socket is on Unix: QLocalServer puts a bare name in the temp folder."""
        return Path(QDir.tempPath()) / self.name

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
        import json

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
    """Logs when the list first paints its rows (or the welcome panel), which the launch
    benchmark reads, then calls `then()`."""

    MESSAGE = "first paint after %.0f ms"

    def __init__(self, window, started: float, then) -> None:
        super().__init__(window)
        self._window, self._started, self._then = window, started, then
        window.table.painted.connect(self._table_painted)
        window.empty.installEventFilter(self)

    def _table_painted(self) -> None:
        if self._window.model.rowCount() > 0:
            self._painted()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._painted()
        return False

    def _painted(self) -> None:
        self._window.table.painted.disconnect(self._table_painted)
        self._window.empty.removeEventFilter(self)
        QTimer.singleShot(0, self._say)

    def _say(self) -> None:
        log.info(self.MESSAGE, (time.perf_counter() - self._started) * 1000)
        self._then()
