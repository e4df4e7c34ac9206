"""Opening the real window on a database, for the window tests."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from callviewer.store import Store
from callviewer.ui.window import MainWindow


def open_window(qtbot, path, tmp_path):
    store = Store(str(path))
    window = MainWindow.over(store, QSettings(str(tmp_path / "settings.ini"),
                                         QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    return window


