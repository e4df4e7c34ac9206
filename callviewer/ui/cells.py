"""The call list's cells, painted from the rows the model has read and formatted.

Qt's own item delegate asks the model for seven roles a cell (a Python call, and a
wrapped object for each role), then has its style lay the text out twice (to measure it,
then to draw it): a paint of the list's ~250 cells took 15-18 ms at 1280×800, three
times what the same view takes over a model of Qt's own, and a new search waits for
that paint (tests/bench/bench_ui.py). A cell of a row read is painted here instead, as
Qt's style paints it: the selection's fill, then the text in the colour, alignment,
margin and elision Qt uses, in one Python call. The rest is left to Qt's own painting,
which asks the model as any view does: a row being read (its placeholder), the current
cell while the list has focus (its focus frame), a disabled or right-to-left list.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from callviewer.ui.call_model import ALIGNMENTS, CallListModel, ListRow

_SELECTED = QStyle.StateFlag.State_Selected.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_FOCUS = QStyle.StateFlag.State_HasFocus.value
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)  # Qt's default
_ALIGNED = tuple(_LEFT if aligned is None else aligned for aligned in ALIGNMENTS)
_ELIDE = Qt.TextElideMode.ElideRight


class _Ink:
    """What every cell of one paint of the list shares: the colours of each state, the
    fonts and their metrics, the text's margin (each asked of Qt once, not per cell)."""

    __slots__ = ("fonts", "highlight", "margin", "metrics", "palette", "right_to_left",
                 "selected_text", "serial", "text")

    def __init__(self, view: QAbstractItemView, serial: int) -> None:
        self.serial = serial
        self.right_to_left = view.isRightToLeft()
        self.palette = palette = view.palette()
        groups = {True: QPalette.ColorGroup.Active, False: QPalette.ColorGroup.Inactive}
        self.highlight = {active: palette.brush(group, QPalette.ColorRole.Highlight)
                          for active, group in groups.items()}
        self.selected_text = {active: palette.color(group, QPalette.ColorRole.HighlightedText)
                              for active, group in groups.items()}
        self.text = {active: palette.color(group, QPalette.ColorRole.Text)
                     for active, group in groups.items()}
        font = view.font()
        struck = QFont(font)
        struck.setStrikeOut(True)
        self.fonts = {False: font, True: struck}  # by "deleted at the source"
        self.metrics = QFontMetrics(font)
        # Qt's style sets an item's text this far in from each side of its cell.
        self.margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin,
                                               None, view) + 1


class CellDelegate(QStyledItemDelegate):
    """Paints the cells of the rows read (see the module); the list's delegate, and the
    base of its columns' own (the play marks, the outcome badges)."""

    def __init__(self, model: CallListModel, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._model, self._view = model, view
        self._ink: _Ink | None = None

    def read_row(self, index: QModelIndex) -> ListRow | None:
        """The row of `index` as read, or None while its page is being read."""
        return self._model.read_row(index.row())

    def ink(self, state: int) -> _Ink | None:
        """The paint's shared ink for a cell in `state` (its option's, as an int), or None
        when the cell is Qt's to paint (see the module): its focus frame, a disabled or
        right-to-left list."""
        if state & _FOCUS or not state & _ENABLED:
            return None
        serial = self._view.paint_serial  # counted by the list (ui/window.py CallTable)
        if self._ink is None or self._ink.serial != serial:
            self._ink = _Ink(self._view, serial)
        return None if self._ink.right_to_left else self._ink

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row = self.read_row(index)
        state = option.state.value
        ink = self.ink(state) if row is not None else None
        if ink is None:
            super().paint(painter, option, index)
            return
        column = index.column()
        self.paint_text(painter, option.rect, state, ink, row.display[column],
                        _ALIGNED[column], row.deleted)

    @staticmethod
    def paint_panel(painter: QPainter, rect: QRect, state: int, ink: _Ink) -> bool:
        """The cell's background as Qt's style fills it (the view has painted the row's
        alternating colour): the selection's colour on a selected cell. Whether the cell
        is selected."""
        selected = bool(state & _SELECTED)
        if selected:
            painter.fillRect(rect, ink.highlight[bool(state & _ACTIVE)])
        return selected

    def paint_text(self, painter: QPainter, rect: QRect, state: int, ink: _Ink, text: str,
                   aligned: int, deleted: bool) -> None:
        """A cell of text: its panel, then the text as Qt's style draws an item's (the
        colour of its state, `aligned` within the margins, elided at the right)."""
        selected = self.paint_panel(painter, rect, state, ink)
        if not text:
            return
        width = rect.width() - 2 * ink.margin
        if ink.metrics.horizontalAdvance(text) > width:
            text = ink.metrics.elidedText(text, _ELIDE, width)
        active = bool(state & _ACTIVE)
        painter.setPen(ink.selected_text[active] if selected else ink.text[active])
        painter.setFont(ink.fonts[deleted])
        painter.drawText(rect.adjusted(ink.margin, 0, -ink.margin, 0), aligned, text)
