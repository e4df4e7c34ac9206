"""The calls of a store: reading one, writing records, done flags, export and counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from callviewer import jsontext
from callviewer.store import calls as call_rows
from callviewer.store import notes as note_rows
from callviewer.store import recordings as archive_rows
from callviewer.store.export import iter_calls, iter_canonical
from callviewer.store.migrate import current_revision
from callviewer.store.records import Call, Caller, Summary, now_micros
from callviewer.store.schema import calls, recordings
from callviewer.store.schema import sync_seen as seen_calls
from callviewer.store.stats_repository import measured

if TYPE_CHECKING:
    from callviewer.store import Store
    from callviewer.store.modes import LocalMode


class CallRepository:
    """`store.calls`: the calls, as `Call` records, and the writes that change them."""

    def __init__(self, store: Store, mode: LocalMode) -> None:
        self._store, self._mode = store, mode

    def get(self, call_id: int) -> Call | None:
        """One call for display: every column (JSON decoded), its staff notes, oldest
        first (an administrator's view has hidden ones), and its statistics when measured;
        None when there is no such call."""
        with self._store.reading() as conn:
            row = conn.execute(select(calls).where(calls.c.id == call_id)).mappings().first()
            if row is None:
                return None
            found = note_rows.notes_of(conn, [call_id], hidden=self._mode.who.admin)
            notes = self._mode.with_names(conn, found.get(call_id, []))
            stats = measured(conn, call_id)
        return Call.from_row(row, notes, jsontext.loads, stats)

    def caller(self, call_id: int) -> Caller | None:
        """Who a call was with; None when there is no such call. (For one line about a
        call; `get` reads all of it.)"""
        with self._store.reading() as conn:
            row = conn.execute(select(calls.c.customer_name, calls.c.customer_number,
                                      calls.c.from_number).where(calls.c.id == call_id)).first()
        return Caller(*row) if row is not None else None

    def id_of(self, source: str, source_id: str) -> int | None:
        """The local id of a call by its source key."""
        with self._store.reading() as conn:
            return conn.execute(select(calls.c.id).where(
                calls.c.source == source, calls.c.source_id == source_id)).scalar()

    def connections_of(self, call_id: int) -> list[int]:
        """The ids of the sync connections a call came from: those that listed it, and the
        one its recording comes through."""
        with self._store.reading() as conn:
            key = conn.execute(select(calls.c.source, calls.c.source_id)
                               .where(calls.c.id == call_id)).first()
            if key is None:
                return []
            listed = conn.execute(select(seen_calls.c.connection_id).where(
                seen_calls.c.source == key.source,
                seen_calls.c.source_id == key.source_id)).scalars().all()
            via = conn.execute(select(recordings.c.connection_id).where(
                recordings.c.call_id == call_id,
                recordings.c.connection_id.is_not(None))).scalars().all()
        return sorted({*listed, *via})

    def write_records(self, records: list[dict]) -> call_rows.WriteCounts:
        """Upsert validated partial records, all in one transaction."""
        with self._store.writing() as conn:
            counts = call_rows.write_records(conn, records, now_micros())
            if counts.purged_archives:
                archive_rows.let_go(conn, counts.purged_archives)
            if counts.new or counts.updated:
                self._mode.announce(conn, None)
        if counts.purged_archives:
            self._store.archive.delete_stale()
        return counts

    def set_done(self, call_id: int, done: bool, by: str) -> None:
        """Mark a call done (or not) locally, as `by` (a team member: as its role, which
        the server records whatever `by` says); imports never change it back."""
        with self._mode.judged(), self._store.writing() as conn:
            call_rows.set_done(conn, call_id, done, self._mode.writer(by), now_micros())
            self._mode.announce(conn, [call_id])

    def mark_played(self, call_id: int) -> None:
        """Note that a call's recording was played now (the size cap keeps recent ones);
        not on a damaged file, where it is bookkeeping nobody asked for, not refused."""
        if self._store.verify() is not None:
            return
        with self._store.writing() as conn:
            archive_rows.played(conn, call_id, now_micros())

    def export(self, include_deleted: bool = False,
               call_ids: list[int] | None = None) -> Iterator[dict]:
        """Every call (or the given ones, in that order) as a canonical record, streamed."""
        with self._store.reading() as conn:
            if call_ids is None:
                yield from iter_canonical(conn, include_deleted)
            else:
                yield from iter_calls(conn, call_ids)

    def summary(self) -> Summary:
        """What `info` prints: where the database is, its schema and its counts."""
        with self._store.explained():
            schema = current_revision(self._store.engine)
        with self._store.reading() as conn:
            total, deleted, purged, with_recording = conn.execute(select(
                func.count(),
                func.count(calls.c.deleted_at),
                func.coalesce(func.sum(calls.c.is_purged.cast(calls.c.note_count.type)), 0),
                func.coalesce(func.sum(calls.c.has_recording.cast(calls.c.note_count.type)), 0),
            )).one()
            by_source = dict(conn.execute(
                select(calls.c.source, func.count()).group_by(calls.c.source)).all())
        return Summary(database=self._store.where, schema=schema, calls=total,
                       deleted=deleted, purged=purged, with_recording=with_recording,
                       by_source=by_source)
