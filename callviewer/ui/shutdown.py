"""One way out of the app: SIGTERM, SIGINT, the session's logout and quitting all end in
the window's own close, which saves (after qutebrowser's misc/crashsignal.py).

A signal's Python handler runs only when Python code runs, and the event loop runs in
C++: Python writes each signal's number to a wakeup socket, whose notifier wakes the
event loop, and the handler then asks for the close from the loop's next turn (calling
Qt from inside a handler is not safe). A second SIGINT or SIGTERM while closing ends the
process at once, and a close that hangs anyway is ended after `LIMIT_S`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from contextlib import suppress
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

if TYPE_CHECKING:
    from PySide6.QtGui import QSessionManager
    from PySide6.QtWidgets import QApplication, QMainWindow

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The window's close waits up to 12 s for the notes' writes (notes.FLUSH_WAIT_MS) and 10 s
# for the rest of the background work (TaskRunner.shutdown); past this, whatever still
# holds the process up is not worth the session's wait.
LIMIT_S = 30
WAKE_MS = 500  # Windows has no wakeup socket for Qt to watch: a timer lets Python run


class Shutdown(QObject):
    """Routes SIGINT, SIGTERM, logout and quitting into `window.close()` (which saves the
    notes being typed, the layout and the filters, stops the player and ends the
    background work), then quits with 128 + the signal's number, as a shell expects."""

    def __init__(self, app: QApplication, window: QMainWindow) -> None:
        super().__init__(app)
        self._app, self._window = app, window
        self._previous: dict[int, object] = {}
        self._sockets: tuple[socket.socket, socket.socket] | None = None
        self._previous_fd = -1
        self._waker: QSocketNotifier | QTimer | None = None
        self._closing = False
        self._watchdog: threading.Timer | None = None

    def install(self) -> None:
        """Take over SIGINT and SIGTERM, and hear the session's logout and quitting."""
        self._app.commitDataRequest.connect(self.commit_data)
        self._app.aboutToQuit.connect(self._about_to_quit)
        self._wake_on_signals()
        for number in SIGNALS:
            self._previous[number] = signal.signal(number, self._interrupted)

    def uninstall(self) -> None:
        """Give the signals back (after the event loop ended)."""
        for number, handler in self._previous.items():
            if signal.getsignal(number) == self._interrupted:
                signal.signal(number, handler)
        self._previous.clear()
        if isinstance(self._waker, QSocketNotifier):
            self._waker.setEnabled(False)  # before its socket closes
        elif self._waker is not None:
            self._waker.stop()
        self._waker = None
        if self._sockets is not None:
            signal.set_wakeup_fd(self._previous_fd)
            for end in self._sockets:
                end.close()
            self._sockets = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    # --- the event loop's wakeup ------------------------------------------------------

    def _wake_on_signals(self) -> None:
        if os.name == "nt":
            self._waker = QTimer(self, interval=WAKE_MS)
            self._waker.timeout.connect(lambda: None)
            self._waker.start()
            return
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)  # a signal handler must never wait on a full socket
        self._previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        self._sockets = (reader, writer)
        self._waker = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, self)
        self._waker.activated.connect(self._drain)

    def _drain(self) -> None:
        """Empty the wakeup socket; Python has run the handlers by the time this runs."""
        with suppress(BlockingIOError, OSError):
            while self._sockets is not None and self._sockets[0].recv(64):
                pass

    # --- the ways out -------------------------------------------------------------------

    def _interrupted(self, number: int, _frame) -> None:
        # The next one ends the process at once, even while the close waits in C++.
        for each in SIGNALS:
            signal.signal(each, signal.SIG_DFL)
        log.info("%s: saving and quitting; send it again to quit at once",
                 signal.Signals(number).name)
        QTimer.singleShot(0, lambda: self.quit(128 + number))

    def quit(self, status: int = 0) -> None:
        """Close the window (which saves) and end the event loop with `status`."""
        self._close_window(status)
        self._app.exit(status)

    def commit_data(self, _manager: QSessionManager | None) -> None:
        """The session asks for everything to be saved (it is ending, or asking whether
        it may): save now, without closing, for the logout may yet be canceled, and the
        process may then be ended without more notice."""
        log.info("the session asked to save: saving")
        self._window.save_state()

    def _about_to_quit(self) -> None:
        # QApplication.exit() ends the loop without closing the window: close it now.
        self._close_window(1)

    def _close_window(self, status: int) -> None:
        """Close the window unless it is closed already (by the person, or by a signal's
        quit); a close that hangs ends the process with `status` after LIMIT_S."""
        if self._closing or not self._window.isVisible():
            return
        self._closing = True
        self._give_up_after(LIMIT_S, status)
        self._window.close()

    def _give_up_after(self, seconds: float, status: int) -> None:
        def give_up() -> None:
            log.error("still closing after %d s: quitting without waiting any longer",
                      seconds)
            logging.shutdown()
            os._exit(status)

        if self._watchdog is None:
            self._watchdog = threading.Timer(seconds, give_up)
            self._watchdog.daemon = True
            self._watchdog.start()
