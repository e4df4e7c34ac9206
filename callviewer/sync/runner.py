"""Run a sync: one connection or all, once, on a database connection of its own.

The window runs `run_sync` in a process of its own (sync/process.py) and shows its
progress (done, total or None, message) with a Cancel that sets the event;
the command line runs it and waits. Each page is committed whole with the
cursor past it, recordings are downloaded right after the page that brought
them (sync/downloads.py: the connection's pool fetches several at once; they are
archived in order on this thread), and cancel is honoured between pages and
downloads (and within waits and downloads), so a canceled or killed sync is
simply run again. Only this thread writes the store (sync/parallel.py).

A connection that fails (its source, or a file of the archive that cannot be
written) is reported with a sentence and the run goes on to the next; a
database that fails ends the run there, every sentence masked (redact_text).

In a team database one desktop syncs a connection at a time (`store.sync.turns`,
held for the whole run, downloads and the size cap included); the others leave
it alone and report the connection's shared state instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from callviewer.redaction import install_log_redaction, redact_text
from callviewer.secrets import load_secret
from callviewer.store import ConnectionStatus as status
from callviewer.store import Store, StoreError, SyncConnection, now_micros
from callviewer.sync import archive
from callviewer.sync.connection import RECENT, Connection, open_connection
from callviewer.sync.downloads import Downloads
from callviewer.sync.errors import Canceled, Offline, SyncFailed
from callviewer.sync.importer import ImportReport
from callviewer.times import local_time

log = logging.getLogger(__name__)

# (done, total or None when unknown, what is happening) — called on the sync's thread.
Progress = Callable[[int, int | None, str], None]


@dataclass
class SyncReport(ImportReport):
    """What a sync did: the import's counts and rejects, plus downloads and failures."""

    downloaded: int = 0
    downloaded_bytes: int = 0
    recording_errors: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # connection name -> sentence
    waiting: list[str] = field(default_factory=list)  # files still being written
    evicted: int = 0
    evicted_bytes: int = 0
    requests: int = 0  # HTTP requests sent, retries included
    finished_at: int | None = None  # epoch microseconds
    # Connections left alone, name -> when they last synced (epoch microseconds, None if
    # never): another desktop was syncing them; any desktop had just synced them.
    elsewhere: dict[str, int | None] = field(default_factory=dict)
    fresh: dict[str, int | None] = field(default_factory=dict)
    synced_here: int = 0  # connections this run synced (or tried to)
    connections: int = 0  # connections there were to sync

    @property
    def exit_code(self) -> int:
        """0: all went well; 1: some records were rejected; 2: a connection failed."""
        return 2 if self.failures or self.unreadable else 1 if self.rejected else 0

    def downloads_line(self) -> str:
        """What was downloaded, as the command line prints it."""
        if not self.downloaded:
            return "No recordings downloaded."
        return (f"Downloaded {self.downloaded} recording{'s' * (self.downloaded != 1)} "
                f"({_size(self.downloaded_bytes)}).")


def run_sync(db: str | None = None, name: str | None = None, full: bool = False,
             progress: Progress | None = None, cancel: threading.Event | None = None,
             fresh_for: float | None = None) -> SyncReport:
    """Sync one connection (by name) or all, once; never raises for a source's faults.

    Opens (and closes) its own Store on `db` (a path or URL; None: the default).
    A connection another desktop is syncing is left to it, and with `fresh_for`
    (seconds) so is one that any desktop synced less than that long ago.
    StoreError when the database cannot be used or there is no such connection.
    """
    install_log_redaction()
    cancel = cancel or threading.Event()
    report = SyncReport()
    with Store(db) as store, store.sync.turns() as take_turn:
        rows = store.sync.connections()
        if name is not None:
            rows = [row for row in rows if row.name == name]
            if not rows:
                raise StoreError(f"There is no connection named {name!r}.")
        report.connections = len(rows)
        store.archive.delete_stale()
        live: dict[int, Connection] = {}
        store_failed = False
        try:
            for row in rows:
                if cancel.is_set():
                    report.canceled = True
                    break
                try:
                    row = _take_turn(store, take_turn, row, fresh_for, report)
                    if row is None:
                        continue
                    report.synced_here += 1
                    connection = _sync_one(store, row, full, report, progress, cancel)
                except StoreError as exc:
                    # The database itself failed (full, locked, damaged): so would the rest.
                    log.info("%s: the database failed: %s", row.name, exc)
                    report.failures[row.name] = redact_text(str(exc))
                    store_failed = True
                    break
                if connection is not None:
                    live[row.id] = connection
            if not report.canceled and not store_failed and store.archive.cap() is not None:
                _cap(store, live, report)
        finally:
            for connection in live.values():
                report.requests += getattr(getattr(connection, "http", None), "requests", 0)
                connection.close()
    report.finished_at = now_micros()
    return report


def _take_turn(store: Store, take_turn: Callable[[int], bool], row: SyncConnection,
               fresh_for: float | None, report: SyncReport) -> SyncConnection | None:
    """The connection as it stands once this run holds its turn (held until the run ends);
    None when it is another desktop's, or was synced less than `fresh_for` seconds ago."""
    if not take_turn(row.id):
        log.info("%s: another desktop is syncing it", row.name)
        report.elsewhere[row.name] = row.last_sync_at
        return None
    # Read again under the turn: the desktop before us may have moved the cursor since.
    row = next((found for found in store.sync.connections() if found.id == row.id), None)
    if row is None:
        return None
    if fresh_for is not None and row.last_sync_at is not None \
            and now_micros() - row.last_sync_at < fresh_for * 1_000_000:
        report.fresh[row.name] = row.last_sync_at
        return None
    return row


def _sync_one(store: Store, row: SyncConnection, full: bool, report: SyncReport,
              progress: Progress | None, cancel: threading.Event) -> Connection | None:
    """Sync one connection into the report; the connection if it is still usable."""
    started = now_micros()
    connection_id = row.id
    store.sync.set_status(connection_id, last_attempt_at=started)
    try:
        token = load_secret(row.secret_key) if row.kind != "folder" else None
        connection = open_connection(row.name, row.kind, row.settings, token, cancel)
    except (SyncFailed, ValueError) as exc:
        _failed(store, row, report, SyncFailed(str(exc)))
        return None
    # A walk of the whole history when asked (--full) or due (every full_every seconds); a
    # source with a reconciliation window of its own (the agent platform's last 30 days)
    # walks that when it is due; else only what changed.
    whole = full or _due(getattr(connection, "full_every", None), row.last_whole_at, started)
    recent = _due(connection.reconcile_every, row.last_full_at, started)
    full = True if whole else RECENT if recent else False
    before = (report.counts.new, report.counts.updated, report.counts.unchanged,
              report.rejected, report.downloaded)
    known = _Known(store, connection_id)
    downloads = Downloads(store, connection, connection_id, report, progress, cancel)
    listed = 0
    try:
        for page in connection.changes(row.cursor, full, known):
            seen = (page.source, page.seen, page.pass_number) if page.source else None
            counts = store.sync.commit_page(connection_id, page.records,
                                       ... if page.cursor is None else page.cursor, page.files,
                                       seen, page.whole_history)
            report.counts.add(counts)
            for reject in page.rejects:
                report.reject(reject)
            report.waiting.extend(page.waiting)
            report.files += len(page.files)
            if page.full_done:
                store.sync.set_status(connection_id, last_full_at=started)
            if page.whole_history:
                store.sync.set_status(connection_id, last_whole_at=started)
            listed += page.listed
            _tell(progress, listed, page.total, f"{row.name}: {listed:,} calls read")
            downloads.finish()  # this page's recordings, several at once, archived in order
            if cancel.is_set():
                raise Canceled()
        downloads.finish()
    except Canceled:
        report.canceled = True
        store.sync.set_status(connection_id, status=status.CANCELED)
        return connection
    except SyncFailed as exc:
        _failed(store, row, report, exc)
        connection.close()
        return None
    except StoreError:
        connection.close()
        raise
    after = (report.counts.new, report.counts.updated, report.counts.unchanged,
             report.rejected, report.downloaded)
    summary = dict(zip(("new", "updated", "unchanged", "rejected", "recordings"),
                       (b - a for a, b in zip(before, after, strict=True)), strict=True))
    store.sync.set_status(connection_id, status=status.OK, error=None, last_sync_at=started,
                          last_summary=summary)
    return connection


def _due(every: float | None, last: int | None, now: int) -> bool:
    """Whether a pass made every `every` seconds (None: never) is due, the last at `last`."""
    return every is not None and (last is None or now - last > every * 1_000_000)


def _cap(store: Store, live: dict[int, Connection], report: SyncReport) -> None:
    try:
        report.evicted, report.evicted_bytes = archive.evict_for_cap(store, live)
    except (SyncFailed, Canceled) as exc:
        log.info("The archive's size cap was not applied: %s", exc)


def _failed(store: Store, row: SyncConnection, report: SyncReport, exc: SyncFailed) -> None:
    if isinstance(exc, Offline):
        sentence = f"Offline — last synced {local_time(row.last_sync_at)}" \
            if row.last_sync_at else "Offline — not synced yet"
        log.info("%s: %s", row.name, exc)
    else:
        sentence = str(exc)
    sentence = redact_text(sentence)
    report.failures[row.name] = sentence
    store.sync.set_status(row.id, status=exc.status, error=sentence)


def _tell(progress: Progress | None, done: int, total: int | None, message: str) -> None:
    if progress is not None:
        progress(done, total, message)


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


class _Known:
    """What the store holds, for one connection's `changes`."""

    def __init__(self, store: Store, connection_id: int) -> None:
        self.store = store
        self.connection_id = connection_id

    def versions(self, source: str, source_ids: list[str]) -> dict[str, tuple]:
        return self.store.sync.versions(source, source_ids)

    def files(self) -> dict[str, tuple[int, int, str]]:
        return self.store.sync.fingerprints(self.connection_id)
