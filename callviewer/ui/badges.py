"""The list's outcome column as badges: a rounded label with a glyph and the word.

Outcomes differ in three ways, so that none is told by colour alone: the word, a
glyph of its own, and the badge's shape — an answered call (the usual case) is an
outline, every other outcome a filled badge that stands out. The colours come from
ui/theme.py and follow the light or dark scheme. The cell's accessible text and
tooltip stay the model's words.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyleOptionViewItem

from callviewer.ui.call_model import BADGE_ROLE, CallListModel
from callviewer.ui.cells import CellDelegate
from callviewer.ui.theme import outcome_colors

# Each outcome's glyph (all in DejaVu Sans, so they render wherever the app's font does).
GLYPHS = {
    "answered": "✓", "missed": "✕", "failed": "⚠", "busy": "⊘", "canceled": "↩",
    "voicemail": "✉", "in_progress": "●", "unknown": "?",
}
OUTLINED = frozenset({"answered"})  # the usual outcome: quiet, an outline
PAD_X, PAD_Y, GAP, MARGIN = 6, 2, 4, 3
KEPT = 64  # badges kept drawn: the outcomes × selected or not × a few column widths


def badge_text(outcome: str, words: str) -> str:
    """The badge's text: its glyph and the outcome's words ("✕ Missed")."""
    return f"{GLYPHS.get(outcome, GLYPHS['unknown'])} {words}"


class OutcomeBadgeDelegate(CellDelegate):
    """Paints the outcome column's cells as badges. Each badge is drawn once into a
    pixmap kept for its outcome, words, font, palette, size and selection: drawn afresh
    for every cell, the badges took a third of a paint of the list (about 5 ms of 15;
    tests/bench/bench_stall.py), and a paint is what stalls the window. A row being read,
    or the focused cell, has its background and focus frame from Qt's style."""

    def __init__(self, model: CallListModel, view: QAbstractItemView) -> None:
        super().__init__(model, view)
        self._drawn: OrderedDict[tuple, QPixmap] = OrderedDict()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row = self.read_row(index)
        if row is None:  # a row being read: the placeholder as usual
            super().paint(painter, option, index)
            return
        state = option.state.value
        ink = self.ink(state)
        if ink is None:  # Qt's style: the row's background, selection and focus, no words
            widget = option.widget
            style = widget.style() if widget is not None else None
            if style is not None:
                style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
            font = index.data(Qt.ItemDataRole.FontRole) or option.font  # struck out: deleted
            selected = bool(state & QStyle.StateFlag.State_Selected.value)
            palette = option.palette
        else:
            selected = self.paint_panel(painter, option.rect, state, ink)
            font, palette = ink.fonts[row.deleted], ink.palette
        words = row.display[index.column()]
        cell = option.rect.adjusted(MARGIN, 0, -MARGIN, 0)
        ratio = painter.device().devicePixelRatioF()
        key = (row.outcome, words, selected, font.key(), palette.cacheKey(),
               cell.width(), cell.height(), ratio)
        pixmap = self._drawn.get(key)
        if pixmap is None:
            pixmap = self._draw(row.outcome, words, font, palette, selected, cell.size(), ratio)
            self._drawn[key] = pixmap
            if len(self._drawn) > KEPT:
                self._drawn.popitem(last=False)
        painter.drawPixmap(cell.topLeft(), pixmap)

    @staticmethod
    def _draw(outcome: str, words: str, font: QFont, palette: QPalette, selected: bool,
              cell: QSize, ratio: float) -> QPixmap:
        """The badge, on a transparent pixmap the size of the cell."""
        pixmap = QPixmap(cell * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        text = badge_text(outcome, words)
        metrics = QFontMetrics(font)
        height = min(metrics.height() + 2 * PAD_Y, cell.height() - 2)
        # The text's own bounding width: a glyph from a fallback font can be wider than
        # its advance says.
        width = min(max(metrics.horizontalAdvance(text), metrics.boundingRect(text).width())
                    + 2 * PAD_X + 2, cell.width())
        badge = QRectF(0, (cell.height() - height) / 2, width, height)
        color, fill = outcome_colors(outcome, palette)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = height / 2
        if outcome in OUTLINED:
            if selected:  # an outline on the selection's colour: the selection's text colour
                color = palette.color(QPalette.ColorRole.HighlightedText)
            painter.setPen(QPen(color, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(badge.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(badge, radius, radius)
        painter.setPen(color)
        painter.setFont(font)
        inside = badge.adjusted(PAD_X, 0, -PAD_X, 0)
        if width >= cell.width():  # only a column made narrower than the badge cuts it
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(inside.width()))
        painter.drawText(inside, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.end()
        return pixmap

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        outcome = index.data(BADGE_ROLE)
        if outcome is None:
            return size
        metrics = QFontMetrics(option.font)
        width = metrics.horizontalAdvance(badge_text(outcome, index.data() or "")) \
            + 2 * (PAD_X + MARGIN)
        return QSize(max(size.width(), width), max(size.height(), metrics.height() + 2 * PAD_Y))
