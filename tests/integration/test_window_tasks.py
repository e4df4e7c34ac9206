"""Background work in the window goes through one runner: a sync that dies of a bug does
not leave "Syncing…" behind, F5 and timed syncs go on, and syncs leave no thread behind.
A sync runs in a process of its own: killed, it is a sentence; the window closing in the
middle of one ends it."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from contextlib import suppress
from pathlib import Path

import orjson
from fake_calls_api import add_connection, assert_store_matches
from PySide6.QtCore import Qt
from windows import open_window

from callviewer.store import Store


def threads() -> list[str]:
    """The names of this process's threads (Qt's and Python's)."""
    names = []
    for task in os.listdir("/proc/self/task"):
        with suppress(OSError):  # ended meanwhile
            names.append(Path(f"/proc/self/task/{task}/comm").read_text().strip())
    return sorted(names)


def sync_processes() -> list[int]:
    """This process's children that are syncs (sync/process.py), by pid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
            if parent == os.getpid() and b"callviewer.sync.process" in command:
                found.append(int(entry))
    return found


def slow_api(api, calls: int = 20):
    """A calls API whose every detail request takes 0.2 s: a sync of it takes a while."""
    api.seed(calls, with_audio=0.0)
    api.fault("detail", "slow", times=calls, seconds=0.2)


def test_a_sync_runs_in_a_process_of_its_own_and_one_killed_is_a_sentence_not_a_crash(
        qtbot, tmp_path, api, monkeypatch):
    crashes: list = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: crashes.append(value))
    path = tmp_path / "calls.sqlite3"
    slow_api(api)
    with Store(str(path)) as store:
        add_connection(store, api)
    window = open_window(qtbot, path, tmp_path)
    assert window.syncing.sync()
    qtbot.waitUntil(lambda: len(sync_processes()) == 1, timeout=10_000)
    os.kill(sync_processes()[0], signal.SIGKILL)
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=10_000)
    said = window.sync_status.label.text()
    assert said.startswith("The sync stopped unexpectedly") and "next sync" in said, said
    assert crashes == []
    # Run again, it brings the rest: the store ends equal to the source.
    assert window.syncing.sync()
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=60_000)
    assert window.sync_status.label.text().startswith("Synced "), \
        window.sync_status.label.text()
    assert_store_matches(path, api)


def test_closing_the_window_in_the_middle_of_a_sync_leaves_no_process_behind(
        qtbot, tmp_path, api):
    path = tmp_path / "calls.sqlite3"
    slow_api(api, calls=100)
    with Store(str(path)) as store:
        add_connection(store, api)
    window = open_window(qtbot, path, tmp_path)
    assert window.syncing.sync()
    qtbot.waitUntil(lambda: len(sync_processes()) == 1, timeout=10_000)
    started = time.monotonic()
    window.close()  # Cancel: the sync stops after the call it is on
    assert time.monotonic() - started < 15
    assert sync_processes() == []


def broken_folder_connection(path, tmp_path) -> None:
    """A folder connection whose folder is a number, as no version of this app writes it
    (another desktop's newer version of a team's database could): syncing it is a bug."""
    folder = tmp_path / "drop"
    folder.mkdir()
    with Store(str(path)) as store:
        store.sync.add_connection("drop", "folder", {"folder": str(folder)})
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE sync_connections SET settings = ?",
                     (orjson.dumps({"folder": 5}).decode(),))


def test_a_sync_that_dies_of_a_bug_ends_in_the_crash_dialog_and_the_window_goes_on(
        qtbot, tmp_path, monkeypatch):
    crashes: list = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: crashes.append(value))
    path = tmp_path / "calls.sqlite3"
    broken_folder_connection(path, tmp_path)
    window = open_window(qtbot, path, tmp_path)
    qtbot.keyClick(window.table, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=10_000)
    assert len(crashes) == 1 and not isinstance(crashes[0], AssertionError)
    said = window.sync_status.label.text()
    assert said.startswith("Call Viewer could not finish the sync"), said
    # F5 runs again (the old worker kept "Syncing…" and refused every later sync).
    qtbot.keyClick(window.table, Qt.Key.Key_F5)
    assert window.syncing.running
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=10_000)
    assert len(crashes) == 2
    # The timer still runs: the next automatic sync is scheduled.
    assert window.syncing._timer.isActive()


def test_many_syncs_leave_no_thread_behind(qtbot, tmp_path):
    path = tmp_path / "calls.sqlite3"
    folder = tmp_path / "drop"
    folder.mkdir()
    with Store(str(path)) as store:
        store.sync.add_connection("drop", "folder", {"folder": str(folder)})
    window = open_window(qtbot, path, tmp_path)
    assert window.syncing.sync()
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=10_000)
    qtbot.wait(1_000)  # libVLC and the folder's watcher start after the first paint
    before = threads()
    for _ in range(8):  # the old controller left a QThread behind per sync
        assert window.syncing.sync()
        qtbot.waitUntil(lambda: not window.syncing.running, timeout=10_000)
    assert window.sync_status.label.text().startswith("Synced ")
    after = threads()
    assert len(after) - len(before) <= 2, (before, after)
    assert sync_processes() == []  # each sync's process ended and was waited for


def test_a_sync_whose_process_cannot_start_is_a_sentence(qtbot, tmp_path, monkeypatch):
    crashes: list = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: crashes.append(value))
    path = tmp_path / "calls.sqlite3"
    window = open_window(qtbot, path, tmp_path)
    # The interpreter gone from under the app (an update in the middle of a session).
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python-gone"))
    assert window.syncing.sync()
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=10_000)
    said = window.sync_status.label.text()
    assert said.startswith("The sync could not start: No such file or directory"), said
    assert crashes == []


def test_a_canceled_sync_that_does_not_end_is_ended(qtbot, tmp_path, api, monkeypatch):
    from callviewer.sync import process

    monkeypatch.setattr(process, "ENDING_S", 1)  # 30 s in the app
    path = tmp_path / "calls.sqlite3"
    api.seed(5, with_audio=0.0)
    api.fault("detail", "slow", times=5, seconds=20)  # a server that stopped answering
    with Store(str(path)) as store:
        add_connection(store, api, read_timeout=60.0)
    window = open_window(qtbot, path, tmp_path)
    assert window.syncing.sync()
    qtbot.waitUntil(lambda: bool(api.requests_of("detail")), timeout=10_000)  # held there
    window.sync_status.cancel_button.click()
    started = time.monotonic()
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=10_000)
    assert time.monotonic() - started < 5
    assert sync_processes() == []
