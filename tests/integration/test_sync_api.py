"""Syncing from a real calls API on loopback, with its faults: the store ends equal to it."""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_calls_api import (
    add_connection,
    assert_store_matches,
    http_date,
)

from callviewer.store import Store
from callviewer.sync.runner import run_sync
from callviewer.ui.formatting import sync_sentence


@pytest.fixture
def db(tmp_path):
    return tmp_path / "calls.sqlite3"


def connect(db, api, **settings) -> dict:
    with Store(str(db)) as store:
        return add_connection(store, api, **settings)


def test_first_sync_brings_every_call_in_detail_with_its_recording(db, api):
    api.seed(230, with_audio=0.9)
    connect(db, api)
    seen = []
    report = run_sync(str(db), progress=lambda done, total, text: seen.append((done, total)))
    assert (report.counts.new, report.rejected, report.failures) == (230, 0, {})
    assert report.downloaded == len(api.audio) and report.exit_code == 0
    assert report.summary_line().startswith("230 new, 0 updated, ")
    assert_store_matches(db, api)
    assert any(total is None for _, total in seen)  # listing: no total known
    # Downloads, after each page, count up to a known total.
    assert any(total is not None and 0 < done <= total for done, total in seen)
    assert not list((db.parent / "calls.sqlite3.recordings").rglob("*.part"))
    # The list pages walked by moving `to`: page 1 each time, newest first.
    pages = api.requests_of("list")
    assert [query["page"] for _, _, query, _ in pages] == ["1"] * len(pages)
    assert all(query["include_deleted"] == "true" for _, _, query, _ in pages)  # first: full
    # The token goes to the API, never to the recordings' host.
    assert all("Authorization" not in headers for *_, headers in api.requests_of("audio"))
    assert all(headers["Authorization"].startswith("Bearer ")
               for *_, headers in api.requests_of("detail"))


def test_a_second_sync_fetches_no_detail_and_downloads_nothing(db, api):
    api.seed(60)
    connect(db, api)
    run_sync(str(db))
    details, audio = len(api.requests_of("detail")), len(api.requests_of("audio"))
    report = run_sync(str(db))
    assert (report.counts.new, report.counts.updated, report.downloaded) == (0, 0, 0)
    assert report.counts.unchanged > 0  # the overlap window, listed again
    assert (len(api.requests_of("detail")), len(api.requests_of("audio"))) == (details, audio)
    query = api.requests_of("list")[-1][2]
    assert query["include_deleted"] == "false" and "from" in query


def test_a_call_changed_at_the_source_is_fetched_again_and_updated(db, api):
    ids = api.seed(20)
    connect(db, api)
    run_sync(str(db))
    api.change(ids[3], done=True, call_summary="Called back; sorted.")
    report = run_sync(str(db))
    assert (report.counts.new, report.counts.updated) == (0, 1)
    assert [path for _, path, _, _ in api.requests_of("detail")][-1] == f"/calls/{ids[3]}"
    assert_store_matches(db, api)


def test_dropped_connections_500s_and_a_slow_answer_are_retried(db, api):
    api.seed(250)
    connect(db, api, read_timeout=0.5)
    api.fault("list", "drop", page=1)
    api.fault("list", "status", code=500, times=2)
    api.fault("detail", "status", code=503, times=3)
    api.fault("detail", "slow", seconds=1.2)
    api.fault("audio", "drop_audio", times=2)
    report = run_sync(str(db))
    assert (report.failures, report.rejected, report.counts.new) == ({}, 0, 250)
    assert_store_matches(db, api)
    assert not api.faults
    # The recordings cut off halfway were resumed where they broke, not started over.
    resumed = [headers["Range"] for *_, headers in api.requests_of("audio") if "Range" in headers]
    assert len(resumed) == 2 and all(r.startswith("bytes=") and r != "bytes=0-" for r in resumed)


def test_429_waits_as_retry_after_says_in_seconds_and_as_a_date(db, api):
    ids = api.seed(5)
    connect(db, api)
    api.fault("list", "status", code=429, retry_after="1")
    started = time.monotonic()
    assert run_sync(str(db)).failures == {}
    assert time.monotonic() - started >= 0.95
    api.change(ids[0], done=True)
    date = http_date(2)
    api.fault("detail", "status", code=429, retry_after=date)
    report = run_sync(str(db))
    assert report.failures == {} and report.counts.updated == 1
    assert time.time() >= email.utils.parsedate_to_datetime(date).timestamp() - 0.05
    assert [p for _, p, _, _ in api.requests_of("detail")][-2:] == [f"/calls/{ids[0]}"] * 2
    assert_store_matches(db, api)


def test_a_malformed_page_fails_the_connection_and_is_listed_again_next_time(db, api):
    api.seed(250)
    connect(db, api)
    api.fault("list", "malformed", times=1)
    report = run_sync(str(db))
    assert report.exit_code == 2 and report.counts.new == 0
    assert "answered list page 1 with JSON that ends too early" in report.failures["main"]
    # The walk stopped there, the cursor before the page: the next sync reads it again.
    report = run_sync(str(db))
    assert (report.rejected, report.failures) == (0, {})
    assert_store_matches(db, api)


def test_a_malformed_record_is_rejected_naming_it_and_its_field_the_rest_kept(db, api):
    ids = api.seed(12)
    api.calls[ids[4]]["duration"] = "long"
    connect(db, api)
    report = run_sync(str(db))
    assert report.rejected == 1 and report.exit_code == 1
    text = str(report.rejects[0])
    assert f"(source_id {ids[4]})" in text and "field 'duration'" in text
    assert report.counts.new == 11
    api.change(ids[4], duration=42)
    run_sync(str(db), full=True)
    assert_store_matches(db, api)


def test_an_expired_audio_link_is_refreshed_through_the_detail(db, api):
    ids = api.seed(6)
    connect(db, api)
    api.fault("detail", "expired_url", id=ids[2])
    report = run_sync(str(db))
    assert report.downloaded == 6 and report.recording_errors == []
    details = [path for _, path, _, _ in api.requests_of("detail")]
    assert details.count(f"/calls/{ids[2]}") == 2
    assert_store_matches(db, api)


def test_refused_links_become_link_expired_or_gone_and_a_sync_tries_expired_again(db, api):
    ids = api.seed(4)
    connect(db, api)
    api.fault("audio", "status", code=403, times=2, id=ids[0])  # refused, even refreshed
    api.fault("audio", "status", code=410, times=2, id=ids[1])  # gone from the host
    report = run_sync(str(db))
    assert report.downloaded == 2 and len(report.recording_errors) == 2
    with Store(str(db)) as store:
        states = {i: store.archive.info(store.calls.id_of("agent-platform", i)).state
                  for i in ids}
        expired_error = store.archive.info(store.calls.id_of("agent-platform", ids[0])).error
    assert (states[ids[0]], states[ids[1]]) == ("link_expired", "gone")
    assert "refused the recording" in expired_error and "signature" not in expired_error
    report = run_sync(str(db))  # the expired link is refreshed and tried again
    assert report.downloaded == 1
    with Store(str(db)) as store:
        assert store.archive.info(store.calls.id_of("agent-platform", ids[0])).state == \
            "archived"
        assert store.archive.state_counts()["gone"] == 1


def test_a_corrupt_download_is_not_accepted_and_is_fetched_again(db, api):
    ids = api.seed(3)
    connect(db, api)
    api.fault("audio", "corrupt_audio", id=ids[1])
    report = run_sync(str(db))
    assert report.downloaded == 2
    assert "not audio a player can read" in report.recording_errors[0]
    with Store(str(db)) as store:
        assert store.archive.info(store.calls.id_of("agent-platform", ids[1])).state == \
            "at_source"
    assert run_sync(str(db)).downloaded == 1
    assert_store_matches(db, api)


def test_purges_and_deletions_between_syncs_keep_notes_and_drop_the_archived_file(db, api):
    ids = api.seed(30, start=datetime.now(UTC) - timedelta(hours=5))  # before the overlap
    connect(db, api)
    run_sync(str(db))
    with Store(str(db)) as store:
        purged_id, deleted_id = (store.calls.id_of("agent-platform", i) for i in ids[25:27])
        archived = store.archive.info(purged_id).path
        note = store.notes.add(purged_id, "Dana", "Customer asked for a callback")
        store.notes.add(deleted_id, "Dana", "Duplicate of an earlier call")
        store.notes.save_draft(purged_id, 0, "half a thought", 4)
        store.calls.set_done(deleted_id, True, "maria")
    assert archived and Path(archived).read_bytes()
    api.purge(ids[25])
    api.delete(ids[26])
    report = run_sync(str(db))  # the reconciliation is due daily, not now
    assert report.counts.updated == 0
    report = run_sync(str(db), full=True)
    assert report.counts.updated == 2
    assert_store_matches(db, api, done_here={ids[26]: True})
    with Store(str(db)) as store:
        assert [n.id for n in store.notes.of(purged_id)] == [note]
        assert store.notes.drafts_of(purged_id)[0].body == "half a thought"
        assert len(store.notes.of(deleted_id)) == 1
        assert store.archive.recording(purged_id) is None
        assert store.archive.info(purged_id).path is None
    assert not Path(archived).exists()


def test_local_notes_drafts_and_done_survive_every_sync(db, api):
    ids = api.seed(15)
    connect(db, api)
    run_sync(str(db))
    with Store(str(db)) as store:
        local = [store.calls.id_of("agent-platform", i) for i in ids[:3]]
        for call_id in local:
            store.notes.add(call_id, "Sam", f"note on {call_id}")
            store.notes.save_draft(call_id, 0, f"draft on {call_id}", 2)
        store.calls.set_done(local[0], True, "maria")
    for source_id in ids[:3]:
        api.change(source_id, done=False, call_summary="rewritten at the source")
    run_sync(str(db))
    run_sync(str(db), full=True)
    assert_store_matches(db, api, done_here={ids[0]: True})
    with Store(str(db)) as store:
        for call_id in local:
            assert [n.body for n in store.notes.of(call_id)] == [f"note on {call_id}"]
            assert store.notes.drafts_of(call_id)[0].body == f"draft on {call_id}"
        assert store.calls.get(local[0]).done is True


def test_a_call_arriving_during_a_sync_is_there_after_the_next(db, api):
    api.seed(150, start=datetime.now(UTC) - timedelta(minutes=20), spacing_s=5)
    connect(db, api)
    arrived = []

    def newcomer(page: int) -> None:
        if not arrived:
            arrived.append(api.add_call(datetime.now(UTC)))

    api.after_list_page.append(newcomer)
    first = run_sync(str(db))
    assert first.counts.new == 150  # the pass lists what existed when it began
    api.after_list_page.clear()
    second = run_sync(str(db))
    assert second.counts.new == 1
    assert_store_matches(db, api)


def test_a_recording_the_source_deletes_after_archiving_stays_and_plays(db, api, qtbot):
    from callviewer.playback.now_playing import PLAYING, NowPlaying
    from callviewer.playback.vlc_player import VlcPlayer

    ids = api.seed(4)
    connect(db, api)
    run_sync(str(db))
    api.delete_audio(ids[1])
    report = run_sync(str(db), full=True)
    assert report.counts.updated == 1
    assert_store_matches(db, api, archived_only_here=frozenset({ids[1]}))
    with Store(str(db)) as store:
        call_id = store.calls.id_of("agent-platform", ids[1])
        assert store.archive.info(call_id).source_gone is True
        playing = NowPlaying(store.archive.recording, VlcPlayer())
        try:
            playing.play(call_id)
            qtbot.waitUntil(lambda: playing.state == PLAYING, timeout=10_000)
            qtbot.waitUntil(lambda: playing.position > 300, timeout=5_000)
        finally:
            playing.release()


def test_a_refused_token_stops_the_connection_with_a_sentence(db, api):
    api.seed(3)
    connect(db, api, token="tok-wrong-000000")
    report = run_sync(str(db))
    sentence = "The API token was refused — check it in Preferences."
    assert (report.failures, report.exit_code) == ({"main": sentence}, 2)
    assert report.counts.new == 0 and len(api.requests_of("list")) == 1  # not retried
    with Store(str(db)) as store:
        row = store.sync.connection("main")
        assert (row.status, row.error) == ("refused", sentence)


def test_offline_says_when_it_last_synced_and_the_next_sync_goes_on(db, api, tmp_path):
    api.seed(3)
    connect(db, api)
    assert run_sync(str(db)).exit_code == 0
    with Store(str(db)) as store:
        row = store.sync.connection("main")
        store.sync.update_connection("main", {**row.settings, "url": "http://127.0.0.1:9"})
        last = row.last_sync_at
    report = run_sync(str(db))
    clock = datetime.fromtimestamp(last / 1e6).strftime("%H:%M")
    assert report.failures == {"main": f"Offline — last synced {clock}"}
    assert report.exit_code == 2
    with Store(str(db)) as store:
        assert store.sync.connection("main").status == "offline"
        store.sync.update_connection("main", row.settings)
    assert run_sync(str(db)).exit_code == 0
    never = tmp_path / "never.sqlite3"
    with Store(str(never)) as store:
        add_connection(store, api, url="http://127.0.0.1:9")
    assert run_sync(str(never)).failures == {"main": "Offline — not synced yet"}


def test_cancel_between_pages_leaves_a_store_the_next_sync_completes(db, api):
    api.seed(320, spacing_s=11)
    connect(db, api)
    cancel = threading.Event()

    def progress(done, total, text):
        if done >= 100:
            cancel.set()

    report = run_sync(str(db), progress=progress, cancel=cancel)
    assert report.canceled
    with Store(str(db)) as store:
        assert 100 <= store.calls.summary().calls < 320
        cursor = store.sync.connection("main").cursor
        assert cursor["pass"] is not None  # an unfinished pass, to resume
    report = run_sync(str(db))
    assert not report.canceled and report.failures == {}
    assert_store_matches(db, api)


def test_the_size_cap_evicts_least_recently_played_recordings_the_source_still_has(db, api):
    ids = api.seed(6)
    connect(db, api)
    run_sync(str(db))
    api.delete_audio(ids[5])  # the oldest, now only ours
    run_sync(str(db), full=True)
    with Store(str(db)) as store:
        local = {i: store.calls.id_of("agent-platform", i) for i in ids}
        files, size = store.archive.size()
        assert files == 6
        for source_id in ids[:4]:
            store.calls.mark_played(local[source_id])
            time.sleep(0.002)
        cap = size - 1  # one recording must go
        plan = store.archive.eviction_plan(cap)
        # Never played comes first; never the one only we still have.
        assert [row.source_id for row in plan] == [ids[4]]
        store.archive.set_cap(cap)
    report = run_sync(str(db))
    assert (report.evicted, report.failures) == (1, {})
    with Store(str(db)) as store:
        assert store.archive.info(local[ids[4]]).state == "at_source"
        assert store.archive.info(local[ids[5]]).state == "archived"
        assert store.archive.size()[0] == 5 and store.archive.eviction_plan() == []
        assert store.archive.recording(local[ids[4]]).startswith(api.url + "/audio/")
    assert run_sync(str(db)).downloaded == 0  # an evicted recording is not fetched again


@pytest.mark.parametrize("paging", ["next_cursor", "next", "ignores_to"])
def test_servers_that_hand_out_their_next_page_or_ignore_to_are_walked_whole(db, api, paging):
    api.seed(230, spacing_s=7)
    if paging == "ignores_to":
        api.ignore_to = True
    else:
        api.paging = paging
    connect(db, api)
    report = run_sync(str(db))
    assert (report.counts.new, report.failures, report.rejected) == (230, {}, 0)
    assert_store_matches(db, api)
    queries = [query for _, _, query, _ in api.requests_of("list")]
    if paging == "ignores_to":
        # `to` moved once, the same newest calls came back: by number from then on.
        assert [q["page"] for q in queries] == ["1", "1", "2", "3"]
    else:
        assert [q.get("cursor") for q in queries] == [None, "o100", "o200"]


def test_a_call_deleted_between_its_listing_and_its_detail_is_kept_from_the_list(db, api):
    ids = api.seed(5)
    connect(db, api)

    def vanish(page: int) -> None:
        api.after_list_page.clear()
        with api.lock:
            del api.calls[ids[1]]  # gone for good before its detail is asked for

    api.after_list_page.append(vanish)
    report = run_sync(str(db))
    assert report.counts.new == 5 and report.rejected == 1
    assert f"item 2 detail (source_id {ids[1]}): not found (404)" in str(report.rejects[0])


def test_no_log_record_report_or_export_carries_the_token_or_a_signature(db, api, caplog,
                                                                          tmp_path):
    from callviewer.store.export import write_csv, write_json

    ids = api.seed(30)
    connect(db, api)
    api.fault("audio", "status", code=500, times=3)  # urllib3 logs its retries, URL and all
    api.fault("audio", "drop_audio", times=2)
    api.fault("detail", "status", code=502, times=2)
    api.fault("audio", "status", code=403, times=2, id=ids[7])
    with caplog.at_level(logging.DEBUG):
        report = run_sync(str(db))
        with Store(str(db)) as store:
            at_source = store.calls.id_of("agent-platform", ids[7])
            assert store.archive.info(at_source).state == "link_expired"
            with (tmp_path / "out.json").open("wb") as out:
                write_json(store.calls.export(), out)
            with (tmp_path / "out.csv").open("w", newline="") as out:
                write_csv(store.calls.export(), out)
            described = repr(store.sync.connections()) + repr(store.archive.info(at_source))
    # The library did log the links it retried (without their queries).
    assert "Retry: /audio/" in caplog.text and '/audio/' in caplog.text
    everything = "\n".join([
        caplog.text, *(r.exc_text or "" for r in caplog.records), repr(report),
        sync_sentence(report), *report.recording_errors, *map(str, report.rejects),
        (tmp_path / "out.json").read_text(), (tmp_path / "out.csv").read_text(), described])
    assert api.token not in everything
    assert "signature=" not in everything and "expires=" not in everything
