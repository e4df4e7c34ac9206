"""The list's outcome column as badges: a rounded label with a glyph and the word.

Outcomes differ in three ways, so that none is told by colour alone: the word, a
glyph of its own, and the badge's shape — an answered call (the usual case) is an
outline, every other outcome a filled badge that stands out. The colours come from
ui/theme.py and follow the light or dark scheme. The cell's accessible text and
tooltip stay the model's words.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from callviewer.ui.call_model import BADGE_ROLE
from callviewer.ui.theme import outcome_colors

# Each outcome's glyph (all in DejaVu Sans, so they render wherever the app's font does).
GLYPHS = {
    "answered": "✓", "missed": "✕", "failed": "⚠", "busy": "⊘", "canceled": "↩",
    "voicemail": "✉", "in_progress": "●", "unknown": "?",
}
OUTLINED = frozenset({"answered"})  # the usual outcome: quiet, an outline
PAD_X, PAD_Y, GAP, MARGIN = 6, 2, 4, 3


def badge_text(outcome: str, words: str) -> str:
    """The badge's text: its glyph and the outcome's words ("✕ Missed")."""
    return f"{GLYPHS.get(outcome, GLYPHS['unknown'])} {words}"


class OutcomeBadgeDelegate(QStyledItemDelegate):
    """Paints the outcome column's cells as badges."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        outcome = index.data(BADGE_ROLE)
        if outcome is None:  # a row being read: the placeholder as usual
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        words = option.text
        option.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:  # the row's background and selection, without the words
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        text = badge_text(outcome, words)
        metrics = QFontMetrics(option.font)
        cell = QRectF(option.rect).adjusted(MARGIN, 0, -MARGIN, 0)
        height = min(metrics.height() + 2 * PAD_Y, cell.height() - 2)
        # The text's own bounding width: a glyph from a fallback font can be wider than
        # its advance says.
        width = min(max(metrics.horizontalAdvance(text), metrics.boundingRect(text).width())
                    + 2 * PAD_X + 2, cell.width())
        badge = QRectF(cell.left(), cell.center().y() - height / 2, width, height)
        color, fill = outcome_colors(outcome, option.palette)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = height / 2
        if outcome in OUTLINED:
            if selected:  # an outline on the selection's colour: the selection's text colour
                color = option.palette.color(QPalette.ColorRole.HighlightedText)
            painter.setPen(QPen(color, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(badge.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(badge, radius, radius)
        painter.setPen(color)
        painter.setFont(option.font)
        inside = badge.adjusted(PAD_X, 0, -PAD_X, 0)
        if width >= cell.width():  # only a column made narrower than the badge cuts it
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(inside.width()))
        painter.drawText(inside, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        outcome = index.data(BADGE_ROLE)
        if outcome is None:
            return size
        metrics = QFontMetrics(option.font)
        width = metrics.horizontalAdvance(badge_text(outcome, index.data() or "")) \
            + 2 * (PAD_X + MARGIN)
        return QSize(max(size.width(), width), max(size.height(), metrics.height() + 2 * PAD_Y))
