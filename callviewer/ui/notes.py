"""Staff notes on a call: the list, an editor whose draft is saved as you type, delete + Undo.

Each note shows its whole text, wrapped, newest first; a note pinned to a moment of the
recording (Ctrl+Shift+N) shows "at 1:42", which takes the player there. Every write is
shown at once (a note saved appears marked as saving, a deleted one goes) and made in
turn by ui/note_writes.py. What the database refuses is said under the editor, and what
was typed stays in it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPalette, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from callviewer.store import NEW_NOTE, Draft, Note, Store
from callviewer.ui import formatting
from callviewer.ui.labels import plain_label, titled
from callviewer.ui.note_writes import Deletion, NoteWrites, PendingNote
from callviewer.ui.tasks import TaskRunner

DRAFT_DELAY_MS = 700  # a draft is at most this far behind the typing
# Closing waits this long for the writes asked for: a write waits at most the busy
# timeout (10 s) for a database another program holds.
FLUSH_WAIT_MS = 11_000
UNDO_SECONDS = 10


class NoteEditor(QPlainTextEdit):
    """A note being written: Ctrl+Enter saves; Esc goes back to the list (the window's)."""

    save_requested = Signal()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.save_requested.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            event.ignore()
            return
        super().keyPressEvent(event)


class NotesList(QScrollArea):
    """The notes, scrolled: its size hint is the height of all of them at its width, so the
    detail can give it the room they need (up to its share, ui/detail.py)."""

    def __init__(self) -> None:
        super().__init__(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def content_height(self, width: int | None = None) -> int:
        """The height the notes take at `width` (default: the list's own)."""
        holder = self.widget()
        width = width or self.viewport().width() or self.width()
        if holder is None:
            return 0
        return holder.heightForWidth(width) if holder.hasHeightForWidth() \
            else holder.sizeHint().height()

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(),
                     self.content_height() + 2 * self.frameWidth())


class NotesPanel(QWidget):
    """A call's staff notes and the editor for a new one (or one being edited)."""

    notes_changed = Signal(int)  # call id: a note of it was written
    notes_shown = Signal()  # the notes shown changed (the detail fits them, marks pins)
    position_activated = Signal(int, int)  # call id, ms: "at 1:42" was pressed

    def __init__(self, store: Store, author: Callable[[], str], tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store, self._author = store, author
        self._call_id: int | None = None
        self._editing = NEW_NOTE  # the note the editor holds: NEW_NOTE or a note's id
        # Where the notes being written are pinned (Ctrl+Shift+N), by place, this session.
        self._pins: dict[tuple[int, int], int] = {}
        self._focus_before: QWidget | None = None  # where Alt+N came from
        self.shown_notes: list[Note] = []  # as shown: written, and being written
        self._shown: tuple | None = None  # what the notes were last made from
        self._notes: list[Note] = []  # the call's notes, as the database last said
        self._read_drafts: dict[int, Draft] = {}  # the call's drafts, as last read
        self._typed_since = False  # the editor changed since its draft was written
        self._writes = NoteWrites(store, tasks, self)
        self._writes.draft_written.connect(self._hush)
        self._writes.draft_refused.connect(self._draft_refused)
        self._writes.note_saved.connect(self._saved)
        self._writes.note_refused.connect(self._not_saved)
        self._writes.deletion_written.connect(self._written)
        self._writes.deletion_refused.connect(self._not_deleted)
        self._writes.restore_refused.connect(self._not_restored)
        self._deleted: Deletion | None = None  # the one Undo brings back
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self._write_draft)
        self._undo_timer = QTimer(self, singleShot=True, interval=UNDO_SECONDS * 1000)
        self._undo_timer.timeout.connect(self._forget_deleted)
        self._build()
        self.setEnabled(False)

    def _build(self) -> None:
        self.title = titled(QLabel("Notes"))
        self._list = QVBoxLayout()
        self._list.setContentsMargins(0, 0, 0, 0)
        self._list.setSpacing(4)
        holder = QWidget()
        holder.setLayout(self._list)
        self._scroll = NotesList()
        self._scroll.setWidget(holder)
        self.undo_bar = QWidget()
        undo_layout = QHBoxLayout(self.undo_bar)
        undo_layout.setContentsMargins(0, 0, 0, 0)
        undo_layout.addWidget(QLabel("Note deleted."))
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo deleting the note")
        self.undo_button.clicked.connect(self.undo_delete)
        undo_layout.addWidget(self.undo_button)
        undo_layout.addStretch()
        self.undo_bar.hide()
        # What could not be written, in a sentence, under the notes.
        self.waiting_label = plain_label("", muted=True)
        self.waiting_label.hide()
        # The moment the note being written is pinned to (Ctrl+Shift+N), and Unpin.
        self.pin_bar = QWidget()
        pin_layout = QHBoxLayout(self.pin_bar)
        pin_layout.setContentsMargins(0, 0, 0, 0)
        self.pin_label = QLabel()
        self.pin_label.setAccessibleName("Pinned to")
        pin_layout.addWidget(self.pin_label)
        self.unpin_button = QPushButton("Unpin")
        self.unpin_button.setAccessibleName("Unpin the note being written")
        self.unpin_button.clicked.connect(self.unpin)
        pin_layout.addWidget(self.unpin_button)
        pin_layout.addStretch()
        self.pin_bar.hide()
        self.editor = NoteEditor()
        self.editor.setPlaceholderText("Write a note…   (Ctrl+Enter saves)")
        self.editor.setAccessibleName("New note")
        self.editor.setTabChangesFocus(True)
        self.editor.setFixedHeight(self.editor.fontMetrics().lineSpacing() * 2 + 14)
        self.editor.textChanged.connect(self._typed)
        self.editor.save_requested.connect(self.save)
        self.save_button = QPushButton("Save note")
        self.save_button.setToolTip(QKeySequence("Ctrl+Return").toString(
            QKeySequence.SequenceFormat.NativeText))
        self.save_button.clicked.connect(self.save)
        self.cancel_edit = QPushButton("Cancel edit")
        self.cancel_edit.clicked.connect(self._stop_editing)
        self.cancel_edit.hide()
        self._scroll.setMinimumHeight(self.fontMetrics().lineSpacing() + 4)
        self._scroll.setAccessibleName("Notes")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.cancel_edit)
        top.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self._scroll, 1)
        layout.addWidget(self.undo_bar)
        layout.addWidget(self.waiting_label)
        layout.addWidget(self.pin_bar)
        layout.addWidget(self.editor)
        # The button sits by the title; Tab still goes list, editor, then its buttons.
        QWidget.setTabOrder(self._scroll, self.editor)
        QWidget.setTabOrder(self.editor, self.cancel_edit)
        QWidget.setTabOrder(self.cancel_edit, self.save_button)

    # --- showing a call -----------------------------------------------------------

    def set_call(self, call_id: int | None, notes: list[Note],
                 drafts: dict[int, Draft]) -> None:
        """Show a call's notes and drafts as just read, and put back the draft being
        written, if there is one."""
        self._read_drafts = drafts
        if call_id != self._call_id:
            self._write_draft()
            self._forget_deleted()
            self._call_id = call_id
            self._edit(NEW_NOTE)
        self._notes = notes
        self._show_notes()
        self.setEnabled(call_id is not None)

    def _show_notes(self) -> None:
        notes = self._writes.shown(self._call_id, self._notes)
        shown = (self._call_id, tuple(notes), self._store.identity or self._author())
        if shown == self._shown:
            return  # as shown: the keyboard stays where it is
        self._shown = shown
        # A note's button with the keyboard gets it back once the notes are made again.
        focus = QApplication.focusWidget()
        was = getattr(focus, "note_role", None) if focus is not None and \
            self._scroll.widget().isAncestorOf(focus) else None
        while self._list.count():
            item = self._list.takeAt(0)
            if item.widget():
                item.widget().hide()  # gone now, not when its deletion comes round
                item.widget().deleteLater()
        self.shown_notes = [note for note, _status in notes]
        self.title.setText(f"Notes ({len(notes)})" if notes else "Notes")
        buttons: list[QWidget] = []
        holder = self._scroll.widget()
        for note, status in reversed(notes):  # the newest first
            frame = self._note_widget(note, buttons, status)
            self._list.addWidget(frame)
            frame.setVisible(not holder.isHidden())  # counted by the layout at once
        if not notes:
            self._list.addWidget(plain_label("No notes yet.", muted=True))
        self._list.addStretch()
        # Tab goes from the list through the notes' buttons to the editor.
        for before, after in itertools.pairwise([self._scroll, *buttons, self.editor]):
            QWidget.setTabOrder(before, after)
        if was is not None:
            again = next((b for b in buttons if getattr(b, "note_role", None) == was),
                         self._scroll)
            again.setFocus(Qt.FocusReason.OtherFocusReason)
        self._scroll.updateGeometry()
        self.notes_shown.emit()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.FocusIn:  # a note's button, reached by Tab
            self._scroll.ensureWidgetVisible(watched)
        elif event.type() == QEvent.Type.KeyPress and isinstance(watched, QToolButton) \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and not event.modifiers():
            watched.click()  # a pinned note's "at 1:42": Enter plays from there
            return True
        return False

    def _note_widget(self, note: Note, buttons: list[QWidget], status: str) -> QWidget:
        frame = QFrame(frameShape=QFrame.Shape.StyledPanel)
        frame.setObjectName("note")
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(0)
        parts = []
        if note.created_at is not None:
            parts.append(formatting.local_time(note.created_at))
            if note.updated_at != note.created_at:
                parts.append("edited")
        if note.hidden_by:  # an administrator's view of a note they hid
            parts.append(f"hidden by {note.hidden_by}")
        if status:
            parts.append(status)
        top = QHBoxLayout()
        top.setSpacing(4)
        if note.position_ms is not None:
            top.addWidget(self._pin_button(note, buttons))
        who = note.author
        if note.display_name:  # a team member's role, and the name they chose
            who = f"{note.display_name} ({who})"
        top.addWidget(plain_label(" · ".join([who, *parts]), muted=True), 1)
        # Each person edits and deletes their own: on a team database with a role of one's
        # own, the notes of that role (the server refuses the rest); else the name set.
        mine = self._store.identity or self._author()
        if note.author == mine and not note.hidden_by and not status:
            edit, delete = QPushButton("Edit"), QPushButton("Delete")
            edit.setAccessibleName(f"Edit the note by {note.author}")
            delete.setAccessibleName(f"Delete the note by {note.author}")
            for button in (edit, delete):  # small: the notes' text has the room
                button.setFlat(True)
            edit.note_role, delete.note_role = (note.id, "edit"), (note.id, "delete")
            edit.clicked.connect(lambda: self._start_editing(note))
            delete.clicked.connect(lambda: self.delete(note.id))
            for button in (edit, delete):
                button.installEventFilter(self)
                top.addWidget(button)
                buttons.append(button)
        layout.addLayout(top)
        text = plain_label(formatting.paragraph(note.body))
        text.setObjectName("note_text")
        text.setAccessibleName(f"Note by {note.author}")
        layout.addWidget(text)
        return frame

    def _pin_button(self, note: Note, buttons: list[QWidget]) -> QToolButton:
        """ "at 1:42", drawn as a link: Enter, Space or a click takes the player there."""
        at = formatting.position(note.position_ms)
        pin = QToolButton(text=f"▶ at {at}", autoRaise=True)
        pin.setObjectName("note_position")
        font = pin.font()
        font.setUnderline(True)
        pin.setFont(font)
        palette = pin.palette()
        palette.setColor(QPalette.ColorRole.ButtonText, palette.color(QPalette.ColorRole.Link))
        pin.setPalette(palette)
        pin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        pin.setCursor(Qt.CursorShape.PointingHandCursor)
        pin.setToolTip(f"Play from {at} (Enter)")
        pin.setAccessibleName(f"Play from {at}")
        call_id, ms = note.call_id, note.position_ms
        pin.clicked.connect(lambda: self.position_activated.emit(call_id, ms))
        pin.installEventFilter(self)
        pin.note_role = (note.id, "pin")
        buttons.append(pin)
        return pin

    # --- the keyboard: Alt+N --------------------------------------------------------------

    def toggle_focus(self, back: QWidget) -> None:
        """Alt+N: into the notes list (the newest note at the top), or, from there, back to
        where the keyboard was before (`back` when that is gone)."""
        focus = QApplication.focusWidget()
        if focus is not None and (focus is self._scroll or self._scroll.isAncestorOf(focus)):
            before, self._focus_before = self._focus_before, None
            target = before if before is not None and _alive(before) and \
                before.isVisible() and before.isEnabled() else back
            target.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        self._focus_before = focus
        self._scroll.verticalScrollBar().setValue(0)
        self._scroll.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @property
    def notes_list(self) -> NotesList:
        return self._scroll

    def wanted_height(self) -> int:
        """The height that shows every note whole (with the title and the editor)."""
        scroll = self._scroll
        if self.height() <= 0 or scroll.height() <= 0:  # not laid out yet
            self._scroll.updateGeometry()
            return self.sizeHint().height()
        chrome = self.height() - scroll.height()  # the list takes what the rest leaves
        width = scroll.width() - 2 * scroll.frameWidth()  # no scroll bar when all fit
        return chrome + scroll.content_height(width) + 2 * scroll.frameWidth()

    # --- drafts -----------------------------------------------------------------------

    def _draft_of(self, note_id: int) -> tuple[str, int] | None:
        return self._writes.draft_of((self._call_id, note_id), self._read_drafts.get(note_id))

    def _edit(self, note_id: int) -> None:
        """Hold the note `note_id` (NEW_NOTE: a new one) in the editor, with its draft."""
        self._editing = note_id
        self._load_draft()
        self._editor_mode()

    def _load_draft(self) -> None:
        body, at = self._draft_of(self._editing) or ("", 0)
        self.editor.blockSignals(True)
        self.editor.setPlainText(body)
        cursor = self.editor.textCursor()
        cursor.setPosition(min(at, len(self.editor.toPlainText())))
        self.editor.setTextCursor(cursor)
        self.editor.blockSignals(False)
        self._typed_since = False

    def _typed(self) -> None:
        self._typed_since = True
        self._draft_timer.start()

    def _write_draft(self) -> None:
        """Send the editor's text to the database as its draft, if it changed."""
        self._draft_timer.stop()
        if self._call_id is None or not self._typed_since:
            return
        self._typed_since = False
        body = self.editor.toPlainText()
        self._writes.put_draft((self._call_id, self._editing),
                               (body, self.editor.textCursor().position())
                               if body.strip() else None)

    def _draft_refused(self, sentence: str) -> None:
        self._say(f"The draft is not saved yet: {sentence} What you typed stays here and is "
                  "saved again in a moment.")

    def flush(self, wait_ms: int = FLUSH_WAIT_MS) -> bool:
        """Write the editor's text and the drafts refused so far, and wait for the writes up
        to `wait_ms` (the window is closing); True when every write has been made."""
        self._write_draft()
        return self._writes.flush(wait_ms)

    # --- saving, editing, deleting -------------------------------------------------------

    def focus_new_note(self) -> None:
        """Put the cursor in the editor (Ctrl+N)."""
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.editor.moveCursor(QTextCursor.MoveOperation.End)

    def start_pinned(self, position_ms: int) -> None:
        """A new note pinned to `position_ms` of the call's recording (Ctrl+Shift+N): the
        editor takes the keyboard, what it holds stays."""
        if self._call_id is None:
            return
        if self._editing != NEW_NOTE:
            self._stop_editing()
        self._pins[(self._call_id, NEW_NOTE)] = max(int(position_ms), 0)
        self._show_pin()
        self.focus_new_note()

    def unpin(self) -> None:
        """The note being written is pinned nowhere."""
        if self._call_id is not None:
            self._pins.pop((self._call_id, self._editing), None)
        self._show_pin()

    @property
    def pinned_at(self) -> int | None:
        """Where the note being written is pinned (ms), if it is."""
        return None if self._call_id is None else self._pins.get((self._call_id, self._editing))

    def _show_pin(self) -> None:
        at = self.pinned_at
        if at is not None:
            self.pin_label.setText(f"Pinned at {formatting.position(at)}")
        self.pin_bar.setVisible(at is not None)

    def save(self) -> None:
        """Save the editor's note (Ctrl+Enter); an empty one is not saved. It shows at once,
        as saving; when the database refuses it (a team database out of reach), it comes
        back to the editor and its draft, and `save_waiting` saves it once the database
        is back."""
        body = self.editor.toPlainText().strip()
        if self._call_id is None or not body:
            return
        self._write_draft()  # first: the draft stays if the note's own write is lost
        place = (self._call_id, self._editing)
        self._writes.save(place, self._author(), body, self._pins.pop(place, None))
        self._edit(NEW_NOTE)
        self._show_notes()

    def save_waiting(self) -> None:
        """Save the notes the database refused before (it is back)."""
        self._writes.save_waiting()

    def _saved(self, note: PendingNote, notes: list[Note], put_back: bool) -> None:
        if put_back and note.place == (self._call_id, self._editing) and \
                self.editor.toPlainText() == note.body:
            self._edit(NEW_NOTE)  # the draft it was put back as went with it
        if note.call_id == self._call_id:
            self._notes = notes
            self._show_notes()
        self._hush()
        self.notes_changed.emit(note.call_id)

    def _not_saved(self, note: PendingNote, sentence: str) -> None:
        """Back to the editor, or to its draft when another is being written there."""
        typing = note.place == (self._call_id, self._editing) and \
            self.editor.toPlainText().strip()
        if not self._writes.has_draft(note.place) and not typing:  # it is its draft again
            self._writes.put_draft(note.place, (note.body, len(note.body)))
            if note.position_ms is not None:
                self._pins[note.place] = note.position_ms
            if note.call_id == self._call_id and not self.editor.toPlainText().strip():
                self._edit(note.note_id)
        else:  # another text is being typed in its place
            self._writes.keep_listed(note)
        self._show_notes()
        self._say(f"Not saved yet: {sentence} The note is kept here and is saved when the "
                  "database can be reached.")

    def _say(self, sentence: str) -> None:
        """A sentence under the notes about what could not be written."""
        self.waiting_label.setText(sentence)
        self.waiting_label.show()

    def _hush(self) -> None:
        """A write landed: the sentence goes once nothing is still refused."""
        if not self._writes.anything_refused:
            self.waiting_label.hide()

    def _editor_mode(self) -> None:
        editing = self._editing != NEW_NOTE
        self.cancel_edit.setVisible(editing)
        self.editor.setAccessibleName("Edit note" if editing else "New note")
        self._show_pin()

    def _start_editing(self, note: Note) -> None:
        self._write_draft()
        self._editing = note.id
        self._load_draft()
        if not self.editor.toPlainText():
            self.editor.setPlainText(note.body)
        self._editor_mode()
        self.focus_new_note()

    def _stop_editing(self) -> None:
        if self._call_id is not None:
            self._writes.put_draft((self._call_id, self._editing), None)
        self._edit(NEW_NOTE)

    def delete(self, note_id: int) -> None:
        """Delete a note at once; Undo brings it back for a few seconds."""
        note = next((n for n in self._notes if n.id == note_id), None)
        if note is None or self._call_id is None:
            return
        self._forget_deleted()
        self._deleted = self._writes.delete(self._call_id, note, self._author())
        if self._editing == note_id:
            self._writes.drop_draft((self._call_id, note_id))  # goes with the note
            self._edit(NEW_NOTE)
        self.undo_bar.show()
        self._undo_timer.start()
        self._show_notes()

    def _not_deleted(self, deletion: Deletion, sentence: str) -> None:
        if self._deleted is deletion:
            self._forget_deleted()
        self._show_notes()
        self._say(f"Not deleted: {sentence}")

    def undo_delete(self) -> None:
        """Bring the note deleted last back (shown at once)."""
        deletion = self._deleted
        if deletion is None:
            return
        self._forget_deleted()
        self._writes.restore(deletion)
        self._show_notes()

    def _not_restored(self, deletion: Deletion, sentence: str) -> None:
        if deletion.call_id == self._call_id:  # Undo stays offered a while longer
            self._deleted = deletion
            self.undo_bar.show()
            self._undo_timer.start()
        self._show_notes()
        self._say(f"Not brought back: {sentence}")

    def _written(self, deletion: Deletion, notes: list[Note] | None) -> None:
        """A delete or its undo landed."""
        if notes is not None and deletion.call_id == self._call_id:
            self._notes = notes
        self._show_notes()
        self._hush()
        self.notes_changed.emit(deletion.call_id)

    def _forget_deleted(self) -> None:
        self._deleted = None
        self._undo_timer.stop()
        self.undo_bar.hide()


def _alive(widget: QWidget) -> bool:
    """Whether Qt still has `widget` (a note's button goes when the notes are shown again)."""
    import shiboken6

    return shiboken6.isValid(widget)
