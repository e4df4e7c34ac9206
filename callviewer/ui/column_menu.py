"""View ▸ Columns, also a right-click on the list's header: a checked item per column
that can be hidden. What is hidden is kept with the header's state (the window saves it);
a column declared `hidden` (columns.py) starts hidden."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QHeaderView, QMenu, QTableView

from callviewer.columns import COLUMNS

ALWAYS_SHOWN = frozenset({"started", "who"})  # a list without them tells nothing


class ColumnMenu(QMenu):
    """The columns to show, as checked items (see the module)."""

    def __init__(self, table: QTableView, title: str = "&Columns") -> None:
        super().__init__(title, table)
        self._header: QHeaderView = table.horizontalHeader()
        self._actions = {}
        for at, column in enumerate(COLUMNS):
            if column.key in ALWAYS_SHOWN:
                continue
            action = self.addAction(column.spoken)
            action.setCheckable(True)
            action.toggled.connect(lambda shown, at=at: self._header.setSectionHidden(
                at, not shown))
            self._actions[at] = action
        self.aboutToShow.connect(self._checks)
        self._header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._header.customContextMenuRequested.connect(self._at_header)

    @staticmethod
    def hide_defaults(table: QTableView) -> None:
        """Hide the columns declared hidden (a first start, or a header state that no
        longer fits the columns)."""
        for at, column in enumerate(COLUMNS):
            table.setColumnHidden(at, column.hidden)

    def _checks(self) -> None:
        for at, action in self._actions.items():
            action.blockSignals(True)
            action.setChecked(not self._header.isSectionHidden(at))
            action.blockSignals(False)

    def _at_header(self, where: QPoint) -> None:
        self.popup(self._header.mapToGlobal(where))
