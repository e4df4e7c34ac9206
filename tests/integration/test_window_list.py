"""The window's list off the window's thread: export as one background job, a call found
in the list when its page is not read, the Started cell a placeholder until then."""

from __future__ import annotations

import os
import sqlite3
import sys

from PySide6.QtCore import Qt

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from windows import detail_follows, open_window

from callviewer.columns import AT
from callviewer.store import Store
from callviewer.ui.call_model import PAGE, PLACEHOLDER


def test_an_export_that_cannot_be_written_says_so_in_the_status_bar(
        qtbot, db, tmp_path, monkeypatch):
    crashes = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: crashes.append(info))
    window = open_window(qtbot, db, tmp_path)
    target = tmp_path / "no such folder" / "calls.csv"
    written = []
    window.export_to(target, written.append)
    qtbot.waitUntil(lambda: "Could not write" in window.statusBar().currentMessage(),
                    timeout=10_000)
    assert str(target) in window.statusBar().currentMessage()
    assert written == [] and crashes == []  # the sentence, not the crash dialog


def test_a_call_past_the_pages_read_is_found_and_made_current(qtbot, tmp_path):
    path = tmp_path / "many.sqlite3"
    calls = PAGE * 3
    with Store(str(path)) as store:
        store.calls.write_records([{"source": "wavekat", "source_id": f"c{i}",
                                    "started_at": 1_700_000_000_000_000 + i * 60_000_000}
                                   for i in range(calls)])
    conn = sqlite3.connect(path)
    oldest = conn.execute("SELECT id FROM calls ORDER BY started_at, id LIMIT 1").fetchone()[0]
    conn.close()
    window = open_window(qtbot, path, tmp_path)
    assert window.model.row_of(oldest) is None  # not read yet, nor counted
    window.show_in_list(oldest)  # as a click on the player bar's caller
    qtbot.waitUntil(lambda: window.current_call_id() == oldest)
    assert window.table.currentIndex().row() == calls - 1
    assert window.model.index(calls - 1, AT["started"]).data() != PLACEHOLDER


def test_the_detail_follows_a_current_row_whose_page_was_not_read(qtbot, tmp_path):
    path = tmp_path / "many.sqlite3"
    with Store(str(path)) as store:
        store.calls.write_records([{"source": "wavekat", "source_id": f"c{i}",
                                    "started_at": 1_700_000_000_000_000 + i * 60_000_000}
                                   for i in range(PAGE * 2)])
    conn = sqlite3.connect(path)
    oldest = conn.execute("SELECT id FROM calls ORDER BY started_at, id LIMIT 1").fetchone()[0]
    conn.close()
    window = open_window(qtbot, path, tmp_path)
    qtbot.waitUntil(lambda: window.model.total == PAGE * 2)
    qtbot.keyClick(window.table, Qt.Key.Key_End)  # a row of a page not read yet
    assert window.table.currentIndex().row() == PAGE * 2 - 1
    qtbot.waitUntil(lambda: window.current_call_id() == oldest)
    detail_follows(qtbot, window)
