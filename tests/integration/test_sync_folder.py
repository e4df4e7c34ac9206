"""A watched folder: files written in pieces are imported once, whole; recordings archived."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import orjson
import pytest

from callviewer.paths import demo_dir
from callviewer.store import Store
from callviewer.sync.runner import run_sync
from callviewer.sync.sources.folder import FolderWatcher

DEMO = orjson.loads((demo_dir() / "agent-platform.json").read_bytes())["data"]


@pytest.fixture
def db(tmp_path):
    return tmp_path / "calls.sqlite3"


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "exports"
    path.mkdir()
    return path


def watch(db: Path, folder: Path, **settings) -> None:
    with Store(str(db)) as store:
        store.sync.add_connection("drop", "folder", {"folder": str(folder), "settle_seconds": 0.0,
                                                **settings})


def stored(db: Path) -> dict[str, dict]:
    with Store(str(db)) as store:
        calls = list(store.calls.export(include_deleted=True))
        info = {record["source_id"]: store.archive.info(
            store.calls.id_of(record["source"], record["source_id"])) for record in calls}
    assert len({(r["source"], r["source_id"]) for r in calls}) == len(calls)
    return {record["source_id"]: {**record, "archive": info[record["source_id"]]}
            for record in calls}


def test_a_json_file_written_in_pieces_is_imported_once_and_whole(db, folder):
    watch(db, folder)
    body = orjson.dumps({"data": DEMO}, option=orjson.OPT_INDENT_2)
    target = folder / "export.json"
    for cut in (len(body) // 3, 2 * len(body) // 3):
        target.write_bytes(body[:cut])
        report = run_sync(str(db))
        assert report.waiting == ["export.json"] and report.rejected == 0
        assert report.exit_code == 0 and stored(db) == {}
    target.write_bytes(body)
    report = run_sync(str(db))
    assert (report.counts.new, report.rejected, report.waiting) == (len(DEMO), 0, [])
    assert set(stored(db)) == {record["id"] for record in DEMO}
    again = run_sync(str(db))
    assert (again.files, again.counts.new, again.counts.unchanged) == (0, 0, 0)  # not re-read


def test_ndjson_written_line_by_line_waits_for_its_last_line(db, folder):
    watch(db, folder)
    lines = [orjson.dumps(record) + b"\n" for record in DEMO[:3]]
    target = folder / "calls.ndjson"
    with target.open("wb") as out:
        out.write(lines[0] + lines[1] + lines[2][:40])
    report = run_sync(str(db))
    assert report.waiting == ["calls.ndjson"] and stored(db) == {}
    with target.open("ab") as out:
        out.write(lines[2][40:])
    report = run_sync(str(db))
    assert (report.counts.new, report.waiting, report.rejected) == (3, [], 0)
    with target.open("ab") as out:
        out.write(orjson.dumps(DEMO[3]) + b"\n")
    report = run_sync(str(db))
    assert (report.counts.new, report.counts.unchanged) == (1, 3)
    assert len(stored(db)) == 4


def test_a_file_still_settling_waits_and_a_touched_file_is_not_imported_again(db, folder):
    watch(db, folder, settle_seconds=30.0)
    target = folder / "calls.json"
    target.write_bytes(orjson.dumps(DEMO[:2]))
    assert run_sync(str(db)).waiting == ["calls.json"]
    old = time.time() - 60
    os.utime(target, (old, old))
    assert run_sync(str(db)).counts.new == 2
    os.utime(target, (old + 1, old + 1))  # touched by a file-sync tool, same bytes
    report = run_sync(str(db))
    assert (report.files, report.counts.new, report.counts.unchanged) == (1, 0, 0)
    assert run_sync(str(db)).files == 0


def test_a_file_left_truncated_is_imported_as_it_is_after_a_while(db, folder):
    watch(db, folder, give_up_minutes=0.01)
    target = folder / "broken.ndjson"
    target.write_bytes(orjson.dumps(DEMO[0]) + b"\n" + orjson.dumps(DEMO[1])[:50])
    assert run_sync(str(db)).waiting == ["broken.ndjson"]
    old = time.time() - 60
    os.utime(target, (old, old))
    report = run_sync(str(db))
    assert (report.counts.new, report.rejected, report.exit_code) == (1, 1, 1)
    assert "broken.ndjson line 2: the JSON ends too early" in str(report.rejects[0])


def test_recordings_beside_the_exports_are_copied_into_the_archive(db, folder):
    watch(db, folder)
    (folder / "export.json").write_bytes(orjson.dumps({"data": DEMO[:3]}))
    for record in DEMO[:2]:
        shutil.copy(demo_dir() / record["audio_file_url"], folder)
    report = run_sync(str(db))
    assert (report.counts.new, report.downloaded) == (3, 2)
    assert "not in the watched folder yet" in report.recording_errors[0]
    calls = stored(db)
    for record in DEMO[:2]:
        archived = Path(calls[record["id"]]["archive"].path)
        assert calls[record["id"]]["archive"].state == "archived"
        assert archived.is_relative_to(db.parent / "calls.sqlite3.recordings")
        assert archived.read_bytes() == (demo_dir() / record["audio_file_url"]).read_bytes()
        assert calls[record["id"]]["recording"] == str(archived)
    assert calls[DEMO[2]["id"]]["archive"].state == "at_source"
    (folder / DEMO[0]["audio_file_url"]).unlink()  # the sync tool empties the folder
    assert Path(stored(db)[DEMO[0]["id"]]["archive"].path).is_file()
    shutil.copy(demo_dir() / DEMO[2]["audio_file_url"], folder)  # the late one arrives
    report = run_sync(str(db))
    assert (report.downloaded, report.counts.new) == (1, 0)
    assert stored(db)[DEMO[2]["id"]]["archive"].state == "archived"


def test_a_missing_folder_fails_the_connection_with_a_sentence(db, folder):
    watch(db, folder / "unmounted")
    report = run_sync(str(db))
    assert report.exit_code == 2
    assert report.failures["drop"].startswith(f"The watched folder {folder / 'unmounted'} "
                                              "is not there")


@pytest.mark.parametrize("polling", [False, True])
def test_the_watcher_tells_of_a_written_file(folder, polling):
    changed = threading.Event()
    watcher = FolderWatcher(folder, changed.set, polling=polling)
    watcher.start()
    try:
        (folder / "new.json").write_bytes(orjson.dumps(DEMO[0]))
        assert changed.wait(10)
    finally:
        watcher.stop()


def test_the_window_syncs_a_folder_once_its_files_settle(folder, qtbot):
    from callviewer.ui.syncing import FolderWatch
    from callviewer.ui.tasks import TaskRunner

    tasks, fired = TaskRunner(), []
    watch = FolderWatch(folder, 600, tasks, settle_ms=400)
    watch.changed.connect(lambda: fired.append(time.monotonic()))
    try:
        for n in range(3):  # a file written in pieces: each piece postpones the sync
            (folder / "new.json").write_bytes(orjson.dumps(DEMO[0])[: 40 * (n + 1)])
            written = time.monotonic()
            qtbot.wait(150)
        qtbot.waitUntil(lambda: bool(fired), timeout=10_000)
        qtbot.wait(600)
        assert len(fired) == 1
        assert fired[0] - written >= 0.35  # the settle time, counted from the last piece
    finally:
        watch.stop()
        tasks.shutdown()


def test_the_window_rescans_a_folder_on_its_own(folder, qtbot):
    from callviewer.ui.syncing import FolderWatch
    from callviewer.ui.tasks import TaskRunner

    tasks, fired = TaskRunner(), []
    watch = FolderWatch(folder, 0.2, tasks)
    watch.changed.connect(lambda: fired.append(1))
    try:
        qtbot.waitUntil(lambda: len(fired) >= 2, timeout=5_000)
    finally:
        watch.stop()
        tasks.shutdown()
