"""A connection's recordings, downloaded several at once by its pool.

After each committed page the runner `start`s the recordings the store now
wants: each one's first fetch goes to the connection's pool (sync/parallel.py),
into its ``.part`` file. `settle` takes them in order on the coordinating
thread as they arrive, through `archive.download` as before: the
check that it is audio, the rename, every store write, and what a refused
link or a failure means, with the fetch already done answering from what the
worker brought (`_Fetched`). A link to refresh first (link expired) is left
to `archive.download` whole, on the coordinating thread.

A sync canceled or killed meanwhile leaves ``.part`` files that the next
sync resumes (a whole one is answered 416 and accepted).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from callviewer.redaction import redact_text
from callviewer.store import Store, WantedRecording
from callviewer.store.recordings import LINK_EXPIRED
from callviewer.sync import archive
from callviewer.sync.connection import Connection
from callviewer.sync.errors import Canceled
from callviewer.sync.parallel import Pool

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None, str], None]


class Downloads:
    """One connection's downloads in one sync: started after each page, settled in order."""

    def __init__(self, store: Store, connection: Connection, connection_id: int,
                 report: Any, progress: Progress | None, cancel: threading.Event) -> None:
        self.store = store
        self.connection = connection
        self.connection_id = connection_id
        self.report = report  # the run's SyncReport
        self.progress = progress
        self.cancel = cancel
        # Without a pool of its own (a watched folder) a connection's downloads run in
        # order on this thread, one at a time.
        self.pool: Pool = getattr(connection, "pool", None) or Pool(1, cancel)
        self.tried: set[int] = set()
        self.pending: list[tuple[WantedRecording, Future | None]] = []
        self.fetched = _Fetched(connection, self.pool)

    def start(self) -> int:
        """Hand the wanted recordings not yet tried in this sync to the pool; how many."""
        wanted = [item for item in self.store.archive.wanted(self.connection_id)
                  if item.call_id not in self.tried]
        for item in wanted:
            self.tried.add(item.call_id)
            early = item.source_ref and item.recording_state != LINK_EXPIRED
            self.pending.append((item, self.pool.submit(self._fetch, item) if early else None))
        return len(wanted)

    def settle(self) -> None:
        """Take the started downloads in order: archived, or noted as failed."""
        pending, self.pending = self.pending, []
        try:
            for done, (item, future) in enumerate(pending):
                if self.cancel.is_set():
                    raise Canceled()
                self._tell(done, len(pending))
                if future is not None:
                    self.fetched.add(self.pool.result(future))
                self._archive(item)
        finally:
            for _item, future in pending:
                if future is not None:
                    future.cancel()  # not begun: dropped (a failure or a cancel)
            self.fetched.clear()

    def finish(self) -> None:
        """Settle what is started, then whatever that left wanted, until none is left."""
        self.settle()
        while self.start():
            self.settle()

    def _fetch(self, item: WantedRecording) -> tuple[str, Path, BaseException | None]:
        """On a worker: the recording's first fetch into its ``.part``; what went wrong is
        handed back, to be raised where archive.download asks for it."""
        part = _part_of(self.store.archive.folder, item)
        part.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.connection.fetch_recording(item.source_ref, part)
        except Exception as exc:  # raised again on the coordinating thread
            return item.source_ref, part, exc
        return item.source_ref, part, None

    def _archive(self, item: WantedRecording) -> None:
        outcome = archive.download(self.store, self.fetched, self.connection_id, item)
        if outcome.archived:
            self.report.downloaded += 1
            self.report.downloaded_bytes += outcome.size
        elif outcome.error:
            self.report.recording_errors.append(redact_text(outcome.error))

    def _tell(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total, f"Downloading recordings: {done + 1} of {total}")


def _part_of(folder: Path, item: WantedRecording) -> Path:
    """Where archive.download keeps the recording while it arrives (its own naming: were
    they ever to differ, the worker's fetch would be wasted, not wrong)."""
    return folder / f"{archive._safe(item.source)}/{archive._safe(item.source_id)}.part"


class _Fetched:
    """The connection, as archive.download sees it: a recording's fetch that a worker has
    already made answers with its outcome (once); every other request goes to the source
    through the pool, so that it counts against the concurrency like the rest."""

    def __init__(self, connection: Connection, pool: Pool) -> None:
        self._connection = connection
        self._pool = pool
        self._done: dict[tuple[str, Path], BaseException | None] = {}

    def add(self, fetched: tuple[str, Path, BaseException | None]) -> None:
        """What a worker's fetch of a recording came to, for archive.download to meet."""
        reference, part, problem = fetched
        self._done[(reference, part)] = problem

    def clear(self) -> None:
        self._done.clear()

    def fetch_recording(self, reference: str, part: Path) -> None:
        key = (reference, part)
        if key not in self._done:
            self._pool.result(self._pool.submit(self._connection.fetch_recording, reference,
                                                part))
            return
        problem = self._done.pop(key)
        if problem is not None:
            raise problem

    def fetch_detail(self, source_id: str) -> dict | None:
        return self._pool.result(self._pool.submit(self._connection.fetch_detail, source_id))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)
