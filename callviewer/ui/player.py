"""The views of the one NowPlaying: the list's play column, the detail's player, the bar.

Each listens to NowPlaying's signals and calls its methods; none keeps a copy
of its state.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyledItemDelegate,
    QToolButton,
    QToolTip,
    QWidget,
)

from callviewer.playback.now_playing import ERROR, LOADING, PLAYING, RATES, NowPlaying
from callviewer.ui import formatting

PLAY, PAUSE = "▶", "⏸"


def clock(ms: int) -> str:
    """m:ss (h:mm:ss past an hour) of a position."""
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _rate_text(rate: float) -> str:
    return f"{rate:g}×"


class PlayColumnDelegate(QStyledItemDelegate):
    """The list's first column: ▶ on calls with a recording; on the now-playing call
    ⏸ while it plays, and its progress along the bottom of the cell."""

    def __init__(self, now: NowPlaying, view: QAbstractItemView,
                 call_id: Callable[[int], int | None]) -> None:
        super().__init__(view)
        self._now, self._view, self._call_id = now, view, call_id
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

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        now = self._now
        if self._call_id(index.row()) != now.call_id or now.call_id is None:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        option.text = PAUSE if now.state in (PLAYING, LOADING) else PLAY
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter,
                              option.widget)
        if now.duration > 0:
            share = min(now.position / now.duration, 1.0)
            bar = QRect(option.rect.left() + 3, option.rect.bottom() - 3,
                        int((option.rect.width() - 6) * share), 2)
            selected = option.state & QStyle.StateFlag.State_Selected
            painter.fillRect(bar, option.palette.color(
                QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight))

    def helpEvent(self, event, view, option, index) -> bool:
        if self._call_id(index.row()) == self._now.call_id and self._now.call_id is not None:
            now = self._now
            QToolTip.showText(event.globalPos(), now.error or
                              f"{now.state.capitalize()} · {clock(now.position)} / "
                              f"{clock(now.duration)}", view)
            return True
        return super().helpEvent(event, view, option, index)


class CallPlayer(QWidget):
    """The detail's player for the call it shows: live when that call is the now-playing
    one, else its own Play from the start."""

    def __init__(self, now: NowPlaying, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._now = now
        self._call_id: int | None = None
        self._length = 0  # the call's own duration, for a call not playing
        self.play_button = QToolButton(text=PLAY)
        self.play_button.setAccessibleName("Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self._toggle)
        self.elapsed = QLabel("0:00")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Position")
        self.slider.setSingleStep(5000)
        self.slider.setPageStep(30_000)
        self.slider.sliderReleased.connect(lambda: self._now.seek(self.slider.value()))
        self.slider.actionTriggered.connect(self._slider_action)
        self.total = QLabel("0:00")
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
        self.error.setForegroundRole(QPalette.ColorRole.BrightText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 2, 10, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(self.elapsed)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.total)
        layout.addWidget(self.rate)
        layout.addWidget(QLabel("Vol"))
        layout.addWidget(self.volume)
        for signal in (now.call_changed, now.state_changed, now.position_changed,
                       now.duration_changed, now.error_changed, now.rate_changed,
                       now.volume_changed):
            signal.connect(self._show)

    def set_call(self, call_id: int | None, has_recording: bool, duration_ms: int | None) -> None:
        self._call_id, self._length = call_id, duration_ms or 0
        self.setVisible(call_id is not None and has_recording)
        self._show()

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
        length = (now.duration if live and now.duration else self._length)
        position = now.position if live else 0
        self.slider.setEnabled(live and now.state != ERROR)
        if not self.slider.isSliderDown():
            self.slider.setRange(0, max(length, 0))
            self.slider.setValue(position)
        self.elapsed.setText(clock(position))
        self.total.setText(clock(length))
        self.rate.setCurrentIndex(max(self.rate.findData(now.rate), 0))
        if self.volume.value() != now.volume:
            self.volume.blockSignals(True)
            self.volume.setValue(now.volume)
            self.volume.blockSignals(False)
        self.error.setText(now.error if live else "")


class PlayerBar(QWidget):
    """Along the bottom of the window: the now-playing call, its position, play/pause."""

    call_clicked = Signal(int)

    def __init__(self, now: NowPlaying, describe: Callable[[int], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._now, self._describe = now, describe
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
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAccessibleName("Player message")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(self.who)
        layout.addWidget(self.where)
        layout.addWidget(self.message, 1)
        now.call_changed.connect(self._call_changed)
        for signal in (now.state_changed, now.position_changed, now.duration_changed,
                       now.error_changed):
            signal.connect(self._show)
        self._show()

    def _call_changed(self, call_id: int | None) -> None:
        # Described once per call, not on every tick of the position.
        self.who.setText(self._describe(call_id) if call_id is not None else "Nothing playing")
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
        self.where.setText(f"{clock(now.position)} / {clock(now.duration)}"
                           if has_call and now.state != ERROR else "")
        self.message.setText(now.error if now.state == ERROR else
                             "Loading…" if now.state == LOADING else "")


def describe_call(call: dict | None) -> str:
    """The bar's words for a call (`Store.caller`'s mapping): name and number."""
    if call is None:
        return "A call no longer listed"
    return formatting.who(call["customer_name"], call["customer_number"] or call["from_number"])
