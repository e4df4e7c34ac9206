"""A sync's concurrent requests: a bounded pool of worker threads, and one backoff gate.

A sync runs in a process of its own (sync/process.py) with one coordinating
thread that walks the pages and alone writes the store. The requests a page
needs (its calls' details, their recordings) go to the connection's `Pool`
of ``concurrency`` threads (a setting, 1 to 16), and their results come back
to the coordinating thread in the page's order (`Pool.ordered`): the store
sees one stream of transactions in order, and the cursor moves past a page
only once that page is committed. A cancel is honoured between items: work
not yet begun is dropped, and the requests under way end at their next check
(http.py checks the cancel event between chunks and within every wait).

A 429 (or a 503 with Retry-After) on any request closes the connection's
`BackoffGate` for as long as the server asked (capped by retry_after_max):
every worker waits there before its next request, so the connection slows
down as a whole rather than each thread retrying on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from callviewer.sync.errors import Canceled

T = TypeVar("T")

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16
# How often the coordinating thread, waiting for a result, looks at the cancel event.
CANCEL_CHECK_S = 0.05


def concurrency_of(settings: dict, name: str) -> int:
    """The connection's `concurrency` setting; ValueError (a sentence) outside 1 to 16."""
    value = settings.get("concurrency", DEFAULT_CONCURRENCY)
    if isinstance(value, bool) or not isinstance(value, int) or \
            not 1 <= value <= MAX_CONCURRENCY:
        raise ValueError(f"The connection {name}'s concurrency setting must be a whole number "
                         f"from 1 to {MAX_CONCURRENCY}, not {value!r}.")
    return value


class BackoffGate:
    """Where a connection's requests wait while the server asked it to slow down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_at = 0.0  # time.monotonic() from which requests may go again

    def close_for(self, seconds: float) -> None:
        """Hold every request back for `seconds` from now (a later closing wins)."""
        with self._lock:
            self._open_at = max(self._open_at, time.monotonic() + max(0.0, seconds))

    def wait(self, cancel: threading.Event | None) -> None:
        """Return once the gate is open; Canceled if the sync is canceled meanwhile. Each
        wait is bounded by the longest closing (retry_after_max or backoff_max)."""
        while True:
            with self._lock:
                left = self._open_at - time.monotonic()
            if left <= 0:
                return
            if (cancel or threading.Event()).wait(left):
                raise Canceled()


class Pool:
    """A connection's worker threads: at most `size` requests at once.

    With a size of 1 the work runs on the calling thread when submitted, one
    request at a time, as a sync did before there was a pool.
    """

    def __init__(self, size: int, cancel: threading.Event | None) -> None:
        self.size = size
        self.cancel = cancel or threading.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        """Run `work(*args)` on a worker (not begun if the sync is canceled by then)."""
        if self.size == 1:
            future: Future[T] = Future()
            try:
                future.set_result(self._run(work, args))
            except BaseException as exc:  # handed back by result(), as a worker's
                future.set_exception(exc)
            return future
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="sync-request")
            return self._executor.submit(self._run, work, args)

    def _run(self, work: Callable[..., T], args: tuple) -> T:
        if self.cancel.is_set():
            raise Canceled()
        return work(*args)

    def result(self, future: Future[T]) -> T:
        """The result of `future` (its exception raised here); Canceled as soon as the
        sync is canceled, without waiting for the request under way."""
        while not wait([future], timeout=CANCEL_CHECK_S).done:
            if self.cancel.is_set():
                future.cancel()
                raise Canceled()
        return future.result()

    def ordered(self, futures: list[Future[T]]) -> Iterator[T]:
        """The results in the order submitted; on the first exception (or a cancel, or
        the caller stopping) the work not yet begun is dropped."""
        try:
            for future in futures:
                yield self.result(future)
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        """Drop the work not yet begun and wait for the requests under way (each bounded
        by its time-outs; a canceled sync's end at their next check)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
