"""The one now-playing state of the application.

Every view (the list's play column, the detail's player, the player bar)
reads this object and calls its methods; none keeps a copy of any of it.
Each piece of state has its own change signal. What plays the sound is a
backend passed in (playback/player.py: VLC in the app, a fake in tests).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from callviewer.errors import ExpectedError
from callviewer.playback.player import (
    UNDECODABLE,
    Player,
    PlayerEvent,
    PlayerUnavailable,
    not_found,
)
from callviewer.recording_refs import refusal

log = logging.getLogger(__name__)


class PlayState(enum.StrEnum):
    """The one state of NowPlaying. (A StrEnum: views put its value in words.)"""

    STOPPED = "stopped"
    LOADING = "loading"
    PLAYING = "playing"
    PAUSED = "paused"
    ERROR = "error"


STOPPED, LOADING, PLAYING, PAUSED, ERROR = PlayState
RATES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
# Coming back to a call left part-way starts this much before where it was left, so the
# listener hears again the words that were cut.
RESUME_BACK_MS = 2000
POLL_MS = 50
# After a seek VLC tells its old time for a poll or two (its seek takes effect on its own
# thread): the target is the position until the player tells a time this close to it
# (or past it by no more than was played since), for at most SEEK_SETTLE_MS.
SEEK_NEAR_MS = 250
SEEK_SETTLE_MS = 500
# How long a start keeps its news to itself: see `_hold`.
FRAME_MS = 16
NO_RECORDING = "This call has no recording."
EXPIRED = "This recording link has expired — sync again to refresh it."
EXPIRED_STATUSES = (403, 404, 410)
__all__ = ["ERROR", "EXPIRED", "LOADING", "NO_RECORDING", "PAUSED", "PLAYING", "RATES",
           "STOPPED", "UNDECODABLE", "NowPlaying", "PlayState", "not_found", "not_playable"]


def not_playable(mrl: str) -> str | None:
    """Why a reference is not handed to the player, or None: only an http(s) URL, a local
    file: URL or an absolute path to a file plays; a relative path would be read from
    wherever the app was started (recording_refs.py)."""
    problem = refusal(mrl)
    if problem is not None:
        return f"This is not a recording: {problem}."
    if "://" not in mrl and not Path(mrl).is_file():
        return not_found(mrl)
    return None


# Runs `work()` away from the caller and answers on the caller's thread, with `done(result)`
# or `failed(sentence)` (ui/tasks.py's TaskRunner.run is one).
Background = Callable[[Callable[[], object], Callable[[object], None], Callable[[str], None]],
                      object]


def at_once(work: Callable[[], object], done: Callable[[object], None],
            failed: Callable[[str], None]) -> None:
    """The Background with no thread: `work()` now; an expected error is its sentence."""
    try:
        result = work()
    except ExpectedError as exc:
        failed(str(exc))
        return
    done(result)


def link_problem(mrl: str) -> str:
    """Why the player could not play a link, as its server tells (a one-byte request)."""
    request = urllib.request.Request(mrl, headers={"Range": "bytes=0-0"})
    try:
        with urllib.request.urlopen(request, timeout=10):
            return UNDECODABLE
    except urllib.error.HTTPError as exc:
        return EXPIRED if exc.code in EXPIRED_STATUSES else \
            f"The recording could not be downloaded: the server answered {exc.code}."
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"The recording could not be downloaded: {reason}."


class NowPlaying(QObject):
    """What plays: one call at a time, its state, position, duration, rate, volume, error.

    `recording_of(call_id)` gives the call's recording (a file path or URL, or
    None), or a function that fetches it first (a team database's archive); the store
    is not imported here. Both run through `background` while the call is loading (the
    window's task runner; by default at once, for headless use and tests), as does
    asking a link's server why it would not play. `player` plays the sound
    (playback/player.py); NowPlaying owns it.
    """

    call_changed = Signal(object)  # call id or None
    state_changed = Signal(object)  # PlayState
    position_changed = Signal(int)  # ms
    duration_changed = Signal(int)  # ms, 0 when unknown
    rate_changed = Signal(float)
    volume_changed = Signal(int)  # 0..100
    error_changed = Signal(str)  # "" when there is none

    def __init__(self, recording_of: Callable[[int], str | Callable[[], str | None] | None],
                 player: Player, parent: QObject | None = None,
                 background: Background | None = None,
                 known: Callable[[int], str | None] | None = None) -> None:
        super().__init__(parent)
        self._recording_of = recording_of
        self._player = player
        self._background = background or at_once
        # A call's recording already looked up (a path or URL), or None: then it is asked
        # through `background`. Space then plays at once, as it did before the lookup left
        # the GUI thread (tests/bench/bench_play.py).
        self._known = known or (lambda _call_id: None)
        if isinstance(player, QObject) and player.parent() is None:
            player.setParent(self)
        # The backend delivers its news on this thread, after the call that caused it.
        self._player.event.connect(self._on_event)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self.poll)
        self.call_id: int | None = None
        self.state = PlayState.STOPPED
        self.position = 0
        self.duration = 0
        self.rate = 1.0
        self.volume = 80
        self.error = ""
        self._mrl: str | None = None
        self._starts = 0  # counts play()'s new starts: a fetch answers the one it began for
        self._start_at: int | None = None  # where to go once playing starts
        self._reached = 0  # the furthest position the player reported for this media
        self._seeking: tuple[int, float] | None = None  # (target, when): see `_landed`
        self._left: dict[int, int] = {}  # where each call was left, for this session
        self._held: dict[str, object] | None = None  # signal name -> latest value
        self._release_timer = QTimer(self, singleShot=True, interval=FRAME_MS)
        self._release_timer.timeout.connect(self._release)
        player.set_rate(self.rate)
        player.set_volume(self.volume)

    # --- telling --------------------------------------------------------------------

    def prepare(self) -> None:
        """Start the player now, quietly (the window calls this after its first paint)."""
        with contextlib.suppress(PlayerUnavailable):  # said when the person presses Play
            self._player.prepare()

    def resume_at(self, call_id: int) -> int:
        """Where playing a call starts when no place is asked: 2 s before where it was
        left this session, else (never played, played to its end, stopped) the start."""
        return max(self._left.get(call_id, 0) - RESUME_BACK_MS, 0)

    def play(self, call_id: int, at_ms: int | None = None) -> None:
        """Play a call's recording from where it stands, or from `at_ms`; a call coming
        back after another played starts at `resume_at`."""
        if call_id == self.call_id and self.state in (PLAYING, PAUSED):
            if at_ms is not None:
                self.seek(at_ms)
            if self.state == PAUSED:
                self._player.play()
                self._set_state(PLAYING)
                self._poll.start()
            return
        if call_id == self.call_id and self.state == LOADING:
            if at_ms is not None:
                self._start_at = at_ms
            return
        self._remember_left()
        self._start_at = at_ms if at_ms is not None else self.resume_at(call_id) or None
        if self.state in (PLAYING, PAUSED, LOADING):
            self._player.stop()  # else it is stopped already: stopping VLC again costs 0.2 ms
        self._poll.stop()
        self._reached = 0
        self._starts += 1
        start = self._starts
        self._mrl = None
        known = self._known(call_id)
        if known is not None:
            # VLC starts at once: the views hear of it once it has (or a frame has passed),
            # not twice meanwhile (their work delayed VLC's start by a third).
            self._hold()
        self._begin(call_id)
        self._set_state(LOADING)
        if known is not None:  # looked up already (the window does as a call is selected)
            self._located(start, known)
            return
        # Where the recording is (and its bytes, for a team's archive) is asked off the
        # GUI thread: the window goes on while the database answers.
        self._background(lambda: self._locate(call_id),
                         lambda mrl: self._located(start, mrl),
                         lambda problem: self._located(start, None, problem))

    def _locate(self, call_id: int) -> str | None:
        found = self._recording_of(call_id)
        return found() if callable(found) else found

    def _located(self, start: int, mrl: str | None, problem: str = "") -> None:
        if start != self._starts or self.state != LOADING:
            return  # stopped, or another start since
        if problem:
            self._fail(problem)
        else:
            self._open(self.call_id, mrl)

    def _open(self, call_id: int, mrl: str | None) -> None:
        self._mrl = mrl
        problem = NO_RECORDING if not mrl else not_playable(mrl)
        if problem is None:
            try:
                self._player.load(mrl)
                self._player.play()
            except PlayerUnavailable as exc:
                problem = str(exc)
        if problem is None:
            self._hold()
        self._begin(call_id)
        if problem is None:
            self._set_state(LOADING)  # the player's news is queued: it cannot come before this
        else:
            self._fail(problem)

    def toggle(self, call_id: int | None = None) -> None:
        """Play or pause `call_id` (default: the now-playing call)."""
        target = self.call_id if call_id is None else call_id
        if target is None:
            return
        if target == self.call_id and self.state in (PLAYING, LOADING):
            self.pause()
        else:
            self.play(target)

    def pause(self) -> None:
        if self.state == PLAYING:
            self._player.pause()
            self._poll.stop()
            self._set_position(self._landed(self._player.time_ms()))
            self._set_state(PAUSED)

    def stop(self) -> None:
        """Stop and go back to the start (the call stays the now-playing call, and plays
        from the start next time)."""
        self._left.pop(self.call_id, None)
        self._player.stop()
        self._poll.stop()
        self._seeking = None
        self._set_position(0)
        if self.state != ERROR:
            self._set_state(STOPPED)

    def seek(self, ms: int) -> None:
        """Go to `ms` in the recording."""
        if self.state not in (PLAYING, PAUSED):
            return
        top = self.duration or ms
        ms = max(0, min(int(ms), max(top - 1, 0)))
        self._player.seek(ms)
        self._seeking = (ms, time.monotonic())
        self._set_position(ms)

    def seek_by(self, delta_ms: int) -> None:
        self.seek(self.position + delta_ms)

    def set_rate(self, rate: float) -> None:
        rate = min(max(float(rate), RATES[0]), RATES[-1])
        if rate != self.rate:
            self.rate = rate
            self._player.set_rate(rate)
            self.rate_changed.emit(rate)

    def step_rate(self, by: int) -> None:
        """One step slower (-1) or faster (1) along RATES."""
        at = min(range(len(RATES)), key=lambda i: abs(RATES[i] - self.rate))
        self.set_rate(RATES[min(max(at + by, 0), len(RATES) - 1)])

    def set_volume(self, volume: int) -> None:
        volume = min(max(int(volume), 0), 100)
        if volume != self.volume:
            self.volume = volume
            self._player.set_volume(volume)
            self.volume_changed.emit(volume)

    def release(self) -> None:
        """Stop and free the player (at exit): the views hear that playing stopped."""
        self._release()
        self.stop()
        self._player.close()

    @property
    def polling(self) -> bool:
        """Whether the position is being polled (while playing)."""
        return self._poll.isActive()

    def poll(self) -> None:
        """Read the player's position now: the poll timer's tick, which a test may call
        rather than wait for the timer."""
        reported = self._player.time_ms()
        self._reached = max(self._reached, reported)
        reported = self._landed(reported)
        if self.duration:
            reported = min(reported, self.duration)
        self._set_position(max(reported, 0))

    def _landed(self, reported: int) -> int:
        """The position for the player's `reported` time: after a seek, its target until
        the player tells a time at it or just past it (not its old time, which VLC tells
        for a poll or two), and for SEEK_SETTLE_MS at most."""
        if self._seeking is None:
            return reported
        target, since = self._seeking
        played = (time.monotonic() - since) * 1000
        if played > SEEK_SETTLE_MS \
                or target - SEEK_NEAR_MS <= reported <= target + SEEK_NEAR_MS + played * self.rate:
            self._seeking = None
            return reported
        return target

    # --- the player's news --------------------------------------------------------------

    def _on_event(self, news: PlayerEvent, sentence: str = "") -> None:
        self._handle(news, sentence)
        if self.state != LOADING:  # the length may come first: still loading, still held
            self._release()

    def _handle(self, news: PlayerEvent, sentence: str) -> None:
        if news is PlayerEvent.PLAYING:
            if self.state in (LOADING, PLAYING, PAUSED):
                self._set_duration(self._player.length_ms())
                self._set_state(PLAYING)
                self._poll.start()
                if self._start_at:
                    self.seek(self._start_at)
                self._start_at = None
        elif news is PlayerEvent.OPENED:
            self._set_duration(self._player.length_ms())
        elif news is PlayerEvent.PAUSED:
            if self.state == PLAYING:
                self._set_state(PAUSED)
        elif news is PlayerEvent.ENDED:
            self._ended()
        elif news is PlayerEvent.FAILED:
            self._failed(sentence)

    def _remember_left(self) -> None:
        """Keep where the now-playing call is being left, as another starts."""
        if self.call_id is None or self.state not in (PLAYING, PAUSED):
            return
        if self.state == PLAYING:
            self.poll()  # where it is now, not at the last tick
        if self.position > 0:
            self._left[self.call_id] = self.position

    def _ended(self) -> None:
        self._left.pop(self.call_id, None)  # played to its end: next time from the start
        self._poll.stop()
        # A corrupt file plays "successfully" for no time at all (FACTS.md): undecodable.
        if self._player.length_ms() <= 0 and self._reached <= 0 and self.duration <= 0:
            self._player.stop()
            self._fail(UNDECODABLE)
            return
        self._player.stop()
        self._set_position(0)
        self._set_state(STOPPED)

    def _failed(self, sentence: str) -> None:
        self._poll.stop()
        mrl = self._mrl or ""
        if mrl.startswith(("http://", "https://")):
            self._set_state(LOADING)  # until the link is checked
            self._background(lambda: link_problem(mrl),
                             lambda message: self._on_probed(mrl, message),
                             lambda message: self._on_probed(mrl, message))
        elif "://" not in mrl and not Path(mrl).is_file():
            self._fail(not_found(mrl))
        else:
            self._fail(sentence or UNDECODABLE)

    def _on_probed(self, mrl: str, message: str) -> None:
        if mrl == self._mrl and self.state == LOADING:
            self._fail(message)

    # --- state ---------------------------------------------------------------------------

    def _begin(self, call_id: int) -> None:
        """A start's news: the call, no error, at the start."""
        self._seeking = None
        self._set_call(call_id)
        self._set_error("")
        self._set_position(0)

    def _fail(self, message: str) -> None:
        self._poll.stop()
        self._set_position(0)
        self._set_error(message)
        self._set_state(ERROR)
        if self._held is not None:  # a start that failed: its news is all there is
            self._release()

    def _set_call(self, call_id: int | None) -> None:
        if call_id != self.call_id:
            self.call_id = call_id
            self._announce("call_changed", call_id)
            self._set_duration(0)

    def _set_state(self, state: PlayState) -> None:
        if state != self.state:
            self.state = state
            self._announce("state_changed", state)

    def _set_position(self, ms: int) -> None:
        if ms != self.position:
            self.position = ms
            self._announce("position_changed", ms)

    def _set_duration(self, ms: int) -> None:
        if ms != self.duration and ms >= 0:
            self.duration = ms
            self._announce("duration_changed", ms)

    def _set_error(self, message: str) -> None:
        if message != self.error:
            self.error = message
            self._announce("error_changed", message)

    # --- telling the views ------------------------------------------------------------

    def _hold(self) -> None:
        """Keep the news of a start until the player has started (or failed) or for one frame,
        whichever is first.

        VLC starts a file in about 2 ms on its own threads; the views' repaint for
        `loading`, done meanwhile, competes with it for the CPU and Python's lock and
        delays it by half as much again — to show a state that lasts less than a frame.
        Held, the views get each change once, with the latest value, in order.
        """
        if self._held is None:
            self._held = {}
        self._release_timer.start()

    def _release(self) -> None:
        self._release_timer.stop()
        held, self._held = self._held, None
        for name, value in (held or {}).items():
            getattr(self, name).emit(value)

    def _announce(self, name: str, value: object) -> None:
        if self._held is None:
            getattr(self, name).emit(value)
        else:
            self._held[name] = value  # in the order of first change; the latest value
