"""Help ▸ About: the version, where the data and the logs are, and which VLC plays."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from callviewer import __version__
from callviewer.paths import data_dir, log_dir
from callviewer.playback.vlc_player import PlayerUnavailable, vlc_version
from callviewer.ui.notes import plain_label


def vlc_line() -> str:
    """The libVLC version in use, or why there is none and how to get it."""
    try:
        return f"libVLC {vlc_version()}"
    except PlayerUnavailable as exc:
        return f"not found. {exc}"


class AboutDialog(QDialog):
    def __init__(self, database: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Call Viewer")
        title = plain_label(f"Call Viewer {__version__}")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.folders: dict[str, QPushButton] = {}
        rows = (("Database", database, None), ("Data folder", str(data_dir()), data_dir()),
                ("Log folder", str(log_dir()), log_dir()), ("Playback", vlc_line(), None))
        for row, (name, value, folder) in enumerate(rows):
            grid.addWidget(plain_label(name, muted=True), row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(plain_label(value), row, 1)
            if folder is not None:
                button = QPushButton("Open folder")
                button.setAccessibleName(f"Open the {name.lower()}")
                button.clicked.connect(lambda _=False, f=folder: open_folder(f))
                grid.addWidget(button, row, 2, Qt.AlignmentFlag.AlignTop)
                self.folders[name] = button
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        # Opened to be read and closed: Close has the keyboard (Enter, Space; Esc anywhere),
        # not the first "Open folder".
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(plain_label("Browse, play and annotate phone calls answered by people and "
                                "by AI voice agents.", muted=True))
        layout.addSpacing(8)
        layout.addLayout(grid)
        layout.addWidget(buttons)
        self.close_button.setFocus(Qt.FocusReason.OtherFocusReason)  # once in the dialog
        self.resize(620, self.sizeHint().height())


def open_folder(folder: Path) -> bool:
    """Show a folder in the file manager (made first, so there is something to show)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

