"""Record text too big to lay out: shown cut, and whole in a viewer that does not block.

A 50 MB summary or message laid out in a QLabel or a bubble kept the window busy for
minutes. Labels and bubbles show at most ``SHOWN_MAX`` characters and a plain line saying
how much there is; the whole text opens in a ``TextViewer`` (a QPlainTextEdit, which lays
out only the lines in view). Even so, setPlainText of 50 MB took 4–6 s in one go, so the
viewer takes it in ``LOAD_CHUNK`` pieces, one per turn of the event loop (~35 ms each).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QDialog, QPlainTextEdit, QVBoxLayout, QWidget

SHOWN_MAX = 64 * 1024  # characters of one field laid out in a label or a bubble
CUT_MARK = "\u2026 (cut: "
LOAD_CHUNK = 256 * 1024  # characters the viewer takes per turn of the event loop


def is_cut(text: str | None) -> bool:
    """Whether ``text`` is too long to show whole in a label or a bubble."""
    return text is not None and len(text) > SHOWN_MAX


def size_words(text: str) -> str:
    """The size of ``text`` as UTF-8, e.g. "50.0 MB"."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"


def shown(text: str, hint: str = "") -> str:
    """``text`` as a label or a bubble shows it: whole, or its start and a "cut" line."""
    if not is_cut(text):
        return text
    extra = f" \u2014 {hint}" if hint else ""
    return f"{text[:SHOWN_MAX]}\n{CUT_MARK}{size_words(text)} in all){extra}"


class TextViewer(QDialog):
    """A whole text, read-only, in a window of its own that leaves the main window free.

    A big text loads in pieces while the window stays usable; ``loaded`` is emitted when it
    is all in. Esc closes it (QDialog's own key); it deletes itself when closed.
    """

    loaded = Signal()

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self.setWindowTitle(title)
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor = QPlainTextEdit(readOnly=True)
        self.editor.setAccessibleName(title)
        self.editor.setUndoRedoEnabled(False)  # shown, never edited: no undo copy of 50 MB
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor)
        self.resize(720, 540)
        self._text, self._at = text, 0
        self._timer = QTimer(self, interval=0)
        self._timer.timeout.connect(self._load_more)
        self._load_more()

    @property
    def loading(self) -> bool:
        """Whether part of the text is still to come."""
        return self._text is not None

    def text(self) -> str:
        """The text shown (so far)."""
        return self.editor.toPlainText()

    def _load_more(self) -> None:
        text, start = self._text, self._at
        if text is None:
            return
        end = min(start + LOAD_CHUNK, len(text))
        if end < len(text) and text[end - 1] == "\r":
            end += 1  # keep "\r\n" in one piece: one break, as setPlainText makes it
        cursor = QTextCursor(self.editor.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text[start:end])
        self._at = end
        if end < len(text):
            self.setWindowTitle(f"{self._title} \u2014 loading {100 * end // len(text)} %")
            self._timer.start()
            return
        self._text = None
        self._timer.stop()
        self.setWindowTitle(self._title)
        self.loaded.emit()


def show_all(title: str, text: str, parent: QWidget | None = None) -> TextViewer:
    """Open ``text`` whole in a non-modal viewer over ``parent``'s window."""
    viewer = TextViewer(title, text, parent.window() if parent is not None else None)
    viewer.show()
    viewer.raise_()
    viewer.activateWindow()
    return viewer
