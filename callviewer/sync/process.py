"""The window's sync, run in a process of its own.

A sync is Python from end to end (HTTP, JSON, records, SQL), and in the window's
process it took Python's lock from the window's thread: every paint of the list calls
into Python a few hundred times, and each call waited its turn behind the sync's
worker (tests/bench/bench_stall.py: paints of 10 ms stretched to 60-100 ms while a
sync ran). In a process of its own the sync has a lock of its own. A crash there ends
that process, not the window, and a sync killed at any point is simply run again:
pages are committed whole with the cursor past them (sync/runner.py).

`SyncProcess.run` starts the process, hands it what to sync on its standard input,
and reads what it says on its standard output until it ends, on the calling thread
(the window's JOB lane). Each message is a length-prefixed pickle: only this module
writes them, in a process it started itself. The child says its progress, its log
records (already masked), and at the end its report, an expected error's sentence or
a bug's traceback. A cancel is a message on its standard input; the end of that input
(the window gone) is one too.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from callviewer.errors import ExpectedError

log = logging.getLogger(__name__)

FROZEN_ARGUMENT = "--sync-process"  # the bundle's executable runs child_main given this
ENDING_S = 30  # how long a canceled or finished child is given to end before it is killed
_HEADER = struct.Struct(">I")


class SyncProcessBug(RuntimeError):
    """The sync's process ran into a bug; the message holds its traceback."""


class SyncProcess:
    """One sync, in a child process: `run` on a worker thread, `cancel`/`kill` from any."""

    def __init__(self, db: str | None, name: str | None = None, full: bool = False,
                 fresh_for: float | None = None,
                 canceled: threading.Event | None = None) -> None:
        self._request = {"db": db, "name": name, "full": full, "fresh_for": fresh_for}
        self._canceled = canceled or threading.Event()
        self._lock = threading.Lock()  # _child and the writes to its input
        self._child: subprocess.Popen | None = None
        self._told_to_stop = False
        self._killed = False

    def run(self, progress: Callable[[int, int | None, str], None] | None = None):
        """Sync in the child and return its SyncReport; ExpectedError with the child's
        sentence, SyncProcessBug for a bug in it."""
        with tempfile.TemporaryFile() as errors:  # its standard error, for a crash's words
            with self._lock:
                try:
                    self._child = subprocess.Popen(
                        child_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=errors, env=_child_environment(),
                        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
                except OSError as exc:  # no such program, no memory, too many processes
                    raise ExpectedError(f"The sync could not start: {exc.strerror or exc}. "
                                        "Try again; if it goes on, reinstall Call Viewer."
                                        ) from exc
                _write(self._child.stdin, self._request)
            try:
                report = self._listen(progress)
            finally:
                code = self._end()
            if report is not None:
                return report
            if self._killed:  # stopped for the window's sake: what it committed stays
                from callviewer.sync.runner import SyncReport

                return SyncReport(canceled=True)
            errors.seek(0)
            said = errors.read()[-2000:].decode("utf-8", "replace").strip()
            log.warning("The sync's process ended with code %s: %s", code, said)
            raise ExpectedError(
                f"The sync stopped unexpectedly (its process ended with code {code}); what "
                "it had saved is kept, and the next sync goes on from there.")

    def cancel(self) -> None:
        """Ask the child to stop after its page; it still reports what it did."""
        self._canceled.set()
        with self._lock:
            if self._child is not None and not self._told_to_stop:
                self._told_to_stop = True
                with suppress(OSError, ValueError):  # it has ended, or is ending
                    _write(self._child.stdin, ("cancel",))

    def kill(self) -> None:
        """End the child now (the window is closing and it did not stop in time)."""
        with self._lock:
            if self._child is not None and self._child.poll() is None:
                self._killed = True
                self._child.kill()

    def _listen(self, progress) -> Any:
        """Read the child's messages until its report (returned), its end (None) or its
        error (raised)."""
        assert self._child is not None and self._child.stdout is not None
        while True:
            if self._canceled.is_set():
                self.cancel()
            message = _read(self._child.stdout)
            if message is None:
                return None
            kind = message[0]
            if kind == "progress":
                if progress is not None:
                    progress(*message[1:])
            elif kind == "log":
                _level, name, text = message[1:]
                logging.getLogger(name).log(_level, "%s", text)
            elif kind == "report":
                return message[1]
            elif kind == "expected":
                raise ExpectedError(message[1])
            elif kind == "bug":
                raise SyncProcessBug(f"The sync's process ran into a bug:\n{message[1]}")

    def _end(self) -> int | None:
        """Close the child's input (its signal to end), wait ENDING_S, then kill it."""
        child = self._child
        assert child is not None
        with self._lock, suppress(OSError):
            child.stdin.close()
        try:
            return child.wait(ENDING_S)
        except subprocess.TimeoutExpired:
            log.warning("The sync's process did not end within %s s: killed.", ENDING_S)
            child.kill()
            return child.wait(ENDING_S)
        finally:
            child.stdout.close()


def child_command() -> list[str]:
    """How to start the child: this interpreter running this module, or the bundle's
    executable (PyInstaller's has no -m) with FROZEN_ARGUMENT."""
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_ARGUMENT]
    return [sys.executable, "-m", "callviewer.sync.process"]


def _child_environment() -> dict[str, str]:
    """This environment, with the folder this copy of callviewer was imported from first
    on the child's path (so that it runs the same code)."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def _write(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any | None:
    """The next message, or None at the end of the stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)  # written by this module, in our own child


# --- the child ----------------------------------------------------------------------------


class _Channel:
    """The child's messages to the window, one at a time whatever thread says them."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream, self._lock = stream, threading.Lock()

    def say(self, *message: Any) -> None:
        with self._lock:
            _write(self._stream, message)


class _Forward(logging.Handler):
    """Log records, masked as the sync masks them, handed to the window's log."""

    def __init__(self, channel: _Channel) -> None:
        super().__init__(logging.INFO)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_text:
                text += "\n" + record.exc_text
            self._channel.say("log", record.levelno, record.name, text)
        except Exception:  # a log record is never worth the sync
            self.handleError(record)


def child_main() -> int:
    """The child: read what to sync, sync it, say how it went (see the module)."""
    from callviewer.redaction import install_log_redaction, redact_text

    requests_in, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() must not break the messages
    install_log_redaction()
    channel = _Channel(out)
    root = logging.getLogger()
    root.addHandler(_Forward(channel))
    root.setLevel(logging.INFO)
    request = _read(requests_in)
    if request is None:
        return 0
    cancel = threading.Event()

    def listen() -> None:  # a cancel, or the end of the input (the window is gone)
        _read(requests_in)
        cancel.set()

    threading.Thread(target=listen, name="sync-cancel", daemon=True).start()
    try:
        from callviewer.sync.runner import run_sync

        report = run_sync(request["db"], request["name"], full=request["full"],
                          progress=lambda *said: channel.say("progress", *said),
                          cancel=cancel, fresh_for=request["fresh_for"])
    except ExpectedError as exc:
        channel.say("expected", str(exc))
    except Exception:
        channel.say("bug", redact_text(traceback.format_exc()))
    else:
        channel.say("report", report)
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
