"""The list model: data() never reads; pages arrive from the READ lane and fill their
placeholder rows; a new spec drops the last one's reads; a failing database is tried again
with backoff, said once. On real SQLite files, and a real PostgreSQL server stopped."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from callviewer.columns import AT
from callviewer.listing import ListSpec
from callviewer.store import Store
from callviewer.ui.call_model import CALL_ID_ROLE, PAGE, PLACEHOLDER, CallListModel
from callviewer.ui.list_reads import FIRST, RETRY_FIRST_MS
from callviewer.ui.tasks import Lane

CALLS = PAGE * 2 + 50
STARTED = AT["started"]
BASE = 1_700_000_000_000_000


def write_calls(url: str, count: int = CALLS) -> None:
    with Store(url) as store:
        store.calls.write_records([{"source": "wavekat", "source_id": f"c{i}",
                              "started_at": BASE + i * 60_000_000,
                              "outcome": "missed" if i % 3 else "answered"}
                             for i in range(count)])


def newest_first(path) -> list[int]:
    conn = sqlite3.connect(path)
    ids = [row[0] for row in conn.execute("SELECT id FROM calls WHERE deleted_at IS NULL "
                                          "ORDER BY started_at DESC, id DESC")]
    conn.close()
    return ids


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "calls.sqlite3"
    write_calls(str(path))
    return path


def open_model(qtbot, database, tasks) -> CallListModel:
    model = CallListModel(database, tasks)
    model.set_spec(ListSpec())  # the first, read here
    return model


def counted(qtbot, model: CallListModel) -> None:
    model.start_count()
    qtbot.waitUntil(lambda: model.total is not None, timeout=5_000)


def painted(qtbot, model: CallListModel, row: int) -> QTableView:
    """A view showing `row`, painted once (data() for every cell it shows)."""
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    view.scrollTo(model.index(row, 0), QTableView.ScrollHint.PositionAtTop)
    view.grab()  # painted here and now: data() for every role of every cell shown
    return view


def test_the_model_keeps_qts_rules_with_pages_still_to_read(qtbot, qtmodeltester, db, tasks):
    model = open_model(qtbot, db, tasks)
    counted(qtbot, model)
    qtmodeltester.check(model)  # most rows placeholders, their pages asked meanwhile
    tasks.wait(Lane.READ, 5_000)
    qtmodeltester.check(model)
    model.close()


def test_an_unread_row_is_a_placeholder_until_its_page_arrives(qtbot, db, tasks):
    model = open_model(qtbot, db, tasks)
    counted(qtbot, model)
    assert model.rowCount() == CALLS
    row = PAGE + 7
    index = model.index(row, STARTED)
    with qtbot.waitSignal(model.dataChanged, timeout=5_000) as arrived:
        assert index.data() == PLACEHOLDER  # answered at once: data() does not read
        assert index.data(CALL_ID_ROLE) is None
        assert model.call_id(row) is None
    first, last = arrived.args[:2]
    assert first.row() == PAGE <= row <= last.row() == 2 * PAGE - 1
    assert model.call_id(row) == newest_first(db)[row]
    assert index.data() not in ("", PLACEHOLDER)
    model.close()


def test_a_page_is_asked_once_however_many_cells_ask(qtbot, db, tasks, monkeypatch):
    model = open_model(qtbot, db, tasks)
    counted(qtbot, model)
    reads = spy_on_reads(tasks, monkeypatch)
    for _ in range(3):
        painted(qtbot, model, PAGE + 10)  # every cell of ~10 rows, every role, three times
    tasks.wait(Lane.READ, 5_000)
    qtbot.waitUntil(lambda: model.call_id(PAGE + 10) is not None, timeout=5_000)
    assert reads.count("reading the calls") == 1
    model.close()


def test_a_new_spec_drops_the_pages_asked_for_the_last(qtbot, db, tasks):
    model = open_model(qtbot, db, tasks)
    counted(qtbot, model)
    held = block_the_read_lane(tasks)
    assert model.index(PAGE + 3, STARTED).data() == PLACEHOLDER  # asked, waiting in line
    changed = []
    model.dataChanged.connect(lambda *args: changed.append(args))
    missed = ListSpec(outcomes=frozenset({"missed"}))
    model.set_spec(missed)
    assert model.spec == missed
    assert model.call_id(0) == newest_first(db)[0]  # the last spec's rows, until the new
    with qtbot.waitSignal(model.modelReset, timeout=5_000):
        held.set()
    tasks.wait(Lane.READ, 5_000)
    qtbot.wait(50)  # a late answer would be delivered by now
    assert changed == []  # the old page never landed
    conn = sqlite3.connect(db)
    want = [row[0] for row in conn.execute(
        "SELECT id FROM calls WHERE outcome = 'missed' ORDER BY started_at DESC, id DESC")]
    conn.close()
    assert [model.call_id(row) for row in range(model.rowCount())] == want[:FIRST]
    model.close()


def test_a_new_specs_first_read_is_a_screenful_and_its_page_follows_when_shown(
        qtbot, db, tasks, monkeypatch):
    """The first read of a spec brings FIRST rows (a walked search tests a third of the
    calls a page costs); a row past them is a placeholder until the rest of the first
    page is read, once, and then every row of it is there, in order."""
    model = open_model(qtbot, db, tasks)
    assert FIRST < PAGE and model.rowCount() == FIRST and model.total is None
    counted(qtbot, model)
    want = newest_first(db)
    assert [model.call_id(row) for row in range(FIRST)] == want[:FIRST]
    reads = spy_on_reads(tasks, monkeypatch)
    index = model.index(FIRST + 5, STARTED)
    with qtbot.waitSignal(model.dataChanged, timeout=5_000) as arrived:
        assert index.data() == PLACEHOLDER
        assert model.index(FIRST + 6, STARTED).data() == PLACEHOLDER  # asked once
    first, last = arrived.args[:2]
    assert (first.row(), last.row()) == (0, PAGE - 1)
    assert [model.call_id(row) for row in range(PAGE)] == want[:PAGE]
    assert reads.count("reading the calls") == 1
    model.close()


def test_locate_past_a_new_specs_first_rows_brings_their_whole_page(qtbot, db, tasks):
    model = open_model(qtbot, db, tasks)
    counted(qtbot, model)
    wanted = newest_first(db)[FIRST + 10]
    found = []
    model.locate(wanted, found.append)
    qtbot.waitUntil(lambda: bool(found), timeout=5_000)
    assert found == [FIRST + 10]
    assert model.call_id(FIRST + 10) == wanted  # no placeholder: the page came with it
    model.close()


def test_locate_moves_to_a_row_past_the_count_once_counted(qtbot, db, tasks):
    model = open_model(qtbot, db, tasks)
    assert model.total is None and model.rowCount() == FIRST
    oldest = newest_first(db)[-1]
    found = []
    model.locate(oldest, found.append)  # its page is read with its row
    qtbot.waitUntil(lambda: bool(found), timeout=5_000)
    assert found == [CALLS - 1]
    assert model.total == CALLS
    assert model.call_id(CALLS - 1) == oldest  # no placeholder: its page came along
    gone = []
    model.locate(10**9, gone.append)
    qtbot.waitUntil(lambda: bool(gone), timeout=5_000)
    assert gone == [None]
    model.close()


def test_when_counted_counts_without_waiting_for_a_paint(qtbot, db, tasks):
    model = open_model(qtbot, db, tasks)
    totals = []
    model.when_counted(totals.append)
    qtbot.waitUntil(lambda: bool(totals), timeout=5_000)
    assert totals == [CALLS] and model.rowCount() == CALLS


def test_a_database_that_cannot_be_read_is_tried_again_with_backoff_and_said_once(
        qtbot, tmp_path, tasks, monkeypatch):
    path = tmp_path / "calls.sqlite3"
    path.write_bytes(b"not a database " * 512)
    reads = spy_on_reads(tasks, monkeypatch)
    said = []
    model = CallListModel(path, tasks)
    model.read_failed.connect(said.append)
    model.set_spec(ListSpec())  # fails here, at once
    assert model.rowCount() == 0
    qtbot.wait(RETRY_FIRST_MS * 3 + 200)  # tried again after 0.5 s, then 1 s
    assert reads.count("reading the calls") == 2
    assert len(said) == 1 and "could not be read" in said[0]
    good = tmp_path / "good.sqlite3"
    write_calls(str(good), 5)
    os.replace(good, path)
    qtbot.waitUntil(lambda: model.rowCount() == 5, timeout=5_000)  # the next step reads it
    assert len(said) == 1
    model.close()


def test_a_server_gone_while_painting_is_asked_once_per_backoff_step(
        qtbot, postgres, postgres_url, tasks, monkeypatch):
    """One paint of an unread page made 252 page queries and 126 reconnects."""
    write_calls(postgres_url)
    model = open_model(qtbot, postgres_url, tasks)
    counted(qtbot, model)
    said = []
    model.read_failed.connect(said.append)
    reads = spy_on_reads(tasks, monkeypatch)
    postgres.halt()
    try:
        view = painted(qtbot, model, PAGE + 20)
        qtbot.waitUntil(lambda: len(said) == 1, timeout=5_000)
        for _ in range(5):
            view.grab()  # more paints of the same placeholders: no new reads
        qtbot.wait(RETRY_FIRST_MS * 3 + 200)
        assert reads.count("reading the calls") == 3  # at once, after 0.5 s, after 1 s more
        assert len(said) == 1
        assert model.call_id(PAGE + 20) is None
    finally:
        postgres.start()
    qtbot.waitUntil(lambda: model.call_id(PAGE + 20) is not None, timeout=10_000)
    assert len(said) == 1
    model.close()


def spy_on_reads(tasks, monkeypatch) -> list[str]:
    """The names of the tasks started on `tasks` from now on (the runner runs them)."""
    names: list[str] = []
    run = tasks.run

    def counting(work, *args, **kwargs):
        names.append(kwargs.get("name", ""))
        return run(work, *args, **kwargs)

    monkeypatch.setattr(tasks, "run", counting)
    return names


def block_the_read_lane(tasks) -> threading.Event:
    """Hold the READ lane until the event returned is set (at most 10 s)."""
    held, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        held.wait(10)

    tasks.run(hold, lane=Lane.READ, name="holding the lane")
    assert started.wait(5)
    return held


def test_the_columns_cells_and_headers_come_from_their_declarations(qtbot, db, tasks):
    from callviewer.columns import COLUMNS

    model = open_model(qtbot, db, tasks)
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in range(len(COLUMNS))] == \
        [column.header for column in COLUMNS]
    assert [model.headerData(i, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
            for i in range(len(COLUMNS))] == [column.tip for column in COLUMNS]
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert model.index(0, AT["duration"]).data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert model.index(0, AT["outcome"]).data() in ("Missed", "Answered")
    assert model.index(0, AT["notes"]).data(Qt.ItemDataRole.ToolTipRole) == "No notes"
    model.sort(AT["who"], Qt.SortOrder.AscendingOrder)
    assert (model.spec.sort, model.spec.descending) == ("who", False)
    model.close()
