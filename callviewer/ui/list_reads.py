"""The call list's reads, off the window's thread: pages, the count, a call's row.

Every read runs on the task runner's READ lane (ui/tasks.py) on a read connection of
the list's own (listing.connect), and answers on the window's thread. Pages are read
one at a time, the newest asked first (a scrollbar dragged across a million calls asks
for many pages it has left by the time they could be read; at most WAITING of them
wait). A new spec drops the reads of the last: its tasks are canceled, and a query
under way is interrupted. A failed read is remembered: it is not asked again for every
cell painted, but tried again after a pause that doubles from RETRY_FIRST_MS up to
RETRY_MAX_MS, and said once per streak of failures.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer

from callviewer import listing
from callviewer.errors import ExpectedError
from callviewer.listing import ListSpec
from callviewer.ui.tasks import Lane, Task, TaskRunner

PAGE = 200  # rows a read brings
# Rows a new spec's first read brings: a screenful and more (the list shows 28 rows at
# 1280×800), so that a search read by walking the sort's index tests a third of the
# calls a page would cost ('refund' by score ↑ at a million calls: 36 → 10 ms); the rest
# of that page is read as any page is, when a row of it is first shown.
FIRST = 64
WAITING = 16  # pages asked and not read yet; older asks are dropped
RETRY_FIRST_MS = 500
RETRY_MAX_MS = 30_000
# A read being stopped is interrupted again this often until it ends, for at most
# STOP_WITHIN_S: an interrupt finds nothing to stop while the read's Python part runs
# before its query starts, which can take milliseconds while the window's thread holds
# the GIL. (A progress handler checking the canceled event would take the GIL every few
# steps: a count of a million calls took 100-250 ms instead of about 5 while painting.)
STOP_EVERY_S = {"sqlite": 0.002, "postgresql": 0.1}
STOP_WITHIN_S = 5
CLOSE_WAIT_MS = 5_000


class Read(enum.Enum):
    """What a page read is for."""

    RESET = "reset"  # a new spec's first page: the list starts again from it
    PAGE = "page"  # a page of the spec shown


class ListUnreadable(ExpectedError):
    """The list's database could not be read; str() says so, with the engine's words."""


class Reader:
    """A read connection of the list's, opened when first used, used by one thread at a
    time: the READ lane's (and the window's, for the launch's first page, before any task
    runs). Its query under way can be interrupted from another thread."""

    def __init__(self, database: Path | str) -> None:
        self._database = database
        self._conn = None
        self._lock = threading.Lock()  # _running and _conn, against interrupt()
        self._running: threading.Event | None = None  # the canceled event of the read on

    @property
    def local(self) -> bool:
        """Whether it reads an SQLite file, whose queries are interrupted at once from any
        thread (a PostgreSQL query is interrupted by asking its server)."""
        return isinstance(self._database, Path)

    def read(self, query: Callable[..., Any], *args: Any,
             canceled: threading.Event | None = None) -> Any:
        """`query(connection, *args)`; once more on a new connection when a connection that
        worked fails (a server restarted); ListUnreadable when that fails too."""
        for attempt in (1, 2):
            fresh = self._conn is None
            try:
                if fresh:
                    self._conn = listing.connect(self._database)
                return self._run(query, args, canceled)
            except listing.read_errors() as exc:
                stopped = canceled is not None and canceled.is_set()
                if not stopped:  # an interrupted query leaves its connection as good
                    self.close()
                if stopped or fresh or attempt == 2:
                    raise ListUnreadable(f"The calls could not be read: {exc}") from exc
        raise AssertionError("unreachable")

    def _run(self, query: Callable[..., Any], args: tuple,
             canceled: threading.Event | None) -> Any:
        with self._lock:
            if canceled is not None and canceled.is_set():
                return None  # canceled before it began: nobody waits for the answer
            self._running = canceled
        try:
            return query(self._conn, *args)
        finally:
            with self._lock:
                self._running = None

    def interrupt(self, canceled: threading.Event | None = None) -> bool:
        """Interrupt the read under way if it is the one `canceled` belongs to, or any
        when None (on PostgreSQL this asks the server: call it off the window's thread);
        whether there was one."""
        with self._lock:
            running = self._running
            if running is None or canceled not in (None, running) or self._conn is None:
                return False
            with suppress(*listing.read_errors()):
                listing.interrupt(self._conn)
            return True

    def stop(self, canceled: threading.Event) -> None:
        """Interrupt the read `canceled` belongs to until it ends (see STOP_EVERY_S)."""
        engine = "postgresql" if listing.on_postgresql(self._conn) else "sqlite"
        deadline = time.monotonic() + STOP_WITHIN_S
        while self.interrupt(canceled) and time.monotonic() < deadline:
            time.sleep(STOP_EVERY_S[engine])

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(*listing.read_errors()):
                conn.close()


class ListReads:
    """The reads of one list model (see the module); answers through the callables given.

    `listed()` says what is read now: the spec and its total (None while counting).
    `on_page(kind, number, rows)`, `on_count(total)`: a read of the current spec arrived.
    `on_failure(sentence)`: the first failure of a streak.
    """

    def __init__(self, database: Path | str, tasks: TaskRunner,
                 listed: Callable[[], tuple[ListSpec, int | None]],
                 on_page: Callable[[Read, int, list[tuple]], None],
                 on_count: Callable[[int], None],
                 on_failure: Callable[[str], None], owner: QObject) -> None:
        self._tasks = tasks
        self._listed, self._on_page, self._on_count = listed, on_page, on_count
        self._on_failure = on_failure
        self._pages = Reader(database)  # pages and positions
        self._counts = Reader(database)  # counts, which a new spec interrupts
        self._generation = 0  # one per spec: a late answer for another is dropped
        self._waiting: OrderedDict[tuple[Read, int], None] = OrderedDict()  # newest last
        self._reading: tuple[Task, tuple[Read, int]] | None = None
        self._count_wanted = False
        self._counting: Task | None = None
        self._locating: set[Task] = set()
        self._streak = 0  # reads failed in a row
        # Owned by the model's QObject, so that Qt deletes it with the model; a timer
        # of Python's own was deleted by the garbage collector at any moment, in the
        # middle of another window's paint (a crash, tests/integration/test_keyboard.py).
        self._retry = QTimer(owner, singleShot=True)
        self._retry.timeout.connect(self._pump)
        self._closed = False

    # --- asked by the model, on the window's thread ---------------------------------

    def new_spec(self) -> None:
        """Drop every read of the last spec (a person's new spec is read at once, even
        while failures wait to be tried again; the streak goes on, unsaid)."""
        self._generation += 1
        self._waiting.clear()
        self._count_wanted = False
        self._retry.stop()
        if self._reading is not None:
            self._cancel(self._reading[0], self._pages)
            self._reading = None
        if self._counting is not None:
            self._cancel(self._counting, self._counts)
            self._counting = None
        for task in self._locating:  # a call's row among many takes a while to count
            self._cancel(task, self._pages)
        self._locating.clear()

    def now(self, query: Callable[..., Any], *args: Any) -> Any | None:
        """`query(connection, *args)` here, on the calling thread (the launch's first
        page); None when it fails, which starts the backoff."""
        try:
            answer = self._pages.read(query, *args)
        except ListUnreadable as exc:
            self._backoff(str(exc))
            return None
        self._streak = 0
        return answer

    def ask(self, kind: Read, number: int) -> None:
        """Read page `number` of the current spec (once, however often asked)."""
        key = (kind, number)
        if self._reading is not None and self._reading[1] == key:
            return
        if key in self._waiting:
            self._waiting.move_to_end(key)
            return
        self._waiting[key] = None
        if len(self._waiting) > WAITING:
            self._waiting.popitem(last=False)
        self._pump()

    def want_count(self) -> None:
        """Count the current spec's calls, once its first page is in."""
        if self._counting is None:
            self._count_wanted = True
            self._pump()

    def locate(self, call_id: int,
               then: Callable[[tuple[int, int, list[tuple]] | None], None]) -> None:
        """`then((row, page number, page rows))` for a call of the current spec, or
        `then(None)` when it is not listed; nothing when the read fails or the spec
        changes."""
        spec, total = self._listed()
        generation = self._generation
        canceled = threading.Event()

        def answered(found) -> None:
            self._locating.discard(task)
            if generation == self._generation:
                self._streak = 0
                then(found)

        def failed(sentence: str) -> None:
            self._locating.discard(task)
            self._backoff(sentence)

        task = self._tasks.run(
            lambda: self._pages.read(_row_and_page, spec, call_id, total, canceled=canceled),
            answered, failed=failed, lane=Lane.READ, name="finding the call in the list",
            canceled=canceled)
        self._locating.add(task)

    def close(self) -> None:
        """Stop reading; wait for the read under way (interrupted) and close the
        connections."""
        self.new_spec()
        self._closed = True
        for reader in (self._pages, self._counts):
            reader.interrupt()  # whatever runs: no read of ours is wanted now
        self._tasks.wait(Lane.READ, CLOSE_WAIT_MS)
        self._pages.close()
        self._counts.close()

    # --- the reads --------------------------------------------------------------------

    def _pump(self) -> None:
        """Start what waits: the newest page asked, else the count; not while a failure
        waits to be tried again."""
        if self._closed or self._retry.isActive():
            return
        resetting = (Read.RESET, 0) in self._waiting or (
            self._reading is not None and self._reading[1][0] is Read.RESET)
        if self._reading is None and self._waiting:
            key, _ = self._waiting.popitem(last=True)
            self._reading = (self._read_page(*key), key)
        if self._count_wanted and self._counting is None and not resetting:
            self._count_wanted = False
            self._counting = self._count()

    def _read_page(self, kind: Read, number: int) -> Task:
        spec, total = self._listed()
        if kind is Read.RESET:
            total = None
        generation = self._generation
        canceled = threading.Event()

        def read(rows: list[tuple]) -> None:
            self._reading = None
            if generation == self._generation:
                self._streak = 0
                self._on_page(kind, number, rows)
            self._pump()

        def failed(sentence: str) -> None:
            self._reading = None
            if generation == self._generation:
                self._waiting[(kind, number)] = None  # the first tried again
            self._backoff(sentence)

        rows = FIRST if kind is Read.RESET else PAGE
        return self._tasks.run(
            lambda: self._pages.read(listing.page, spec, number * PAGE, rows, total,
                                     canceled=canceled),
            read, failed=failed, lane=Lane.READ, name="reading the calls",
            canceled=canceled)

    def _count(self) -> Task:
        spec, _total = self._listed()
        generation = self._generation
        canceled = threading.Event()

        def counted(total: int) -> None:
            self._counting = None
            if generation == self._generation:
                self._streak = 0
                self._on_count(total)
            self._pump()

        def failed(sentence: str) -> None:
            self._counting = None
            if generation == self._generation:
                self._count_wanted = True  # tried again after the pause
            self._backoff(sentence)

        return self._tasks.run(
            lambda: self._counts.read(listing.count, spec, canceled=canceled),
            counted, failed=failed, lane=Lane.READ, name="counting the calls",
            canceled=canceled)

    def _cancel(self, task: Task, reader: Reader) -> None:
        """Cancel a read and interrupt its query if it is under way, so that it does not
        hold the READ lane (a count of a common word takes seconds): on SQLite at once,
        from here (the new spec's first page waited for a JOB thread's turn, or for the
        end of a sync holding them all), then from a JOB thread until it ends, which on
        PostgreSQL is a request to the server."""
        task.cancel()
        if reader.local:  # SQLite's interrupt sets a flag: here, without a thread's turn
            reader.interrupt(task.canceled)
        self._tasks.run(lambda: reader.stop(task.canceled), lane=Lane.JOB,
                        name="stopping a read of the list")

    def _backoff(self, sentence: str) -> None:
        self._streak += 1
        if self._streak == 1:
            self._on_failure(sentence)
        pause = RETRY_FIRST_MS * 2 ** min(self._streak - 1, 10)
        self._retry.start(min(pause, RETRY_MAX_MS))


def _row_and_page(conn, spec: ListSpec, call_id: int,
                  total: int | None) -> tuple[int, int, list[tuple]] | None:
    """A call's row and its page, read together: the caller moves to a row it can show."""
    row = listing.position(conn, spec, call_id)
    if row is None:
        return None
    number = row // PAGE
    return row, number, listing.page(conn, spec, number * PAGE, PAGE, total)
