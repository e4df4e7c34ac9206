"""Import call records from files and folders into the store, reporting every reject."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from callviewer.record import RecordError
from callviewer.store import Store
from callviewer.store.calls import WriteCounts
from callviewer.sync import formats
from callviewer.sync.base import Origin
from callviewer.sync.containers import BadItem, UnreadableFile, find_files, read_items

log = logging.getLogger(__name__)

BATCH_SIZE = 500  # records per transaction: each batch is committed whole or not at all
MAX_LISTED_REJECTS = 1000  # past this, rejects are counted, not kept


@dataclass(frozen=True)
class Reject:
    """A record that was not imported, and why."""

    file: str
    locator: str
    source_id: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file} {self.locator}".strip()
        if self.source_id:
            where += f" (source_id {self.source_id})"
        what = f"field '{self.field}': {self.reason}" if self.field else self.reason
        return f"{where}: {what}"


@dataclass
class ImportReport:
    """What an import did: counts, rejected records, and files that could not be read."""

    counts: WriteCounts = field(default_factory=WriteCounts)
    rejects: list[Reject] = field(default_factory=list)
    rejected: int = 0
    unreadable: list[str] = field(default_factory=list)
    files: int = 0
    canceled: bool = False

    def summary_line(self) -> str:
        """`N new, M updated, K unchanged, R rejected`."""
        c = self.counts
        return (f"{c.new} new, {c.updated} updated, {c.unchanged} unchanged, "
                f"{self.rejected} rejected")

    @property
    def exit_code(self) -> int:
        """0: all imported; 1: some records rejected; 2: a file could not be read at all."""
        return 2 if self.unreadable else 1 if self.rejected else 0

    def reject(self, reject: Reject) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_LISTED_REJECTS:
            self.rejects.append(reject)


# Called after each committed batch with (files read, records read so far, current file).
Progress = Callable[[int, int, Path], None]


def import_paths(
    store: Store,
    paths: Iterable[Path],
    format_name: str | None = None,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ImportReport:
    """Import every record in some files and folders (recursively); never raises for bad input.

    Good records are imported and bad ones listed with their reason. Each
    batch is one transaction, so the database never holds half a record and
    a canceled or interrupted import can simply be run again.
    """
    forced = formats.by_name(format_name) if format_name else None
    report = ImportReport()
    seen = 0
    for files, path, batch in _batches(paths, forced, report):
        report.files = files
        if batch:
            report.counts.add(store.write_records(batch))
            seen += len(batch)
        if progress:
            progress(report.files, seen, path)
        if should_cancel and should_cancel():
            report.canceled = True
            break
    return report


def _batches(paths: Iterable[Path], forced: ModuleType | None,
             report: ImportReport) -> Iterator[tuple[int, Path, list[dict]]]:
    """(files so far, file, up to BATCH_SIZE records); each file ends with a batch, maybe empty."""
    for files, path in enumerate(find_files(Path(p) for p in paths), start=1):
        batch: list[dict] = []
        for record in _records(path, forced, report):
            batch.append(record)
            if len(batch) >= BATCH_SIZE:
                yield files, path, batch
                batch = []
        yield files, path, batch


def _records(path: Path, forced: ModuleType | None, report: ImportReport) -> Iterator[dict]:
    """The valid records of one file; rejects and an unreadable file go to the report."""
    origin = Origin(folder=path.parent.resolve())
    name = str(path)
    try:
        for item in read_items(path):
            if isinstance(item, BadItem):
                report.reject(Reject(name, item.locator, None, None, item.reason))
                continue
            try:
                yield parse_value(item.value, origin, forced)
            except RecordError as exc:
                report.reject(Reject(name, item.locator, _source_id_of(item.value),
                                     exc.field, exc.reason))
    except UnreadableFile as exc:
        report.unreadable.append(str(exc))
    except OSError as exc:
        report.unreadable.append(f"{path} could not be read: {exc.strerror or exc}.")


def parse_value(value: object, origin: Origin, forced: ModuleType | None = None) -> dict:
    """One decoded JSON value as a validated partial canonical record, or RecordError."""
    if not isinstance(value, dict):
        raise RecordError("record", f"expected a JSON object, got {type(value).__name__}")
    module = forced or formats.detect(value)
    if module is None:
        raise RecordError("record", "is not a call record of any known format ("
                          + ", ".join(m.NAME for m in formats.FORMATS) + ")")
    try:
        return module.parse(value, origin)
    except RecordError:
        raise
    except Exception as exc:  # a parser bug must cost one record, not the whole import
        log.exception("Parser %s failed on a record", module.NAME)
        raise RecordError("record", f"could not be read ({type(exc).__name__}: {exc})") from exc


def _source_id_of(value: object) -> str | None:
    """The record's id as its source names it, for the reject message (best effort)."""
    if not isinstance(value, dict):
        return None
    inner = value.get("message") if isinstance(value.get("message"), dict) else value
    call = inner.get("call") if isinstance(inner.get("call"), dict) else inner
    for key in ("source_id", "sourceId", "id", "call_sid"):
        candidate = call.get(key)
        if isinstance(candidate, (str, int)) and not isinstance(candidate, bool):
            return str(candidate)[:80]
    return None
