"""The call list as a windowed table model: SQL reads the pages the view shows.

No Python list of all rows and no proxy model: sorting, filtering and search
are a `ListSpec` turned into SQL (callviewer/listing.py). Pages of PAGE rows
are read on demand and kept in a small LRU cache, already formatted, so
`data()` is a dictionary lookup. The count of a large result arrives from a
thread of its own, started once the view has painted the first page (`start_count`);
until then the model shows what it has read.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import suppress
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal

from callviewer import listing
from callviewer.listing import ROW_COLUMNS, ListSpec
from callviewer.recording_state import GLYPHS, MEANINGS
from callviewer.ui import formatting

log = logging.getLogger(__name__)

PAGE = 200
CACHED_PAGES = 64

# (key, header, sort key) per column, in view order.
COLUMNS = (
    ("recording", "", "recording"),
    ("direction", "", "direction"),
    ("started", "Started", "started"),
    ("who", "Who", "who"),
    ("duration", "Duration", "duration"),
    ("outcome", "Outcome", "outcome"),
    ("score", "Score", "score"),
    ("done", "Done", "done"),
    ("notes", "Notes", "notes"),
)
HEADER_TIPS = {"recording": "Has a recording", "direction": "Direction"}
_AT = {name: i for i, name in enumerate(ROW_COLUMNS)}
CALL_ID_ROLE = Qt.ItemDataRole.UserRole + 1
# data() runs for every role of every cell painted: its answers are worked out once.
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TIPS = (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole)
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
_FONT = Qt.ItemDataRole.FontRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTRE = int(Qt.AlignmentFlag.AlignCenter)
_ALIGNED = tuple({"duration": _RIGHT, "score": _RIGHT, "notes": _RIGHT, "recording": _CENTRE,
                  "direction": _CENTRE, "done": _CENTRE}.get(key) for key, _t, _s in COLUMNS)


class _Count(threading.Thread):
    """Counts a spec's calls on a connection of its own; `cancel` interrupts it."""

    def __init__(self, database: Path | str, spec: ListSpec, done) -> None:
        super().__init__(daemon=True, name="list-count")
        self._database, self._spec, self._done = database, spec, done
        self._conn = None
        self._lock = threading.Lock()
        self._canceled = False
        self.finished = threading.Event()
        self.total: int | None = None

    def run(self) -> None:
        try:
            with self._lock:
                if self._canceled:
                    return
                self._conn = listing.connect(self._database)
            self.total = listing.count(self._conn, self._spec)
        except listing.read_errors():
            pass  # interrupted, or unreadable: whoever needs the count counts again
        finally:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
            self.finished.set()
        if self.total is not None and not self._canceled:
            self._done(self.total)

    def cancel(self) -> None:
        with self._lock:
            self._canceled = True
            if self._conn is not None:
                listing.interrupt(self._conn)


class _Row:
    """One list row as read; formatted when first shown, its tooltips when first asked."""

    __slots__ = ("_display", "_tips", "call_id", "deleted", "values")

    def __init__(self, values: tuple) -> None:
        self.values = values
        self.call_id: int = values[_AT["id"]]
        self.deleted = values[_AT["deleted_at"]] is not None
        self._display: tuple[str, ...] | None = None
        self._tips: tuple[str, ...] | None = None

    @property
    def display(self) -> tuple[str, ...]:
        if self._display is None:
            get = dict(zip(ROW_COLUMNS, self.values, strict=True))
            score = get["score"]
            self._display = (
                GLYPHS.get(get["recording_state"], ""),
                {"inbound": "↙", "outbound": "↗"}.get(get["direction"], "·"),
                formatting.local_time(get["started_at"]),
                formatting.who(get["customer_name"],
                               get["customer_number"] or get["from_number"]),
                formatting.duration(get["duration_ms"]),
                formatting.outcome_words(get["outcome"]),
                "" if score is None else f"{score:g}",
                "✓" if get["done"] else "",
                str(get["note_count"]) if get["note_count"] else "",
            )
        return self._display

    @property
    def tips(self) -> tuple[str, ...]:
        if self._tips is None:
            get = dict(zip(ROW_COLUMNS, self.values, strict=True))
            shown = self.display
            self._tips = (
                MEANINGS.get(get["recording_state"], "No recording"),
                formatting.direction_words(get["direction"]),
                formatting.full_time(get["started_at"]),
                shown[3],
                shown[4],
                shown[5] + (" · deleted at the source" if self.deleted else ""),
                f"Score {shown[6]}" if shown[6] else "No score",
                "Done" if get["done"] else "Not done",
                f"{get['note_count']} notes" if get["note_count"] else "No notes",
            )
        return self._tips


class CallListModel(QAbstractTableModel):
    """The calls a `ListSpec` selects, a page at a time, for a QTableView."""

    # (total or None while counting, whether filters or a search narrow the list)
    count_changed = Signal(object, bool)
    # A sentence: the list could not be read (a server out of reach); it shows what it has.
    read_failed = Signal(str)
    _counted = Signal(int, int)  # (generation, total), from the counting thread

    def __init__(self, database: Path | str, parent: QObject | None = None) -> None:
        """`database`: an SQLite file, or a PostgreSQL URL (see listing.connect)."""
        super().__init__(parent)
        self._database = database
        self._conn = listing.connect(database)
        self._spec = ListSpec()
        self._rows = 0
        self._total: int | None = None
        self._pages: OrderedDict[int, list[_Row]] = OrderedDict()
        self._generation = 0
        self._counting: _Count | None = None
        self._counted.connect(self._on_counted, Qt.ConnectionType.QueuedConnection)

    # --- what the list shows -------------------------------------------------

    @property
    def spec(self) -> ListSpec:
        return self._spec

    @property
    def total(self) -> int | None:
        """The number of calls selected, or None while it is being counted."""
        return self._total

    def set_spec(self, spec: ListSpec) -> None:
        """Show the calls `spec` selects, from the top."""
        self.beginResetModel()
        self._spec = spec
        self._reload()
        self.endResetModel()
        self.count_changed.emit(self._total, spec.filtered)

    def refresh(self) -> None:
        """Read everything again (after an import, a note, a done flag)."""
        self.set_spec(self._spec)

    def refresh_call(self, call_id: int) -> None:
        """Re-read the cached row of one call, if shown, and repaint it."""
        for number, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.call_id == call_id:
                    del self._pages[number]
                    at = number * PAGE + offset
                    self.dataChanged.emit(self.index(at, 0),
                                          self.index(at, len(COLUMNS) - 1))
                    return

    def call_id(self, row: int) -> int | None:
        """The id of the call on a row."""
        found = self._row(row)
        return found.call_id if found else None

    def row_of(self, call_id: int) -> int | None:
        """The row of a call, reading up to it if needed; None when it is not listed."""
        for number, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.call_id == call_id:
                    return number * PAGE + offset
        at = self._read(listing.position, self._spec, call_id, default=None)
        if at is not None and at >= self._rows:
            self._wait_for_count()
        return at if at is not None and at < self._rows else None

    def listed_ids(self) -> list[int]:
        """Every listed call's id, in list order (for export)."""
        return self._read(listing.ids, self._spec, default=[])

    def ensure_counted(self) -> None:
        """Count now (End needs the last row before the count thread is done)."""
        self._wait_for_count()

    # --- QAbstractTableModel ---------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self._row(index.row())
        if row is None:
            return None
        if role == _DISPLAY:
            return row.display[index.column()]
        if role == _ALIGNMENT:
            return _ALIGNED[index.column()]
        if role in _TIPS:
            return row.tips[index.column()]
        if role == CALL_ID_ROLE:
            return row.call_id
        if role == _FONT and row.deleted:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setStrikeOut(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        key, title, _sort = COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return title
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(key, title)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        descending = order == Qt.SortOrder.DescendingOrder
        sort = COLUMNS[column][2]
        if (sort, descending) != (self._spec.sort, self._spec.descending):
            self.set_spec(self._spec.sorted_by(sort, descending))

    # --- pages and counts -------------------------------------------------------

    def _reload(self) -> None:
        self._generation += 1
        self._pages.clear()
        if self._counting is not None:
            self._counting.cancel()  # a count for the last spec is of no use now
            self._counting = None
        first = [_Row(values) for values in self._read(listing.page, self._spec, 0, PAGE,
                                                       default=[])]
        self._pages[0] = first
        if len(first) < PAGE:
            self._rows = self._total = len(first)
            return
        self._rows, self._total = len(first), None
        generation = self._generation
        self._counting = _Count(self._database, self._spec,
                                lambda total: self._counted.emit(generation, total))

    def start_count(self) -> None:
        """Start the count that waits, if one does. The window calls it once the list has
        painted: counting a million calls alongside the first paint delayed it by about
        10 ms (tests/bench/bench_launch.py), though the count releases the GIL."""
        counting = self._counting
        if counting is not None and counting.ident is None:
            counting.start()

    def _on_counted(self, generation: int, total: int) -> None:
        if generation != self._generation or self._total is not None:
            return
        self._set_total(total)

    def _wait_for_count(self) -> None:
        """The count now: the running count's, when it gets there first."""
        if self._total is not None:
            return
        counting, self._counting = self._counting, None
        total = None
        if counting is not None and counting.ident is not None:  # started
            counting.finished.wait()
            total = counting.total
        if total is None:
            total = self._read(listing.count, self._spec, default=self._rows)
        self._set_total(total)

    def _set_total(self, total: int) -> None:
        self._total = total
        if total > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, total - 1)
            self._rows = total
            self.endInsertRows()
        self.count_changed.emit(total, self._spec.filtered)

    def _row(self, row: int) -> _Row | None:
        if not 0 <= row < self._rows:
            return None
        number, offset = divmod(row, PAGE)
        rows = self._pages.get(number)
        if rows is None:
            read = self._read(listing.page, self._spec, number * PAGE, PAGE, self._total,
                              default=None)
            if read is None:
                return None  # not kept: read again when next shown
            rows = [_Row(values) for values in read]
            self._pages[number] = rows
            if len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return rows[offset] if offset < len(rows) else None

    def _read(self, query, *args, default):
        """`query(connection, *args)`; once more on a new connection when it fails (a
        server restarted); `default`, said by read_failed, when that fails too."""
        try:
            return query(self._conn, *args)
        except listing.read_errors():
            pass
        try:
            with suppress(*listing.read_errors()):
                self._conn.close()
            self._conn = listing.connect(self._database)
            return query(self._conn, *args)
        except listing.read_errors() as exc:
            log.warning("The call list could not be read: %s", exc)
            self.read_failed.emit(f"The calls could not be read: {exc}")
            return default

    def close(self) -> None:
        """Release the read connection; stop counting."""
        if self._counting is not None:
            self._counting.cancel()
        self._conn.close()
