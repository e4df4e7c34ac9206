"""The main window driven by the keyboard, on real SQLite files made from the demo data."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import threading

from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QPushButton

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from windows import detail_follows, open_window

from callviewer.record import FIELDS
from callviewer.store import NEW_NOTE, Store
from callviewer.ui.call_model import PAGE
from callviewer.ui.list_reads import FIRST
from callviewer.ui.tasks import Lane
from callviewer.ui.window import MainWindow


def newest_first(path) -> list[tuple[int, str | None]]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT id, customer_name FROM calls WHERE deleted_at IS NULL "
                        "ORDER BY started_at DESC, id DESC").fetchall()
    conn.close()
    return rows


def current_row(window) -> int:
    return window.table.currentIndex().row()


def test_a_cold_start_puts_the_newest_call_current_and_the_detail_follows(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    calls = newest_first(db)
    assert window.table.hasFocus()
    assert current_row(window) == 0
    assert window.detail.current_call_id == calls[0][0]
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    detail_follows(qtbot, window)
    assert window.detail.current_call_id == calls[2][0]
    expected_name = calls[2][1] or window.detail.fields["Number"].text()
    assert window.detail.name.text() == expected_name
    qtbot.waitUntil(lambda: window.count_label.text() == f"{len(calls)} calls")


def test_home_and_end_go_to_the_first_and_last_call_not_across_columns(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    calls = newest_first(db)
    column = window.table.currentIndex().column()
    qtbot.keyClick(window.table, Qt.Key.Key_End)
    assert current_row(window) == len(calls) - 1
    assert window.table.currentIndex().column() == column
    detail_follows(qtbot, window)
    assert window.detail.current_call_id == calls[-1][0]
    qtbot.keyClick(window.table, Qt.Key.Key_Home)
    assert current_row(window) == 0
    qtbot.keyClick(window.table, Qt.Key.Key_PageDown)
    assert current_row(window) > 5


def test_enter_goes_into_the_detail_and_esc_comes_back(qtbot, db, tmp_path):
    conn = sqlite3.connect(db)
    bare, talked = (conn.execute(
        "SELECT id FROM calls WHERE deleted_at IS NULL AND coalesce(transcript, '[]') "
        f"{op} '[]' ORDER BY started_at DESC, id DESC LIMIT 1").fetchone()[0]
        for op in ("=", "!="))
    conn.close()
    window = open_window(qtbot, db, tmp_path)
    window._select(bare)
    qtbot.waitUntil(lambda: window.current_call_id() == bare, timeout=5_000)
    detail_follows(qtbot, window)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)  # a call without a transcript
    assert window.detail.isAncestorOf(window.focusWidget())
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Escape)
    assert window.table.hasFocus()
    window._select(talked)  # one with a transcript
    qtbot.waitUntil(lambda: window.current_call_id() == talked, timeout=5_000)
    detail_follows(qtbot, window)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    assert window.detail.transcript_view.list_view.hasFocus()
    qtbot.keyClick(window.detail.transcript_view.list_view, Qt.Key.Key_Escape)
    assert window.table.hasFocus()


def test_alt_down_moves_to_the_next_call_from_the_search_field(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.filters.search.hasFocus()
    qtbot.keyClick(window.filters.search, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert current_row(window) == 1


def test_search_narrows_the_list_and_esc_clears_it(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    total = len(newest_first(db))
    qtbot.keyClick(window.table, Qt.Key.Key_Slash)
    assert window.filters.search.hasFocus()
    qtbot.keyClicks(window.filters.search, "natara")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    qtbot.waitUntil(lambda: window.detail.name.text() == "Priya Natarajan")
    assert window.count_label.text() == "1 call · filtered"
    qtbot.keyClick(window.filters.search, Qt.Key.Key_Escape)
    assert window.table.hasFocus()
    qtbot.waitUntil(lambda: window.model.rowCount() == total)
    assert window.detail.name.text() == "Priya Natarajan"  # the current call stays current


def test_a_list_longer_than_a_page_is_counted_once_it_has_painted(qtbot, tmp_path):
    path = tmp_path / "many.sqlite3"
    calls = PAGE * 2 + 50
    with Store(str(path)) as store:
        store.calls.write_records([{"source": "wavekat", "source_id": f"c{i}",
                              "started_at": 1_700_000_000_000_000 + i * 60_000_000}
                             for i in range(calls)])
    window = MainWindow.over(Store(str(path)), QSettings(str(tmp_path / "settings.ini"),
                                                         QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    qtbot.wait(300)  # not shown, so not painted: the count waits
    assert window.count_label.text() == "Counting calls…"
    assert window.model.rowCount() == FIRST
    with qtbot.waitActive(window):
        window.show()
    qtbot.waitUntil(lambda: window.count_label.text() == f"{calls} calls")
    assert window.model.rowCount() == calls
    qtbot.keyClick(window.table, Qt.Key.Key_End)
    assert window.table.currentIndex().row() == calls - 1


def test_end_before_the_count_counts_there_and_then(qtbot, tmp_path):
    path = tmp_path / "many.sqlite3"
    with Store(str(path)) as store:
        store.calls.write_records([{"source": "wavekat", "source_id": f"c{i}"}
                             for i in range(PAGE + 1)])
    window = open_window(qtbot, path, tmp_path)
    held = threading.Event()

    def hold_the_reads() -> None:  # from the new spec's first rows on: its count waits
        window.model.modelReset.disconnect(hold_the_reads)
        window.tasks.run(lambda: held.wait(10), lane=Lane.READ, name="holding the reads")

    window.model.modelReset.connect(hold_the_reads)
    window.filters.deleted.setChecked(True)  # a new spec
    qtbot.waitUntil(lambda: window.count_label.text() == "Counting calls… · filtered")
    qtbot.keyClick(window.table, Qt.Key.Key_End)
    assert window.table.currentIndex().row() < PAGE  # the last row is not known yet
    held.set()
    qtbot.waitUntil(lambda: window.table.currentIndex().row() == PAGE)
    assert window.count_label.text() == f"{PAGE + 1:,} calls · filtered"


def test_no_match_says_so_and_clear_filters_brings_the_calls_back(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_Slash)
    qtbot.keyClicks(window.filters.search, "xylophone")
    qtbot.waitUntil(lambda: window.list_stack.currentWidget() is window.empty)
    assert window.empty.title.text() == "No calls match"
    assert window.empty.clear_button.isVisible()
    qtbot.mouseClick(window.empty.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.list_stack.currentWidget() is window.table)
    assert window.model.rowCount() == len(newest_first(db))


def test_an_empty_store_offers_import_and_demo(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path / "empty.sqlite3", tmp_path)
    assert window.list_stack.currentWidget() is window.empty
    assert window.empty.title.text() == "No calls yet"
    assert window.empty.demo_button.isVisible() and window.empty.import_button.isVisible()
    # A third of the free space above the panel, two below: not stuck to the top.
    above = window.empty.title.y()
    below = window.empty.height() - window.empty.demo_button.geometry().bottom()
    assert 0.4 < above / below < 0.6
    qtbot.mouseClick(window.empty.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.rowCount() >= 30, timeout=20_000)
    assert window.list_stack.currentWidget() is window.table
    qtbot.waitUntil(lambda: window.summary.isVisible())
    assert "rejected" in window.summary.text()


def test_ctrl_d_marks_the_call_done_in_the_list_and_the_detail(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    done_column = 7
    before = window.model.index(0, done_column).data()
    after = "" if before else "✓"
    qtbot.keyClick(window.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    shown = window.detail.fields["Done"].text()  # at once, before the write lands
    qtbot.waitUntil(lambda: window.model.index(0, done_column).data() == after)
    if after:  # who marked it, and when
        assert shown.startswith(f"Yes · marked by {window.author()}, ")
    else:
        assert shown == "No"
    assert window.store.calls.get(window.current_call_id()).done == bool(after)


def test_a_note_being_typed_survives_a_kill_and_comes_back(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    call_id = window.current_call_id()
    qtbot.keyClick(window.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    editor = window.detail.notes_panel.editor
    qtbot.waitUntil(editor.hasFocus)  # once the call's detail has arrived
    qtbot.keyClicks(editor, "Call back on <b>Tuesday</b>")
    # No close, no flush: what a killed process leaves is what reached the database.
    with Store(str(db)) as other:
        qtbot.waitUntil(lambda: other.notes.drafts_of(call_id).get(NEW_NOTE) is not None,
                        timeout=1500)
        assert other.notes.drafts_of(call_id)[NEW_NOTE].body == "Call back on <b>Tuesday</b>"
    again = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(again.table, Qt.Key.Key_Down)
    detail_follows(qtbot, again)
    assert again.detail.notes_panel.editor.toPlainText() == "Call back on <b>Tuesday</b>"


def test_ctrl_enter_saves_the_note_and_the_notes_column_counts_it(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    editor = window.detail.notes_panel.editor
    qtbot.keyClicks(editor, "Left a voicemail")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert editor.toPlainText() == ""
    assert window.detail.notes_panel.title.text() == "Notes (1)"  # at once, as saving
    assert window.tasks.wait(Lane.WRITE, 5000)
    notes = window.store.notes.of(window.current_call_id())
    assert [n.body for n in notes] == ["Left a voicemail"]
    qtbot.waitUntil(lambda: window.model.index(0, 8).data() == "1")
    assert window.detail.notes_panel.title.text() == "Notes (1)"
    window.detail.notes_panel.delete(notes[0].id)
    assert window.detail.notes_panel.title.text() == "Notes"  # at once
    assert window.tasks.wait(Lane.WRITE, 5000)
    assert window.store.notes.of(window.current_call_id()) == []
    qtbot.mouseClick(window.detail.notes_panel.undo_button, Qt.MouseButton.LeftButton)
    assert window.detail.notes_panel.title.text() == "Notes (1)"  # at once
    assert window.tasks.wait(Lane.WRITE, 5000)
    assert [n.body for n in window.store.notes.of(window.current_call_id())] == [
        "Left a voicemail"]


def test_html_in_a_transcript_shows_as_text(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_Slash)
    qtbot.keyClicks(window.filters.search, "onerror")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    detail_follows(qtbot, window)
    model = window.detail.transcript_view.model
    texts = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert any("<b>bold</b>" in text and "<img src=x" in text for text in texts)


def test_export_writes_the_filtered_list_with_the_canonical_fields(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    window.filters.outcome.set_chosen({"missed"})
    with qtbot.waitSignal(window.model.modelReset):
        window.filters.changed.emit()
    target = tmp_path / "missed.csv"
    counts = []
    window.export_to(target, counts.append)  # off the window's thread
    qtbot.waitUntil(lambda: bool(counts), timeout=10_000)
    with target.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert counts == [len(rows)] and len(rows) == window.model.rowCount() > 0
    assert window.statusBar().currentMessage() == f"Exported {len(rows):,} calls to {target}"
    assert tuple(rows[0]) == FIELDS
    assert {row["outcome"] for row in rows} == {"missed"}


def test_sort_and_filters_are_remembered(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    window.table.horizontalHeader().setSortIndicator(3, Qt.SortOrder.AscendingOrder)
    window.filters.direction.setCurrentIndex(2)
    window.filters.changed.emit()
    window.close()
    again = open_window(qtbot, db, tmp_path)
    assert (again.model.spec.sort, again.model.spec.descending) == ("who", False)
    assert again.model.spec.directions == frozenset({"outbound"})


def test_preferences_set_the_author_of_new_notes(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.preferences
    qtbot.waitUntil(dialog.isVisible)
    qtbot.waitUntil(dialog.author.hasFocus)
    qtbot.keyClicks(dialog.author, "Dana at the front desk")
    qtbot.keyClick(dialog.author, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    qtbot.keyClick(window.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    editor = window.detail.notes_panel.editor
    qtbot.keyClicks(editor, "Sent the quote")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.tasks.wait(Lane.WRITE, 5000)
    notes = window.store.notes.of(window.current_call_id())
    assert [(n.author, n.body) for n in notes] == [("Dana at the front desk",
                                                    "Sent the quote")]


def drop(window, *paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    action = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(QPoint(200, 200), action, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(200, 200), action, mime,
                                              Qt.MouseButton.LeftButton,
                                              Qt.KeyboardModifier.NoModifier))


def test_dropping_a_folder_imports_it_keeps_the_current_call_and_lists_the_rejects(
        qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    for _ in range(5):
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
    call_id, rows = window.current_call_id(), window.model.rowCount()
    folder = tmp_path / "dropped"
    folder.mkdir()
    good = {"sourceId": "wk-dropped", "accountId": "acct-1", "direction": "inbound",
            "party": "<+14155550999>", "ringAt": "2025-01-02T10:00:00.000Z",
            "endAt": "2025-01-02T10:01:00.000Z", "disposition": "answered"}
    bad = {**good, "sourceId": "wk-bad", "endAt": "yesterday"}
    (folder / "calls.ndjson").write_text(f"{json.dumps(good)}\n{json.dumps(bad)}\n")
    drop(window, folder)
    qtbot.waitUntil(lambda: getattr(window, "summary", None) is not None
                    and window.summary.isVisible(), timeout=10_000)
    assert window.summary.text().startswith("1 new, 0 updated, 0 unchanged, 1 rejected")
    detail = window.summary.detailedText()
    assert f"{folder / 'calls.ndjson'} line 2 (source_id wk-bad): field 'endAt'" in detail
    qtbot.waitUntil(lambda: window.model.rowCount() == rows + 1)  # read again, off this thread
    assert window.current_call_id() == call_id
    assert current_row(window) == 5


def test_a_new_sort_shows_its_first_call_and_a_refresh_keeps_the_current_one(
        qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    for _ in range(4):
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
    call_id = window.current_call_id()
    with qtbot.waitSignal(window.model.modelReset):
        window.refresh()
    assert (current_row(window), window.current_call_id()) == (4, call_id)
    with qtbot.waitSignal(window.model.modelReset):
        window.table.horizontalHeader().setSortIndicator(4, Qt.SortOrder.DescendingOrder)
    longest = sqlite3.connect(db).execute(
        "SELECT id FROM calls WHERE deleted_at IS NULL "
        "ORDER BY duration_ms DESC, started_at DESC, id DESC LIMIT 1").fetchone()[0]
    assert current_row(window) == 0
    detail_follows(qtbot, window)
    assert window.current_call_id() == window.detail.current_call_id == longest


def test_tab_walks_list_detail_notes_and_filters_and_every_stop_has_a_name(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    while window.store.calls.get(window.current_call_id()).transcript is None:
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
    detail_follows(qtbot, window)
    names = []
    for _ in range(18):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        names.append(focused.accessibleName() or getattr(focused, "text", lambda: "")())
    assert all(names), names
    # The position slider takes part once the call plays.
    assert names[:8] == ["Call overview", "Play", "Speed", "Volume",
                         "Transcript messages", "Notes", "New note", "Save note"]
    assert names[8:10] == ["Search calls", "Date range"]
    assert "Calls" in names[10:]


def test_tab_reaches_ones_own_notes_edit_button_and_space_edits_it(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    panel = window.detail.notes_panel
    qtbot.keyClick(window.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(panel.editor, "Ring back after lunch")
    qtbot.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(button.text() == "Edit" and button.isVisible()
                                for button in panel.findChildren(QPushButton)))
    window.table.setFocus()
    stops = []
    for _ in range(30):  # from the list, Tab by Tab, to the note's Edit
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        stops.append(QApplication.focusWidget())
        if stops[-1].accessibleName() == f"Edit the note by {window.author()}":
            break
    else:
        raise AssertionError("Tab never reached the note's Edit button")
    assert panel.editor not in stops  # the note's buttons come before the editor
    qtbot.keyClick(stops[-1], Qt.Key.Key_Space)
    assert panel.editor.toPlainText() == "Ring back after lunch"
    assert panel.editor.hasFocus()
