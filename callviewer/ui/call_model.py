"""The call list as a windowed table model: SQL reads the pages the view shows.

No Python list of all rows and no proxy model: sorting, filtering and search
are a `ListSpec` turned into SQL (callviewer/listing.py). Pages of PAGE rows
are read on the task runner's READ lane and kept in a small LRU cache, already
formatted, so `data()` is a dictionary lookup and never reads: a row whose page
is not read yet shows a placeholder and asks for its page once; the page fills
its rows when it arrives. A new spec keeps the rows shown until its first rows
arrive (list_reads.FIRST of them; the rest of their page is read when first shown),
then resets. A failed read is remembered and tried again with backoff
(list_reads.py), and said once per streak of failures. The count of a large
result is a READ task too, started once the view has painted the first page.
The columns are declared in callviewer/columns.py; their cells' words are here.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal

from callviewer import listing
from callviewer.columns import AT, CENTRE, COLUMNS, LEFT, RIGHT, ROW_FIELDS
from callviewer.listing import ListSpec
from callviewer.recording_state import GLYPHS, MEANINGS
from callviewer.ui import formatting
from callviewer.ui.list_reads import FIRST, PAGE, ListReads, Read
from callviewer.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

CACHED_PAGES = 64
CALL_ID_ROLE = Qt.ItemDataRole.UserRole + 1
# The outcome column's badge (ui/badges.py): the call's outcome as stored ("missed").
BADGE_ROLE = Qt.ItemDataRole.UserRole + 2
PLACEHOLDER = "…"  # in the Started cell of a row whose page is being read

_Values = dict  # a row's fields by name (columns.ROW_FIELDS)


def _same(_values: _Values, shown: str) -> str:
    return shown


# Each column's cell: its text from the row's fields, and its tooltip from the fields and
# that text. One entry per column of columns.COLUMNS, by key.
_FORMATS: dict[str, tuple[Callable[[_Values], str], Callable[[_Values, str], str]]] = {
    "recording": (lambda v: GLYPHS.get(v["recording_state"], ""),
                  lambda v, _s: MEANINGS.get(v["recording_state"], "No recording")),
    "direction": (lambda v: {"inbound": "↙", "outbound": "↗"}.get(v["direction"], "·"),
                  lambda v, _s: formatting.direction_words(v["direction"])),
    "started": (lambda v: formatting.local_time(v["started_at"], row=True),
                lambda v, _s: formatting.full_time(v["started_at"])),
    "who": (lambda v: formatting.who(v["customer_name"],
                                     v["customer_number"] or v["from_number"]), _same),
    "duration": (lambda v: formatting.duration(v["duration_ms"]), _same),
    "outcome": (lambda v: formatting.outcome_words(v["outcome"]),
                lambda v, shown: shown + (" · deleted at the source"
                                          if v["deleted_at"] is not None else "")),
    "score": (lambda v: "" if v["score"] is None else f"{v['score']:g}",
              lambda _v, shown: f"Score {shown}" if shown else "No score"),
    "done": (lambda v: "✓" if v["done"] else "",
             lambda v, _s: "Done" if v["done"] else "Not done"),
    "notes": (lambda v: str(v["note_count"]) if v["note_count"] else "",
              lambda v, _s: f"{v['note_count']} notes" if v["note_count"] else "No notes"),
    "talk": (lambda v: formatting.percent(v["customer_share"]),
             lambda _v, shown: f"The customer spoke {shown} of the talk" if shown
             else "Not measured yet, or no one spoke"),
    "silence": (lambda v: "" if v["silence_ms"] is None else formatting.duration(v["silence_ms"]),
                _same),
    "monologue": (lambda v: "" if v["longest_monologue_ms"] is None
                  else formatting.duration(v["longest_monologue_ms"]), _same),
    "interruptions": (lambda v: "" if v["interruptions"] is None else str(v["interruptions"]),
                      _same),
}
_CELLS = tuple(_FORMATS[column.key] for column in COLUMNS)  # a column without: KeyError
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TIPS = (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole)
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
_FONT = Qt.ItemDataRole.FontRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
# Each column's alignment (TextAlignmentRole), None for Qt's default (left).
ALIGNMENTS = tuple({LEFT: None,
                    RIGHT: int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                    CENTRE: int(Qt.AlignmentFlag.AlignCenter)}[column.align]
                   for column in COLUMNS)
_PLACEHOLDER_AT = AT["started"]
_COLUMN_COUNT = len(COLUMNS)
_OUTCOME_AT, _OUTCOME_FIELD = AT["outcome"], ROW_FIELDS.index("outcome")


class ListRow:
    """One list row as read; formatted when first shown, its tooltips when first asked."""

    __slots__ = ("_display", "_tips", "call_id", "deleted", "values")

    def __init__(self, values: tuple) -> None:
        self.values = values
        self.call_id: int = values[0]  # columns.ROW_FIELDS: id, deleted_at, …
        self.deleted = values[1] is not None
        self._display: tuple[str, ...] | None = None
        self._tips: tuple[str, ...] | None = None

    @property
    def display(self) -> tuple[str, ...]:
        """Each cell's text, by column."""
        if self._display is None:
            values = dict(zip(ROW_FIELDS, self.values, strict=True))
            self._display = tuple(text(values) for text, _tip in _CELLS)
        return self._display

    @property
    def tips(self) -> tuple[str, ...]:
        if self._tips is None:
            values = dict(zip(ROW_FIELDS, self.values, strict=True))
            self._tips = tuple(tip(values, shown) for (_text, tip), shown
                               in zip(_CELLS, self.display, strict=True))
        return self._tips

    @property
    def outcome(self) -> str:
        """The call's outcome as stored ("missed"), for its badge (BADGE_ROLE)."""
        return self.values[_OUTCOME_FIELD] or "unknown"


_NO_ROW = object()  # past the end of a page read short (calls gone since the count)


def _struck_out():
    """The font of a call deleted at the source."""
    from PySide6.QtGui import QFont

    font = QFont()
    font.setStrikeOut(True)
    return font


class CallListModel(QAbstractTableModel):
    """The calls a `ListSpec` selects, a page at a time, for a QTableView."""

    # (total or None while counting, whether filters or a search narrow the list)
    count_changed = Signal(object, bool)
    # A sentence: the list could not be read (a server out of reach); it shows what it has
    # and tries again by itself. Said once per streak of failures.
    read_failed = Signal(str)

    def __init__(self, database: Path | str, tasks: TaskRunner,
                 parent: QObject | None = None) -> None:
        """`database`: an SQLite file, or a PostgreSQL URL (see listing.connect); `tasks`:
        the window's runner, on whose READ lane every read after the first runs."""
        super().__init__(parent)
        self.database = database
        self._reads = ListReads(database, tasks, lambda: (self._spec, self._total),
                                self._page_read, self._counted_total, self._failed, self)
        self._spec = ListSpec()
        self._rows = 0
        self._total: int | None = None
        self._pages: OrderedDict[int, list[ListRow]] = OrderedDict()
        # The first page holds only a new spec's first read (list_reads.FIRST rows): the
        # rest of it is read when a row past them is first asked.
        self._first_only = False
        self._resetting = False  # the spec's first page is asked: the rows shown are the last's
        self._shown = False  # a spec's rows have been shown (the first is read here)
        self._after_reset: list[Callable[[], None]] = []
        self._counted: list[Callable[[int], None]] = []

    # --- what the list shows -------------------------------------------------

    @property
    def spec(self) -> ListSpec:
        """What the list shows, or is reading to show (its rows until then are the last
        spec's)."""
        return self._spec

    @property
    def stale(self) -> bool:
        """Whether the rows shown are older than `spec` (a new spec or a refresh is being
        read: the list resets when its first page arrives)."""
        return self._resetting

    @property
    def total(self) -> int | None:
        """The number of calls selected, or None while it is being counted."""
        return self._total

    def set_spec(self, spec: ListSpec, then: Callable[[], None] | None = None) -> None:
        """Show the calls `spec` selects, from the top, once its first page is read (then
        `then()`). The first spec shown is read here, on the calling thread: at launch
        the window's first paint needs its rows (an empty list would paint the welcome
        panel first; tests/bench/bench_launch.py stops at the first paint with rows).
        Every later one is read on the READ lane; reads for the last spec are dropped."""
        self._reads.new_spec()
        self._spec = spec
        self._resetting = True
        self._after_reset = [then] if then else []
        self._counted.clear()
        if self._shown:
            self._reads.ask(Read.RESET, 0)
            return
        read = self._reads.now(listing.page, spec, 0, FIRST)
        if read is not None:
            self._reset([ListRow(values) for values in read])
        else:
            self._reads.ask(Read.RESET, 0)  # when the backoff says

    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Read everything again (after any write: an import, a note, a done flag); the
        rows shown stay until the first page arrives, then the list is as the database
        has it: no row twice, none missing, the count right."""
        self.set_spec(self._spec, then)

    def call_id(self, row: int) -> int | None:
        """The id of the call on a row; None while its page is being read."""
        found = self._row(row)
        return found.call_id if isinstance(found, ListRow) else None

    def row_of(self, call_id: int) -> int | None:
        """The row of a call among the rows read, else None; never reads (see locate)."""
        for number, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.call_id == call_id:
                    return number * PAGE + offset
        return None

    def locate(self, call_id: int, then: Callable[[int | None], None]) -> None:
        """Find a call's row: `then(row)` with its page read, or `then(None)` when the spec
        does not list it; at once when its page is read, else from the READ lane (then
        not at all when the spec changes first, or the read fails: read_failed says so).
        A row past those counted waits for the count."""
        row = self.row_of(call_id)
        if row is not None:
            then(row)
            return
        self._reads.locate(call_id, lambda found: self._located(found, then))

    def when_counted(self, then: Callable[[int], None]) -> None:
        """`then(total)` once the calls are counted (at once when they are), counting now
        if the count waits (End needs the last row)."""
        if self._total is not None and not self._resetting:
            then(self._total)
            return
        self._counted.append(then)
        self.start_count()

    def start_count(self) -> None:
        """Start the count that waits, if one does. The window calls it once the list has
        painted: counting a million calls alongside the first paint delayed it by about
        10 ms (tests/bench/bench_launch.py)."""
        if self._total is None or self._resetting:
            self._reads.want_count()

    # --- QAbstractTableModel ---------------------------------------------------

    def index(self, row: int, column: int,
              parent: QModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        # Qt's own asks rowCount and columnCount each time: two calls into Python for
        # every cell a paint draws, where this is one.
        if 0 <= row < self._rows and 0 <= column < _COLUMN_COUNT and not parent.isValid():
            return self.createIndex(row, column)
        return QModelIndex()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        return self._answer(self._row(index.row()), index.column(), role)

    def multiData(self, index: QModelIndex, roles) -> None:
        """Every role a delegate asks of a cell, in one call (Qt 6's item delegates ask
        seven at once). The list's own cells of rows read are painted without asking
        (ui/cells.py): this serves the rest, a row being read and the focused cell."""
        row, column = self._row(index.row()), index.column()
        for asked in roles:
            value = self._answer(row, column, asked.role())
            if value is None:
                asked.clearData()  # the delegate reuses its roles' data from cell to cell
            else:
                asked.setData(value)

    def read_row(self, row: int) -> ListRow | None:
        """A row as read (its cells formatted), or None while its page is being read
        (asked for) or past the end of the rows read."""
        found = self._row(row)
        return found if isinstance(found, ListRow) else None

    def _answer(self, row: ListRow | object | None, column: int, role: int):
        """What a cell of `row` (see _row) says for `role`."""
        if row is None:
            return self._placeholder(column, role)
        if row is _NO_ROW:
            return None
        if role == _DISPLAY:
            return row.display[column]
        if role == _ALIGNMENT:
            return ALIGNMENTS[column]
        if role in _TIPS:
            return row.tips[column]
        if role == CALL_ID_ROLE:
            return row.call_id
        if role == BADGE_ROLE and column == _OUTCOME_AT:
            return row.outcome
        if role == _FONT and row.deleted:
            return _struck_out()
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].header
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section].tip
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return COLUMNS[section].spoken
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        descending = order == Qt.SortOrder.DescendingOrder
        sort = COLUMNS[column].key
        if (sort, descending) != (self._spec.sort, self._spec.descending):
            self.set_spec(self._spec.sorted_by(sort, descending))

    # --- pages and counts (answers from ListReads, on this thread) --------------------

    def _page_read(self, kind: Read, number: int, read: list[tuple]) -> None:
        """A page of the spec arrived: the first of a new spec resets the list."""
        rows = [ListRow(values) for values in read]
        if kind is Read.RESET:
            self._reset(rows)
            return
        if number == 0:
            self._first_only = False
        self._keep(number, rows)
        first = number * PAGE
        last = min(first + PAGE, self._rows) - 1
        if first <= last:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def _counted_total(self, total: int) -> None:
        if self._total is None and not self._resetting:
            self._set_total(total)

    def _reset(self, rows: list[ListRow]) -> None:
        self.beginResetModel()
        self._resetting, self._shown = False, True
        self._pages.clear()
        self._pages[0] = rows
        self._first_only = len(rows) == FIRST < PAGE
        self._rows = len(rows)
        self._total = len(rows) if len(rows) < FIRST else None
        self.endResetModel()
        self.count_changed.emit(self._total, self._spec.filtered)
        after, self._after_reset = self._after_reset, []
        for then in after:
            then()
        if self._total is not None:
            self._answer_counted()
        elif self._counted:
            self.start_count()

    def _set_total(self, total: int) -> None:
        self._total = total
        if total > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, total - 1)
            self._rows = total
            self.endInsertRows()
        self.count_changed.emit(total, self._spec.filtered)
        self._answer_counted()

    def _answer_counted(self) -> None:
        waiting, self._counted = self._counted, []
        for then in waiting:
            then(self._total)

    def _located(self, found: tuple[int, int, list[tuple]] | None,
                 then: Callable[[int | None], None]) -> None:
        if found is None:
            then(None)
            return
        row, number, read = found
        if number not in self._pages or (number == 0 and self._first_only):
            self._page_read(Read.PAGE, number, read)
        if row < self._rows:
            then(row)
        else:
            self.when_counted(lambda _total: then(row if row < self._rows else None))

    def _failed(self, sentence: str) -> None:
        log.warning("The call list could not be read: %s", sentence)
        self.read_failed.emit(sentence)

    def _keep(self, number: int, rows: list[ListRow]) -> None:
        self._pages[number] = rows
        self._pages.move_to_end(number)
        if len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)

    def _row(self, row: int) -> ListRow | object | None:
        """The row read, None while its page is being read (asking for it; and past a new
        spec's first rows, until the rest of their page is read), _NO_ROW past the end of
        a page read short."""
        if not 0 <= row < self._rows:
            return _NO_ROW
        number, offset = divmod(row, PAGE)
        rows = self._pages.get(number)
        if rows is None or (number == 0 and self._first_only and offset >= len(rows)):
            if not self._resetting:  # the rows shown are the last spec's: not asked
                self._reads.ask(Read.PAGE, number)
            return None
        self._pages.move_to_end(number)
        return rows[offset] if offset < len(rows) else _NO_ROW

    def _placeholder(self, column: int, role: int):
        if role == _DISPLAY and column == _PLACEHOLDER_AT:
            return PLACEHOLDER
        if role == _FOREGROUND:
            from PySide6.QtGui import QPalette

            return QPalette().brush(QPalette.ColorRole.PlaceholderText)
        return None

    def close(self) -> None:
        """Stop reading and release the read connections."""
        self._reads.close()

