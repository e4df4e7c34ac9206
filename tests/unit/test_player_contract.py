"""Every player backend keeps playback/player.py's contract, and NowPlaying keeps its
promises over each: the same test classes run against the fake (no VLC, no waiting:
its clock moves when told) and against libVLC playing a demo MP3 (dummy audio out).

After each test an invariant is checked, as Quod Libet's player tests do: every
start has its end (ended, failed, or stopped by us), nothing is reported after close,
news never comes from inside a call nor from another thread, and NowPlaying is in one
state at a time, moving only along the transitions below.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CALLVIEWER_VLC_ARGS", "--aout=dummy")  # no sound card needed

from PySide6.QtCore import QCoreApplication, QThread

from callviewer.errors import ExpectedError
from callviewer.paths import demo_dir
from callviewer.playback.fake_player import CORRUPT, FakePlayer
from callviewer.playback.now_playing import (
    ERROR,
    LOADING,
    NO_RECORDING,
    PAUSED,
    PLAYING,
    RATES,
    RESUME_BACK_MS,
    SEEK_SETTLE_MS,
    STOPPED,
    UNDECODABLE,
    NowPlaying,
    PlayState,
    not_found,
)
from callviewer.playback.player import PlayerEvent
from callviewer.playback.vlc_player import PlayerUnavailable, VlcPlayer

FIRST, SECOND = str(demo_dir() / "ap-1001.mp3"), str(demo_dir() / "ap-1002.mp3")
LENGTHS = {FIRST: 19_000, SECOND: 16_000}  # for the fake; VLC reads the files
STEP_MS = 50  # the fake's clock moves in steps of NowPlaying's poll

# Same call: where NowPlaying's state may go next (another call may start anywhere).
MOVES = {
    STOPPED: {LOADING, PLAYING, ERROR},
    LOADING: {PLAYING, STOPPED, ERROR},
    PLAYING: {PAUSED, STOPPED, ERROR, LOADING},  # LOADING: a failed link is being checked
    PAUSED: {PLAYING, STOPPED, ERROR, LOADING},
    ERROR: {LOADING, PLAYING},
}


@pytest.fixture
def files(tmp_path):
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(os.urandom(40_000))  # random bytes named .mp3 (FACTS.md)
    return {"corrupt": str(corrupt), "gone": str(tmp_path / "gone.mp3")}


# --- the backends, each with its way of letting time pass ---------------------------------

class FakeBackend:
    """The fake: time passes only in `advance`, and news arrives at processEvents()."""

    def __init__(self, qtbot, files) -> None:
        self.player = FakePlayer({**LENGTHS, files["corrupt"]: CORRUPT})
        self.now: NowPlaying | None = None

    def advance(self, ms: int) -> None:
        for _ in range(0, ms, STEP_MS):
            self.player.advance(STEP_MS)
            QCoreApplication.processEvents()
            if self.now is not None and self.now.polling:
                self.now.poll()  # the poll timer's tick, without waiting for it
        QCoreApplication.processEvents()

    def until(self, condition, timeout_ms: int = 5000) -> None:
        QCoreApplication.processEvents()
        waited = 0
        while not condition():
            assert waited < timeout_ms, f"not so after {timeout_ms} ms of the fake's time"
            self.advance(STEP_MS)
            waited += STEP_MS

    def settle(self) -> None:
        QCoreApplication.processEvents()


class VlcBackend:
    """libVLC in real time."""

    def __init__(self, qtbot, files) -> None:
        self.qtbot = qtbot
        self.player = VlcPlayer()
        try:
            self.player.prepare()
        except PlayerUnavailable as exc:
            pytest.skip(str(exc))
        self.now = None

    def advance(self, ms: int) -> None:
        self.qtbot.wait(ms)

    def until(self, condition, timeout_ms: int = 5000) -> None:
        self.qtbot.waitUntil(lambda: bool(condition()), timeout=timeout_ms)

    def settle(self) -> None:
        self.qtbot.wait(150)  # anything VLC still had to say would arrive by now


# --- the invariants ---------------------------------------------------------------------------

class Recorder:
    """Drives a backend and writes down, in order, the calls made and the news heard."""

    def __init__(self, player) -> None:
        self.player = player
        self.log: list[tuple] = []
        self.problems: list[str] = []
        self._calling = False
        self.closed = False
        player.event.connect(self._heard)

    def __getattr__(self, name: str):
        method = getattr(self.player, name)
        if name not in ("load", "play", "pause", "stop", "seek", "set_rate", "set_volume",
                        "close"):
            return method

        def call(*args):
            self.log.append(("call", name))
            self._calling = True
            try:
                return method(*args)
            finally:
                self._calling = False
                self.closed = self.closed or name == "close"

        return call

    def _heard(self, news: PlayerEvent, sentence: str) -> None:
        if self._calling:
            self.problems.append(f"{news.name} came from inside a call")
        if QThread.currentThread() is not self.player.thread():
            self.problems.append(f"{news.name} came on another thread")
        if self.closed:
            self.problems.append(f"{news.name} came after close")
        self.log.append(("event", news, sentence))

    def news(self) -> list[PlayerEvent]:
        return [entry[1] for entry in self.log if entry[0] == "event"]

    def sentence(self, news: PlayerEvent) -> str:
        return next(entry[2] for entry in self.log if entry[0] == "event" and entry[1] is news)

    def broken_promises(self) -> list[str]:
        """Every PLAYING ends (ENDED, FAILED, or our stop/load/close); a pause only while
        playing."""
        problems, playing = list(self.problems), False
        for entry in self.log:
            if entry[0] == "call":
                playing = playing and entry[1] not in ("stop", "load", "close")
            elif entry[1] is PlayerEvent.PLAYING:
                playing = True
            elif entry[1] is PlayerEvent.PAUSED and not playing:
                problems.append("PAUSED while nothing played")
            elif entry[1] in (PlayerEvent.ENDED, PlayerEvent.FAILED):
                playing = False
        if playing:
            problems.append("a start without its end")
        return problems


class Trace:
    """NowPlaying's signals, in order, and whether any came after release()."""

    def __init__(self, now: NowPlaying) -> None:
        self.now = now
        self.log: list[tuple[str, object]] = []
        self.released = False
        self.after_release: list[str] = []
        for name in ("call_changed", "state_changed", "position_changed", "duration_changed",
                     "rate_changed", "volume_changed", "error_changed"):
            getattr(now, name).connect(lambda value, name=name: self._heard(name, value))

    def _heard(self, name: str, value: object) -> None:
        if self.released:
            self.after_release.append(name)
        self.log.append((name, value))

    def states(self) -> list[PlayState]:
        return [value for name, value in self.log if name == "state_changed"]

    def broken_promises(self) -> list[str]:
        problems = [f"{name} after release" for name in self.after_release]
        state, started = STOPPED, False
        for name, value in self.log:
            if name == "call_changed":
                state, started = None, False  # a new call: any state may follow
            elif name == "state_changed":
                if not isinstance(value, PlayState):
                    problems.append(f"state {value!r} is not a PlayState")
                elif state is not None and value not in MOVES[state]:
                    problems.append(f"{state} -> {value}")
                state = value
                started = (started or value is PLAYING) and value not in (STOPPED, ERROR)
        if started:
            problems.append("a call started playing and never stopped")
        if self.states() and self.states()[-1] is not self.now.state:
            problems.append(f"views were last told {self.states()[-1]}, it is {self.now.state}")
        return problems


# --- the contract of a backend ------------------------------------------------------------------

class PlayerContract:
    """What every backend does; a subclass names the backend."""

    Backend: type

    @pytest.fixture
    def backend(self, qtbot, files):
        return self.Backend(qtbot, files)

    @pytest.fixture
    def player(self, backend):
        recorder = Recorder(backend.player)
        yield recorder
        recorder.close()
        backend.settle()
        assert recorder.broken_promises() == []

    def start(self, backend, player, reference: str = FIRST) -> None:
        player.load(reference)
        player.play()
        backend.until(lambda: PlayerEvent.PLAYING in player.news() and player.length_ms() > 0)

    def test_news_of_a_start_comes_later_with_the_length(self, backend, player):
        self.start(backend, player)
        assert PlayerEvent.OPENED in player.news()
        assert 10_000 < player.length_ms() < 25_000

    def test_time_moves_while_playing_and_holds_while_paused(self, backend, player):
        self.start(backend, player)
        before = player.time_ms()
        backend.until(lambda: player.time_ms() >= before + 500)
        player.pause()
        backend.until(lambda: PlayerEvent.PAUSED in player.news())
        held = player.time_ms()
        backend.advance(400)
        assert player.time_ms() == held
        player.play()
        backend.until(lambda: player.time_ms() >= held + 300)

    def test_seek_moves_the_time(self, backend, player):
        self.start(backend, player)
        player.seek(8_000)
        backend.until(lambda: player.time_ms() >= 8_000)
        assert player.time_ms() < 12_000

    def test_the_end_is_reported(self, backend, player):
        self.start(backend, player)
        player.seek(player.length_ms() - 300)
        backend.until(lambda: PlayerEvent.ENDED in player.news())
        player.stop()

    def test_a_stopped_media_says_nothing_more_and_starts_again(self, backend, player):
        self.start(backend, player)
        player.stop()
        heard = len(player.news())
        backend.advance(300)
        assert len(player.news()) == heard
        assert player.time_ms() == 0
        player.play()
        backend.until(lambda: player.news()[heard:].count(PlayerEvent.PLAYING) == 1)

    def test_a_missing_file_fails_with_a_sentence(self, backend, player, files):
        player.load(files["gone"])
        player.play()
        backend.until(lambda: PlayerEvent.FAILED in player.news())
        assert player.sentence(PlayerEvent.FAILED)  # a sentence for the person

    def test_a_corrupt_file_fails_or_ends_having_no_length(self, backend, player, files):
        player.load(files["corrupt"])
        player.play()
        backend.until(lambda: {PlayerEvent.FAILED, PlayerEvent.ENDED} & set(player.news()),
                      timeout_ms=8000)
        if PlayerEvent.ENDED in player.news():  # libVLC's way (FACTS.md)
            assert player.length_ms() == 0
        player.stop()

    def test_nothing_is_said_after_close_even_while_playing(self, backend, player):
        self.start(backend, player)
        player.close()
        backend.settle()  # the Recorder notes any news from here on


class TestFakePlayer(PlayerContract):
    Backend = FakeBackend


class TestVlcPlayer(PlayerContract):
    Backend = VlcBackend


# --- NowPlaying over each backend --------------------------------------------------------------

class NowPlayingContract:
    """What NowPlaying promises the views, whichever backend plays."""

    Backend: type

    @pytest.fixture
    def backend(self, qtbot, files):
        return self.Backend(qtbot, files)

    @pytest.fixture
    def now(self, backend, files):
        recordings = {1: FIRST, 2: SECOND, 3: files["gone"], 4: files["corrupt"], 5: None}
        playing = NowPlaying(recordings.get, backend.player)
        backend.now = playing
        trace = Trace(playing)
        yield playing
        playing.release()
        trace.released = True
        backend.settle()
        assert trace.broken_promises() == []
        assert playing.state in (STOPPED, ERROR)

    def test_play_reaches_playing_and_the_position_moves(self, backend, now):
        now.play(1)
        assert (now.call_id, now.error) == (1, "")
        backend.until(lambda: now.state == PLAYING and now.duration > 10_000)
        assert now.polling
        start = now.position
        backend.until(lambda: now.position >= start + 500)

    def test_pause_holds_seek_goes_and_the_rate_applies(self, backend, now):
        now.play(1)
        backend.until(lambda: now.state == PLAYING)
        now.pause()
        assert (now.state, now.polling) == (PAUSED, False)
        held = now.position
        backend.advance(400)
        assert now.position == held
        now.seek(8_000)
        assert now.position == 8_000
        now.set_rate(2.0)
        now.toggle()
        assert now.state == PLAYING
        backend.until(lambda: now.position >= 9_000)
        now.step_rate(-1)
        assert now.rate == 1.5

    def test_another_call_replaces_the_first_and_the_end_returns_to_the_start(self, backend,
                                                                              now):
        now.play(1)
        backend.until(lambda: now.state == PLAYING)
        now.play(2)
        assert now.call_id == 2
        backend.until(lambda: now.state == PLAYING and now.duration > 0)
        now.seek(now.duration - 300)
        backend.until(lambda: now.state == STOPPED)
        assert (now.call_id, now.position, now.error, now.polling) == (2, 0, "", False)

    def test_a_missing_file_says_so(self, now, files):
        now.play(3)
        assert (now.state, now.error) == (ERROR, not_found(files["gone"]))

    def test_a_corrupt_file_is_undecodable_not_silently_ended(self, backend, now):
        now.play(4)
        backend.until(lambda: now.state == ERROR, timeout_ms=8000)
        assert (now.error, now.position) == (UNDECODABLE, 0)

    def test_no_recording(self, now):
        now.play(5)
        assert (now.state, now.error) == (ERROR, NO_RECORDING)

    def test_stop_goes_back_to_the_start_and_play_starts_again(self, backend, now):
        now.play(1)
        backend.until(lambda: now.state == PLAYING and now.position > 300)
        now.stop()
        assert (now.state, now.position, now.call_id) == (STOPPED, 0, 1)
        now.play(1)
        backend.until(lambda: now.state == PLAYING)
        backend.until(lambda: now.position > 0)

    def test_after_a_seek_the_position_never_shows_where_it_was(self, backend, now):
        now.play(1)
        backend.until(lambda: now.state == PLAYING and now.position > 500)
        shown: list[int] = []
        now.position_changed.connect(shown.append)
        now.seek(10_000)
        backend.advance(600)  # a dozen polls
        assert shown and shown[0] == 10_000
        assert min(shown) >= 10_000 - 300, shown  # VLC may land a little before the target
        assert now.position > 10_000


class TestNowPlayingOverTheFake(NowPlayingContract):
    Backend = FakeBackend


class TestNowPlayingOverVlc(NowPlayingContract):
    Backend = VlcBackend


# --- NowPlaying's own rules, told by the fake: exact and immediate ---------------------------

class TestNowPlayingRules:
    @pytest.fixture
    def backend(self, qtbot, files):
        return FakeBackend(qtbot, files)

    @pytest.fixture
    def now(self, backend, files):
        playing = NowPlaying({1: FIRST, 2: SECOND, 4: files["corrupt"]}.get, backend.player)
        backend.now = playing
        trace = Trace(playing)
        playing.trace = trace
        yield playing
        playing.release()
        trace.released = True
        backend.settle()
        assert trace.broken_promises() == []

    def test_states_are_an_enum_and_views_are_told_each_change_once(self, backend, now):
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        now.pause()
        now.play(1)
        assert all(isinstance(state, PlayState) for state in now.trace.states())
        # Loading, which lasted less than a frame, is not shown (unless the machine stalled).
        assert now.trace.states() in ([PLAYING, PAUSED, PLAYING],
                                      [LOADING, PLAYING, PAUSED, PLAYING])

    def test_the_position_follows_the_players_clock_at_its_rate(self, backend, now):
        now.set_rate(2.0)
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        backend.advance(1_000)
        assert now.position == 2_000
        assert backend.player.rate == 2.0

    def test_the_rate_stays_between_half_and_double_speed(self, backend, now):
        now.set_rate(5)
        assert (now.rate, backend.player.rate) == (2.0, 2.0)
        now.set_rate(0.1)
        assert (now.rate, backend.player.rate) == (0.5, 0.5)
        now.step_rate(-1)
        assert now.rate == RATES[0]
        for _ in RATES:
            now.step_rate(1)
        assert now.rate == RATES[-1]

    def test_the_volume_reaches_the_player_within_0_to_100(self, backend, now):
        assert backend.player.volume == now.volume
        now.set_volume(130)
        assert (now.volume, backend.player.volume) == (100, 100)
        now.set_volume(-5)
        assert (now.volume, backend.player.volume) == (0, 0)

    def test_the_position_is_polled_only_while_playing(self, backend, now):
        assert not now.polling
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        assert now.polling
        now.pause()
        assert not now.polling
        now.toggle()
        assert now.polling

    def test_seek_stays_inside_the_recording(self, backend, now):
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        now.seek(-400)
        assert now.position == 0
        now.seek(99_000)
        assert now.position == 18_999
        backend.until(lambda: now.state is STOPPED)

    def test_a_failure_while_playing_is_said_in_the_players_words(self, backend, now):
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        backend.player.fail("The recording stopped: the drive was disconnected.")
        backend.until(lambda: now.state is ERROR)
        assert now.error == "The recording stopped: the drive was disconnected."
        assert (now.position, now.polling) == (0, False)
        now.play(2)
        backend.until(lambda: now.state is PLAYING)
        assert now.error == ""

    def test_a_file_gone_once_playing_started_is_named(self, backend, now, tmp_path):
        copy = tmp_path / "copy.mp3"
        copy.write_bytes(b"ID3")
        fake = FakePlayer()
        playing = NowPlaying({9: str(copy)}.get, fake)
        try:
            playing.play(9)
            QCoreApplication.processEvents()
            copy.unlink()
            fake.fail("The recording could not be decoded.")
            QCoreApplication.processEvents()
            assert (playing.state, playing.error) == (ERROR, not_found(str(copy)))
        finally:
            playing.release()

    def test_ended_with_no_length_is_undecodable_however_it_came(self, backend, now):
        now.play(4)
        QCoreApplication.processEvents()
        assert (now.state, now.error) == (ERROR, UNDECODABLE)

    def test_toggle_plays_and_pauses_the_now_playing_call(self, backend, now):
        now.toggle()  # nothing to play yet
        assert now.state is STOPPED
        now.toggle(2)
        backend.until(lambda: now.state is PLAYING)
        now.toggle()
        assert (now.call_id, now.state) == (2, PAUSED)
        now.toggle(1)
        assert now.call_id == 1
        backend.until(lambda: now.state is PLAYING)

    def test_a_fetched_recording_plays_and_a_failing_fetch_is_said(self, qtbot, backend, now,
                                                                    tasks):
        # Fetched off the GUI thread, as the window has it (its task runner).
        fetching = NowPlaying({1: lambda: FIRST, 2: self._unreachable}.get, FakePlayer(),
                              background=lambda work, done, failed: tasks.run(
                                  work, done, failed=failed))
        try:
            fetching.play(1)
            assert fetching.state is LOADING
            qtbot.waitUntil(lambda: fetching.state is PLAYING, timeout=5000)
            fetching.play(2)
            qtbot.waitUntil(lambda: fetching.state is ERROR, timeout=5000)
            assert fetching.error == "The team database could not be reached."
        finally:
            fetching.release()

    @staticmethod
    def _unreachable():
        raise ExpectedError("The team database could not be reached.")

    def test_a_call_come_back_to_resumes_two_seconds_before_where_it_was_left(self, backend,
                                                                              now):
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        backend.advance(7_000)
        left_playing = now.position
        now.play(2)  # call 1 is left while playing
        backend.until(lambda: now.state is PLAYING)
        backend.advance(5_000)
        now.pause()
        left_paused = now.position
        now.play(1)  # call 2 is left paused
        backend.until(lambda: now.state is PLAYING)
        assert now.position == left_playing - RESUME_BACK_MS
        assert backend.player.time_ms() == left_playing - RESUME_BACK_MS
        now.play(2)
        backend.until(lambda: now.state is PLAYING)
        assert now.position == left_paused - RESUME_BACK_MS
        # A place asked for (a transcript's line, a pinned note) wins over the resume.
        now.play(1, at_ms=1_000)
        backend.until(lambda: now.state is PLAYING)
        assert now.position == 1_000

    def test_a_call_played_to_its_end_or_stopped_starts_again_from_the_start(self, backend,
                                                                             now):
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        backend.advance(1_000)
        now.seek(now.duration - 300)
        backend.until(lambda: now.state is STOPPED)
        now.play(2)
        backend.until(lambda: now.state is PLAYING)
        backend.advance(4_000)
        now.stop()
        for call_id in (1, 2):
            assert now.resume_at(call_id) == 0
            now.play(call_id)
            backend.until(lambda: now.state is PLAYING)
            assert now.position == 0
        # Less than 2 s in: from the start, not before it.
        backend.advance(1_000)
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        now.play(2)
        backend.until(lambda: now.state is PLAYING)
        assert now.position == 0

    def test_release_stops_and_closes_the_player(self, backend, now):
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        now.release()
        assert (now.state, backend.player.closed) == (STOPPED, True)


class LaggingPlayer(FakePlayer):
    """The fake, telling its old time for `lag` polls after a seek, as VLC does (its seek
    takes effect on its own thread); `ignoring` seeks never land at all."""

    def __init__(self, *args, lag: int = 2, ignoring: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lag, self.ignoring = lag, ignoring
        self._stale: tuple[int, int] | None = None  # (old time, polls left)

    def seek(self, ms: int) -> None:
        old = self._position
        if not self.ignoring:
            super().seek(ms)
        self._stale = (old, self.lag)

    def time_ms(self) -> int:
        if self._stale is not None:
            old, left = self._stale
            self._stale = (old, left - 1) if left > 1 else None
            return old
        return super().time_ms()


class TestNowPlayingSeeksOverALaggingPlayer:
    """A seek's target is the position until the player tells a time at or just past it,
    for at most SEEK_SETTLE_MS: the views never see the old time come back for a tick."""

    @pytest.fixture
    def backend(self, qtbot, files):
        return FakeBackend(qtbot, files)

    def playing(self, backend, player: FakePlayer) -> NowPlaying:
        backend.player = player
        now = NowPlaying({1: FIRST}.get, player)
        backend.now = now
        now.play(1)
        backend.until(lambda: now.state is PLAYING)
        backend.advance(2_000)
        return now

    def test_forward_and_back_the_position_goes_only_to_the_target_then_on(self, backend):
        now = self.playing(backend, LaggingPlayer(LENGTHS))
        try:
            shown: list[int] = []
            now.position_changed.connect(shown.append)
            now.seek(10_000)
            backend.advance(300)
            assert shown[0] == 10_000 and min(shown) == 10_000
            assert now.position > 10_000  # played on from there
            shown.clear()
            now.seek(4_000)  # back: the old time, past the target, is not believed either
            backend.advance(300)
            assert shown[0] == 4_000 and max(shown) < 4_000 + 400, shown
            assert now.position > 4_000
            # A pause right after a seek stays where the seek went.
            now.seek(12_000)
            now.pause()
            assert now.position == 12_000
        finally:
            now.release()

    def test_a_seek_that_never_lands_holds_the_target_for_half_a_second_at_most(
            self, qtbot, backend):
        now = self.playing(backend, LaggingPlayer(LENGTHS, ignoring=True))
        try:
            before = now.position
            now.seek(10_000)
            backend.advance(100)
            assert now.position == 10_000
            qtbot.wait(SEEK_SETTLE_MS + 50)
            backend.advance(100)
            assert before < now.position < 10_000  # the player's own time again
        finally:
            now.release()
