"""The window on a team's PostgreSQL database: the same list, sorts, filters and search as
on an SQLite file with the same calls, driven by the keyboard and the header."""

from __future__ import annotations

import os
import threading
import time

import psycopg
from PySide6.QtCore import QPoint, Qt

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from team_archive import AUDIO, archive_one
from windows import detail_follows, open_window

from callviewer.columns import COLUMNS


def shown(qtbot, window) -> list[tuple]:
    """Every row of the list as displayed, with its call id (once read: off the window's
    thread); not the calls' statistics, which each window's background pass measures in
    its own time."""
    model = window.model
    qtbot.waitUntil(lambda: not model.stale)
    model.start_count()
    qtbot.waitUntil(lambda: model.total is not None)
    qtbot.waitUntil(lambda: None not in [model.call_id(row) for row in range(model.rowCount())])
    return [(model.call_id(row), *(model.index(row, column).data()
                                   for column in range(model.columnCount())
                                   if not COLUMNS[column].stats))
            for row in range(model.rowCount())]


def click_header(qtbot, window, column: int) -> None:
    header = window.table.horizontalHeader()
    middle = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(middle, header.height() // 2))


def search(qtbot, window, text: str) -> None:
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    window.filters.search.selectAll()
    spec = window.model.spec
    qtbot.keyClicks(window.filters.search, text)
    qtbot.waitUntil(lambda: window.model.spec != spec)


def test_every_sort_filter_and_search_lists_what_the_sqlite_file_lists(
        qtbot, db, team_db, tmp_path):
    local = open_window(qtbot, db, tmp_path / "local")
    team = open_window(qtbot, team_db, tmp_path / "team")
    assert team.store.path is None
    assert shown(qtbot, team) == shown(qtbot, local) and len(shown(qtbot, team)) > 10

    steps = [
        lambda window: click_header(qtbot, window, 3),  # who
        lambda window: click_header(qtbot, window, 3),  # who, the other way
        lambda window: click_header(qtbot, window, 4),  # duration
        lambda window: click_header(qtbot, window, 6),  # score: NULLs on both engines
        lambda window: click_header(qtbot, window, 6),
        lambda window: search(qtbot, window, "appoint"),  # a prefix, as typed
        lambda window: search(qtbot, window, "natarajan"),
        lambda window: search(qtbot, window, "ZOE"),  # case and accents ignored
        lambda window: qtbot.keyClick(window.filters.search, Qt.Key.Key_Escape),
        lambda window: _choose(qtbot, window.filters.outcome),
        lambda window: _choose(qtbot, window.filters.direction),
        lambda window: _choose(qtbot, window.filters.done),
        lambda window: _choose(qtbot, window.filters.recording),
        lambda window: qtbot.mouseClick(window.filters.deleted, Qt.MouseButton.LeftButton),
    ]
    for number, step in enumerate(steps):
        for window in (local, team):
            step(window)
        assert team.model.spec == local.model.spec, number
        assert shown(qtbot, team) == shown(qtbot, local), f"step {number}: {team.model.spec}"
        assert team.count_label.text() == local.count_label.text()


def _choose(qtbot, combo) -> None:
    """The next choice of a filter's menu, by the keyboard."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)


def test_the_current_call_stays_through_a_filter_and_the_detail_follows(
        qtbot, team_db, tmp_path):
    window = open_window(qtbot, team_db, tmp_path)
    for _ in range(3):
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
    current = window.current_call_id()
    detail_follows(qtbot, window)
    assert window.detail.current_call_id == current
    with qtbot.waitSignal(window.model.modelReset):  # the new spec's rows, read off this thread
        qtbot.mouseClick(window.filters.deleted, Qt.MouseButton.LeftButton)
    assert window.model.spec.include_deleted
    detail_follows(qtbot, window)
    assert window.current_call_id() == window.detail.current_call_id == current
    qtbot.keyClick(window.table, Qt.Key.Key_End)
    detail_follows(qtbot, window)
    assert window.detail.current_call_id == window.model.call_id(window.model.rowCount() - 1)


def test_a_recording_from_the_team_archive_is_fetched_while_the_window_goes_on(
        qtbot, team_db, tmp_path):
    window = open_window(qtbot, team_db, tmp_path)
    store, now_playing = window.store, window.now_playing
    # Another desktop downloaded a call's recording into the team's archive; this desktop
    # has no copy of it yet.
    call_id = archive_one(store, source_id="archived")
    copy = store.archive.folder / "agent-platform" / "archived.mp3"
    copy.unlink()
    # Another session holds the archive's table from before the call is current: the
    # detail's waveform fetches the recording too, and must not have cached it before Space.
    holder = psycopg.connect(team_db.replace("+psycopg", "", 1))
    holder.execute("LOCK TABLE recording_files IN ACCESS EXCLUSIVE MODE")
    release = threading.Timer(2, holder.rollback)
    try:
        window.refresh()
        window.show_in_list(call_id)
        qtbot.waitUntil(lambda: window.current_call_id() == call_id)  # found off this thread
        row = window.table.currentIndex().row()
        assert not copy.exists()
        release.start()  # the fetch waits 2 s from Space for the table
        began = time.monotonic()
        qtbot.keyClick(window.table, Qt.Key.Key_Space)
        assert time.monotonic() - began < 1  # Space came back before the bytes
        assert now_playing.call_id == call_id and now_playing.state == "loading"
        qtbot.keyClick(window.table, Qt.Key.Key_Up)  # the window goes on meanwhile
        detail_follows(qtbot, window)
        assert window.detail.current_call_id == window.model.call_id(row - 1)
        qtbot.waitUntil(lambda: now_playing.state == "playing", timeout=15_000)
        assert time.monotonic() - began >= 2
    finally:
        release.cancel()
        if release.is_alive():
            release.join()
        holder.rollback()  # again when the timer's has been: nothing to undo
        holder.close()
    assert now_playing.call_id == call_id
    assert copy.read_bytes() == AUDIO  # fetched into this desktop's cache, whole
    now_playing.stop()
