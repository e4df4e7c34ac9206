"""A watched folder as a sync connection: exports (JSON, NDJSON, recordings beside them)
written there by another program or a file-sync tool.

Each sync scans the folder (recursively, as `callviewer import` does). A file
whose size and modification time match what was recorded when it was
imported is not read again; one whose content hash still matches is not
imported again. A file modified less than ``settle_seconds`` ago, or whose
JSON ends early, is still being written: it is left for a later sync, not
rejected (after ``give_up_minutes`` without a change it is imported as it
is). Records are read by the importer's own format detection.

Recordings beside the exports are copied into the archive, like downloads:
the folder may be emptied by its sync tool later. `FolderWatcher` tells the
window of changes in the folder (watchdog); the window syncs once they settle, and
every ``rescan_seconds`` in any case (ui/syncing.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from callviewer.sync.base import Origin
from callviewer.sync.connection import Known, Page
from callviewer.sync.containers import (
    TRUNCATED,
    BadItem,
    Item,
    UnreadableFile,
    find_files,
    not_regular,
    read_items,
    special_kind,
)
from callviewer.sync.errors import SyncFailed
from callviewer.sync.importer import BATCH_SIZE, Notice, Reject, records_of

log = logging.getLogger(__name__)

KIND = "folder"
DEFAULTS = {
    "folder": "",
    "settle_seconds": 2.0,
    "give_up_minutes": 10.0,
    "rescan_seconds": 60.0,
    "polling": False,
}
_READ_SIZE = 1 << 20


def open(name: str, settings: dict, token: str | None,
         cancel: threading.Event | None) -> WatchedFolder:
    """The connection for these settings (a folder has no token)."""
    return WatchedFolder(name, settings, cancel)


class NotReady(Exception):
    """The file is still being written."""


class WatchedFolder:
    """A folder of exports: new and changed files are imported, recordings copied."""

    kind = KIND
    reconcile_every = None

    def __init__(self, name: str, settings: dict, cancel: threading.Event | None) -> None:
        if not settings.get("folder"):
            raise SyncFailed(f"The connection {name} names no folder.")
        self.name = name
        self.settings = settings
        self.root = Path(settings["folder"]).expanduser()
        self.cancel = cancel

    def close(self) -> None:
        pass

    def changes(self, cursor: dict | None, full: bool, known: Known) -> Iterator[Page]:
        if not self.root.is_dir():
            raise SyncFailed(f"The watched folder {self.root} is not there; "
                             "check that it exists (and is mounted).")
        imported = known.files()
        waiting: list[str] = []
        for path in find_files([self.root]):
            name = path.relative_to(self.root).as_posix()
            try:
                stat = path.stat()
            except OSError:
                continue  # gone since the listing
            kind = special_kind(stat.st_mode)
            if kind is not None:  # a FIFO would block the sync, /dev/zero never end it
                yield Page([], [Reject(str(path), "", None, None, not_regular(path, kind))])
                continue
            before = imported.get(name)
            if not full and before and before[:2] == (stat.st_size, stat.st_mtime_ns):
                continue
            try:
                yield from self._file(path, name, stat, before, full)
            except NotReady:
                waiting.append(name)
        if waiting:
            yield Page([], waiting=waiting)

    def _file(self, path: Path, name: str, stat: os.stat_result, before: tuple | None,
              full: bool) -> Iterator[Page]:
        age = time.time() - stat.st_mtime
        if age < float(self.settings["settle_seconds"]):
            raise NotReady
        patient = age < float(self.settings["give_up_minutes"]) * 60
        digest = _sha256(path)
        fingerprint = (name, stat.st_size, stat.st_mtime_ns, digest)
        if before and before[2] == digest and not full:
            yield Page([], files=[fingerprint])  # touched, not changed
            return
        records, rejects = self._read(path, patient)
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            raise NotReady
        listed = len(records) + len(rejects)
        for start in range(0, max(len(records), 1), BATCH_SIZE):
            last = start + BATCH_SIZE >= len(records)
            yield Page(records[start:start + BATCH_SIZE], rejects if last else [],
                       files=[fingerprint] if last else [], listed=listed if last else 0)

    def _read(self, path: Path, patient: bool) -> tuple[list[dict], list[Reject]]:
        origin = Origin(folder=path.parent.resolve())
        records: list[dict] = []
        rejects: list[Reject] = []

        def complete(items: Iterable[Item | BadItem]) -> Iterator[Item | BadItem]:
            for item in items:
                if isinstance(item, BadItem) and item.reason == TRUNCATED and patient:
                    raise NotReady  # still being written
                yield item

        try:
            for read in records_of(complete(read_items(path)), str(path), origin):
                if isinstance(read, Reject):
                    rejects.append(read)
                elif isinstance(read, Notice):
                    log.info("%s", read)
                else:
                    records.append(self._local(read, path))
        except UnreadableFile as exc:
            sentence = str(exc)
            if patient and (TRUNCATED in sentence or sentence.endswith("is empty.")):
                raise NotReady from None
            rejects.append(Reject(str(path), "", None, None, sentence))
        return records, rejects

    def _local(self, record: dict, path: Path) -> dict:
        """A recording in the folder becomes a file: URL, to be copied into the archive."""
        reference = record.get("recording")
        if not reference or "://" in reference:
            return record
        target = Path(reference)
        if not target.is_absolute():
            target = path.parent / target
        try:
            inside = Path(os.path.abspath(target)).is_relative_to(os.path.abspath(self.root))
        except ValueError:
            inside = False
        if inside:
            record["recording"] = Path(os.path.abspath(target)).as_uri()
        return record

    def fetch_detail(self, source_id: str) -> dict | None:
        return None  # a folder has no detail to refresh: its files are the whole record

    def can_serve(self, reference: str) -> bool:
        return Path(unquote(urlsplit(reference).path)).is_file()

    def fetch_recording(self, reference: str, part: Path) -> None:
        """Copy a recording from the folder, continuing a partial copy."""
        source = Path(unquote(urlsplit(reference).path))
        try:
            stat = source.stat()
        except FileNotFoundError:
            raise SyncFailed(f"The recording {source.name} is not in the watched folder yet; "
                             "it is copied when it appears.") from None
        kind = special_kind(stat.st_mode)
        if kind is not None:
            raise SyncFailed(f"The recording {source} is {kind}, not a regular file; "
                             "it is not copied.")
        if time.time() - stat.st_mtime < float(self.settings["settle_seconds"]):
            raise SyncFailed(f"The recording {source.name} is still being written; "
                             "it is copied on a later sync.")
        have = part.stat().st_size if part.exists() else 0
        if have > stat.st_size:
            part.unlink()
            have = 0
        with source.open("rb") as src, part.open("ab") as out:
            src.seek(have)
            while chunk := src.read(_READ_SIZE):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if source.stat().st_mtime_ns != stat.st_mtime_ns:
            part.unlink()
            raise SyncFailed(f"The recording {source.name} changed while it was copied; "
                             "it is copied on a later sync.")


class FolderWatcher:
    """Calls `on_change()` on watchdog's thread whenever a file in the folder is created,
    written, closed or moved. Waiting for the files to settle and the periodic rescan
    are the caller's (the window's timers, ui/syncing.py), so no thread of ours waits."""

    def __init__(self, folder: Path, on_change: Callable[[], None],
                 polling: bool = False) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        self.folder = Path(folder)

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if event.event_type in ("created", "modified", "moved", "closed"):
                    on_change()

        # A polling observer sees changes on network shares, where inotify sees none.
        self._observer = PollingObserver() if polling else Observer()
        self._observer.schedule(_Handler(), str(self.folder), recursive=True)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_READ_SIZE):
            digest.update(chunk)
    return digest.hexdigest()
