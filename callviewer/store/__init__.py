"""The local store of call records: one `Store` per database, the only door to it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from callviewer.store import calls as call_writes
from callviewer.store import notes as note_writes
from callviewer.store.database import (
    WRITE_OPTION,
    StoreError,
    explain,
    is_environment_fault,
    open_engine,
    resolve_url,
    sqlite_path,
)
from callviewer.store.export import iter_calls, iter_canonical
from callviewer.store.migrate import SchemaTooNewError, current_revision, ensure_schema
from callviewer.store.notes import NEW_NOTE
from callviewer.store.schema import calls

__all__ = ["NEW_NOTE", "SchemaTooNewError", "Store", "StoreError"]


def now_micros() -> int:
    """The current time as epoch microseconds."""
    return time.time_ns() // 1000


class Store:
    """An open database of calls: created or upgraded on open, closed with `close()`."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        self.path: Path | None = sqlite_path(self.url)
        self.where = str(self.path) if self.path else _without_password(self.url)
        try:
            self.engine = open_engine(self.url)
            ensure_schema(self.engine, self.where, self.path)
        except DBAPIError as exc:
            if is_environment_fault(exc) or "unable to open" in str(exc):
                raise explain(exc, self.where) from exc
            raise

    def close(self) -> None:
        """Release the database's connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection in a read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection in a write transaction: all of it is committed, or none.

        Environment faults (busy, read-only, disk full) become StoreError.
        """
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            if is_environment_fault(exc):
                raise explain(exc, self.where) from exc
            raise

    def write_records(self, records: list[dict]) -> call_writes.WriteCounts:
        """Upsert validated partial records, all in one transaction."""
        with self.writing() as conn:
            return call_writes.write_records(conn, records, now_micros())

    def set_done(self, call_id: int, done: bool) -> None:
        """Mark a call done (or not) locally; imports never change it back."""
        with self.writing() as conn:
            call_writes.set_done(conn, call_id, done)

    def add_note(self, call_id: int, author: str, body: str) -> int:
        """Add a staff note to a call; returns its id."""
        with self.writing() as conn:
            return note_writes.add_note(conn, call_id, author, body, now_micros())

    def update_note(self, note_id: int, body: str) -> None:
        """Replace a staff note's text."""
        with self.writing() as conn:
            note_writes.update_note(conn, note_id, body, now_micros())

    def delete_note(self, note_id: int) -> dict:
        """Delete a staff note; returns it so `restore_note` can undo."""
        with self.writing() as conn:
            return note_writes.delete_note(conn, note_id)

    def restore_note(self, note: dict) -> None:
        """Undo a `delete_note`."""
        with self.writing() as conn:
            note_writes.restore_note(conn, note)

    def notes_of(self, call_id: int) -> list[dict]:
        """A call's staff notes, oldest first."""
        with self.reading() as conn:
            return note_writes.notes_of(conn, [call_id]).get(call_id, [])

    def save_draft(self, call_id: int, note_id: int, body: str, cursor: int = 0) -> None:
        """Keep a note editor's text as it is typed; note_id NEW_NOTE is a new note."""
        with self.writing() as conn:
            note_writes.save_draft(conn, call_id, note_id, body, cursor, now_micros())

    def discard_draft(self, call_id: int, note_id: int) -> None:
        """Forget a draft; saving the note does this by itself."""
        with self.writing() as conn:
            note_writes.discard_draft(conn, call_id, note_id)

    def drafts_of(self, call_id: int) -> dict[int, dict]:
        """A call's unsaved drafts by note id: {body, cursor, updated_at}."""
        with self.reading() as conn:
            return note_writes.drafts_of(conn, call_id)

    def call(self, call_id: int) -> dict | None:
        """One call for display: every column (times in epoch microseconds, JSON decoded)
        and its staff notes with their ids, oldest first; None when there is no such call."""
        with self.reading() as conn:
            row = conn.execute(select(calls).where(calls.c.id == call_id)).mappings().first()
            if row is None:
                return None
            found = {**row, "notes": note_writes.notes_of(conn, [call_id]).get(call_id, [])}
        for name in ("transcript", "analysis", "extras"):
            found[name] = orjson.loads(found[name]) if found[name] else None
        return found

    def recording(self, call_id: int) -> str | None:
        """A call's recording (file path or URL), or None."""
        with self.reading() as conn:
            return conn.execute(select(calls.c.recording).where(calls.c.id == call_id)).scalar()

    def caller(self, call_id: int) -> dict | None:
        """Who a call was with: customer_name, customer_number and from_number; None when
        there is no such call. (For one line about a call; `call` reads all of it.)"""
        with self.reading() as conn:
            row = conn.execute(select(calls.c.customer_name, calls.c.customer_number,
                                      calls.c.from_number).where(calls.c.id == call_id)).first()
        return dict(row._mapping) if row is not None else None

    def call_id(self, source: str, source_id: str) -> int | None:
        """The local id of a call by its source key."""
        with self.reading() as conn:
            return conn.execute(select(calls.c.id).where(
                calls.c.source == source, calls.c.source_id == source_id)).scalar()

    def export(self, include_deleted: bool = False,
               call_ids: list[int] | None = None) -> Iterator[dict]:
        """Every call (or the given ones, in that order) as a canonical record, streamed."""
        with self.reading() as conn:
            if call_ids is None:
                yield from iter_canonical(conn, include_deleted)
            else:
                yield from iter_calls(conn, call_ids)

    def summary(self) -> dict:
        """What `info` prints: where the database is, its schema and its counts."""
        with self.reading() as conn:
            total, deleted, purged, with_recording = conn.execute(select(
                func.count(),
                func.count(calls.c.deleted_at),
                func.coalesce(func.sum(calls.c.is_purged.cast(calls.c.note_count.type)), 0),
                func.coalesce(func.sum(calls.c.has_recording.cast(calls.c.note_count.type)), 0),
            )).one()
            by_source = dict(conn.execute(
                select(calls.c.source, func.count()).group_by(calls.c.source)).all())
        return {
            "database": self.where,
            "schema": current_revision(self.engine),
            "calls": total,
            "deleted": deleted,
            "purged": purged,
            "with_recording": with_recording,
            "by_source": by_source,
        }


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
