"""A number pasted into the window's search as people write it finds the call (issue 24;
the SQL on both engines: tests/unit/test_number_search.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from windows import open_window

from callviewer.record import message
from callviewer.store import Store


def test_a_pasted_national_number_finds_the_e164_call(qtbot, tmp_path):
    path = tmp_path / "calls.sqlite3"
    with Store(str(path)) as store:
        store.calls.write_records([
            {"source": "vapi", "source_id": name, "customer_name": name,
             "customer_number": number, "from_number": number, "to_number": "+14155550000",
             "started_at": 1_700_000_000_000_000 + i, "summary": f"{name} called",
             "transcript": [message("customer", "Hello")]}
            for i, (name, number) in enumerate([("Ann Lee", "+14155550101"),
                                                ("Bob Stone", "+14155559999")])])
    window = open_window(qtbot, path, tmp_path)
    window.resize(1280, 800)
    qtbot.keyClick(window.table, Qt.Key.Key_Slash)
    qtbot.keyClicks(window.filters.search, "(415) 555-0101")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: window.detail.name.text() == "Ann Lee", timeout=5000)
    assert window.count_label.text() == "1 call · filtered"
