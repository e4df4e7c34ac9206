"""The timeline's painting (ui/timeline_view.py's widget): what it shows drawn once per
size, palette or content change into a pixmap, and, at each paint, that pixmap and the
playing position's line, so that the 20 position ticks a second cost next to nothing.

`TimelinePainting` is the widget's painting half, a mixin of `TimelineView`: it reads the
widget's call, peaks, lanes, notes, hits and geometry (`_track`, `lane_rect`,
`block_rect`, `x_of`, `_roles_shown`). The waveform's shape comes from
timeline/waveform.py, imported (with numpy) only when a decoded recording is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)

from callviewer.timeline.lanes import DEFAULT_CHANNEL_ROLES, Block
from callviewer.ui.theme import is_dark

if TYPE_CHECKING:
    from callviewer.timeline.peaks import Peaks

MARGIN = 10  # left and right, as the player's
WAVE_HEIGHT = 32
LANE_HEIGHT = 11
LANE_GAP = 3
TOP, BOTTOM = 3, 4
ROLE_WORDS = {"agent": "Agent", "customer": "Customer", "tool": "Tool"}


def _mix(a: QColor, b: QColor, share: float) -> QColor:
    return QColor.fromRgbF(*(x + (y - x) * share for x, y in zip(
        a.getRgbF()[:3], b.getRgbF()[:3], strict=True)))


class Colours:
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


class TimelinePainting:
    """The painting half of `TimelineView` (see the module's docstring)."""

    peaks: Peaks | None
    _pixmap: QPixmap | None
    _drawn_x: int | None


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
            colours = Colours(self.palette())
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
        colours = Colours(self.palette())
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

    def _paint_labels(self, painter: QPainter, colours: Colours) -> None:
        painter.setPen(colours.label)
        for role in self._roles_shown():
            lane = self.lane_rect(role)
            painter.drawText(QRect(MARGIN, lane.top() - 2, self._gutter - 4, lane.height() + 4),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             ROLE_WORDS.get(role, role))

    def _split_channels(self) -> bool:
        return self.peaks is not None and self.peaks.channels == 2 \
            and self._channel_roles is not None

    def _paint_wave(self, painter: QPainter, colours: Colours, wave: QRect,
                    ratio: float) -> None:
        """The envelope, one column per device pixel: mirrored around the middle, or, for a
        recording with one party a channel, each channel on its side in its party's colour
        (the agent's over the middle, as the agent's lane is over the customer's)."""
        # Here, not at the top: numpy is loaded once there is a recording to draw.
        from callviewer.timeline.waveform import column_xs, columns, envelope

        peaks = self.peaks
        count = max(1, int(wave.width() * ratio))
        heights = columns(peaks, count)  # (channels, columns) 0..1
        middle = wave.top() + wave.height() / 2
        half = wave.height() / 2 - 1
        xs = column_xs(wave.left(), count, ratio)
        painter.setPen(Qt.PenStyle.NoPen)
        if self._split_channels():
            roles = self._channel_roles or DEFAULT_CHANNEL_ROLES
            for channel, role in enumerate(roles[:2]):
                sign = -1 if role == "agent" else 1
                painter.setBrush(colours.role.get(role, colours.wave))
                painter.drawPath(_outline(envelope(xs, middle, sign * half * heights[channel],
                                                   None)))
        else:
            painter.setBrush(colours.wave)
            mixed = heights.max(axis=0)
            painter.drawPath(_outline(envelope(xs, middle, -half * mixed, half * mixed)))

    def _paint_silences(self, painter: QPainter, colours: Colours, wave: QRect) -> None:
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

    def _paint_block(self, painter: QPainter, colours: Colours, block: Block) -> None:
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

    def _paint_hits(self, painter: QPainter, colours: Colours) -> None:
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

    def _paint_notes(self, painter: QPainter, colours: Colours) -> None:
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


def _outline(points: list[tuple[float, float]]) -> QPainterPath:
    """A closed path through the points (timeline/waveform.py's `envelope`)."""
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
    path.closeSubpath()
    return path
