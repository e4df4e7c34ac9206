"""The notes' writes on their way to the database: drafts, notes saved, notes deleted and
brought back, sent in the order asked for on the window's write lane (ui/tasks.py).

It keeps each write until the database has answered: what the notes show meanwhile
("saving…", "not saved yet", gone), and what the database refused, which is tried again
a while later. The notes panel asks for the writes and shows their answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from callviewer.store import NEW_NOTE, Draft, Note, Store
from callviewer.ui.tasks import Lane, TaskRunner

DRAFT_RETRY_MS = 3_000  # what the database refused is tried again after this

Place = tuple[int, int]  # (call id, note id): the note an editor's text is for
Typed = tuple[str, int]  # a draft: the text, and the cursor's position in it


@dataclass(eq=False)
class PendingNote:
    """A note asked to be saved: kept until the database has it (`failed`: it refused)."""

    call_id: int
    note_id: int  # NEW_NOTE, or the note changed
    author: str
    body: str
    key: str  # kept across tries: a save whose answer was lost is saved once
    position_ms: int | None = None  # a new note's moment of the recording (Ctrl+Shift+N)
    failed: bool = False
    # Refused while another note was being typed: shown in the list, tried again by itself.
    listed: bool = False

    @property
    def place(self) -> Place:
        return (self.call_id, self.note_id)

    @property
    def status(self) -> str:
        return "not saved yet" if self.failed else "saving\u2026"


@dataclass(eq=False)
class Deletion:
    """A note deleted (hidden at once); `written`, as the store returned it, for Undo."""

    call_id: int
    note: Note
    written: Note | None = None


class NoteWrites(QObject):
    """One notes panel's writes, and what is waiting (see the module)."""

    draft_written = Signal()  # the newest draft of a place is in the database
    draft_refused = Signal(str)  # why not: it is tried again in a while
    # The PendingNote, the call's notes as now written, and whether its draft went with it
    # (the draft it was put back as when refused).
    note_saved = Signal(object, object, bool)
    note_refused = Signal(object, str)  # the PendingNote, now failed; why
    # A Deletion written, or its undo; the call's notes now (None: as they were).
    deletion_written = Signal(object, object)
    deletion_refused = Signal(object, str)  # the Deletion, shown again; why
    restore_refused = Signal(object, str)  # the Deletion, gone again; why

    def __init__(self, store: Store, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store, self._tasks = store, tasks
        # The drafts this panel wrote (None: none). They outrank a read, which may have been
        # made before the write landed.
        self._drafts: dict[Place, Typed | None] = {}
        self._refused: set[Place] = set()  # drafts whose last write failed
        self._saving: dict[str, PendingNote] = {}  # by key: being saved, or refused
        self._deleting: list[Deletion] = []  # hidden, not yet written
        self._restoring: list[Deletion] = []  # shown again, not yet written
        self._retry_timer = QTimer(self, singleShot=True, interval=DRAFT_RETRY_MS)
        self._retry_timer.timeout.connect(self._retry)

    # --- what the notes show meanwhile ----------------------------------------------

    def shown(self, call_id: int | None, notes: list[Note]) -> list[tuple[Note, str]]:
        """A call's notes as read, with the writes asked for: (note, what is being done with
        it: "" when nothing)."""
        back = [d.note for d in self._restoring if d.call_id == call_id]
        gone = {d.note.id for d in self._deleting if d.call_id == call_id} - {
            n.id for n in back}
        mine = [n for n in self._saving.values()
                if n.call_id == call_id and (n.listed or not n.failed)]
        edits = {n.note_id: n for n in mine if n.note_id != NEW_NOTE}
        shown = [(replace(note, body=edits[note.id].body), edits[note.id].status)
                 if note.id in edits else (note, "")
                 for note in notes if note.id not in gone]
        known = {note.id for note in notes}
        shown += [(note, "saving\u2026") for note in back if note.id not in known]
        shown += [(Note.unsaved(n.call_id, n.author, n.body, n.position_ms), n.status)
                  for n in mine if n.note_id == NEW_NOTE]
        return shown

    @property
    def anything_refused(self) -> bool:
        """Whether a draft or a note the database refused is still waiting."""
        return bool(self._refused) or any(n.failed for n in self._saving.values())

    # --- drafts -------------------------------------------------------------------------

    def draft_of(self, place: Place, read: Draft | None) -> Typed | None:
        """The draft of `place`: the one last written here, else `read`, as last read."""
        if place in self._drafts:
            return self._drafts[place]
        return (read.body, read.cursor) if read else None

    def has_draft(self, place: Place) -> bool:
        """Whether a draft of `place` was written here (and not discarded)."""
        return self._drafts.get(place) is not None

    def put_draft(self, place: Place, draft: Typed | None) -> None:
        """Write the draft of `place` (None: discard it)."""
        self._drafts[place] = draft
        self._send_draft(place)

    def drop_draft(self, place: Place) -> None:
        """Forget the draft of `place`: a write under way takes it with it (a note saved or
        deleted)."""
        self._drafts[place] = None

    def _send_draft(self, place: Place) -> None:
        (call_id, note_id), draft, store = place, self._drafts[place], self._store

        def write() -> None:
            if draft is None:
                store.notes.discard_draft(call_id, note_id)
            else:
                store.notes.save_draft(call_id, note_id, *draft)

        self._write(write, lambda _none: self._draft_written(place, draft),
                    lambda sentence: self._draft_refused(place, draft, sentence),
                    "saving the note's draft")

    def _draft_written(self, place: Place, draft: Typed | None) -> None:
        if self._drafts.get(place) == draft:
            self._refused.discard(place)
            self.draft_written.emit()

    def _draft_refused(self, place: Place, draft: Typed | None, sentence: str) -> None:
        if self._drafts.get(place) != draft:
            return  # a newer draft is on its way
        self._refused.add(place)
        self.draft_refused.emit(sentence)
        self._retry_timer.start()

    # --- notes ---------------------------------------------------------------------------

    def save(self, place: Place, author: str, body: str,
             position_ms: int | None = None) -> PendingNote:
        """Save a note, a new one pinned to `position_ms` if given (a refused one of `place`
        waiting in its editor is this one again); its draft goes with it."""
        again = next((n for n in self._saving.values()
                      if n.failed and not n.listed and n.place == place), None)
        note = PendingNote(*place, author, body, again.key if again else uuid.uuid4().hex,
                           position_ms)
        self._saving[note.key] = note
        self._drafts[place] = None  # the note's write takes its draft with it
        self._send(note)
        return note

    def keep_listed(self, note: PendingNote) -> None:
        """Keep a refused note in the list, tried again by itself (another text is being
        typed in its place)."""
        note.listed = True
        self._retry_timer.start()

    def save_waiting(self) -> None:
        """Save the notes the database refused before (it is back)."""
        for note in [n for n in self._saving.values() if n.failed]:
            self._send(note)

    def _send(self, note: PendingNote) -> None:
        note.failed, store = False, self._store

        def write() -> list[Note]:
            if note.note_id == NEW_NOTE:
                store.notes.add(note.call_id, note.author, note.body, note.key,
                                note.position_ms)
            else:
                store.notes.update(note.note_id, note.author, note.body)
            return store.notes.of(note.call_id)

        self._write(write, lambda notes: self._saved(note, notes),
                    lambda sentence: self._not_saved(note, sentence), "saving the note")

    def _saved(self, note: PendingNote, notes: list[Note]) -> None:
        if self._saving.get(note.key) is note:
            del self._saving[note.key]
        put_back = self._drafts.get(note.place) == (note.body, len(note.body))
        if put_back:  # when it was refused: gone with the note
            self._drafts[note.place] = None
        self.note_saved.emit(note, notes, put_back)

    def _not_saved(self, note: PendingNote, sentence: str) -> None:
        if self._saving.get(note.key) is not note:
            return
        note.failed = True
        self.note_refused.emit(note, sentence)

    # --- deleting, and Undo ------------------------------------------------------------------

    def delete(self, call_id: int, note: Note, author: str) -> Deletion:
        """Delete a note (hidden at once)."""
        deletion, store = Deletion(call_id, note), self._store

        def write() -> list[Note]:
            deletion.written = store.notes.delete(note.id, author)
            return store.notes.of(call_id)

        self._send_deletion(deletion, self._deleting, write, self.deletion_refused,
                            "deleting the note")
        return deletion

    def restore(self, deletion: Deletion) -> None:
        """Bring a deleted note back (shown at once)."""
        store = self._store

        def write() -> list[Note] | None:
            if deletion.written is None:  # its delete was refused: it is still there
                return None
            store.notes.restore(deletion.written)
            return store.notes.of(deletion.call_id)

        self._send_deletion(deletion, self._restoring, write, self.restore_refused,
                            "bringing the note back")

    def _send_deletion(self, deletion: Deletion, pending: list[Deletion],
                       write: Callable[[], list[Note] | None], refused: SignalInstance,
                       name: str) -> None:
        """Write a delete or its undo, kept in `pending` until the database answers."""
        pending.append(deletion)

        def written(notes: list[Note] | None) -> None:
            pending.remove(deletion)
            self.deletion_written.emit(deletion, notes)

        def not_written(sentence: str) -> None:
            pending.remove(deletion)
            refused.emit(deletion, sentence)

        self._write(write, written, not_written, name)

    # --- the write lane --------------------------------------------------------------------

    def _write(self, work: Callable[[], Any], done: Callable[[Any], None],
               failed: Callable[[str], None], name: str) -> None:
        """Run `work` after the writes asked for before it; then `done` or `failed`."""
        self._tasks.run(work, done, failed=failed, lane=Lane.WRITE, name=name)

    def _retry(self) -> None:
        """Try again what was refused and is not waiting for the person."""
        for place in list(self._refused):
            self._send_draft(place)
        for note in [n for n in self._saving.values() if n.listed and n.failed]:
            self._send(note)

    def flush(self, wait_ms: int) -> bool:
        """Try again what was refused, and wait for the writes up to `wait_ms`; True when
        every write has been made."""
        self._retry()
        return self._tasks.wait(Lane.WRITE, wait_ms)
