"""Staff notes on a call: add, edit, delete, restore; each keeps the count and index in step."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select, update

from callviewer.store import search
from callviewer.store.schema import calls, notes


def add_note(conn: Connection, call_id: int, author: str, body: str, now: int) -> int:
    """Add a note to a call; returns the note's id."""
    note_id = conn.execute(insert(notes).values(
        call_id=call_id, author=author, body=body, created_at=now, updated_at=now,
    )).inserted_primary_key[0]
    _refresh(conn, call_id)
    return note_id


def update_note(conn: Connection, note_id: int, body: str, now: int) -> None:
    """Replace a note's text."""
    call_id = conn.execute(
        update(notes).where(notes.c.id == note_id).values(body=body, updated_at=now)
        .returning(notes.c.call_id)).scalar_one()
    _refresh(conn, call_id)


def delete_note(conn: Connection, note_id: int) -> dict:
    """Delete a note; returns it whole so it can be restored (undo)."""
    note = dict(conn.execute(select(notes).where(notes.c.id == note_id)).mappings().one())
    conn.execute(delete(notes).where(notes.c.id == note_id))
    _refresh(conn, note["call_id"])
    return note


def restore_note(conn: Connection, note: dict) -> None:
    """Put back a note returned by delete_note, with its id and times."""
    conn.execute(insert(notes).values(**note))
    _refresh(conn, note["call_id"])


def notes_of(conn: Connection, call_ids: list[int]) -> dict[int, list[dict]]:
    """The notes of some calls, oldest first."""
    found: dict[int, list[dict]] = {}
    query = (select(notes).where(notes.c.call_id.in_(call_ids))
             .order_by(notes.c.created_at, notes.c.id))
    for row in conn.execute(query).mappings():
        found.setdefault(row["call_id"], []).append(dict(row))
    return found


def _refresh(conn: Connection, call_id: int) -> None:
    count = select(func.count()).where(notes.c.call_id == call_id).scalar_subquery()
    source_note = conn.execute(
        update(calls).where(calls.c.id == call_id).values(note_count=count)
        .returning(calls.c.source_note)).scalar_one()
    search.reindex_notes(conn, call_id, source_note)
