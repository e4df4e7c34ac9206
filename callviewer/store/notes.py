"""Staff notes on a call: add, edit, delete, restore; each keeps the count and index in step."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select, update

from callviewer.store import search
from callviewer.store.schema import calls, drafts, notes

NEW_NOTE = 0  # the draft key of a note not yet saved


def add_note(conn: Connection, call_id: int, author: str | None, body: str, now: int,
             key: str | None = None, position_ms: int | None = None) -> int:
    """Add a note to a call, pinned to `position_ms` of its recording if given; returns
    the note's id. A note with this `key` already there (saved before, its answer lost)
    is that note, with this text. `author` None: the database's own user (a team
    member's role: the server sets it, see migration 0010)."""
    note_id = None
    if key is not None:
        note_id = conn.execute(select(notes.c.id).where(notes.c.client_key == key)).scalar()
    if note_id is None:
        who = {} if author is None else {"author": author}
        note_id = conn.execute(insert(notes).values(
            call_id=call_id, body=body, created_at=now, updated_at=now, client_key=key,
            position_ms=position_ms, **who,
        )).inserted_primary_key[0]
    else:
        conn.execute(update(notes).where(notes.c.id == note_id, notes.c.body != body)
                     .values(body=body, updated_at=now))
    discard_draft(conn, call_id, NEW_NOTE)
    _refresh(conn, call_id)
    return note_id


KEEP = -1  # update_note's position: the note stays pinned where it is (or not pinned)


def update_note(conn: Connection, note_id: int, author: str, body: str, now: int,
                position_ms: int | None = KEEP) -> int:
    """Replace a note's text (its author's alone), and its pin when `position_ms` is not
    KEEP (None: pinned nowhere); returns its call's id."""
    note = _check_author(conn, note_id, author)
    pin = {} if position_ms == KEEP else {"position_ms": position_ms}
    call_id = conn.execute(
        update(notes).where(notes.c.id == note_id).values(body=body, updated_at=now, **pin)
        .returning(notes.c.call_id)).scalar()
    if call_id is None:  # a team database's server saw no note of this role's to change
        raise _not_yours(note)
    discard_draft(conn, call_id, note_id)
    _refresh(conn, call_id)
    return call_id


def delete_note(conn: Connection, note_id: int, author: str) -> dict:
    """Delete a note (its author's alone); returns it whole so it can be restored (undo)."""
    note = _check_author(conn, note_id, author)
    if not conn.execute(delete(notes).where(notes.c.id == note_id)).rowcount:
        raise _not_yours(note)  # as in update_note
    discard_draft(conn, note["call_id"], note_id)
    _refresh(conn, note["call_id"])
    return note


def restore_note(conn: Connection, note: dict) -> None:
    """Put back a note returned by delete_note, with its times, and its id unless a new
    note has been given it meanwhile (SQLite reuses the highest id)."""
    taken = conn.execute(select(notes.c.id).where(notes.c.id == note["id"])).first()
    values = {key: value for key, value in note.items() if not (taken and key == "id")}
    conn.execute(insert(notes).values(**values))
    _refresh(conn, note["call_id"])


def _check_author(conn: Connection, note_id: int, author: str) -> dict:
    """The note, when `author` wrote it; StoreError naming whose it is otherwise."""
    from callviewer.store.database import StoreError

    note = conn.execute(select(notes).where(notes.c.id == note_id)).mappings().first()
    if note is None:
        raise StoreError("This note is no longer there (deleted on another desktop).")
    if note["author"] != author:
        raise _not_yours(note)
    if note["hidden_at"] is not None:
        raise StoreError(f"This note was hidden by {note['hidden_by']}, a team administrator; "
                         "it is kept as it is and can no longer be changed or deleted.")
    return dict(note)


def _not_yours(note) -> Exception:
    from callviewer.store.database import StoreError

    owner = note["author"]
    return StoreError(f"This note is {owner}'s; only {owner} can change or delete it.")


def hide_note(conn: Connection, note_id: int, by: str, now: int) -> int:
    """Hide a note (a team administrator's): kept, marked with who and when (the server
    stamps both on a team database), no longer shown, counted or searched; its call's id."""
    from callviewer.store.database import StoreError

    call_id = conn.execute(
        update(notes).where(notes.c.id == note_id, notes.c.hidden_at.is_(None))
        .values(hidden_by=by, hidden_at=now).returning(notes.c.call_id)).scalar()
    if call_id is None:
        raise StoreError("This note is no longer there, or is hidden already.")
    _refresh(conn, call_id)
    return call_id


def notes_of(conn: Connection, call_ids: list[int],
             hidden: bool = False) -> dict[int, list[dict]]:
    """The notes of some calls, oldest first; those an administrator hid only with
    `hidden` (for administrators: everyone else, and every export, goes without them)."""
    found: dict[int, list[dict]] = {}
    query = select(notes).where(notes.c.call_id.in_(call_ids))
    if not hidden:
        query = query.where(notes.c.hidden_at.is_(None))
    query = query.order_by(notes.c.created_at, notes.c.id)
    for row in conn.execute(query).mappings():
        found.setdefault(row["call_id"], []).append(dict(row))
    return found


def save_draft(conn: Connection, call_id: int, note_id: int, body: str, cursor: int,
               now: int) -> None:
    """Keep what is being typed into a note editor (note_id NEW_NOTE for a new note)."""
    values = {"body": body, "cursor": cursor, "updated_at": now}
    changed = conn.execute(update(drafts).where(
        drafts.c.call_id == call_id, drafts.c.note_id == note_id).values(**values)).rowcount
    if not changed:
        conn.execute(insert(drafts).values(call_id=call_id, note_id=note_id, **values))


def discard_draft(conn: Connection, call_id: int, note_id: int) -> None:
    """Forget a draft (saved as a note, or abandoned)."""
    conn.execute(delete(drafts).where(drafts.c.call_id == call_id, drafts.c.note_id == note_id))


def drafts_of(conn: Connection, call_id: int) -> dict[int, dict]:
    """A call's drafts by note id (NEW_NOTE for a new note): {body, cursor, updated_at}."""
    query = select(drafts.c.note_id, drafts.c.body, drafts.c.cursor, drafts.c.updated_at).where(
        drafts.c.call_id == call_id)
    return {row["note_id"]: dict(row) for row in conn.execute(query).mappings()}


def _refresh(conn: Connection, call_id: int) -> None:
    count = select(func.count()).where(notes.c.call_id == call_id,
                                       notes.c.hidden_at.is_(None)).scalar_subquery()
    source_note = conn.execute(
        update(calls).where(calls.c.id == call_id).values(note_count=count)
        .returning(calls.c.source_note)).scalar_one()
    search.reindex_notes(conn, call_id, source_note)
