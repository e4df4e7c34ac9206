"""The window's one way to run work in the background (after Anki's qt/aqt/taskman.py).

Every piece of background work (the list's page reads and counts, the store's writes,
sync, import, export, fetches) is a plain function handed to `TaskRunner.run` with a
lane. Lanes are thread pools of the runner's own:

- READ, one thread: the window's reads, in order; a newer read does not wait behind a
  long write.
- WRITE, one thread: the window's writes, in the order they were asked for (a note's
  draft, then the note saved), so that no write overtakes another.
- JOB, a few threads: long work on connections of its own (sync, import, export, HTTP).

The pools are Python's (concurrent.futures), a fixed few threads that wait for work.
Whatever the work does, exactly one answer comes back on the GUI thread, through one
queued signal: `done(result)`, or `failed(sentence)` — an ExpectedError's own sentence,
or, for a bug, a general one while the bug itself goes to the crash dialog
(sys.excepthook). A canceled task answers nothing; its work is asked to stop through
the `threading.Event` it was given (which the caller may also set to have it stop
early and answer all the same). No thread is made per task, and `shutdown` waits for
the work under way, within a limit.
"""

from __future__ import annotations

import enum
import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import suppress
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from callviewer.errors import ExpectedError

log = logging.getLogger(__name__)

T = TypeVar("T")

JOB_THREADS = 4
SLOW_TASK_S = 0.5  # work slower than this is logged, with its name


class Lane(enum.Enum):
    """Where a task runs; see the module's docstring."""

    READ = "read"
    WRITE = "write"
    JOB = "job"


def sentence_of(exc: BaseException, what: str) -> str:
    """What to tell a person about `exc`, raised while doing `what` (a few words, such as
    "the sync"): an ExpectedError's own sentence, else a general one."""
    if isinstance(exc, ExpectedError):
        return str(exc)
    return (f"Call Viewer could not finish {what or 'a task'}: it ran into a problem it did "
            "not expect (the details are in the log).")


class Task:
    """One piece of work handed to the runner; `cancel()` drops its answer and sets the
    event its work watches (`canceled`). Setting that event alone asks the work to stop
    early and still answer (a sync's Cancel: it reports what it did)."""

    __slots__ = ("canceled", "done", "dropped", "failed", "finished", "lane", "name")

    def __init__(self, name: str, lane: Lane, done: Callable[[Any], None] | None,
                 failed: Callable[[str], None] | None, canceled: threading.Event) -> None:
        self.name, self.lane = name, lane
        self.done, self.failed = done, failed
        self.canceled = canceled
        self.dropped = False  # its answer is not wanted
        self.finished = False  # answered, or dropped

    def cancel(self) -> None:
        self.dropped = True
        self.canceled.set()

    @property
    def pending(self) -> bool:
        return not self.finished and not self.dropped


class TaskRunner(QObject):
    """Runs functions on its lanes and answers on the GUI thread (see the module)."""

    # A sentence for an expected error of a task that has no `failed` of its own: the
    # window shows it in its banner (the error boundary).
    problem = Signal(str)
    _answered = Signal(object)  # a closure to call on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Python's own pools, as Anki's taskman has: a fixed few threads per lane, whose
        # work shutdown() can wait for within a limit.
        self._pools = {lane: ThreadPoolExecutor(JOB_THREADS if lane is Lane.JOB else 1,
                                                thread_name_prefix=f"callviewer-{lane.value}")
                       for lane in Lane}
        self._futures: dict[Lane, set[Future]] = {lane: set() for lane in Lane}
        self._tasks: set[Task] = set()
        self._lock = threading.Lock()  # _tasks: added on the GUI thread, read by shutdown
        self._closed = False
        self._answered.connect(self._call)

    def run(self, work: Callable[[], T], done: Callable[[T], None] | None = None, *,
            failed: Callable[[str], None] | None = None, lane: Lane = Lane.JOB,
            name: str = "", canceled: threading.Event | None = None) -> Task:
        """Run `work()` on `lane`; then `done(result)` or `failed(sentence)` on the GUI
        thread. `name` says what the work is ("the sync"), for sentences and the log;
        `canceled`, when given, is the event the work watches to stop early."""
        task = Task(name, lane, done, failed, canceled or threading.Event())
        if self._closed:
            task.finished = True
            log.info("not started, the window is closing: %s", name or work)
            return task
        with self._lock:
            self._tasks.add(task)
        future = self._pools[lane].submit(self._work, task, work)
        with self._lock:
            self._futures[lane].add(future)
        future.add_done_callback(lambda done: self._forget(lane, done))
        return task

    def on_gui(self, function: Callable[..., None]) -> Callable[..., None]:
        """`function`, callable from any thread, called on the GUI thread (progress)."""
        def queued(*args: Any) -> None:
            if not self._closed:
                self._emit(lambda: function(*args))
        return queued

    def busy(self, lane: Lane | None = None) -> bool:
        """Whether work is under way or waiting (on `lane`, or on any)."""
        with self._lock:
            running = any(self._futures[lane]) if lane else any(self._futures.values())
            return running or any(task.pending for task in self._tasks)

    def wait(self, lane: Lane, timeout_ms: int = -1) -> bool:
        """Wait until `lane` is idle (its answers still to be delivered); True when it is."""
        return self._wait_lane(lane, None if timeout_ms < 0 else timeout_ms / 1000)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every task but the writes, start no more, and wait for the work under
        way up to `timeout_ms` in all; True when every lane stopped in time. Writes
        asked for are written (a note typed just before closing is kept)."""
        self._closed = True
        with self._lock:
            tasks = list(self._tasks)
        for task in tasks:
            if task.lane is not Lane.WRITE:
                task.cancel()
        deadline = time.monotonic() + timeout_ms / 1000
        stopped = True
        for lane, pool in self._pools.items():
            if not self._wait_lane(lane, max(0.0, deadline - time.monotonic())):
                log.warning("%s work still running as the window closes", lane.value)
                stopped = False
            pool.shutdown(wait=False)  # its threads end once their work has
        return stopped

    def _wait_lane(self, lane: Lane, timeout_s: float | None) -> bool:
        with self._lock:
            futures = set(self._futures[lane])
        return not wait_for(futures, timeout_s).not_done

    def _forget(self, lane: Lane, future: Future) -> None:
        with self._lock:
            self._futures[lane].discard(future)

    # --- on the pool's thread ------------------------------------------------------

    def _work(self, task: Task, work: Callable[[], Any]) -> None:
        if task.dropped:
            self._emit(lambda: self._settle(task))
            return
        started = time.perf_counter()
        try:
            result = work()
        except Exception:  # every failure is answered; a bug is also reported
            info = sys.exc_info()
            self._emit(lambda: self._fail(task, info))
        else:
            self._emit(lambda: self._succeed(task, result))
        finally:
            took = time.perf_counter() - started
            if took > SLOW_TASK_S:
                log.info("%s took %.2f s", task.name or work, took)

    def _emit(self, closure: Callable[[], None]) -> None:
        with suppress(RuntimeError):  # the runner is gone (the application has ended)
            self._answered.emit(closure)

    # --- on the GUI thread --------------------------------------------------------------

    def _call(self, closure: Callable[[], None]) -> None:
        closure()

    def _settle(self, task: Task) -> bool:
        """Forget `task`; whether its answer is still wanted."""
        with self._lock:
            self._tasks.discard(task)
        wanted = not task.finished and not task.dropped
        task.finished = True
        return wanted

    def _succeed(self, task: Task, result: Any) -> None:
        if self._settle(task) and task.done is not None:
            task.done(result)

    def _fail(self, task: Task, info) -> None:
        wanted = self._settle(task)
        exc = info[1]
        sentence = sentence_of(exc, task.name)
        if isinstance(exc, ExpectedError):
            log.info("%s: %s", task.name or "a task", sentence)
        else:
            sys.excepthook(*info)  # a bug: the crash dialog, and the log
        if not wanted:
            return
        if task.failed is not None:
            task.failed(sentence)
        elif isinstance(exc, ExpectedError):
            self.problem.emit(sentence)
