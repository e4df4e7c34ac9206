"""Record text too big to lay out: shown cut, and whole in a viewer that does not block.

A 50 MB summary or message laid out in a QLabel or a bubble kept the window busy for
minutes. Labels and bubbles show at most ``SHOWN_MAX`` characters and a plain line saying
how much there is; the whole text opens in a ``TextViewer`` (a QPlainTextEdit, which lays
out only the lines in view).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QPlainTextEdit, QVBoxLayout, QWidget

SHOWN_MAX = 64 * 1024  # characters of one field laid out in a label or a bubble
CUT_MARK = "\u2026 (cut: "


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

    Esc closes it (QDialog's own key); it deletes itself when closed.
    """

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor = QPlainTextEdit(readOnly=True)
        self.editor.setAccessibleName(title)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))
        # Qt turns "\r\n" into one break; the text is shown, never edited.
        self.editor.setPlainText(text)
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor)
        self.resize(720, 540)

    def text(self) -> str:
        """The text shown."""
        return self.editor.toPlainText()


def show_all(title: str, text: str, parent: QWidget | None = None) -> TextViewer:
    """Open ``text`` whole in a non-modal viewer over ``parent``'s window."""
    viewer = TextViewer(title, text, parent.window() if parent is not None else None)
    viewer.show()
    viewer.raise_()
    viewer.activateWindow()
    return viewer
