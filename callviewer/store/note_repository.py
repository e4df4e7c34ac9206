"""The staff notes of a store: notes, their drafts, and the names their authors go by."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from callviewer.store import notes as note_rows
from callviewer.store import team_roles
from callviewer.store.records import Draft, Note, now_micros

if TYPE_CHECKING:
    from callviewer.store import Store
    from callviewer.store.modes import LocalMode

NEW_NOTE = note_rows.NEW_NOTE
KEEP = note_rows.KEEP


class NoteRepository:
    """`store.notes`: a call's notes as `Note` records, and the note editor's drafts.

    A team member's notes are its role's, whatever author the caller passes; a team
    database refuses a change of another's note with a sentence (StoreError).
    """

    def __init__(self, store: Store, mode: LocalMode) -> None:
        self._store, self._mode = store, mode

    def of(self, call_id: int) -> list[Note]:
        """A call's staff notes, oldest first (an administrator's view has hidden ones)."""
        with self._store.reading() as conn:
            found = note_rows.notes_of(conn, [call_id], hidden=self._mode.who.admin)
            return self._mode.with_names(conn, found.get(call_id, []))

    def add(self, call_id: int, author: str, body: str, key: str | None = None,
            position_ms: int | None = None) -> int:
        """Add a staff note to a call, pinned to `position_ms` of its recording if given;
        returns its id. `key`, picked by the writer for this note (a uuid), makes a save
        tried again after its answer was lost save it once."""
        # A team member's note is the server's `current_user`'s: no author is written.
        written_as = None if self._mode.who.role else author
        with self._mode.judged(), self._store.writing() as conn:
            note_id = note_rows.add_note(conn, call_id, written_as, body, now_micros(), key,
                                         position_ms)
            self._mode.announce(conn, [call_id])
        self._mode.note_saved(call_id, NEW_NOTE)
        return note_id

    def update(self, note_id: int, author: str, body: str,
               position_ms: int | None = KEEP) -> None:
        """Replace a staff note's text, and its pin unless `position_ms` is KEEP (None:
        pinned nowhere); only its author may (StoreError for anyone else)."""
        with self._mode.judged(), self._store.writing() as conn:
            call_id = note_rows.update_note(conn, note_id, self._mode.writer(author), body,
                                            now_micros(), position_ms)
            self._mode.announce(conn, [call_id])
        self._mode.note_saved(call_id, note_id)

    def delete(self, note_id: int, author: str) -> Note:
        """Delete a staff note (its author's alone: StoreError for anyone else); returns it
        so `restore` can undo."""
        with self._mode.judged(), self._store.writing() as conn:
            note = Note.from_row(note_rows.delete_note(conn, note_id, self._mode.writer(author)))
            self._mode.announce(conn, [note.call_id])
        self._mode.note_saved(note.call_id, note_id)
        return note

    def restore(self, note: Note) -> None:
        """Undo a `delete`."""
        with self._mode.judged(), self._store.writing() as conn:
            note_rows.restore_note(conn, note.columns())
            self._mode.announce(conn, [note.call_id])

    def hide(self, note_id: int) -> None:
        """Hide a note (a team administrator's alone): kept and marked with who and when,
        no longer shown to others, exported, counted or searched."""
        self._mode.check_may_hide()
        with self._mode.judged(), self._store.writing() as conn:
            user = conn.execute(select(func.current_user())).scalar()
            call_id = note_rows.hide_note(conn, note_id, user, now_micros())
            self._mode.announce(conn, [call_id])

    def set_display_name(self, name: str) -> None:
        """The name shown beside this desktop's role on a team database (a member's alone);
        nothing to keep elsewhere: the Preferences name is the author itself."""
        role = self._mode.who.role
        if role is None:
            return
        with self._mode.judged(), self._store.writing() as conn:
            team_roles.set_display_name(conn, role, name)

    # --- drafts: what is typed, kept as it is typed --------------------------------------

    def save_draft(self, call_id: int, note_id: int, body: str, cursor: int = 0) -> None:
        """Keep a note editor's text as it is typed; note_id NEW_NOTE is a new note.
        (A team database's drafts are kept on this desktop, reachable or not.)"""
        self._mode.save_draft(call_id, note_id, body, cursor)

    def discard_draft(self, call_id: int, note_id: int) -> None:
        """Forget a draft; saving the note does this by itself."""
        self._mode.discard_draft(call_id, note_id)

    def drafts_of(self, call_id: int) -> dict[int, Draft]:
        """A call's unsaved drafts by note id."""
        return self._mode.drafts_of(call_id)
