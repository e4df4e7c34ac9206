"""Opening the real window on a database, for the window tests."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from callviewer.playback.now_playing import PLAYING
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
    detail_follows(qtbot, window)
    return window


def detail_follows(qtbot, window, timeout: int = 5000) -> None:
    """Wait until the detail shows the list's current call (it is read in the background)."""
    qtbot.waitUntil(lambda: window.detail.current_call_id == window.current_call_id(),
                    timeout=timeout)




def go_to(qtbot, window, source_id: str, source: str = "agent-platform") -> int:
    """Make a demo call current (as the player bar's name does), its detail shown."""
    call_id = window.store.calls.id_of(source, source_id)
    window.show_in_list(call_id)
    qtbot.waitUntil(lambda: window.current_call_id() == call_id, timeout=3000)
    detail_follows(qtbot, window)
    return call_id


def play(qtbot, window, source_id: str, past_ms: int, timeout: int = 8000) -> int:
    """Make a demo call current and play it with Space until it is `past_ms` in."""
    call_id = go_to(qtbot, window, source_id)
    now = window.now_playing
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING and now.position > past_ms, timeout=timeout)
    return call_id
