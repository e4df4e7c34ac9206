"""The list's reads: a new spec's first page does not wait for the last spec's reads.

READ is one thread: a count or a call's row still being read for the last spec held the
lane, and the new spec's first page waited behind it (a count of a common word takes
seconds, a call's row among many a while). On a real SQLite file; the read under way is
a real query that runs until it is stopped (or 5 s have passed), put where the model's
own count or row look-up runs.
"""

from __future__ import annotations

import threading
import time

import pytest
from test_call_model import write_calls

from callviewer.listing import ListSpec
from callviewer.ui.call_model import CallListModel
from callviewer.ui.tasks import JOB_THREADS, Lane

RUNS_S = 5  # how long the query under way runs when nobody stops it


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "calls.sqlite3"
    write_calls(str(path), 50)
    return path


def start_endless_read(tasks, reader) -> threading.Event:
    """A read on `reader` (one of the model's connections), on the READ lane, running
    when this returns; the event is the one canceling it (as a task of ListReads)."""
    running, canceled = threading.Event(), threading.Event()
    until = time.monotonic() + RUNS_S

    def endless(conn):
        conn.create_function("going", 0, lambda: running.set() or time.monotonic() < until)
        return conn.execute("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                            "WHERE going()) SELECT count(*) FROM n").fetchone()[0]

    task = tasks.run(lambda: reader.read(endless, canceled=canceled), lane=Lane.READ,
                     name="a long read", canceled=canceled)
    assert running.wait(5)
    return task


def hold_the_job_lane(tasks) -> threading.Event:
    """Every JOB thread busy until the event returned is set (a sync, an import…)."""
    held = threading.Event()
    for _ in range(JOB_THREADS):
        tasks.run(lambda: held.wait(10), lane=Lane.JOB, name="holding a job thread")
    return held


@pytest.mark.parametrize("read", ["count", "call's row"])
def test_a_new_spec_stops_the_last_specs_read_under_way_at_once(qtbot, db, tasks, read):
    model = CallListModel(db, tasks)
    model.set_spec(ListSpec())
    reads = model._reads
    held = hold_the_job_lane(tasks)  # where the reads used to be stopped from
    try:
        if read == "count":
            reads._counting = start_endless_read(tasks, reads._counts)
        else:
            reads._locating.add(start_endless_read(tasks, reads._pages))
        started = time.perf_counter()
        with qtbot.waitSignal(model.modelReset, timeout=2_000):
            model.set_spec(ListSpec(outcomes=frozenset({"missed"})))
        assert time.perf_counter() - started < 1
    finally:
        held.set()
    assert model.call_id(0) is not None
    model.close()
