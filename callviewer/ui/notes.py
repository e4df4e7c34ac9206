"""Staff notes on a call: the list, an editor whose draft is saved as you type, delete + Undo."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPalette, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from callviewer.store import NEW_NOTE, Store
from callviewer.ui import formatting

DRAFT_DELAY_MS = 700  # a draft is at most this far behind the typing
UNDO_SECONDS = 10


def plain_label(text: str, muted: bool = False) -> QLabel:
    """A label that shows record text as text, selectable, wrapped."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    if muted:
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


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


class NotesPanel(QWidget):
    """A call's staff notes and the editor for a new one (or one being edited)."""

    notes_changed = Signal(int)  # call id

    def __init__(self, store: Store, author: Callable[[], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store, self._author = store, author
        self._call_id: int | None = None
        self._editing = NEW_NOTE  # the note the editor holds: NEW_NOTE or a note's id
        self._deleted: dict | None = None
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.flush)
        self._undo_timer = QTimer(self, singleShot=True, interval=UNDO_SECONDS * 1000)
        self._undo_timer.timeout.connect(self._forget_deleted)

        self.title = QLabel("Notes")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self._list = QVBoxLayout()
        self._list.setContentsMargins(0, 0, 0, 0)
        holder = QWidget()
        holder.setLayout(self._list)
        self._scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
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
        # Notes that could not be saved yet, by (call id, note id): (author, text, key). The
        # key, kept across tries, makes a new note saved once though a try's answer is lost.
        self._waiting: dict[tuple[int, int], tuple[str, str, str]] = {}
        self.waiting_label = plain_label("", muted=True)
        self.waiting_label.hide()
        self.editor = NoteEditor()
        self.editor.setPlaceholderText("Write a note…   (Ctrl+Enter saves)")
        self.editor.setAccessibleName("New note")
        self.editor.setTabChangesFocus(True)
        self.editor.setFixedHeight(self.editor.fontMetrics().lineSpacing() * 3 + 12)
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
        layout.addWidget(self.editor)
        # The button sits by the title; Tab still goes list, editor, then its buttons.
        QWidget.setTabOrder(self._scroll, self.editor)
        QWidget.setTabOrder(self.editor, self.cancel_edit)
        QWidget.setTabOrder(self.cancel_edit, self.save_button)
        self.setEnabled(False)

    # --- showing a call -----------------------------------------------------------

    def set_call(self, call_id: int | None, notes: list[dict]) -> None:
        """Show a call's notes and put back its draft, if one was being written."""
        if call_id != self._call_id:
            self.flush()
            self._forget_deleted()
            self._call_id = call_id
            self._editing = NEW_NOTE
            self._load_draft()
        self._show_notes(notes)
        self.setEnabled(call_id is not None)

    def _show_notes(self, notes: list[dict]) -> None:
        while self._list.count():
            item = self._list.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.title.setText(f"Notes ({len(notes)})" if notes else "Notes")
        buttons: list[QWidget] = []
        for note in notes:
            self._list.addWidget(self._note_widget(note, buttons))
        if not notes:
            self._list.addWidget(plain_label("No notes yet.", muted=True))
        self._list.addStretch()
        # Tab goes from the list through one's own notes' buttons to the editor.
        for before, after in itertools.pairwise([self._scroll, *buttons, self.editor]):
            QWidget.setTabOrder(before, after)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.FocusIn:  # a note's button, reached by Tab
            self._scroll.ensureWidgetVisible(watched)
        return False

    def _note_widget(self, note: dict, buttons: list[QWidget]) -> QWidget:
        frame = QFrame(frameShape=QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(6, 4, 6, 4)
        when = formatting.local_time(note["created_at"])
        if note["updated_at"] != note["created_at"]:
            when += " · edited"
        top = QHBoxLayout()
        who = note["author"]
        if note.get("display_name"):  # a team member's role, and the name they chose
            who = f"{note['display_name']} ({who})"
        if note.get("hidden_by"):  # an administrator's view of a note they hid
            when += f" · hidden by {note['hidden_by']}"
        top.addWidget(plain_label(f"{who} · {when}", muted=True), 1)
        # Each person edits and deletes their own: on a team database with a role of one's
        # own, the notes of that role (the server refuses the rest); else the name set.
        mine = self._store.identity or self._author()
        if note["author"] == mine and not note.get("hidden_by"):
            edit, delete = QPushButton("Edit"), QPushButton("Delete")
            edit.setAccessibleName(f"Edit the note by {note['author']}")
            delete.setAccessibleName(f"Delete the note by {note['author']}")
            edit.clicked.connect(lambda: self._start_editing(note))
            delete.clicked.connect(lambda: self.delete(note["id"]))
            for button in (edit, delete):
                button.installEventFilter(self)
                top.addWidget(button)
                buttons.append(button)
        layout.addLayout(top)
        layout.addWidget(plain_label(formatting.paragraph(note["body"])))
        return frame

    # --- drafts -----------------------------------------------------------------------

    def _load_draft(self) -> None:
        drafts = self._store.drafts_of(self._call_id) if self._call_id is not None else {}
        draft = drafts.get(self._editing)
        self.editor.blockSignals(True)
        self.editor.setPlainText(draft["body"] if draft else "")
        cursor = self.editor.textCursor()
        cursor.setPosition(min(draft["cursor"] if draft else 0, len(self.editor.toPlainText())))
        self.editor.setTextCursor(cursor)
        self.editor.blockSignals(False)

    def _typed(self) -> None:
        self._draft_timer.start()

    def flush(self) -> None:
        """Write the editor's text to the database now (also done ~1 s after typing)."""
        self._draft_timer.stop()
        if self._call_id is None:
            return
        body = self.editor.toPlainText()
        if body.strip():
            self._store.save_draft(self._call_id, self._editing, body,
                                   self.editor.textCursor().position())
        else:
            self._store.discard_draft(self._call_id, self._editing)

    # --- saving, editing, deleting -------------------------------------------------------

    def focus_new_note(self) -> None:
        """Put the cursor in the editor (Ctrl+N)."""
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.editor.moveCursor(QTextCursor.MoveOperation.End)

    def save(self) -> None:
        """Save the editor's note (Ctrl+Enter); an empty one is not saved. When the
        database cannot take it (a team database out of reach), the note stays in the
        editor and its draft, and `save_waiting` saves it once the database is back."""
        body = self.editor.toPlainText().strip()
        if self._call_id is None or not body:
            return
        self.flush()
        key = (self._call_id, self._editing)
        note_key = self._waiting[key][2] if key in self._waiting else uuid.uuid4().hex
        self._waiting[key] = (self._author(), body, note_key)
        if self._write(key):
            self._editing = NEW_NOTE
            self.editor.blockSignals(True)
            self.editor.clear()
            self.editor.blockSignals(False)
            self._after_change()

    def save_waiting(self) -> None:
        """Save the notes that could not be saved before (the database is back)."""
        for key in list(self._waiting):
            if self._write(key) and key == (self._call_id, self._editing):
                self._editing = NEW_NOTE
                self._load_draft()  # the draft went with the save
                self._after_change()

    def _write(self, key: tuple[int, int]) -> bool:
        """Save one waiting note; False, said under the editor, when it cannot be now."""
        from callviewer.store import StoreError

        (call_id, note_id), (author, body, note_key) = key, self._waiting[key]
        try:
            if note_id == NEW_NOTE:
                self._store.add_note(call_id, author, body, note_key)
            else:
                self._store.update_note(note_id, author, body)
        except StoreError as exc:
            self._say(f"Not saved yet: {exc} The note is kept here and is saved when the "
                      "database can be reached.")
            return False
        del self._waiting[key]
        self.waiting_label.setVisible(bool(self._waiting))
        return True

    def _say(self, sentence: str) -> None:
        """A sentence under the notes about what could not be done."""
        self.waiting_label.setText(sentence)
        self.waiting_label.show()

    def _start_editing(self, note: dict) -> None:
        self.flush()
        self._editing = note["id"]
        self._load_draft()
        if not self.editor.toPlainText():
            self.editor.setPlainText(note["body"])
        self.editor.setAccessibleName("Edit note")
        self.cancel_edit.show()
        self.focus_new_note()

    def _stop_editing(self) -> None:
        if self._call_id is not None:
            self._store.discard_draft(self._call_id, self._editing)
        self._editing = NEW_NOTE
        self._load_draft()

    def delete(self, note_id: int) -> None:
        """Delete a note at once; Undo brings it back for a few seconds."""
        from callviewer.store import StoreError

        try:
            self._deleted = self._store.delete_note(note_id, self._author())
        except StoreError as exc:
            self._say(f"Not deleted: {exc}")
            return
        if self._editing == note_id:
            self._editing = NEW_NOTE
            self._load_draft()
        self.undo_bar.show()
        self._undo_timer.start()
        self._after_change()

    def undo_delete(self) -> None:
        from callviewer.store import StoreError

        if self._deleted is not None:
            try:
                self._store.restore_note(self._deleted)
            except StoreError as exc:  # Undo stays offered while its time lasts
                self._say(f"Not brought back: {exc}")
                return
            self._forget_deleted()
            self._after_change()

    def _forget_deleted(self) -> None:
        self._deleted = None
        self._undo_timer.stop()
        self.undo_bar.hide()

    def _after_change(self) -> None:
        self.cancel_edit.setVisible(self._editing != NEW_NOTE)
        self.editor.setAccessibleName("New note" if self._editing == NEW_NOTE else "Edit note")
        if self._call_id is not None:
            self._show_notes(self._store.notes_of(self._call_id))
            self.notes_changed.emit(self._call_id)
