"""The views of the one NowPlaying: the list's play column, the detail's player, the bar.

Each listens to NowPlaying's signals and calls its methods; none keeps a copy
of its state.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPainterPath, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QToolTip,
    QWidget,
)

from callviewer.playback.now_playing import (
    ERROR,
    LOADING,
    PAUSED,
    PLAYING,
    RATES,
    NowPlaying,
)
from callviewer.ui import formatting
from callviewer.ui.cells import CellDelegate
from callviewer.ui.tasks import Lane, Task, TaskRunner
from callviewer.ui.theme import outcome_colors

if TYPE_CHECKING:
    from callviewer.store.records import Call, Caller
    from callviewer.ui.call_model import CallListModel

PLAY, PAUSE = "▶", "⏸"


def _rate_text(rate: float) -> str:
    return f"{rate:g}×"


def where_text(position_ms: int, length_ms: int) -> str:
    """Where playing stands: "0:12 of 44 s" (the position as a moving clock, the length
    as the list and the detail write it); the position alone while the length is
    unknown."""
    shown = formatting.position(position_ms)
    return f"{shown} of {formatting.duration(length_ms)}" if length_ms > 0 else shown


class PlayColumnDelegate(CellDelegate):
    """The list's first column, one mark per state: ▶ on a call with a recording not
    playing (recording_state.GLYPHS); on the now-playing call a speaker while it
    plays and two bars (pause) while paused, each with its progress along the bottom
    of the cell, and ⚠ when it failed. The marks are drawn, not taken from a font: ⏸
    and a speaker are in few fonts and would be coloured emoji in others."""

    def __init__(self, now: NowPlaying, model: CallListModel, view: QAbstractItemView) -> None:
        super().__init__(model, view)
        self._now, self._call_id = now, model.call_id
        self._drawn: int | None = None  # the call this column last drew as now playing
        now.call_changed.connect(self._call_changed)
        now.state_changed.connect(self._repaint_playing)
        now.position_changed.connect(self._repaint_playing)

    def _call_changed(self, call_id: int | None) -> None:
        self._repaint({self._drawn, call_id})
        self._drawn = call_id

    def _repaint_playing(self, *_args) -> None:
        self._repaint({self._now.call_id})

    def _repaint(self, call_ids: set[int | None]) -> None:
        # Only the cells of these calls: a whole column costs ~1 ms, a cell 0.06.
        view = self._view
        viewport = view.viewport()
        top = view.rowAt(0)
        if top < 0:
            return
        bottom = view.rowAt(viewport.height() - 1)
        if bottom < 0:
            bottom = view.model().rowCount() - 1
        x, width = view.columnViewportPosition(0), view.columnWidth(0)
        for row in range(top, bottom + 1):
            if self._call_id(row) in call_ids:
                viewport.update(QRect(x, view.rowViewportPosition(row), width,
                                      view.rowHeight(row)))

    def mark(self, row: int) -> str:
        """The mark a row shows: "playing", "paused", "failed", else "" (the call's
        recording glyph: ▶ for one not playing)."""
        now = self._now
        if now.call_id is None or self._call_id(row) != now.call_id:
            return ""
        return {PLAYING: "playing", LOADING: "playing", PAUSED: "paused",
                ERROR: "failed"}.get(now.state, "")

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        mark = self.mark(index.row())
        if not mark:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        option.text = "⚠" if mark == "failed" else ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter,
                              option.widget)
        if mark == "failed":
            return
        selected = option.state & QStyle.StateFlag.State_Selected
        ink = option.palette.color(QPalette.ColorRole.HighlightedText if selected
                                   else QPalette.ColorRole.Text)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        size = min(option.rect.height(), option.rect.width()) * 0.5
        box = QRectF(0, 0, size, size)
        box.moveCenter(QRectF(option.rect).center() - QPointF(0, 1))
        (_speaker if mark == "playing" else _pause)(painter, box, ink)
        now = self._now
        if now.duration > 0:
            share = min(now.position / now.duration, 1.0)
            bar = QRect(option.rect.left() + 3, option.rect.bottom() - 3,
                        int((option.rect.width() - 6) * share), 2)
            painter.fillRect(bar, option.palette.color(
                QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight))
        painter.restore()

    def helpEvent(self, event, view, option, index) -> bool:
        mark, now = self.mark(index.row()), self._now
        if mark:
            where = where_text(now.position, now.duration)
            QToolTip.showText(event.globalPos(), {
                "failed": now.error, "paused": f"Paused at {where}",
                "playing": f"Playing · {where}"}[mark], view)
            return True
        return super().helpEvent(event, view, option, index)


def _speaker(painter: QPainter, box: QRectF, ink) -> None:
    """A loudspeaker with two waves: this call is playing."""
    x, y, s = box.left(), box.center().y(), box.width()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(ink)
    painter.drawPolygon(QPolygonF([
        QPointF(x, y - 0.17 * s), QPointF(x + 0.22 * s, y - 0.17 * s),
        QPointF(x + 0.5 * s, y - 0.45 * s), QPointF(x + 0.5 * s, y + 0.45 * s),
        QPointF(x + 0.22 * s, y + 0.17 * s), QPointF(x, y + 0.17 * s)]))
    pen = QPen(ink, max(1.2, s * 0.1))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for radius in (0.22 * s, 0.45 * s):
        arc = QPainterPath()
        centre = QPointF(x + 0.55 * s, y)
        arc.arcMoveTo(QRectF(centre.x() - radius, y - radius, 2 * radius, 2 * radius), -50)
        arc.arcTo(QRectF(centre.x() - radius, y - radius, 2 * radius, 2 * radius), -50, 100)
        painter.drawPath(arc)


def _pause(painter: QPainter, box: QRectF, ink) -> None:
    """Two bars: this call is paused."""
    s = box.width()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(ink)
    for left in (0.14 * s, 0.58 * s):
        painter.drawRect(QRectF(box.left() + left, box.top() + 0.08 * s, 0.28 * s, 0.84 * s))


MARK_WORDS = 8  # a pinned note's tooltip on the slider: its first words
MARK_REACH = 5  # px either side of a mark that its tooltip answers to


class MarkedSlider(QSlider):
    """The position slider, with a small tick under each pinned note's moment (its tooltip:
    the time and the note's first words)."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.marks: list[tuple[int, str]] = []  # (ms, the note's text)

    def set_marks(self, marks: list[tuple[int, str]]) -> None:
        self.marks = sorted(marks)
        self.update()

    def mark_x(self, ms: int) -> int | None:
        """Where a moment's tick is drawn (None: outside the slider's range)."""
        if not self.maximum() or not 0 <= ms <= self.maximum():
            return None
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                      QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                      QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        return groove.left() + handle.width() // 2 + QStyle.sliderPositionFromValue(
            self.minimum(), self.maximum(), ms, max(span, 0))

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self.marks:
            return
        painter = QPainter(self)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
        bottom = self.height() - 1
        for ms, _text in self.marks:
            x = self.mark_x(ms)
            if x is not None:
                painter.drawLine(x, bottom - 5, x, bottom)
        painter.end()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.marks:
            x = event.pos().x()
            near = [(abs(at - x), ms, text) for ms, text in self.marks
                    if (at := self.mark_x(ms)) is not None and abs(at - x) <= MARK_REACH]
            if near:
                _distance, ms, text = min(near)
                # A note is text, never markup: escaped, in a tooltip taken as rich text.
                QToolTip.showText(event.globalPos(),
                                  f"<qt>{html.escape(mark_tip(ms, text))}</qt>", self)
                return True
        return super().event(event)


def mark_tip(ms: int, text: str) -> str:
    """A pinned note's tooltip on the slider: "1:42 · its first words…"."""
    words = text.split()
    shown = " ".join(words[:MARK_WORDS]) + ("…" if len(words) > MARK_WORDS else "")
    return f"{formatting.position(ms)} · {shown}"


class CallPlayer(QWidget):
    """The detail's player for the call it shows: live when that call is the now-playing
    one, else its own Play from where the call was left (NowPlaying.resume_at)."""

    def __init__(self, now: NowPlaying, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._now = now
        self._call_id: int | None = None
        self._length: int | None = None  # the call's own duration (None: not known)
        self.play_button = QToolButton(text=PLAY)
        self.play_button.setAccessibleName("Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self._toggle)
        self.elapsed = QLabel("0:00")
        self.elapsed.setAccessibleName("Position")
        self.slider = MarkedSlider()
        self.slider.setAccessibleName("Position")
        self.slider.setSingleStep(5000)
        self.slider.setPageStep(30_000)
        self.slider.sliderReleased.connect(lambda: self._now.seek(self.slider.value()))
        self.slider.actionTriggered.connect(self._slider_action)
        self.total = QLabel("")
        self.total.setAccessibleName("Length")
        self.rate = QComboBox()
        self.rate.setAccessibleName("Speed")
        self.rate.setToolTip("Speed ([ slower, ] faster)")
        for rate in RATES:
            self.rate.addItem(_rate_text(rate), rate)
        self.rate.activated.connect(lambda i: self._now.set_rate(self.rate.itemData(i)))
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setAccessibleName("Volume")
        self.volume.setRange(0, 100)
        self.volume.setMaximumWidth(90)
        self.volume.valueChanged.connect(self._now.set_volume)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self._colour_error()
        # Skip silence (S): on while checked; beside it, the time it saved on this call.
        self.skip_button = QToolButton(text="Skip silence", checkable=True)
        self.skip_button.setAccessibleName("Skip silence")
        self.skip_button.setToolTip("Skip silences longer than a second while playing (S)")
        # Not a Tab stop (S and Call ▸ Skip silence reach it); a click leaves the keyboard
        # where it was, so Space still plays.
        self.skip_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.skip_saved = QLabel("")
        self.skip_saved.setAccessibleName("Time saved by skipping silence")
        self.skip_saved.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 2, 10, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(self.elapsed)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.total)
        layout.addWidget(self.rate)
        layout.addWidget(self.skip_button)
        layout.addWidget(self.skip_saved)
        layout.addWidget(QLabel("Vol"))
        layout.addWidget(self.volume)
        for signal in (now.call_changed, now.state_changed, now.position_changed,
                       now.duration_changed, now.error_changed, now.rate_changed,
                       now.volume_changed):
            signal.connect(self._show)

    def set_call(self, call_id: int | None, has_recording: bool, duration_ms: int | None) -> None:
        self._call_id, self._length = call_id, duration_ms
        self.setVisible(call_id is not None and has_recording)
        self._show()

    def set_marks(self, marks: list[tuple[int, str]]) -> None:
        """The pinned notes of the call shown: (ms, text), marked on the slider."""
        self.slider.set_marks(marks)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light to dark, or back
            self._colour_error()

    def _colour_error(self) -> None:
        """The player's problem in the failed badge's text colour, readable in either
        scheme (the palette's BrightText is white on a light one: it could not be seen)."""
        palette = self.error.palette()
        palette.setColor(QPalette.ColorRole.WindowText,
                         outcome_colors("failed", self.palette())[0])
        self.error.setPalette(palette)

    def show_skipping(self, on: bool, saved_ms: int, known: bool = True) -> None:
        """Skip silence is on or off; while on, what it saved on this call ("on · saved
        7 s"), or that this call's silences are not known yet."""
        if self.skip_button.isChecked() != on:
            self.skip_button.blockSignals(True)
            self.skip_button.setChecked(on)
            self.skip_button.blockSignals(False)
        self.skip_saved.setText(f"on · saved {formatting.duration(saved_ms)}" if known
                                else "on · finding silences\u2026")
        self.skip_saved.setVisible(on)

    @property
    def live(self) -> bool:
        return self._call_id is not None and self._call_id == self._now.call_id

    def _toggle(self) -> None:
        if self._call_id is not None:
            self._now.toggle(self._call_id)

    def _slider_action(self, action: int) -> None:
        # Keys and clicks on the groove move the slider: seek to where it goes.
        if action != QSlider.SliderAction.SliderMove and self.live:
            self._now.seek(self.slider.sliderPosition())

    def _show(self, *_args) -> None:
        now, live = self._now, self.live
        playing = live and now.state in (PLAYING, LOADING)
        self.play_button.setText(PAUSE if playing else PLAY)
        self.play_button.setAccessibleName("Pause" if playing else "Play")
        length = now.duration if live and now.duration else self._length
        # A call not playing shows where Play starts it: where it was left, 2 s back.
        position = now.position if live else \
            now.resume_at(self._call_id) if self._call_id is not None else 0
        self.slider.setEnabled(live and now.state != ERROR)
        if not self.slider.isSliderDown():
            self.slider.setRange(0, max(length or 0, 0))
            self.slider.setValue(position)
        self.elapsed.setText(formatting.position(position))
        self.total.setText(formatting.duration(length))
        self.rate.setCurrentIndex(max(self.rate.findData(now.rate), 0))
        if self.volume.value() != now.volume:
            self.volume.blockSignals(True)
            self.volume.setValue(now.volume)
            self.volume.blockSignals(False)
        self.error.setText(now.error if live else "")


class PlayerBar(QWidget):
    """Along the bottom of the window: the now-playing call, its position, its speed,
    play/pause."""

    call_clicked = Signal(int)

    def __init__(self, now: NowPlaying, tasks: TaskRunner,
                 caller: Callable[[int], Caller | None],
                 known: Callable[[int], Caller | Call | None] = lambda _call_id: None,
                 parent: QWidget | None = None) -> None:
        """`caller(call_id)` reads who a call was with (store.calls.caller), on the read lane;
        `known(call_id)` gives it at once when a view has it (the detail's call)."""
        super().__init__(parent)
        self._now, self._tasks, self._caller, self._known = now, tasks, caller, known
        self._asking: Task | None = None
        self._problem = ""  # why the caller could not be read
        self.setAccessibleName("Player")
        self.play_button = QToolButton(text=PLAY)
        self.play_button.setAccessibleName("Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(lambda: self._now.toggle())
        self.who = QLabel("Nothing playing")
        self.who.setTextFormat(Qt.TextFormat.PlainText)
        self.who.setAccessibleName("Now playing")
        self.who.setToolTip("Show this call in the list")
        self.who.setCursor(Qt.CursorShape.PointingHandCursor)
        self.who.installEventFilter(self)
        self.where = QLabel()
        self.where.setAccessibleName("Position")
        self.speed = QLabel()
        self.speed.setAccessibleName("Speed")
        self.speed.setToolTip("Speed ([ slower, ] faster)")
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAccessibleName("Player message")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(self.who)
        layout.addWidget(self.where)
        layout.addWidget(self.speed)
        layout.addWidget(self.message, 1)
        now.call_changed.connect(self._call_changed)
        for signal in (now.state_changed, now.position_changed, now.duration_changed,
                       now.error_changed, now.rate_changed):
            signal.connect(self._show)
        self._show()

    def _call_changed(self, call_id: int | None) -> None:
        # Described once per call, not on every tick of the position.
        if self._asking is not None:
            self._asking.cancel()
            self._asking = None
        self._problem = ""
        known = self._known(call_id) if call_id is not None else None
        if call_id is None:
            self.who.setText("Nothing playing")
        elif known is not None:
            self.who.setText(describe_call(known))
        else:
            self.who.setText("\u2026")
            self._asking = self._tasks.run(
                lambda: self._caller(call_id), self._described,
                failed=self._not_described, lane=Lane.READ, name="reading who the call was with")
        self._show()

    def _described(self, caller: Caller | None) -> None:
        self._asking = None
        self.who.setText(describe_call(caller))

    def _not_described(self, sentence: str) -> None:
        self._asking = None
        self.who.setText("Unknown caller")
        self._problem = sentence
        self._show()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.who and event.type() == QEvent.Type.MouseButtonRelease \
                and self._now.call_id is not None:
            self.call_clicked.emit(self._now.call_id)
            return True
        return super().eventFilter(watched, event)

    def _show(self, *_args) -> None:
        now = self._now
        has_call = now.call_id is not None
        self.play_button.setEnabled(has_call)
        playing = now.state in (PLAYING, LOADING)
        self.play_button.setText(PAUSE if playing else PLAY)
        self.play_button.setAccessibleName("Pause" if playing else "Play")
        self.who.setEnabled(has_call)
        shown = has_call and now.state != ERROR
        self.where.setText(where_text(now.position, now.duration) if shown else "")
        self.speed.setText(_rate_text(now.rate) if shown else "")
        self.message.setText(now.error if now.state == ERROR else
                             "Loading…" if now.state == LOADING else self._problem)


def describe_call(call: Caller | Call | None) -> str:
    """The bar's words for a call: name and number."""
    if call is None:
        return "A call no longer listed"
    return formatting.who(call.customer_name, call.customer_number or call.from_number)
