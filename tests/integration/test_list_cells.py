"""The list paints the cells of the rows it has read itself (ui/cells.py, issue 26), a
third of the time Qt's own delegate took: each cell must look exactly as Qt's delegate
paints it from the model's answers, selected or not, in an active window or not, struck
out when deleted at the source, elided when its column is narrow. The real window."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem
from windows import open_window

from callviewer.columns import AT
from callviewer.listing import ListSpec
from callviewer.ui.cells import CellDelegate

NARROW = 44  # px: most texts are wider, so they are elided


def painted(table, delegate, row: int, column: int, selected: bool, active: bool,
            width: int) -> QImage:
    """A cell as `delegate` paints it inside the list, on the row's background."""
    option = QStyleOptionViewItem()
    table.initViewItemOption(option)  # as the view makes a cell's option
    option.rect = QRect(0, 0, width, table.rowHeight(row))
    state = option.state & ~QStyle.StateFlag.State_HasFocus
    for flag, wanted in ((QStyle.StateFlag.State_Selected, selected),
                         (QStyle.StateFlag.State_Active, active)):
        state = state | flag if wanted else state & ~flag
    option.state = state
    image = QImage(option.rect.size(), QImage.Format.Format_RGB32)
    image.fill(table.palette().base().color())
    painter = QPainter(image)
    delegate.paint(painter, option, table.model().index(row, column))
    painter.end()
    return image


def test_a_read_rows_cells_look_as_qts_own_delegate_paints_them(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    table, model = window.table, window.model
    model.set_spec(ListSpec(include_deleted=True))
    qtbot.waitUntil(lambda: not model.stale)
    ours = table.itemDelegate()
    assert isinstance(ours, CellDelegate)
    qts = QStyledItemDelegate(table)
    deleted = [row for row in range(model.rowCount()) if model.read_row(row).deleted]
    assert deleted, "the demo has calls deleted at the source"
    rows = sorted({0, 1, 2, *deleted[:2]})
    columns = [column for column in range(model.columnCount())
               if not table.isColumnHidden(column)]
    elided = 0
    for row in rows:
        for column in columns:  # in the view's order: Qt's delegate reuses its roles' data
            text = model.index(row, column).data()
            for width in (table.columnWidth(column), NARROW):
                elided += width == NARROW and table.fontMetrics().horizontalAdvance(text) > 40
                for selected in (False, True):
                    for active in (True, False):
                        how = (row, column, text, width, selected, active)
                        qt = painted(table, qts, row, column, selected, active, width)
                        assert painted(table, ours, row, column, selected, active,
                                       width) == qt, how
    assert elided > 10


def test_qts_own_delegate_aligns_each_cell_by_its_own_column(qtbot, db, tmp_path):
    """The model clears each role it does not answer: Qt's delegate reuses its roles' data
    from one cell to the next, and a left-aligned cell after a right-aligned one was
    painted at the right (the focused cell and a row being read are still Qt's)."""
    window = open_window(qtbot, db, tmp_path)
    table = window.table
    qts = QStyledItemDelegate(table)
    painted(table, qts, 0, AT["duration"], False, True, 200)  # right-aligned
    image = painted(table, qts, 0, AT["outcome"], False, True, 200)
    background = image.pixelColor(0, 0)
    inked = [x for x in range(image.width()) for y in range(image.height())
             if image.pixelColor(x, y) != background]
    assert inked and max(inked) < 100, "the outcome's words are at the left of its cell"
