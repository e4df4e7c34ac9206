"""The team's recordings archive: downloaded once, played on every desktop, purged everywhere.

A "desktop" here is a Store opened with data and cache folders of its own, as
on another computer; on PostgreSQL both open the same database.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from team_archive import AUDIO, SIGNED, archive_one, call

from callviewer.paths import demo_dir
from callviewer.store import Store
from callviewer.store.shared_archive import TEMPORARY_GRACE_S
from callviewer.timeline.recording import decode, peaks_file

PATH = "agent-platform/c1.mp3"


def desktop(url: str, home: Path, monkeypatch) -> Store:
    """The store as a desktop whose folders are under `home` opens it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    return Store(url)


def stored_bytes(store: Store) -> int:
    with store.reading() as conn:
        return conn.execute(text("SELECT count(*) FROM recording_files")).scalar()


def test_a_recording_archived_by_one_desktop_plays_on_another_with_the_same_bytes(
        store_url, tmp_path, monkeypatch):
    with desktop(store_url, tmp_path / "front-desk", monkeypatch) as first:
        call_id = archive_one(first)
        played_first = first.archive.recording(call_id)
    with desktop(store_url, tmp_path / "support", monkeypatch) as second:
        played_second = second.archive.recording(call_id)
        assert Path(played_second).read_bytes() == AUDIO
        assert second.archive.info(call_id).state == "archived"
        assert second.archive.size() == (1, len(AUDIO))
    assert Path(played_first).read_bytes() == AUDIO
    if "postgresql" in store_url:
        # In the database, not in the downloading desktop's folders.
        assert str(tmp_path / "support") in played_second
        assert str(tmp_path / "front-desk") not in played_second
        with Store(store_url) as store:
            assert stored_bytes(store) == 1


def test_it_survives_the_loss_of_the_desktop_that_downloaded_it(postgres_url, tmp_path,
                                                                monkeypatch):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        call_id = archive_one(first)
    shutil.rmtree(tmp_path / "front-desk")  # the computer is gone, its disk with it
    with desktop(postgres_url, tmp_path / "new-computer", monkeypatch) as replacement:
        assert Path(replacement.archive.recording(call_id)).read_bytes() == AUDIO


def test_a_purge_removes_the_recording_from_the_archive_and_every_desktop(
        store_url, tmp_path, monkeypatch):
    with desktop(store_url, tmp_path / "front-desk", monkeypatch) as first:
        call_id = archive_one(first)
    with desktop(store_url, tmp_path / "support", monkeypatch) as second:
        cached = Path(second.archive.recording(call_id))
    with desktop(store_url, tmp_path / "front-desk", monkeypatch) as first:
        first.calls.write_records([call(is_purged=True, updated_at=5)])
        assert first.archive.recording(call_id) is None
        assert first.archive.info(call_id).state == "purged"
        assert stored_bytes(first) == 0
        assert not (first.archive.folder / PATH).exists()
    with desktop(store_url, tmp_path / "support", monkeypatch) as second:
        assert second.archive.recording(call_id) is None
        second.archive.delete_stale()  # as every sync starts
        assert not cached.exists()


def test_the_size_cap_takes_the_bytes_from_the_archive_and_the_caches(
        postgres_url, tmp_path, monkeypatch):
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        pass
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        call_id = archive_one(first)
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        cached = Path(second.archive.recording(call_id))
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        assert first.archive.evicted(call_id, SIGNED)
        assert stored_bytes(first) == 0 and first.archive.size() == (0, 0)
        assert first.archive.recording(call_id) == SIGNED  # plays from the source again
        assert not (first.archive.folder / PATH).exists()
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        assert second.archive.recording(call_id) == SIGNED
        second.archive.delete_stale()
        assert not cached.exists()


@pytest.mark.parametrize("damage", ["overwritten", "truncated", "deleted"])
def test_a_damaged_cached_copy_is_fetched_again(postgres_url, tmp_path, monkeypatch, damage):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        call_id = archive_one(first)
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        cached = Path(second.archive.recording(call_id))
        if damage == "overwritten":
            cached.write_bytes(bytes(len(AUDIO)))  # same size, other bytes
        elif damage == "truncated":
            cached.write_bytes(AUDIO[:1000])
        else:
            cached.unlink()
        assert second.archive.recording(call_id) == str(cached)
        assert cached.read_bytes() == AUDIO
        # A whole copy is used as it is: not fetched again.
        with second.writing() as conn:
            conn.execute(text("UPDATE recording_files SET content = :x"), {"x": b"other"})
        assert Path(second.archive.recording(call_id)).read_bytes() == AUDIO


def test_bytes_damaged_in_the_database_are_refused_not_played(postgres_url, tmp_path,
                                                              monkeypatch, caplog):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        call_id = archive_one(first)
        with first.writing() as conn:
            conn.execute(text("UPDATE recording_files SET content = :x"),
                         {"x": AUDIO[:-1] + b"\0"})
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second, \
            caplog.at_level(logging.WARNING):
        assert second.archive.recording(call_id) is None
        assert not list(second.archive.folder.rglob("*.mp3"))
    assert f"The archived recording of call {call_id} is damaged" in caplog.text


def test_a_recording_archived_again_replaces_the_cached_copy(postgres_url, tmp_path,
                                                              monkeypatch):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        call_id = archive_one(first)
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        cached = Path(second.archive.recording(call_id))
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        assert first.archive.evicted(call_id, SIGNED)
        newer = (demo_dir() / "ap-1002.mp3").read_bytes()
        assert archive_one(first, newer) == call_id
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        assert second.archive.recording(call_id) == str(cached)
        assert cached.read_bytes() == newer


def test_the_cache_keeps_downloads_in_progress_and_drops_leftovers(
        postgres_url, tmp_path, monkeypatch):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as store:
        folder = store.archive.folder / "agent-platform"
        folder.mkdir(parents=True)
        names = ("c9.part", ".c8.mp3.1.2.tmp", ".c7.mp3.1.2.tmp", "c6.mp3")
        part, writing, left, unknown = (folder / name for name in names)
        for path in (part, writing, left, unknown):
            path.write_bytes(b"x")
        long_ago = os.stat(left).st_mtime - TEMPORARY_GRACE_S - 60
        for path in (part, left):
            os.utime(path, (long_ago, long_ago))
        store.archive.delete_stale()
        assert part.exists() and writing.exists()
        assert not left.exists() and not unknown.exists()


def cached_names(store: Store) -> set[str]:
    return {path.stem for path in store.archive.folder.rglob("*.mp3")}


def test_the_cache_keeps_within_its_size_the_recordings_played_last(
        postgres_url, tmp_path, monkeypatch):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        ids = {name: archive_one(first, source_id=name) for name in ("c1", "c2", "c3")}
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        second.mode.cache_cap = 2 * len(AUDIO)
        for name in ("c1", "c2", "c1"):  # c1 fetched, then played again from the cache
            second.archive.recording(ids[name])
        assert cached_names(second) == {"c1", "c2"}
        # Over the cap: c2 was played longest ago.
        played = Path(second.archive.recording(ids["c3"]))
        assert cached_names(second) == {"c1", "c3"}
        assert played.read_bytes() == AUDIO
        # What was let go is fetched again, whole, when played.
        assert Path(second.archive.recording(ids["c2"])).read_bytes() == AUDIO
        assert cached_names(second) == {"c3", "c2"}
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        assert stored_bytes(first) == 3  # the archive keeps them all


def test_the_cache_trim_keeps_what_the_archive_does_not_hold_and_what_is_playing(
        postgres_url, tmp_path, monkeypatch):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        ids = {name: archive_one(first, source_id=name) for name in ("c1", "c2")}
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        second.mode.cache_cap = 1  # less than any recording
        # A download not yet taken into the archive, its file older than any copy.
        pending = second.archive.folder / "agent-platform" / "c9.mp3"
        pending.parent.mkdir(parents=True)
        pending.write_bytes(AUDIO)
        os.utime(pending, (1, 1))
        second.archive.recording(ids["c1"])
        assert cached_names(second) == {"c9", "c1"}  # the copy just fetched stays
        second.archive.recording(ids["c2"])
        assert cached_names(second) == {"c9", "c2"}


def test_the_syncing_desktop_keeps_its_downloads_within_the_cap(
        postgres_url, tmp_path, monkeypatch):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        first.mode.cache_cap = len(AUDIO)
        ids = {name: archive_one(first, source_id=name) for name in ("c1", "c2")}
        assert cached_names(first) == {"c2"}
        assert Path(first.archive.recording(ids["c1"])).read_bytes() == AUDIO  # from the archive
        assert cached_names(first) == {"c1"}


def test_a_purge_while_downloading_leaves_no_bytes(postgres_url, tmp_path, monkeypatch):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as store:
        row = store.sync.add_connection("main", "calls-api", {"url": "https://api.example"})
        store.sync.commit_page(row.id, [call(recording=SIGNED, has_recording=True)])
        call_id = store.calls.id_of("agent-platform", "c1")
        local = store.archive.folder / PATH
        local.parent.mkdir(parents=True)
        local.write_bytes(AUDIO)
        store.calls.write_records([call(is_purged=True, updated_at=5)])
        assert not store.archive.archived(call_id, PATH, len(AUDIO), "d")
        assert stored_bytes(store) == 0 and store.archive.recording(call_id) is None


def test_each_team_database_has_a_cache_of_its_own(postgres, tmp_path, monkeypatch):
    names = [postgres.database(), postgres.database()]
    try:
        folders = []
        for name in names:
            with desktop(postgres.url(name), tmp_path / "support", monkeypatch) as store:
                folders.append(store.archive.folder)
        assert folders[0] != folders[1]
        assert all(folder.is_relative_to(tmp_path / "support" / "cache") for folder in folders)
    finally:
        for name in names:
            postgres.drop(name)


def test_the_cache_keeps_the_timelines_peaks_at_each_sync_and_within_its_size(
        postgres_url, tmp_path, monkeypatch):
    with desktop(postgres_url, tmp_path / "front-desk", monkeypatch) as first:
        ids = {name: archive_one(first, source_id=name) for name in ("c1", "c2", "c3")}
    with desktop(postgres_url, tmp_path / "support", monkeypatch) as second:
        folder = second.archive.folder
        # The timeline's decode on this desktop: the recording fetched, its peaks kept.
        for call_id in (ids["c1"], ids["c2"]):
            decode(lambda call_id=call_id: second.archive.source(call_id),
                   peaks_file(folder, call_id), [], None)
        kept = [peaks_file(folder, ids[name]) for name in ("c1", "c2")]
        assert all(path.stat().st_size > 100 for path in kept)
        written = [path.read_bytes() for path in kept]
        second.archive.delete_stale()  # as every sync starts
        assert [path.read_bytes() for path in kept] == written
        assert cached_names(second) == {"c1", "c2"}  # the recordings' copies are kept too
        # Over the cap, the copies go, never the peaks (not recordings the archive holds).
        second.mode.cache_cap = 1
        second.archive.recording(ids["c3"])  # fetched: the cache is trimmed
        assert cached_names(second) == {"c3"}
        assert [path.read_bytes() for path in kept] == written
