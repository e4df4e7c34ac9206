"""Which calls each connection brought, and the last full pass that listed them (0011).

A full pass walks a source's whole history. When it reaches the end, a call
this connection brought before that the pass did not list is gone from the
source: it is marked deleted at the source (``deleted_at``), never removed,
and remembered as marked here, so that if the source lists it again, the mark
is taken back. Calls of the same source brought by another connection (a
second account) are not this connection's to judge.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select, update

from callviewer.store.schema import calls
from callviewer.store.schema import sync_seen as seen

_CHUNK = 400


def note(conn: Connection, connection_id: int, source: str, source_ids: list[str],
         pass_number: int, full: bool) -> None:
    """These calls were listed by the connection (in full pass `pass_number` if `full`)."""
    for start in range(0, len(source_ids), _CHUNK):
        chunk = list(dict.fromkeys(source_ids[start:start + _CHUNK]))
        rows = conn.execute(select(seen.c.source_id, seen.c.marked).where(
            seen.c.connection_id == connection_id, seen.c.source == source,
            seen.c.source_id.in_(chunk))).all()
        known = {row.source_id: row.marked for row in rows}
        fresh = [{"connection_id": connection_id, "source": source, "source_id": source_id,
                  "pass_number": pass_number if full else 0, "marked": False}
                 for source_id in chunk if source_id not in known]
        if fresh:
            conn.execute(insert(seen), fresh)
        back = [source_id for source_id, marked in known.items() if marked]
        if back:  # listed again: the mark was wrong, or the source restored it
            conn.execute(update(calls).where(calls.c.source == source,
                                             calls.c.source_id.in_(back))
                         .values(deleted_at=None))
        again = [source_id for source_id in known if full or known[source_id]]
        if again:
            values = {"marked": False, **({"pass_number": pass_number} if full else {})}
            conn.execute(update(seen).where(
                seen.c.connection_id == connection_id, seen.c.source == source,
                seen.c.source_id.in_(again)).values(**values))


def mark_absent(conn: Connection, connection_id: int, source: str, pass_number: int,
                now: int) -> list[int]:
    """After full pass `pass_number` reached the end: mark the connection's calls it did not
    list as deleted at the source; their ids (calls already deleted keep their time)."""
    absent = select(seen.c.source_id).where(
        seen.c.connection_id == connection_id, seen.c.source == source,
        seen.c.pass_number < pass_number, seen.c.marked.is_(False))
    found = conn.execute(select(calls.c.id, calls.c.source_id).where(
        calls.c.source == source, calls.c.source_id.in_(absent),
        calls.c.deleted_at.is_(None))).all()
    if found:
        conn.execute(update(calls).where(calls.c.id == bindparam("call_id"))
                     .values(deleted_at=now), [{"call_id": row.id} for row in found])
        marked = [row.source_id for row in found]
        for start in range(0, len(marked), _CHUNK):
            conn.execute(update(seen).where(
                seen.c.connection_id == connection_id, seen.c.source == source,
                seen.c.source_id.in_(marked[start:start + _CHUNK])).values(marked=True))
    return [row.id for row in found]
