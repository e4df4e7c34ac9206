"""NowPlaying with real libVLC (dummy audio out) playing the demo MP3s."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CALLVIEWER_VLC_ARGS"] = "--aout=dummy"

from callviewer.paths import demo_dir
from callviewer.playback.now_playing import (
    ERROR,
    EXPIRED,
    LOADING,
    PAUSED,
    PLAYING,
    STOPPED,
    UNDECODABLE,
    NowPlaying,
)
from callviewer.playback.vlc_player import VlcPlayer
from callviewer.store import StoreError


@pytest.fixture
def recordings(tmp_path):
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(os.urandom(40_000))
    return {1: str(demo_dir() / "ap-1001.mp3"), 2: str(demo_dir() / "ap-1002.mp3"),
            3: str(tmp_path / "gone.mp3"), 4: str(corrupt), 5: None}


@pytest.fixture
def now(qapp, recordings):
    playing = NowPlaying(recordings.get, VlcPlayer())
    yield playing
    playing.release()


def test_play_reaches_playing_and_the_position_advances(qtbot, now):
    with qtbot.waitSignal(now.state_changed, check_params_cb=lambda s: s == PLAYING,
                          timeout=5000):
        now.play(1)
    assert now.call_id == 1
    qtbot.waitUntil(lambda: now.duration > 10_000, timeout=3000)
    start = now.position
    qtbot.waitUntil(lambda: now.position >= start + 500, timeout=3000)


def test_pause_seek_and_rate(qtbot, now):
    now.play(1)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=5000)
    now.pause()
    assert now.state == PAUSED
    held = now.position
    qtbot.wait(400)
    assert now.position == held
    now.seek(8_000)
    assert now.position == 8_000
    now.set_rate(2.0)
    now.toggle()
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=3000)
    qtbot.waitUntil(lambda: now.position >= 9_000, timeout=3000)
    assert now.rate == 2.0
    now.step_rate(-1)
    assert now.rate == 1.5


def test_another_call_replaces_the_first_and_the_end_returns_to_the_start(qtbot, now):
    now.play(1)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=5000)
    now.play(2)
    assert now.call_id == 2
    qtbot.waitUntil(lambda: now.state == PLAYING and now.duration > 0, timeout=5000)
    now.seek(now.duration - 300)
    qtbot.waitUntil(lambda: now.state == STOPPED, timeout=5000)
    assert (now.call_id, now.position, now.error) == (2, 0, "")


def test_a_missing_file_says_so(qtbot, now, recordings):
    now.play(3)
    assert now.state == ERROR
    assert now.error == f"Recording file not found: {recordings[3]}"


def test_a_corrupt_file_is_undecodable_not_silently_ended(qtbot, now):
    now.play(4)
    qtbot.waitUntil(lambda: now.state == ERROR, timeout=8000)
    assert now.error == UNDECODABLE


def test_no_recording(qtbot, now):
    now.play(5)
    assert (now.state, now.error) == (ERROR, "This call has no recording.")


def test_a_fetch_that_fails_is_said_and_one_overtaken_by_another_call_is_dropped(qtbot, qapp,
                                                                                  tasks):
    unreachable = "The team database at db.example could not be reached: timeout expired."
    first_may_finish = threading.Event()

    def slow_fetch():
        first_may_finish.wait(10)
        return str(demo_dir() / "ap-1001.mp3")

    def failing_fetch():
        raise StoreError(unreachable)

    # Fetched on the task runner's JOB lane, as the window has it.
    playing = NowPlaying({1: slow_fetch, 2: failing_fetch,
                          3: str(demo_dir() / "ap-1002.mp3")}.get, VlcPlayer(),
                         background=lambda work, done, failed: tasks.run(work, done,
                                                                         failed=failed))
    try:
        playing.play(1)
        assert (playing.call_id, playing.state) == (1, LOADING)
        playing.play(3)  # while call 1's bytes are still on their way
        qtbot.waitUntil(lambda: playing.state == PLAYING, timeout=5000)
        first_may_finish.set()
        qtbot.wait(300)
        assert (playing.call_id, playing.state) == (3, PLAYING)
        playing.play(2)
        qtbot.waitUntil(lambda: playing.state == ERROR, timeout=5000)
        assert (playing.call_id, playing.error) == (2, unreachable)
    finally:
        playing.release()


@pytest.mark.parametrize("status", [403, 404, 410])
def test_an_expired_signed_link_says_to_sync_again(qtbot, now, httpserver, status):
    httpserver.expect_request("/rec/ap-1001.mp3").respond_with_data("denied", status=status)
    url = httpserver.url_for("/rec/ap-1001.mp3") + "?X-Amz-Signature=abc"
    playing = NowPlaying({7: url}.get, VlcPlayer())
    try:
        playing.play(7)
        qtbot.waitUntil(lambda: playing.state == ERROR, timeout=10_000)
        assert playing.error == EXPIRED
    finally:
        playing.release()


def test_a_link_that_works_plays(qtbot, httpserver):
    data = (demo_dir() / "ap-1001.mp3").read_bytes()
    httpserver.expect_request("/rec/ok.mp3").respond_with_data(data, content_type="audio/mpeg")
    playing = NowPlaying({8: httpserver.url_for("/rec/ok.mp3")}.get, VlcPlayer())
    try:
        playing.play(8)
        qtbot.waitUntil(lambda: playing.state == PLAYING, timeout=10_000)
    finally:
        playing.release()


def test_without_libvlc_playing_says_how_to_install_it(tmp_path):
    code = ("import os; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
            "from PySide6.QtCore import QCoreApplication\n"
            "app = QCoreApplication([])\n"
            "from callviewer.playback.now_playing import NowPlaying\n"
            "from callviewer.playback.vlc_player import VlcPlayer\n"
            f"now = NowPlaying({{1: {str(demo_dir() / 'ap-1001.mp3')!r}}}.get, VlcPlayer())\n"
            "now.play(1)\n"
            "print(now.state, now.error)\n")
    env = {**os.environ, "PYTHON_VLC_LIB_PATH": str(tmp_path / "no-libvlc.so"),
           "PYTHON_VLC_MODULE_PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("error Playing recordings needs VLC")
    assert "apt install libvlc5" in done.stdout


def test_options_vlc_refuses_are_named_not_taken_for_a_missing_vlc(qapp, monkeypatch):
    from callviewer.playback.vlc_player import PlayerUnavailable

    monkeypatch.setenv("CALLVIEWER_VLC_ARGS", "--no-such-option")
    with pytest.raises(PlayerUnavailable, match=r"VLC would not start with the options in "
                                               r"CALLVIEWER_VLC_ARGS \(--no-such-option\)\."):
        VlcPlayer().prepare()
