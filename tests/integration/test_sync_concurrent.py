"""A sync with several requests at once, against the calls API on loopback with a round
trip's latency and its faults: faster, within its limit, slowed as a whole by a 429, and
the store equal to the source in the end, a kill -9 in the middle included."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_calls_api import FAST, TOKEN, add_connection, assert_store_matches
from killed_sync import sync_killed_when

from callviewer.store import Store
from callviewer.sync.runner import run_sync


@pytest.fixture
def db(tmp_path):
    return tmp_path / "calls.sqlite3"


def connect(db: Path, api, **settings) -> None:
    with Store(str(db)) as store:
        add_connection(store, api, **settings)


def timed_sync(tmp_path: Path, api, name: str, concurrency: int) -> float:
    db = tmp_path / f"{name}.sqlite3"
    connect(db, api, concurrency=concurrency)
    started = time.perf_counter()
    report = run_sync(str(db))
    elapsed = time.perf_counter() - started
    assert (report.failures, report.rejected) == ({}, 0)
    assert report.downloaded == len(api.audio)
    assert_store_matches(db, api)
    return elapsed


def test_four_at_once_take_a_fraction_of_the_time_and_never_more_than_four(tmp_path, api):
    api.seed(24, with_audio=1.0)
    api.latency = 0.04  # 49 requests: about 2 s one at a time
    serial = timed_sync(tmp_path, api, "serial", 1)
    assert api.most_in_flight == 1
    api.most_in_flight = 0
    concurrent = timed_sync(tmp_path, api, "concurrent", 4)
    # Ideally a quarter; the margin is for a busy machine's writes and checks.
    assert concurrent < 0.55 * serial, (concurrent, serial)
    assert api.most_in_flight == 4  # counted by the server: at most the setting, and used


def test_the_setting_bounds_the_requests_at_once_details_and_recordings_alike(db, api):
    api.seed(30, with_audio=1.0)
    api.latency = 0.02
    connect(db, api, concurrency=3)
    report = run_sync(str(db))
    assert (report.failures, report.counts.new, report.downloaded) == ({}, 30, 30)
    assert api.most_in_flight == 3
    assert_store_matches(db, api)


@pytest.mark.parametrize("code", [429, 503])
def test_a_slow_down_answer_holds_every_worker_back_for_its_retry_after(db, api, code):
    ids = api.seed(100, with_audio=0.0)
    api.latency = 0.03  # the other workers' details would take the second, on their own
    connect(db, api, concurrency=4)
    slowed = ids[12]  # early in the page: the other workers have plenty left to ask
    api.fault("detail", "status", code=code, retry_after="1", id=slowed)
    report = run_sync(str(db))
    assert (report.failures, report.counts.new) == ({}, 100)
    assert_store_matches(db, api)
    with api.lock:
        arrived = list(api.arrived)
        log = list(api.log)
    refused = next(at for (at, _kind), entry in zip(arrived, log, strict=True)
                   if entry[1] == f"/calls/{slowed}")
    # The requests the other workers had sent before the answer reached them may arrive
    # just after it; then nothing for the second the server asked for.
    during = [at - refused for at, _kind in arrived if refused + 0.15 < at < refused + 0.95]
    assert during == [], during
    assert any(at >= refused + 0.95 for at, _kind in arrived)


def test_faults_under_concurrency_end_with_the_store_equal_to_the_source(db, api):
    api.seed(230, with_audio=0.9)
    api.latency = 0.005
    connect(db, api, concurrency=6, read_timeout=0.5)
    api.fault("list", "drop", page=1)
    api.fault("list", "status", code=500, times=2)
    api.fault("detail", "status", code=503, times=3)
    api.fault("detail", "slow", seconds=1.2)
    api.fault("detail", "drop", times=2)
    api.fault("audio", "drop_audio", times=3)
    with_audio = sorted(api.audio)
    api.fault("detail", "expired_url", id=with_audio[5])  # its link is refreshed
    api.fault("audio", "corrupt_audio", id=with_audio[40])
    report = run_sync(str(db))
    assert (report.failures, report.rejected, report.counts.new) == ({}, 0, 230)
    assert not api.faults
    assert len(report.recording_errors) == 1  # the corrupt one, fetched again next time
    assert run_sync(str(db)).downloaded == 1
    assert_store_matches(db, api)
    assert not list((db.parent / "calls.sqlite3.recordings").rglob("*.part"))


def test_cancel_stops_new_requests_promptly_and_the_next_sync_completes(db, api):
    import threading

    api.seed(200, with_audio=1.0)
    api.latency = 0.05
    connect(db, api, concurrency=4)
    cancel = threading.Event()
    canceled_at: list[float] = []

    def progress(done, total, text):
        if text.startswith("Downloading") and done >= 8 and not cancel.is_set():
            canceled_at.append(time.monotonic())
            cancel.set()

    report = run_sync(str(db), progress=progress, cancel=cancel)
    assert report.canceled
    with api.lock:
        late = [at for at, _kind in api.arrived if at > canceled_at[0] + 0.1]
    assert late == []  # nothing new was asked once the cancel was seen
    api.latency = 0.0
    report = run_sync(str(db))
    assert not report.canceled and report.failures == {}
    assert_store_matches(db, api)


def test_a_concurrent_sync_killed_in_the_middle_resumes_and_ends_equal(tmp_path, api):
    db = tmp_path / "calls.sqlite3"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    api.seed(400, spacing_s=13, with_audio=1.0)
    api.latency = 0.02
    settings = [arg for key, value in {**FAST, "concurrency": 6}.items()
                for arg in ("--set", f"{key}={value}")]
    added = subprocess.run([sys.executable, "-m", "callviewer", "sync", "add", "main", "--url",
                            api.url, "--token-stdin", *settings, "--db", str(db)],
                           input=TOKEN, capture_output=True, text=True, env=env, timeout=60)
    assert added.returncode == 0, added.stderr
    sync_killed_when(db, env, lambda process: _wait_until_downloading(db, api, process))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        calls, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT source_id) FROM calls").fetchone()
        indexed = conn.execute("SELECT count(*) FROM calls_fts").fetchone()[0]
    assert calls == distinct == indexed and 100 <= calls < 400  # whole pages only
    api.latency = 0.0
    report = run_sync(str(db))
    assert (report.failures, report.rejected) == ({}, 0)
    assert_store_matches(db, api)
    assert not list((tmp_path / "calls.sqlite3.recordings").rglob("*.part"))


def _wait_until_downloading(db: Path, api, process: subprocess.Popen) -> None:
    """Until a page is committed and its recordings are being fetched, several at once."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        if len(api.requests_of("audio")) >= 20 and api.in_flight >= 2:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT count(*) FROM calls").fetchone()[0] >= 100:
                    return
        time.sleep(0.01)
    raise AssertionError("the sync did not get to its downloads within 60 s")


def test_a_page_that_fails_after_one_committed_still_archives_that_pages_recordings(db, api):
    api.seed(150, with_audio=1.0)
    connect(db, api, concurrency=4)

    def break_the_next_page(_page: int) -> None:
        api.after_list_page.clear()
        api.fault("list", "malformed")

    api.after_list_page.append(break_the_next_page)
    report = run_sync(str(db))
    assert "main" in report.failures
    # The first page's recordings were archived before the second page was read.
    assert (report.counts.new, report.downloaded) == (100, 100)
    report = run_sync(str(db))
    assert report.failures == {} and report.downloaded == 50
    assert_store_matches(db, api)


def test_a_concurrency_outside_1_to_16_is_refused_when_it_is_set():
    from callviewer.sync.connection import settings_for

    assert settings_for("calls-api", {"concurrency": 8})["concurrency"] == 8
    for wrong in (0, 17, 40):
        with pytest.raises(ValueError, match="concurrency setting must be a whole number"):
            settings_for("calls-api", {"concurrency": wrong})
