"""The task runner: one answer per task on the GUI thread, expected errors as sentences,
bugs to the crash hook, cancel drops the answer, lanes keep their order, no thread left."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from callviewer.errors import ExpectedError
from callviewer.ui.tasks import Lane, TaskRunner


@pytest.fixture
def runner(qtbot):
    tasks = TaskRunner()
    yield tasks
    tasks.shutdown(5_000)


@pytest.fixture
def crashes(monkeypatch):
    """What reached sys.excepthook (the crash dialog), instead of the dialog."""
    seen: list = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: seen.append(value))
    return seen


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_the_answer_comes_on_the_gui_thread(runner, qtbot):
    answers = []
    gui = threading.current_thread()
    runner.run(lambda: threading.current_thread(),
               lambda worker: answers.append((worker, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(answers), timeout=5_000)
    worker, answered_on = answers[0]
    assert worker is not gui
    assert answered_on is gui


def test_an_expected_error_is_its_sentence_and_never_a_crash(runner, qtbot, crashes):
    failures = []

    def work():
        raise ExpectedError("The team's database cannot be reached; check the network.")

    runner.run(work, lambda _r: failures.append("done"), failed=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5_000)
    assert failures == ["The team's database cannot be reached; check the network."]
    assert crashes == []


def test_an_expected_error_nobody_takes_goes_to_the_problem_signal(runner, qtbot, crashes):
    def work():
        raise ExpectedError("The disk is full.")

    with qtbot.waitSignal(runner.problem, timeout=5_000) as said:
        runner.run(work, lambda _r: None)
    assert said.args == ["The disk is full."]
    assert crashes == []


def test_a_bug_goes_to_the_crash_hook_and_still_answers_its_caller(runner, qtbot, crashes):
    failures = []

    def work():
        raise RuntimeError("a bug")

    runner.run(work, lambda _r: None, failed=failures.append, name="the sync")
    qtbot.waitUntil(lambda: bool(failures), timeout=5_000)
    assert "could not finish the sync" in failures[0]
    assert [str(exc) for exc in crashes] == ["a bug"]


def test_a_canceled_task_answers_nothing_and_its_work_is_told(runner, qtbot):
    started, answers = threading.Event(), []
    stop = threading.Event()

    def work():
        started.set()
        assert stop.wait(5)
        return "finished"

    task = runner.run(work, answers.append, failed=answers.append, canceled=stop)
    assert started.wait(5)
    task.cancel()
    assert runner.wait(Lane.JOB, 5_000)
    qtbot.wait(50)  # any answer would have been queued by now
    assert answers == []
    assert not task.pending


def test_a_lane_of_one_keeps_the_order_writes_were_asked_in(runner, qtbot):
    order = []
    for n in range(50):
        runner.run(lambda n=n: (time.sleep(0.001 if n % 7 else 0.01), order.append(n)),
                   lane=Lane.WRITE)
    assert runner.wait(Lane.WRITE, 10_000)
    assert order == list(range(50))


def test_reads_do_not_wait_behind_a_long_write(runner, qtbot):
    release, answers = threading.Event(), []
    runner.run(lambda: release.wait(5), lane=Lane.WRITE)
    runner.run(lambda: "read", answers.append, lane=Lane.READ)
    qtbot.waitUntil(lambda: bool(answers), timeout=2_000)
    assert answers == ["read"]
    release.set()


def test_many_tasks_leave_no_thread_behind(runner, qtbot):
    before = threads()
    answers = []
    for n in range(300):
        runner.run(lambda n=n: n, answers.append, lane=(Lane.READ, Lane.WRITE, Lane.JOB)[n % 3])
    qtbot.waitUntil(lambda: len(answers) == 300, timeout=10_000)
    # Six pool threads at most (1 + 1 + 4), whatever the number of tasks.
    assert threads() - before <= 6
    assert not runner.busy()


def test_progress_reaches_the_gui_thread(runner, qtbot):
    seen = []
    report = runner.on_gui(lambda n: seen.append((n, threading.current_thread())))
    runner.run(lambda: [report(n) for n in range(3)])
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5_000)
    assert [n for n, _t in seen] == [0, 1, 2]
    assert {t for _n, t in seen} == {threading.current_thread()}


def test_shutdown_cancels_waits_within_its_limit_and_starts_nothing_more(qtbot):
    runner = TaskRunner()
    stop, answers = threading.Event(), []
    runner.run(lambda: stop.wait(30), answers.append, canceled=stop)
    started = time.monotonic()
    assert runner.shutdown(5_000)
    assert time.monotonic() - started < 2
    late = runner.run(lambda: answers.append("ran"))
    assert runner.wait(Lane.JOB, 1_000)
    qtbot.wait(50)
    assert answers == []
    assert not late.pending


def test_work_asked_to_stop_through_its_event_still_answers(runner, qtbot):
    stop, answers = threading.Event(), []
    runner.run(lambda: "stopped early" if stop.wait(5) else "ran out", answers.append,
               canceled=stop)
    stop.set()  # a sync's Cancel: stop after this page, say what was done
    qtbot.waitUntil(lambda: bool(answers), timeout=5_000)
    assert answers == ["stopped early"]


def test_shutdown_still_writes_what_was_asked_for(qtbot):
    runner = TaskRunner()
    release, written = threading.Event(), []
    runner.run(lambda: release.wait(5), lane=Lane.WRITE)  # a write under way
    for n in range(5):  # and five waiting behind it, as the window closes
        runner.run(lambda n=n: written.append(n), lane=Lane.WRITE)
    threading.Timer(0.2, release.set).start()  # the first write ends while closing
    assert runner.shutdown(5_000)
    assert written == [0, 1, 2, 3, 4]
