"""Import call records from files and folders into the store, reporting every reject."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from callviewer.record import RecordError
from callviewer.redaction import redact_text
from callviewer.store import Store, StoreError
from callviewer.store.calls import WriteCounts
from callviewer.sync import envelopes, formats
from callviewer.sync.base import Origin
from callviewer.sync.containers import BadItem, Item, UnreadableFile, find_files, read_items

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


@dataclass(frozen=True)
class Notice:
    """What an import says of a record beyond its counts: a warning (a record kept with a
    change, such as a NUL character removed) or a value skipped as no call (an event)."""

    file: str
    locator: str
    source_id: str | None
    text: str
    skipped: bool = False

    def __str__(self) -> str:
        where = f"{self.file} {self.locator}".strip()
        if self.source_id:
            where += f" (source_id {self.source_id})"
        return f"{where}: {self.text}"


@dataclass
class ImportReport:
    """What an import did: counts, rejected records, and files that could not be read."""

    counts: WriteCounts = field(default_factory=WriteCounts)
    rejects: list[Reject] = field(default_factory=list)
    rejected: int = 0
    unreadable: list[str] = field(default_factory=list)
    files: int = 0
    canceled: bool = False
    skipped: int = 0  # values that hold no call (events of another kind)
    warnings: list[Notice] = field(default_factory=list)

    def summary_line(self) -> str:
        """`N new, M updated, K unchanged, R rejected`, then what was skipped or is waiting."""
        c = self.counts
        line = (f"{c.new} new, {c.updated} updated, {c.unchanged} unchanged, "
                f"{self.rejected} rejected")
        if c.waiting:
            line += f", {c.waiting} waiting for their call"
        if self.skipped:
            line += f", {self.skipped} skipped (not calls)"
        if self.warnings:
            line += f", {len(self.warnings)} with warnings"
        return line

    @property
    def exit_code(self) -> int:
        """0: all imported; 1: some records rejected; 2: a file could not be read at all."""
        return 2 if self.unreadable else 1 if self.rejected else 0

    def reject(self, reject: Reject) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_LISTED_REJECTS:
            self.rejects.append(reject)

    def notice(self, notice: Notice) -> None:
        if notice.skipped:
            self.skipped += 1
        elif len(self.warnings) < MAX_LISTED_REJECTS:
            self.warnings.append(notice)


class ImportStopped(StoreError):
    """The database refused a batch (a full disk, a read-only file): the sentence, and the
    report of the batches committed before it."""

    def __init__(self, sentence: str, report: ImportReport) -> None:
        super().__init__(sentence)
        self.report = report

    @property
    def committed(self) -> int:
        """Records committed before the import stopped."""
        c = self.report.counts
        return c.new + c.updated + c.unchanged + c.waiting


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
    store.check_writable()  # a damaged database: refused before anything is read
    forced = formats.by_name(format_name) if format_name else None
    report = ImportReport()
    seen = 0
    for files, path, batch in _batches(paths, forced, report):
        report.files = files
        for record in batch:
            if "audio" in record:
                _archive_audio(store.archive.folder, record, str(path), report)
        if batch:
            try:
                report.counts.add(store.calls.write_records(batch))
            except StoreError as exc:  # disk full, read-only: what was committed stays
                raise ImportStopped(str(exc), report) from exc
            seen += len(batch)
        if progress:
            progress(report.files, seen, path)
        if should_cancel and should_cancel():
            report.canceled = True
            break
    return report


IMPORTED_AUDIO = "imported"  # the archive's folder for recordings that came inside a file


def _archive_audio(archive: Path, record: dict, file: str, report: ImportReport) -> None:
    """Keep the recording a payload carried (ElevenLabs' post_call_audio) in the archive, as
    the file the call plays; a warning says why when it cannot be kept."""
    from callviewer.sync.archive import audio_suffix

    content = record.pop("audio")
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in record["source_id"])[:120]
    folder = archive / IMPORTED_AUDIO / record["source"]
    part = folder / f"{name}.part"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        part.write_bytes(content)
        suffix = audio_suffix(part)
        if suffix is None:
            part.unlink()
            raise ValueError("its bytes are not audio that can be played")
        target = part.with_suffix(suffix)
        os.replace(part, target)
    except (OSError, ValueError) as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        report.notice(Notice(file, "", record["source_id"],
                             f"the recording inside could not be kept: {reason}"))
        return
    record["recording"], record["has_recording"] = str(target), True


def _batches(paths: Iterable[Path], forced: ModuleType | None,
             report: ImportReport) -> Iterator[tuple[int, Path, list[dict]]]:
    """(files so far, file, up to BATCH_SIZE records); each file ends with a batch, maybe empty."""
    empty: list[Path] = []
    for files, path in enumerate(find_files((Path(p) for p in paths), empty), start=1):
        batch: list[dict] = []
        for record in _records(path, forced, report):
            batch.append(record)
            if len(batch) >= BATCH_SIZE:
                yield files, path, batch
                batch = []
        yield files, path, batch
    report.unreadable.extend(
        f"No JSON files found in {folder} (.json, .ndjson or .jsonl); nothing was imported "
        "from it." for folder in empty)


def _records(path: Path, forced: ModuleType | None, report: ImportReport) -> Iterator[dict]:
    """The valid records of one file; rejects, notices and an unreadable file go to the report."""
    try:
        for read in records_of(read_items(path), str(path), Origin(folder=path.parent.resolve()),
                               forced):
            if isinstance(read, Reject):
                report.reject(read)
            elif isinstance(read, Notice):
                report.notice(read)
            else:
                yield read
    except UnreadableFile as exc:
        report.unreadable.append(str(exc))
    except OSError as exc:
        report.unreadable.append(f"{path} could not be read: {exc.strerror or exc}.")


def records_of(items: Iterable[Item | BadItem], file: str, origin: Origin,
               forced: ModuleType | None = None) -> Iterator[dict | Reject | Notice]:
    """Each decoded value of a file read as records: envelopes opened (envelopes.py), every
    record parsed, a value that is none a Reject, an event that is no call a skipping Notice,
    and what a record lost on the way (a NUL character) a warning Notice after it."""
    for item in items:
        if isinstance(item, BadItem):
            yield Reject(file, item.locator, None, None, item.reason)
            continue
        for opened in envelopes.open_value(item.locator, item.value):
            if isinstance(opened, envelopes.Skipped):
                yield Notice(file, opened.locator, None, opened.reason, skipped=True)
                continue
            locator, value, found = opened
            try:
                record = parse_value(value, origin, forced, found)
            except RecordError as exc:
                yield Reject(file, locator, source_id_of(value), exc.field, exc.reason)
                continue
            warnings = record.pop("warnings", ())
            yield record
            for warning in warnings:
                yield Notice(file, locator, record["source_id"], warning)


def parse_value(value: object, origin: Origin, forced: ModuleType | None = None,
                found: formats.Detection | None = None) -> dict:
    """One decoded JSON value as a validated partial canonical record, or RecordError.

    A refusal says which format the record was read as and why (the keys that chose
    it), and a record of no known format names the formats tried. `found` is the
    format already detected for this very value (envelopes.Opened), if any.
    """
    if not isinstance(value, dict):
        raise RecordError("record", f"expected a JSON object, got {type(value).__name__}")
    if forced:
        found = formats.Detection(forced, ())
    elif found is None:
        found = formats.detect(value)
    if found is None:
        keys = ", ".join(list(value)[:8]) + (", …" if len(value) > 8 else "")
        raise RecordError("record", f"is not a call record of any known format (tried "
                          f"{formats.names()}; its keys: {keys or 'none'})")
    try:
        return found.module.parse(value, origin)
    except RecordError as exc:
        raise RecordError(exc.field, f"{exc.reason}; {found.explain()}") from None
    except Exception as exc:  # a parser bug must cost one record, not the whole import
        log.exception("Parser %s failed on a record", found.module.NAME)
        raise RecordError("record", f"could not be read ({type(exc).__name__}: {exc}); "
                          f"{found.explain()}") from exc


_ID_KEYS = ("source_id", "sourceId", "id", "sid", "call_id", "conversation_id", "call_sid",
            "c_id")


def source_id_of(value: object) -> str | None:
    """The record's id as its source names it, for a reject line (best effort): the keys
    its format names first, looking inside a message, call or data it wraps."""
    if not isinstance(value, dict):
        return None
    found = formats.detect(value)
    keys = (*(found.module.ID_KEYS if found else ()), *_ID_KEYS)
    for holder in (value, *(value.get(key) for key in ("message", "call", "data"))):
        if not isinstance(holder, dict):
            continue
        if isinstance(holder.get("call"), dict):
            holder = {**holder["call"], **holder}
        for key in keys:
            candidate = holder.get(key)
            if isinstance(candidate, (str, int)) and not isinstance(candidate, bool) \
                    and str(candidate).strip():
                return redact_text(str(candidate))[:80]
    return None
