"""One sync per connection for the whole team, against a real calls API and PostgreSQL.

A "desktop" is a Store (and the sync's own) with data and cache folders of its
own; a desktop that dies is a real process killed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fake_calls_api import add_connection

from callviewer.store import Store
from callviewer.sync.runner import run_sync
from callviewer.ui.formatting import local_time, sync_sentence


def as_desktop(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


@contextmanager
def turn_held(url: str, connection_id: int) -> Iterator[None]:
    """Another desktop syncing the connection: its turn held for the block."""
    with Store(url) as store, store.sync.turns() as take:
        assert take(connection_id)
        yield


def turn_free(url: str, connection_id: int) -> bool:
    with Store(url) as store, store.sync.turns() as take:
        return take(connection_id)


def test_a_connection_another_desktop_is_syncing_is_left_to_it(postgres_url, api,
                                                               tmp_path, monkeypatch):
    api.seed(30, with_audio=1.0)
    with Store(postgres_url) as store:
        row = add_connection(store, api)
    as_desktop(tmp_path / "front-desk", monkeypatch)
    with turn_held(postgres_url, row.id):
        as_desktop(tmp_path / "support", monkeypatch)
        report = run_sync(postgres_url)
        assert api.log == []  # not one request: not the list, a detail or a recording
        assert (report.elsewhere, report.failures, report.exit_code) == ({"main": None}, {}, 0)
        assert sync_sentence(report) == "Not synced yet · another desktop is syncing now"
    # The turn is given back: the next sync is this desktop's.
    report = run_sync(postgres_url)
    assert (report.counts.new, report.downloaded, report.elsewhere) == (30, 30, {})
    synced_at = Store(postgres_url).sync.connection("main").last_sync_at
    # Now another desktop syncs again: this one shows the team's last sync.
    requests = len(api.log)
    with turn_held(postgres_url, row.id):
        report = run_sync(postgres_url)
    assert len(api.log) == requests
    assert sync_sentence(report) == \
        f"Synced {local_time(synced_at)} · another desktop is syncing now"


def test_recordings_synced_by_one_desktop_play_on_another(postgres_url, api, tmp_path,
                                                          monkeypatch):
    api.seed(12, with_audio=1.0)
    with Store(postgres_url) as store:
        add_connection(store, api)
    as_desktop(tmp_path / "front-desk", monkeypatch)
    assert run_sync(postgres_url).downloaded == len(api.audio) == 12
    audio_requests = len(api.requests_of("audio"))
    as_desktop(tmp_path / "support", monkeypatch)
    with Store(postgres_url) as support:
        for source_id, audio in api.audio.items():
            played = support.archive.recording(support.calls.id_of("agent-platform", source_id))
            assert played.startswith(str(tmp_path / "support"))
            assert Path(played).read_bytes() == audio
    # The support desk's own sync downloads nothing: the team has them.
    report = run_sync(postgres_url)
    assert report.downloaded == 0 and len(api.requests_of("audio")) == audio_requests
    with Store(postgres_url) as support:
        assert support.archive.state_counts()["archived"] == 12
        assert support.archive.size() == (12, sum(map(len, api.audio.values())))


def test_an_automatic_sync_leaves_a_connection_the_team_just_synced(postgres_url, api,
                                                                    tmp_path, monkeypatch):
    api.seed(5)
    with Store(postgres_url) as store:
        add_connection(store, api)
    as_desktop(tmp_path / "front-desk", monkeypatch)
    run_sync(postgres_url)
    requests = len(api.log)
    as_desktop(tmp_path / "support", monkeypatch)
    report = run_sync(postgres_url, fresh_for=300)
    assert len(api.log) == requests and report.fresh and not report.elsewhere
    assert sync_sentence(report).startswith("Synced ") and "another" not in \
        sync_sentence(report)
    assert run_sync(postgres_url).counts.unchanged > 0  # F5: synced now, whatever its age
    assert len(api.log) > requests


HOLDER = textwrap.dedent("""
    import sys, time
    from callviewer.store import Store
    with Store(sys.argv[1]) as store, store.sync.turns() as take:
        print("held" if take(int(sys.argv[2])) else "not mine", flush=True)
        time.sleep(600)
""")


def test_a_desktop_that_dies_while_syncing_gives_its_turn_back(postgres_url, api):
    with Store(postgres_url) as store:
        row = add_connection(store, api)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, postgres_url, str(row.id)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)
    try:
        said = holder.stdout.readline().strip()
        assert said == "held", said or holder.stderr.read()  # (it ended: stderr is whole)
        assert not turn_free(postgres_url, row.id)
        holder.kill()  # no clean exit: the server notices the session is gone
        holder.wait(10)
        deadline = time.monotonic() + 10
        while not turn_free(postgres_url, row.id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert turn_free(postgres_url, row.id)
    finally:
        holder.kill()
        holder.wait(10)
        holder.stdout.close()
        holder.stderr.close()


def test_on_sqlite_every_sync_is_the_desktops_own(tmp_path, api):
    db = str(tmp_path / "calls.sqlite3")
    with Store(db) as store:
        row = add_connection(store, api)
    api.seed(3)
    with Store(db) as other, other.sync.turns() as take:
        assert take(row.id)
        report = run_sync(db)
    assert report.counts.new == 3 and report.elsewhere == {}


def test_a_desktop_plays_the_teams_recording_and_shows_the_teams_sync(
        qtbot, postgres_url, api, tmp_path, monkeypatch):
    # The player and the status bar's sync part as the window wires them (the whole
    # window over PostgreSQL: tests/integration/test_window_team.py).
    from PySide6.QtCore import QSettings

    from callviewer.playback.now_playing import PLAYING, NowPlaying
    from callviewer.playback.vlc_player import VlcPlayer
    from callviewer.ui.syncing import SyncController, SyncStatus
    from callviewer.ui.tasks import TaskRunner

    api.seed(3, with_audio=1.0)
    with Store(postgres_url) as store:
        row = add_connection(store, api)
    as_desktop(tmp_path / "front-desk", monkeypatch)
    run_sync(postgres_url)
    as_desktop(tmp_path / "support", monkeypatch)
    with Store(postgres_url) as store:
        synced_at = store.sync.connection("main").last_sync_at
        source_id = next(iter(api.audio))
        call_id = store.calls.id_of("agent-platform", source_id)
        now_playing = NowPlaying(store.archive.source, VlcPlayer())
        now_playing.play(call_id)
        qtbot.waitUntil(lambda: now_playing.state == PLAYING, timeout=6000)
        played = store.archive.recording(call_id)
        assert played.startswith(str(tmp_path / "support"))
        assert Path(played).read_bytes() == api.audio[source_id]
        now_playing.release()
        # F5 while the front desk syncs: the status bar says how the team stands.
        status = SyncStatus()
        qtbot.addWidget(status)
        tasks = TaskRunner()
        syncing = SyncController(store, QSettings(str(tmp_path / "settings.ini"),
                                                  QSettings.Format.IniFormat), status, tasks)
        requests = len(api.log)
        with turn_held(postgres_url, row.id):
            assert syncing.sync()
            qtbot.waitUntil(lambda: not syncing.running, timeout=20_000)
        syncing.wait()
        tasks.shutdown()
    assert status.label.text() == \
        f"Synced {local_time(synced_at)} · another desktop is syncing now"
    assert len(api.log) == requests


def test_a_run_holds_all_its_turns_on_one_session_of_its_own(postgres_url):
    # Many connections must not take a pooled connection each (the pool holds 15).
    count = 25
    with Store(postgres_url) as store, store.sync.turns() as take:
        assert all(take(connection_id) for connection_id in range(1, count + 1))
        assert take(1)  # a turn already held is still this run's
        store.sync.connections()  # the store's other work goes on beside them
        with Store(postgres_url) as other:
            with other.reading() as conn:
                sessions, locks = conn.exec_driver_sql(
                    "SELECT count(DISTINCT pid), count(*) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND classid = 25462").one()
            assert (sessions, locks) == (1, count)
            with other.sync.turns() as take_other:
                assert not any(take_other(connection_id) for connection_id in (1, 7, count))
    assert turn_free(postgres_url, 1) and turn_free(postgres_url, count)
