"""Preferences: what a person sets once and keeps (QSettings)."""

from __future__ import annotations

import getpass

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

AUTHOR_KEY = "notes/author"


def login_name() -> str:
    """The operating system's name for the person at the keyboard."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "Me"


def note_author(settings: QSettings) -> str:
    """Who writes notes: the name set in Preferences, else the login name."""
    return str(settings.value(AUTHOR_KEY, "") or "").strip() or login_name()


class PreferencesDialog(QDialog):
    """Edits the settings in place when accepted."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Preferences")
        self.author = QLineEdit(str(settings.value(AUTHOR_KEY, "") or ""))
        self.author.setPlaceholderText(login_name())
        self.author.setAccessibleName("Note author")
        self.author.setClearButtonEnabled(True)
        hint = QLabel("Shown on the notes you write. Empty: your login name.")
        hint.setWordWrap(True)
        hint.setEnabled(False)
        form = QFormLayout()
        form.addRow("Note &author:", self.author)
        form.addRow("", hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(420, self.sizeHint().height())

    def accept(self) -> None:
        self.settings.setValue(AUTHOR_KEY, self.author.text().strip())
        self.settings.sync()
        super().accept()
