"""The calls' statistics (call_stats, migration 0014): what the background pass measured
(ui/timeline_pass.py), what the detail shows and the list sorts by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select, update

from callviewer import jsontext
from callviewer.recording_state import ARCHIVED
from callviewer.store.records import StoredStats, now_micros
from callviewer.store.schema import call_stats, calls

if TYPE_CHECKING:
    from callviewer.store import Store

_FIELDS = [call_stats.c[name] for name in (
    "origin", "agent_ms", "customer_ms", "silence_ms", "longest_monologue_ms",
    "longest_monologue_role", "interruptions", "computed_at")]


def measured(conn: Connection, call_id: int) -> StoredStats | None:
    """A call's statistics on `conn`; None while not measured (or no such call)."""
    row = conn.execute(select(*_FIELDS).where(
        call_stats.c.call_id == call_id,
        call_stats.c.computed_at.is_not(None))).mappings().first()
    return None if row is None else StoredStats.from_row(row)

def _waiting(archived_only: bool) -> tuple:
    """The calls not measured yet; with `archived_only`, those with an archived recording
    (the background pass's: calls without one are measured as their timeline is shown,
    since walking a million of them at every start kept a core busy for hours)."""
    waiting = call_stats.c.computed_at.is_(None)
    if not archived_only:
        return (waiting,)
    return (waiting, call_stats.c.call_id.in_(
        select(calls.c.id).where(calls.c.recording_state == ARCHIVED)))


class StatsRepository:
    """`store.stats`: each call's statistics. Every call has a row, made with it; its
    figures are None until measured, and again once the call's transcript, length or
    recording changed (the migration's triggers)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def of(self, call_id: int) -> StoredStats | None:
        """A call's statistics; None while not measured (or no such call)."""
        with self._store.reading() as conn:
            return measured(conn, call_id)

    def write(self, call_id: int, stats: StoredStats) -> None:
        """Keep a call's statistics (measured now unless `stats` says when)."""
        self.write_many([(call_id, stats)])

    def write_many(self, measured: Sequence[tuple[int, StoredStats]]) -> None:
        """Keep several calls' statistics, in one transaction."""
        now = now_micros()
        with self._store.writing() as conn:
            for call_id, stats in measured:
                values = stats.columns()
                values["computed_at"] = values["computed_at"] or now
                conn.execute(update(call_stats).where(call_stats.c.call_id == call_id)
                             .values(**values))

    def unmeasured(self, after: int = 0, limit: int = 50,
                   archived_only: bool = False) -> list[int]:
        """The ids of calls not measured yet (with `archived_only`, of those with an
        archived recording: the background pass's), above `after`, lowest first."""
        with self._store.reading() as conn:
            return list(conn.execute(
                select(call_stats.c.call_id)
                .where(*_waiting(archived_only), call_stats.c.call_id > after)
                .order_by(call_stats.c.call_id).limit(limit)).scalars())

    def unmeasured_count(self, archived_only: bool = False) -> int:
        """How many calls are not measured yet (see unmeasured)."""
        with self._store.reading() as conn:
            return conn.execute(select(func.count()).select_from(call_stats)
                                .where(*_waiting(archived_only))).scalar()

    def inputs(self, call_id: int) -> tuple[Sequence[dict], int | None, bool] | None:
        """What a call is measured from: its transcript's messages, its length and
        whether it was purged; None when there is no such call."""
        with self._store.reading() as conn:
            row = conn.execute(select(calls.c.transcript, calls.c.duration_ms,
                                      calls.c.is_purged)
                               .where(calls.c.id == call_id)).first()
        if row is None:
            return None
        messages = jsontext.loads(row.transcript) if row.transcript else []
        if not isinstance(messages, list):
            messages = []
        return [m for m in messages if isinstance(m, dict)], row.duration_ms, \
            bool(row.is_purged)
