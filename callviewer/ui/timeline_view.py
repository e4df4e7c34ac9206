"""The call's timeline under the detail's player: its waveform, who spoke when, the marks.

One strip the width of the detail: the recording's loudness (timeline/peaks.py) on top,
under it a lane per party (agent, customer, and tool when the call used any) with a
block where each message was spoken (timeline/lanes.py). Times come from the
transcript, else from a stereo recording's channels, else they are estimated from the
messages' length, and an estimated block is drawn hatched with a dashed outline. The
playing position is a line; pinned notes are flags on the waveform and the search's hits
a mark over their messages. A click or a drag seeks, through NowPlaying.

The recording is decoded off the GUI thread (the task runner's JOB lane), once: its peaks
are kept in a small file in the archive's folder (`peaks_file`). Until they come, and
for a call with no archived recording (or no libVLC), the lanes are the transcript's;
a recording that cannot be decoded says so in one line in the strip.

What is drawn is made once per size, palette or content change into a pixmap; a paint
copies it and draws the position line, so that the 20 position ticks a second cost
next to nothing.

`SilenceSkipper` is the Skip silence toggle: while a call whose timeline is known plays,
it seeks over the silences longer than a second (timeline/silence.py), and counts the
time saved on each call.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from callviewer import times
from callviewer.playback.now_playing import LOADING, PAUSED, PLAYING, NowPlaying
from callviewer.timeline.lanes import DEFAULT_CHANNEL_ROLES, SPOKEN, Block, Lanes, lanes_of
from callviewer.timeline.peaks import FLOOR_DB, Peaks, peaks_of
from callviewer.timeline.silence import SkipSilence, find_silences
from callviewer.timeline.speech import channels_apart
from callviewer.ui import big_text
from callviewer.ui.player import mark_tip
from callviewer.ui.tasks import Lane, Task, TaskRunner
from callviewer.ui.theme import is_dark
from callviewer.ui.transcript import highlight_ranges

PEAKS_FOLDER = "peaks"  # in the archive's folder: <call id>.peaks
KEPT = 8  # calls whose decoded timeline is kept in memory (the last few shown)
MARGIN = 10  # left and right, as the player's
WAVE_HEIGHT = 32
LANE_HEIGHT = 11
LANE_GAP = 3
TOP, BOTTOM = 3, 4
QUIET_DB = -60.0  # drawn as no height: a phone line's noise floor is around here
NOTE_REACH = 5  # px either side of a note's flag that its tooltip answers to
JUMP_TOLERANCE_MS = 250  # "next message" from just before a start (a seek lands early)
SAME_STOP_MS = 700  # the position is still at the message the keys last went to
PREVIOUS_GRACE_MS = 1500  # like a player's "previous": a message just begun counts as heard
MIN_SKIP_MS = 100  # a skip that would save less is the player landing a little early
ROLE_WORDS = {"agent": "Agent", "customer": "Customer", "tool": "Tool"}


def peaks_file(folder: Path, call_id: int) -> Path:
    """Where a call's recording's peaks are kept: in the archive's folder, never beside a
    file the person imported from a folder of their own."""
    return Path(folder) / PEAKS_FOLDER / f"{call_id}.peaks"


def local_recording(found: str | None) -> Path | None:
    """The file a recording reference names on this computer (a path or a file: URL);
    None for a link at the source (not downloaded: no waveform) or none at all."""
    if not found:
        return None
    if found.startswith("file:"):
        return Path(url2pathname(urlparse(found).path))
    if "://" in found:
        return None
    return Path(found)


@dataclass(frozen=True)
class Decoded:
    """What the worker made of a call's recording: its peaks (None: no archived recording
    here), the lanes with them, the silences to skip, and whose each channel is when the
    recording has one party a channel."""

    peaks: Peaks | None
    lanes: Lanes | None
    skip: SkipSilence | None
    channel_roles: tuple[str, ...] | None = None


def decode(source: Callable[[], str | Callable[[], str | None] | None], cache: Path,
           messages: Sequence[dict], duration_ms: int | None) -> Decoded:
    """On a worker: find the call's recording (`source`: the store's archive lookup, which
    may be a team archive's fetch), decode its peaks once (kept in `cache`) and place the
    messages with them. Raises PeaksError (its sentence) for a file that cannot be read."""
    found = source()
    if callable(found):
        found = found()
    path = local_recording(found)
    if path is None:
        return Decoded(None, None, None)
    peaks = peaks_of(path, cache)
    lanes = lanes_of(messages, peaks.duration_ms, peaks)
    roles = lanes.channel_roles
    if roles is None and channels_apart(peaks):
        # Timed by the transcript, but one party a channel: whose is whose, for the colours.
        untimed = [{k: v for k, v in m.items() if k not in ("start_ms", "end_ms")}
                   for m in messages]
        roles = lanes_of(untimed, peaks.duration_ms, peaks).channel_roles
    return Decoded(peaks, lanes, SkipSilence(find_silences(peaks), peaks.duration_ms), roles)


def _mix(a: QColor, b: QColor, share: float) -> QColor:
    return QColor.fromRgbF(*(x + (y - x) * share for x, y in zip(
        a.getRgbF()[:3], b.getRgbF()[:3], strict=True)))


class _Colours:
    """The strip's colours, blended from the palette (ui/theme.py's light or dark)."""

    def __init__(self, palette: QPalette) -> None:
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        accent = palette.color(QPalette.ColorRole.Highlight)
        dark = is_dark(palette)
        self.key = palette.cacheKey()
        self.band = _mix(base, text, 0.05 if dark else 0.035)
        self.track = _mix(base, text, 0.1 if dark else 0.07)
        self.label = _mix(text, base, 0.4)
        self.role = {"agent": _mix(accent, text, 0.15) if dark else accent,
                     "customer": _mix(text, base, 0.35 if dark else 0.42),
                     "tool": QColor("#d9a33a") if dark else QColor("#a86b00")}
        self.wave = _mix(text, base, 0.45)
        self.silence = _mix(base, text, 0.3 if dark else 0.22)
        self.position = text
        self.note = QColor("#b197fc") if dark else QColor("#6741d9")
        self.hit = QColor("#e0b100") if dark else QColor("#f0b400")  # the transcript's mark


class TimelineView(QWidget):
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

    # --- painting -------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._pixmap = None
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._pixmap = None

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._pixmap = None
        super().changeEvent(event)

    def _live_changed(self, *_args) -> None:
        if self.peaks is None and self._live():
            self._pixmap = None  # the player's length may be the strip's
        self.update()

    def _moved(self, _ms: int) -> None:
        if self.call_id is None or not self.isVisible():
            return
        x = self._position_x()
        if x != self._drawn_x:
            for at in (self._drawn_x, x):
                if at is not None:
                    self.update(QRect(at - 6, 0, 13, self.height()))

    def _position_x(self) -> int | None:
        if self._live() or (not self._has_recording and self._cursor >= 0):
            return round(self.x_of(self.position()))
        return None

    def paintEvent(self, _event) -> None:
        if self.call_id is None:
            return
        ratio = self.devicePixelRatioF()
        if self._pixmap is None or self._pixmap.size() != self.size() * ratio:
            self._pixmap = self._render(ratio)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        x = self._position_x()
        self._drawn_x = x
        if x is not None:
            colours = _Colours(self.palette())
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(colours.position, 2))
            painter.drawLine(QPointF(x, TOP), QPointF(x, self.height() - BOTTOM + 2))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colours.position)
            painter.drawPolygon(QPolygonF([QPointF(x - 4, TOP - 2), QPointF(x + 4, TOP - 2),
                                           QPointF(x, TOP + 4)]))
        painter.end()

    def _render(self, ratio: float) -> QPixmap:
        """Everything but the position line, drawn once for this size and content."""
        pixmap = QPixmap(self.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        colours = _Colours(self.palette())
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        left, width = self._track()
        wave = QRect(left, TOP, width, WAVE_HEIGHT)
        painter.fillRect(wave, colours.band)
        painter.setFont(self._small)
        self._paint_labels(painter, colours)
        if self.peaks is not None:
            self._paint_silences(painter, colours, wave)
            self._paint_wave(painter, colours, wave, ratio)
        else:
            painter.setPen(colours.label)
            metrics = QFontMetrics(self._small)
            line = metrics.elidedText(self.status, Qt.TextElideMode.ElideRight, width - 12)
            painter.drawText(wave.adjusted(6, 0, -6, 0),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, line)
        for role in self._roles_shown():
            painter.fillRect(self.lane_rect(role), colours.track)
        self._paint_hits(painter, colours)
        for block in self.lanes.blocks:
            if block.role in self._roles_shown():
                self._paint_block(painter, colours, block)
        self._paint_notes(painter, colours)
        painter.end()
        return pixmap

    def _paint_labels(self, painter: QPainter, colours: _Colours) -> None:
        painter.setPen(colours.label)
        for role in self._roles_shown():
            lane = self.lane_rect(role)
            painter.drawText(QRect(MARGIN, lane.top() - 2, self._gutter - 4, lane.height() + 4),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             ROLE_WORDS.get(role, role))

    def _split_channels(self) -> bool:
        return self.peaks is not None and self.peaks.channels == 2 \
            and self._channel_roles is not None

    def _paint_wave(self, painter: QPainter, colours: _Colours, wave: QRect,
                    ratio: float) -> None:
        """The envelope, one column per device pixel: mirrored around the middle, or, for a
        recording with one party a channel, each channel on its side in its party's colour
        (the agent's over the middle, as the agent's lane is over the customer's)."""
        peaks = self.peaks
        columns = max(1, int(wave.width() * ratio))
        heights = _columns(peaks, columns)  # (channels, columns) 0..1
        middle = wave.top() + wave.height() / 2
        half = wave.height() / 2 - 1
        xs = wave.left() + (np.arange(columns, dtype=np.float64) + 0.5) / ratio
        painter.setPen(Qt.PenStyle.NoPen)
        if self._split_channels():
            roles = self._channel_roles or DEFAULT_CHANNEL_ROLES
            for channel, role in enumerate(roles[:2]):
                sign = -1 if role == "agent" else 1
                painter.setBrush(colours.role.get(role, colours.wave))
                painter.drawPath(_envelope(xs, middle, sign * half * heights[channel], None))
        else:
            painter.setBrush(colours.wave)
            mixed = heights.max(axis=0)
            painter.drawPath(_envelope(xs, middle, -half * mixed, half * mixed))

    def _paint_silences(self, painter: QPainter, colours: _Colours, wave: QRect) -> None:
        skipper = self._skipper
        if skipper is None or not skipper.enabled or self.call_id is None:
            return
        skip = skipper.skip_of(self.call_id)
        if skip is None:
            return
        bottom = self.lane_rect(self._roles_shown()[-1]).bottom()
        for jump in skip.jumps:
            x1, x2 = self.x_of(jump.from_ms), self.x_of(jump.to_ms)
            painter.fillRect(QRectF(x1, wave.top(), x2 - x1, bottom - wave.top() + 1),
                             QBrush(colours.silence, Qt.BrushStyle.Dense6Pattern))

    def _paint_block(self, painter: QPainter, colours: _Colours, block: Block) -> None:
        colour = colours.role.get(block.role, colours.wave)
        rect = self.block_rect(block)
        if block.estimated:
            faint = QColor(colour)
            faint.setAlphaF(0.22)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(faint)
            painter.drawRect(rect)
            painter.setBrush(QBrush(colour, Qt.BrushStyle.BDiagPattern))
            pen = QPen(colour, 1, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(rect, 2, 2)

    def _paint_hits(self, painter: QPainter, colours: _Colours) -> None:
        hits = set(self._hit_rows)
        if not hits:
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours.hit)
        for block in self.lanes.blocks:
            if block.row in hits and block.role in self._roles_shown():
                rect = self.block_rect(block)
                painter.drawRect(QRectF(rect.left() - 1, rect.top() - 3,
                                        max(rect.width(), 4) + 2, rect.height() + 6))

    def _paint_notes(self, painter: QPainter, colours: _Colours) -> None:
        if not self._notes:
            return
        bottom = self.lane_rect(self._roles_shown()[-1]).bottom()
        for ms, _text in self._notes:
            x = self.x_of(ms)
            painter.setPen(QPen(colours.note, 1.5))
            painter.drawLine(QPointF(x, TOP), QPointF(x, bottom))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colours.note)
            painter.drawPolygon(QPolygonF([QPointF(x, TOP), QPointF(x + 8, TOP + 3.5),
                                           QPointF(x, TOP + 7)]))


def _columns(peaks: Peaks, columns: int) -> np.ndarray:
    """Each channel's loudest peak in each of `columns` equal stretches, as a height 0..1
    on a decibel scale (QUIET_DB and below: none; the recording's loudest: 1)."""
    levels = peaks.levels
    edges = np.linspace(0, peaks.count, columns + 1)[:-1].astype(np.int64)
    edges = np.minimum(edges, max(peaks.count - 1, 0))
    loudest = np.maximum.reduceat(levels, edges, axis=1).astype(np.float32)
    db = loudest * (-FLOOR_DB / 255) + FLOOR_DB
    top = max(float(db.max()), QUIET_DB + 6)
    return np.clip((db - QUIET_DB) / (top - QUIET_DB), 0.0, 1.0)


def _envelope(xs: np.ndarray, middle: float, upper: np.ndarray,
              lower: np.ndarray | None) -> QPainterPath:
    """A closed outline from the middle line: `upper` offsets along xs, back along `lower`
    (None: the middle line itself)."""
    top = [QPointF(x, middle + dy) for x, dy in zip(xs.tolist(), upper.tolist(), strict=True)]
    back = [QPointF(x, middle + dy) for x, dy in zip(xs.tolist(), lower.tolist(), strict=True)] \
        if lower is not None else [QPointF(xs[-1], middle), QPointF(xs[0], middle)]
    if lower is not None:
        back.reverse()
    path = QPainterPath()
    path.addPolygon(QPolygonF(top + back))
    path.closeSubpath()
    return path


class SilenceSkipper(QObject):
    """Skip silence: while on, a playing call whose timeline is known jumps over its
    silences longer than a second, keeping a short lead-in; counts what it saved per call."""

    changed = Signal()  # on or off, or more time saved

    def __init__(self, now: NowPlaying, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._now = now
        self.enabled = False
        self._skips: OrderedDict[int, SkipSilence | None] = OrderedDict()
        self._saved: dict[int, int] = {}
        # (call, target) of the jump under way: the player reports its old time for a tick
        # or two after a seek, which is not a second time in the silence.
        self._landing: tuple[int, int] | None = None
        now.position_changed.connect(self._moved)

    def set_enabled(self, on: bool) -> None:
        if bool(on) != self.enabled:
            self.enabled = bool(on)
            self.changed.emit()
            if on:
                self._moved(self._now.position)

    def toggle(self) -> None:
        self.set_enabled(not self.enabled)

    def know(self, call_id: int, skip: SkipSilence | None) -> None:
        """A call's silences, from its decoded recording."""
        self._skips[call_id] = skip
        self._skips.move_to_end(call_id)
        while len(self._skips) > KEPT:
            self._skips.popitem(last=False)
        self.changed.emit()

    def skip_of(self, call_id: int) -> SkipSilence | None:
        return self._skips.get(call_id)

    def saved_ms(self, call_id: int | None) -> int:
        """The time skipping saved on a call, this session."""
        return self._saved.get(call_id, 0) if call_id is not None else 0

    def _moved(self, position: int) -> None:
        now = self._now
        if not self.enabled or now.state != PLAYING or now.call_id is None:
            return
        call_id = now.call_id
        skip = self._skips.get(call_id)
        target = skip.target_at(position) if skip is not None else None
        landing, self._landing = self._landing, None
        if target is None or target - position < MIN_SKIP_MS:
            return
        if landing == (call_id, target):
            self._landing = landing  # still on the way there
            return
        self._saved[call_id] = self._saved.get(call_id, 0) + target - position
        self._landing = (call_id, target)
        now.seek(target)
        self.changed.emit()
