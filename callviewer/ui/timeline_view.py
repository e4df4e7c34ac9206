"""The call's timeline under the detail's player: its waveform, who spoke when, the marks.

One strip the width of the detail: the recording's loudness (timeline/peaks.py) on top,
under it a lane per party (agent, customer, and tool when the call used any) with a
block where each message was spoken (timeline/lanes.py). Times come from the
transcript, else from a stereo recording's channels, else they are estimated from the
messages' length, and an estimated block is drawn hatched with a dashed outline. The
playing position is a line; pinned notes are flags on the waveform and the search's hits
a mark over their messages. A click or a drag seeks, through NowPlaying.

The recording is decoded off the GUI thread (the task runner's JOB lane), once
(timeline/recording.py's `decode`): its peaks are kept in a small file in the archive's
folder (`peaks_file`). Until they come, and for a call with no archived recording (or no
libVLC), the lanes are the transcript's; a recording that cannot be decoded says so in
one line in the strip. numpy is loaded only by that decode and by drawing its waveform.

This module is the widget's state, keys, mouse and tooltips; its painting is
ui/timeline_paint.py, and Skip silence (`SilenceSkipper`) ui/skip_silence.py.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPixmap
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from callviewer import times
from callviewer.playback.now_playing import LOADING, PAUSED, PLAYING, NowPlaying
from callviewer.timeline.lanes import SPOKEN, Block, Lanes, lanes_of
from callviewer.timeline.recording import Decoded, decode
from callviewer.ui import big_text
from callviewer.ui.player import mark_tip
from callviewer.ui.skip_silence import KEPT, SilenceSkipper
from callviewer.ui.tasks import Lane, Task, TaskRunner
from callviewer.ui.timeline_paint import (
    BOTTOM,
    LANE_GAP,
    LANE_HEIGHT,
    MARGIN,
    ROLE_WORDS,
    TOP,
    WAVE_HEIGHT,
    TimelinePainting,
)
from callviewer.ui.transcript import highlight_ranges

if TYPE_CHECKING:
    from callviewer.timeline.peaks import Peaks

NOTE_REACH = 5  # px either side of a note's flag that its tooltip answers to
JUMP_TOLERANCE_MS = 250  # "next message" from just before a start (a seek lands early)
SAME_STOP_MS = 700  # the position is still at the message the keys last went to
PREVIOUS_GRACE_MS = 1500  # like a player's "previous": a message just begun counts as heard


class TimelineView(TimelinePainting, QWidget):
    """The timeline of the detail's call (see the module's docstring)."""

    jumped = Signal(int)  # the keys went to this transcript message
    lanes_changed = Signal(object)  # Lanes: the blocks now shown

    def __init__(self, now: NowPlaying, tasks: TaskRunner,
                 source: Callable[[int], Callable[[], object]],
                 cache: Callable[[int], Path], skipper: SilenceSkipper | None = None,
                 parent: QWidget | None = None) -> None:
        """`source(call_id)` gives a function for a worker that finds the call's recording
        (the store's `archive.source`); `cache(call_id)` where its peaks are kept."""
        super().__init__(parent)
        self._now, self._tasks, self._source, self._cache = now, tasks, source, cache
        self._skipper = skipper
        self.call_id: int | None = None
        self._messages: list[dict] = []
        self._duration: int | None = None  # the call's own length
        self._has_recording = False
        self.peaks: Peaks | None = None
        self.lanes = Lanes((), "none")
        self._channel_roles: tuple[str, ...] | None = None
        self.problem = ""  # the one-line sentence when the recording cannot be read
        self.waiting = False  # decoding under way for this call
        self._decoded: OrderedDict[int, Decoded | str] = OrderedDict()
        self._task: Task | None = None
        self._task_call: int | None = None
        self._queued: tuple | None = None  # (call_id, messages, duration) once the task is done
        self._notes: list[tuple[int, str]] = []
        self._terms: list[str] = []
        self._hit_rows: list[int] = []
        self._stops: list[tuple[int, str, int | None]] = []  # (start, role, row): the keys'
        self._last_stop: int | None = None
        self._cursor = -1  # where the keys stand on a call that is not playing
        self._dragging = False
        self._pixmap: QPixmap | None = None
        self._drawn_x: int | None = None
        self.setAccessibleName("Timeline")
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(6.5, self.font().pointSizeF() * 0.78))
        self._gutter = QFontMetrics(self._small).horizontalAdvance("Customer") + 8
        self.setFixedHeight(self._height())
        now.position_changed.connect(self._moved)
        now.call_changed.connect(self._live_changed)
        now.state_changed.connect(self._live_changed)
        now.duration_changed.connect(self._live_changed)
        if skipper is not None:
            skipper.changed.connect(self._invalidate)
        self.hide()

    # --- what is shown ----------------------------------------------------------------

    def set_call(self, call_id: int | None, messages: Sequence[dict] | None = None,
                 duration_ms: int | None = None, has_recording: bool = False) -> None:
        """Show a call's timeline (None: none): its transcript's lanes at once, the
        recording's waveform and measured lanes when decoded."""
        messages = list(messages or [])
        self.call_id, self._messages, self._duration = call_id, messages, duration_ms
        self._has_recording = has_recording
        self.peaks, self.problem, self.waiting, self._channel_roles = None, "", False, None
        self._cursor, self._last_stop = -1, None
        self._set_lanes(lanes_of(messages, duration_ms) if call_id is not None
                        else Lanes((), "none"))
        self._find_hits()
        self.setVisible(call_id is not None and (has_recording or bool(self.lanes.blocks)))
        if call_id is not None and has_recording:
            self._decode(call_id, messages, duration_ms)
        self._invalidate()

    def set_notes(self, marks: list[tuple[int, str]]) -> None:
        """The call's pinned notes: (ms, the note's text)."""
        self._notes = sorted(marks)
        self._invalidate()

    def set_search_terms(self, words: list[str]) -> None:
        """The search's words: messages holding one are marked."""
        self._terms = list(words)
        self._find_hits()
        self._invalidate()

    @property
    def hit_rows(self) -> list[int]:
        """The transcript messages the search's words are in."""
        return list(self._hit_rows)

    @property
    def status(self) -> str:
        """The line shown in the waveform's place, if any."""
        if self.problem:
            return self.problem
        if self.peaks is not None:
            return ""
        if self.waiting:
            return "Reading the recording\u2026"
        if self._has_recording:
            return "The recording is not downloaded to this computer: no waveform yet."
        return "No recording: times " + (
            "estimated from the length of each message." if self.lanes.estimated
            else "from the transcript.")

    def span_ms(self) -> int:
        """The length the strip's width stands for."""
        if self.peaks is not None:
            return max(1, self.peaks.duration_ms)
        if self._live() and self._now.duration > 0:
            return self._now.duration
        if self._duration:
            return self._duration
        return max((block.end_ms for block in self.lanes.blocks), default=0) or 1

    def x_of(self, ms: int) -> float:
        """Where a moment is drawn, in the widget's coordinates."""
        left, width = self._track()
        return left + width * min(max(ms, 0), self.span_ms()) / self.span_ms()

    def ms_at(self, x: float) -> int:
        """The moment under x."""
        left, width = self._track()
        share = min(max((x - left) / max(width, 1), 0.0), 1.0)
        return round(share * self.span_ms())

    def _track(self) -> tuple[int, int]:
        left = MARGIN + self._gutter
        return left, max(self.width() - left - MARGIN, 1)

    def _roles_shown(self) -> list[str]:
        roles = list(SPOKEN)
        if any(block.role == "tool" for block in self.lanes.blocks):
            roles.append("tool")
        return roles

    def _height(self) -> int:
        lanes = len(self._roles_shown())
        return TOP + WAVE_HEIGHT + LANE_GAP + lanes * (LANE_HEIGHT + LANE_GAP) + BOTTOM

    def lane_rect(self, role: str) -> QRect:
        """The band of a party's lane."""
        left, width = self._track()
        index = self._roles_shown().index(role)
        top = TOP + WAVE_HEIGHT + LANE_GAP + index * (LANE_HEIGHT + LANE_GAP)
        return QRect(left, top, width, LANE_HEIGHT)

    def block_rect(self, block: Block) -> QRectF:
        """Where a block is drawn (a tool line, an instant, as a small square)."""
        lane = self.lane_rect(block.role)
        x1, x2 = self.x_of(block.start_ms), self.x_of(block.end_ms)
        if block.role == "tool" or x2 - x1 < 2:
            return QRectF(x1 - 3, lane.top() + 2, 6, lane.height() - 4)
        return QRectF(x1, lane.top(), x2 - x1, lane.height())

    def sizeHint(self) -> QSize:
        return QSize(400, self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(120, self._height())

    # --- decoding ---------------------------------------------------------------------

    def _decode(self, call_id: int, messages: list[dict], duration_ms: int | None) -> None:
        known = self._decoded.get(call_id)
        if known is not None:
            self._decoded.move_to_end(call_id)
            self._apply(call_id, known)
            return
        self.waiting = True
        if self._task is not None and self._task.pending:
            # One decode at a time: moving quickly through the list queues only the last.
            self._queued = (call_id, messages, duration_ms)
            return
        self._start(call_id, messages, duration_ms)

    def _start(self, call_id: int, messages: list[dict], duration_ms: int | None) -> None:
        source, cache = self._source(call_id), self._cache(call_id)
        self._task_call = call_id
        self._task = self._tasks.run(
            lambda: decode(source, cache, messages, duration_ms),
            lambda decoded: self._arrived(call_id, decoded),
            failed=lambda sentence: self._arrived(call_id, sentence),
            lane=Lane.JOB, name="reading the recording's waveform")

    def _arrived(self, call_id: int, decoded: Decoded | str) -> None:
        self._task = None
        self._decoded[call_id] = decoded
        while len(self._decoded) > KEPT:
            self._decoded.popitem(last=False)
        if isinstance(decoded, Decoded) and self._skipper is not None:
            self._skipper.know(call_id, decoded.skip)
        if call_id == self.call_id:
            self._apply(call_id, decoded)
        queued, self._queued = self._queued, None
        if queued is not None and queued[0] == self.call_id and queued[0] != call_id:
            self._start(*queued)

    def _apply(self, call_id: int, decoded: Decoded | str) -> None:
        self.waiting = False
        if isinstance(decoded, str):
            self.problem = decoded
        else:
            self.peaks, self._channel_roles = decoded.peaks, decoded.channel_roles
            if decoded.lanes is not None:
                self._set_lanes(decoded.lanes)
            if self._skipper is not None:
                self._skipper.know(call_id, decoded.skip)
        self._invalidate()

    def _set_lanes(self, lanes: Lanes) -> None:
        self.lanes = lanes
        stops: list[tuple[int, str, int | None]] = []
        seen: set[int] = set()
        for block in lanes.blocks:
            if block.role not in SPOKEN:
                continue
            if block.row is not None:
                if block.row in seen:
                    continue
                seen.add(block.row)
            stops.append((block.start_ms, block.role, block.row))
        self._stops = sorted(stops, key=lambda stop: stop[0])
        self._last_stop = None
        self.setFixedHeight(self._height())
        self.lanes_changed.emit(lanes)

    def _find_hits(self) -> None:
        words = [w for w in self._terms if w.strip()]
        self._hit_rows = [row for row, m in enumerate(self._messages)
                          if words and isinstance(m.get("text"), str)
                          and highlight_ranges(m["text"][:big_text.SHOWN_MAX], words)] \
            if words else []

    # --- the keys -----------------------------------------------------------------------

    def _live(self) -> bool:
        now = self._now
        return self.call_id is not None and now.call_id == self.call_id \
            and now.state in (PLAYING, PAUSED, LOADING)

    def position(self) -> int:
        """Where the keys start from: the player's position on this call, else where the
        keys last went (before the start, at first)."""
        return self._now.position if self._live() else self._cursor

    def step_message(self, by: int) -> bool:
        """Go to the next (1) or previous (-1) message; False when there is none."""
        return self._step([index for index in range(len(self._stops))], by)

    def step_turn(self, role: str, by: int) -> bool:
        """Go to the next (1) or previous (-1) turn of `role` (its first message after
        the other party's); False when there is none."""
        turns = [index for index, (_, who, _) in enumerate(self._stops)
                 if who == role and (index == 0 or self._stops[index - 1][1] != role)]
        return self._step(turns, by)

    def _step(self, candidates: list[int], by: int) -> bool:
        if self.call_id is None or not candidates:
            return False
        position = self.position()
        at = self._last_stop
        if at is not None and abs(self._stops[at][0] - position) > SAME_STOP_MS:
            at = None  # played on, or sought elsewhere, since
        if by > 0:
            ahead = [i for i in candidates if (i > at if at is not None else
                                               self._stops[i][0] > position + JUMP_TOLERANCE_MS)]
            target = ahead[0] if ahead else None
        else:
            behind = [i for i in candidates if (i < at if at is not None else
                                                self._stops[i][0] < position - PREVIOUS_GRACE_MS)]
            target = behind[-1] if behind else (candidates[0] if position > 0 else None)
        if target is None:
            return False
        start, _role, row = self._stops[target]
        self._last_stop = target
        self.seek_to(start)
        if row is not None:
            self.jumped.emit(row)
        return True

    def seek_to(self, ms: int) -> None:
        """The player goes to `ms` of this call (it starts playing it if another or none
        is loaded; a paused call stays paused)."""
        if self.call_id is None:
            return
        ms = max(0, min(int(ms), self.span_ms()))
        self._cursor = ms
        now = self._now
        if not self._has_recording:
            self.update()
        elif now.call_id == self.call_id and now.state in (PLAYING, PAUSED):
            now.seek(ms)
        else:
            now.play(self.call_id, ms)

    # --- the mouse ------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.call_id is not None:
            self._dragging = True
            self._last_stop = None
            self.seek_to(self.ms_at(event.position().x()))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._dragging:
            ms = self.ms_at(event.position().x())
            if self._live() and self._now.state != LOADING:
                self.seek_to(ms)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._dragging and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # --- tooltips -------------------------------------------------------------------------

    def tip_at(self, x: float, y: float) -> str:
        """The tooltip's words at a point (plain text)."""
        if y <= TOP + WAVE_HEIGHT:
            near = [(abs(self.x_of(ms) - x), ms, text) for ms, text in self._notes
                    if abs(self.x_of(ms) - x) <= NOTE_REACH]
            if near:
                _distance, ms, text = min(near)
                return mark_tip(ms, text)
            return times.position(self.ms_at(x))
        for role in self._roles_shown():
            if self.lane_rect(role).adjusted(0, -1, 0, 1).contains(round(x), round(y)):
                for block in self.lanes.lane(role):
                    if self.block_rect(block).adjusted(-1, 0, 1, 0).contains(QPointF(x, y)):
                        return self._block_tip(block)
                return f"{ROLE_WORDS.get(role, role)} · {times.position(self.ms_at(x))}"
        return times.position(self.ms_at(x))

    def _block_tip(self, block: Block) -> str:
        words = ""
        if block.row is not None and block.row < len(self._messages):
            text = self._messages[block.row].get("text")
            if isinstance(text, str):
                cut = text.split()
                words = " ".join(cut[:10]) + ("\u2026" if len(cut) > 10 else "")
        when = times.position(block.start_ms)
        if block.end_ms > block.start_ms:
            when += f"\u2013{times.position(block.end_ms)}"
        said = f"{ROLE_WORDS.get(block.role, block.role)} · {when}"
        if block.estimated:
            said += " · estimated from the length of the message"
        return f"{said}\n{words}" if words else said

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            tip = self.tip_at(event.position().x(), event.position().y())
            # Record text is text: escaped, in a tooltip Qt would take as rich text.
            QToolTip.showText(event.globalPos(), "<qt>" + html.escape(tip).replace(
                "\n", "<br>") + "</qt>", self)
            return True
        return super().event(event)
