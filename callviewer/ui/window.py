"""The main window: filter bar, call list and detail side by side, player bar, status bar."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from callviewer.columns import AT, COLUMNS
from callviewer.listing import ListSpec
from callviewer.ui.call_model import CallListModel
from callviewer.ui.cells import CellDelegate
from callviewer.ui.collector import Collector
from callviewer.ui.column_menu import ColumnMenu
from callviewer.ui.filters import FilterBar
from callviewer.ui.tasks import Lane, TaskRunner

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtGui import QAction

    from callviewer.store import Change, Store
    from callviewer.ui.importing import ImportRun
    from callviewer.ui.tasks import Task

PROBLEM_SHOWN_MS = 15_000
RECORDINGS_KEPT = 32  # recordings looked up as calls are selected, newest kept
CHANGES_DELAY_MS = 150  # other desktops' changes arriving together make one refresh
ASCENDING_FIRST = frozenset({"who"})  # sorts that start A to Z; the rest newest/largest first

SHORTCUTS = (
    ("Up, Down, PgUp, PgDn", "Move the current call"),
    ("Home, End", "First / last call"),
    ("Enter", "Into the detail view"),
    ("Esc", "Back to the list; clears the search when in it"),
    ("Ctrl+F or /", "Search"),
    ("Alt+Down, Alt+Up", "Next / previous call, from anywhere"),
    ("Space", "Play / pause (the list's current call, else the one playing); "
              "a focused button, box or field takes it instead"),
    ("F3, Shift+F3", "Next / previous search hit in the transcript; Enter plays from it"),
    ("Ctrl+Left, Ctrl+Right", "Back / forward 5 seconds"),
    ("Ctrl+Shift+Left, …Right", "Back / forward 30 seconds"),
    ("[  ]", "Slower / faster"),
    (".  ,", "Next / previous message: the player goes there, the transcript follows"),
    ("Shift+.  Shift+,", "Next / previous customer turn"),
    ("S", "Skip silence on / off (silences over a second, while playing)"),
    ("Ctrl+N", "New note on the current call"),
    ("Ctrl+Shift+N", "New note pinned to the player's position (at 1:42)"),
    ("Alt+N", "Into the notes (newest first), and back"),
    ("Ctrl+Enter", "Save the note"),
    ("Ctrl+D", "Mark done / not done"),
    ("Ctrl+E", "Export the list shown to CSV"),
    ("Ctrl+O", "Import files"),
    ("F5", "Sync now"),
    ("Ctrl+R", "Read the list again"),
    ("Ctrl+Shift+R", "Reverse the sort (View ▸ Sort by: any column)"),
    ("Ctrl+,", "Preferences"),
    ("F1", "This list"),
)


def _mnemonic(label: str, taken: set[str]) -> str:
    """``label`` with "&" before its first letter no other item of the menu has taken."""
    for at, letter in enumerate(label):
        if letter.isalpha() and letter.casefold() not in taken:
            taken.add(letter.casefold())
            return f"{label[:at]}&{label[at:]}"
    return label


class CallTable(QTableView):
    """The list: whole rows, Home/End go to the first/last call, not across columns."""

    # After each paint (start-up's clock stops at the first with rows). Asking for the
    # viewport to watch it instead costs the first paint 7 ms: PySide6 makes the Python
    # type of every QWidget subclass, 70 enums, to wrap a widget Qt created.
    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setTabKeyNavigation(False)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        self.setAccessibleName("Calls")
        self.paint_serial = 0  # the paints so far (ui/cells.py)

    def setModel(self, model) -> None:
        super().setModel(model)
        self.setItemDelegate(CellDelegate(model, self))
        # Who takes the width the others leave: no sideways scrolling.
        for at, column in enumerate(COLUMNS):
            if column.stretch:
                self.horizontalHeader().setSectionResizeMode(at, QHeaderView.ResizeMode.Stretch)

    def paintEvent(self, event) -> None:
        self.paint_serial += 1  # the cells' delegates ask Qt for their colours once a paint
        super().paintEvent(event)
        self.painted.emit()

    def moveCursor(self, action, modifiers):
        model = self.model()
        if model is not None and action in (QAbstractItemView.CursorAction.MoveHome,
                                            QAbstractItemView.CursorAction.MoveEnd):
            column = max(self.currentIndex().column(), 0)
            if action == QAbstractItemView.CursorAction.MoveHome:
                return model.index(0, column)
            if model.total is None:  # the last row is not known yet: go there once counted
                model.when_counted(lambda total: self._go_to(total - 1, column))
                return self.currentIndex()
            return model.index(model.rowCount() - 1, column)
        return super().moveCursor(action, modifiers)

    def _go_to(self, row: int, column: int) -> None:
        if row >= 0:
            index = self.model().index(row, column)
            self.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.scrollTo(index)


class EmptyState(QWidget):
    """What the list area shows with no calls, or no calls matching."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(font)
        self.text = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.import_button = QPushButton("Import files…")
        self.connect_button = QPushButton("Connect to a calls API…")
        self.demo_button = QPushButton("Load demo calls")
        self.clear_button = QPushButton("Clear filters")
        buttons = QHBoxLayout()
        buttons.addStretch()
        for button in (self.import_button, self.connect_button, self.demo_button,
                       self.clear_button):
            buttons.addWidget(button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addStretch(1)  # a third of the free space above, two below
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        layout.addStretch(2)

    def show_no_calls(self) -> None:
        self.title.setText("No calls yet")
        self.text.setText("Import call records (JSON, NDJSON or a folder of exports with "
                          "their MP3s), drop them on this window, connect to your voice "
                          "platform's calls API, or look around with the demo calls.")
        self.import_button.show()
        self.connect_button.show()
        self.demo_button.show()
        self.clear_button.hide()

    def show_no_match(self) -> None:
        self.title.setText("No calls match")
        self.text.setText("Nothing matches the search and filters.")
        self.import_button.hide()
        self.connect_button.hide()
        self.demo_button.hide()
        self.clear_button.show()


class _Heard(QObject):
    """Brings a store watcher's reports (from its thread) to the window's thread."""

    changed = Signal(object)  # a store Change: the calls (None: many) and the sync
    reachable = Signal(bool)
    damaged = Signal(str)  # the sentence: the database is open read-only


class MainWindow(QMainWindow):
    """The application window over one store.

    Built in two steps, so that the list paints first: `MainWindow(database)` is the list,
    read straight from the SQLite file or PostgreSQL database (filter bar, table, count,
    the menus' titles);
    `attach(store)` adds everything that needs the store (the detail, the player, sync,
    the commands), which start-up does once the store has opened, after the first paint.
    `MainWindow.over(store)` does both at once.
    """

    # attach() is done: the store and everything that needs it (start-up opens the store
    # on the task runner after the first paint, so this comes a moment later).
    attached = Signal()

    def __init__(self, database: Path | str, settings: QSettings | None = None) -> None:
        super().__init__()
        self.store: Store | None = None
        self.settings = settings or QSettings()
        self._import: ImportRun | None = None
        self.setWindowTitle("Call Viewer")
        # Every piece of background work, and its answer on this thread (ui/tasks.py).
        self.tasks = TaskRunner(self)
        self.tasks.problem.connect(self.show_problem)
        # Garbage is collected on this thread between events, never in a worker or a paint.
        self.collector = Collector(self)

        self.filters = FilterBar()
        self.model = CallListModel(database, self.tasks, self)
        self.table = CallTable()
        self.table.setModel(self.model)
        self.empty = EmptyState()
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)
        self.detail = None  # until attach()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.list_stack)
        self.splitter.addWidget(QWidget())  # where the detail goes
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        central = QWidget()
        self._layout = QVBoxLayout(central)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._layout.addWidget(self.filters)
        self._layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.count_label = QLabel()
        self.statusBar().addPermanentWidget(self.count_label)
        # The titles now, so nothing moves when the commands arrive.
        self._menus = {name: self.menuBar().addMenu(name)
                       for name in ("&File", "&View", "&Sync", "&Call", "&Help")}
        # The list's two views: all calls, and the review queue (the calls not done).
        view = self._menus["&View"]
        self.all_action = self._action(view, "&All calls", self.show_all_calls, "Ctrl+1")
        self.queue_action = self._action(view, "&Review queue", self.show_review_queue,
                                         "Ctrl+2")
        for action in (self.all_action, self.queue_action):
            action.setCheckable(True)
        view.addSeparator()

        self._keep: int | None = None
        self._keep_next: int | None = None
        self._keep_row = -1
        self._last_done: tuple[int, bool] | None = None  # (call, its flag before Ctrl+D)
        self._recordings: dict[int, str] = {}  # call -> its recording, looked up (see below)
        self._kept_spec: ListSpec | None = None
        self._connect_list()
        self.model.set_spec(self.filters.spec(self._restore()))
        self.table.setSortingEnabled(True)  # after the restored sort: no second query
        self.table.setFocus()

    @classmethod
    def over(cls, store: Store, settings: QSettings | None = None) -> MainWindow:
        """The whole window over a store, in one step."""
        window = cls(store.path or store.url, settings)
        window.attach(store)
        return window

    def attach(self, store: Store) -> None:
        """Add what needs the store: the detail, the player bar, sync and the commands."""
        from callviewer.playback.now_playing import NowPlaying
        from callviewer.playback.vlc_player import VlcPlayer
        from callviewer.ui.detail import DetailView
        from callviewer.ui.player import PlayColumnDelegate, PlayerBar
        from callviewer.ui.syncing import SyncController, SyncStatus

        self.store = store
        self.filters.search.setClearButtonEnabled(True)  # loading its icon is 6 ms of paint
        self.now_playing = NowPlaying(
            self._recording_of, VlcPlayer(), self,
            background=lambda work, done, failed: self.tasks.run(
                work, done, failed=failed, name="finding the recording"),
            known=self._recordings.get)
        self.detail = DetailView(store, self.now_playing, self.tasks, author=self.author)
        self.splitter.replaceWidget(1, self.detail).deleteLater()
        self.player_bar = PlayerBar(self.now_playing, self.tasks, store.calls.caller,
                                    self.detail.shown)
        self._layout.addWidget(self.player_bar)
        self.table.setItemDelegateForColumn(
            AT["recording"], PlayColumnDelegate(self.now_playing, self.model, self.table))
        from callviewer.ui.badges import OutcomeBadgeDelegate

        badges = OutcomeBadgeDelegate(self.model, self.table)
        self.table.setItemDelegateForColumn(AT["outcome"], badges)
        self.sync_status = SyncStatus()
        self.statusBar().insertPermanentWidget(0, self.sync_status)
        self.syncing = SyncController(store, self.settings, self.sync_status, self.tasks, self)
        self._make_actions()
        self._connect_store()
        self._watch_team(store)
        self._watch_damage(store)
        self.setAcceptDrops(True)
        self.detail.set_highlight_terms(self.model.spec.search.split())
        self.detail.restore_split(self.settings.value("detail/splitter"))
        self.detail.show_call(self.current_call_id())
        # libVLC takes 100–260 ms to start: after the first paint, before the first Space.
        QTimer.singleShot(250, self.now_playing.prepare)
        from callviewer.ui.timeline_pass import START_DELAY_MS, TimelinePass

        self.timeline_pass = TimelinePass(self)  # the calls' statistics, in the background
        QTimer.singleShot(START_DELAY_MS, self.timeline_pass.start)
        self.collector.freeze_start_up()
        self.attached.emit()

    # --- building -------------------------------------------------------------------

    def _action(self, menu, text: str, slot, shortcut=None, context=None) -> QAction:
        from PySide6.QtGui import QAction, QKeySequence

        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(context or Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        else:
            self.addAction(action)
        return action

    def _make_actions(self) -> None:
        from PySide6.QtGui import QKeySequence

        file_menu = self._menus["&File"]
        self._action(file_menu, "&Import…", self.choose_import, QKeySequence.StandardKey.Open)
        self._action(file_menu, "&Export CSV…", self.export_csv, "Ctrl+E")
        self._action(file_menu, "Load &demo calls", self.load_demo)
        file_menu.addSeparator()
        self._action(file_menu, "&Preferences…", self.show_preferences, "Ctrl+,")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        view = self._menus["&View"]
        self._action(view, "&Search", self.focus_search, ["Ctrl+F", "/"])
        self._action(view, "&Next call", lambda: self.step(1), "Alt+Down")
        self._action(view, "&Previous call", lambda: self.step(-1), "Alt+Up")
        self._action(view, "&Clear filters", self.filters.clear)
        self._action(view, "&Refresh", self.refresh, "Ctrl+R")
        self._action(view, "M&easure calls now", lambda: self.timeline_pass.start())
        self._make_sort_menu(view)
        view.addMenu(ColumnMenu(self.table))  # also a right-click on the header
        view.addSeparator()
        self._action(view, "Next &match in the transcript", lambda: self.go_to_hit(1), "F3")
        self._action(view, "Previous matc&h in the transcript", lambda: self.go_to_hit(-1),
                     "Shift+F3")
        sync_menu = self._menus["&Sync"]
        self._action(sync_menu, "Sync &now", self.sync_now, QKeySequence.StandardKey.Refresh)
        self._action(sync_menu, "Sync &everything again (last 30 days)",
                     lambda: self.syncing.sync(full=True))
        self._action(sync_menu, "&Connections…", self.show_connections)
        call = self._menus["&Call"]
        # Space is handled as a key (keyPressEvent), after the focused control has had it;
        # the menu still names it.
        self._action(call, "&Play / pause\tSpace", self.play_pause,
                     ["Media Play", "Toggle Media Play/Pause", "Media Pause"])
        now = self.now_playing
        self._action(call, "Back 5 s", lambda: now.seek_by(-5000), "Ctrl+Left")
        self._action(call, "Forward 5 s", lambda: now.seek_by(5000), "Ctrl+Right")
        self._action(call, "Back 30 s", lambda: now.seek_by(-30_000), "Ctrl+Shift+Left")
        self._action(call, "Forward 30 s", lambda: now.seek_by(30_000), "Ctrl+Shift+Right")
        self._action(call, "Slower", lambda: now.step_rate(-1), "[")
        self._action(call, "Faster", lambda: now.step_rate(1), "]")
        self._action(call, "&Stop", now.stop, "Media Stop")
        # Along the timeline: plain keys, which a text field takes for itself (as [ and ]).
        timeline = self.detail.timeline
        self._action(call, "Next &message", lambda: timeline.step_message(1), ".")
        self._action(call, "Previous message", lambda: timeline.step_message(-1), ",")
        # "Shift+." only: the platforms' key maps offer the base key with Shift for it; ">"
        # as well could match the same press twice, an ambiguous shortcut Qt ignores.
        self._action(call, "Next customer &turn", lambda: timeline.step_turn("customer", 1),
                     "Shift+.")
        self._action(call, "Previous customer turn",
                     lambda: timeline.step_turn("customer", -1), "Shift+,")
        skipper = self.detail.skipper
        self.skip_action = self._action(call, "S&kip silence", skipper.toggle, "S")
        self.skip_action.setCheckable(True)
        skipper.changed.connect(lambda: self.skip_action.setChecked(skipper.enabled))
        call.addSeparator()
        self.done_action = self._action(call, "Mark &done", self.toggle_done, "Ctrl+D")
        self._action(call, "&Undo done", self.undo_done, "Ctrl+Z")
        self._action(call, "&New note", self.new_note, "Ctrl+N")
        self._action(call, "New note &pinned here", self.new_pinned_note, "Ctrl+Shift+N")
        # Alt+N: free in PRODUCT.md's map and among the menus' Alt letters (F, V, S, C, H).
        self._action(call, "Go to the n&otes", lambda: self.detail.notes_panel.toggle_focus(
            self.table), "Alt+N")
        from callviewer.ui.rerun import RerunAnalysis

        self.rerun = RerunAnalysis(self, call)  # Re-run analysis (a call module's calls)
        help_menu = self._menus["&Help"]
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About Call Viewer", self.show_about)

    def _make_sort_menu(self, view) -> None:
        """View ▸ Sort by: a checked item per column, and Reverse order; the menu's check
        and the header's sort indicator follow each other."""
        from PySide6.QtGui import QActionGroup

        menu = view.addMenu("S&ort by")
        group = QActionGroup(self)  # one checked at a time
        taken: set[str] = set()
        self.sort_actions = {}
        for column in COLUMNS:
            action = self._action(menu, _mnemonic(column.spoken, taken),
                                  lambda _checked=False, key=column.key: self.sort_by(key))
            action.setCheckable(True)
            group.addAction(action)
            self.sort_actions[column.key] = action
        menu.addSeparator()
        # Ctrl+Shift+R: "Reverse", beside Ctrl+R (read again); free in PRODUCT.md's map.
        # F6 is the desktops' key for moving between panes, which the window may want.
        self._action(menu, _mnemonic("Reverse order", taken), self.reverse_sort,
                     "Ctrl+Shift+R")
        header = self.table.horizontalHeader()
        header.sortIndicatorChanged.connect(self._sort_shown)
        self._sort_shown(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        """Sort the list by a column, as a click on its header does (the same column keeps
        its order; another starts names A to Z, everything else newest or largest first)."""
        spec = self.model.spec
        if descending is None:
            descending = spec.descending if key == spec.sort else key not in ASCENDING_FIRST
        self.table.sortByColumn(AT[key], Qt.SortOrder.DescendingOrder if descending
                                else Qt.SortOrder.AscendingOrder)
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def reverse_sort(self) -> None:
        """Ctrl+Shift+R: the same sort, the other way round."""
        self.sort_by(self.model.spec.sort, not self.model.spec.descending)

    def _sort_shown(self, section: int, _order) -> None:
        if 0 <= section < len(COLUMNS):
            self.sort_actions[COLUMNS[section].key].setChecked(True)

    def go_to_hit(self, by: int) -> None:
        """F3 / Shift+F3: the next / previous search hit in the transcript, which takes the
        keyboard (Enter plays from it)."""
        if self.detail is not None and not self.detail.transcript_view.go_to_hit(by):
            self.statusBar().showMessage(
                "No search hits in this transcript." if self.model.spec.search
                else "Search first (Ctrl+F): F3 then goes from hit to hit in the transcript.",
                5000)

    def _connect_list(self) -> None:
        self.filters.changed.connect(self._apply_filters)
        self.model.count_changed.connect(self._show_count)
        # Once the paint is on screen: queued, the call comes after the window's flush.
        self.table.painted.connect(self.model.start_count, Qt.ConnectionType.QueuedConnection)
        self.model.read_failed.connect(self._list_unreadable)
        self.model.modelAboutToBeReset.connect(self._remember_current)
        self.model.modelReset.connect(self._after_reset)
        self.model.dataChanged.connect(self._rows_read)
        self.table.installEventFilter(self)
        self.filters.search.installEventFilter(self)
        self.empty.clear_button.clicked.connect(self.filters.clear)

    def _connect_store(self) -> None:
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.doubleClicked.connect(lambda _index: self.focus_detail())
        self.table.clicked.connect(self._clicked)
        self.detail.installEventFilter(self)
        self.detail.notes_panel.notes_changed.connect(self._notes_changed)
        self.empty.import_button.clicked.connect(self.choose_import)
        self.empty.connect_button.clicked.connect(self.show_connections)
        self.empty.demo_button.clicked.connect(self.load_demo)
        self.syncing.synced.connect(self._synced)
        self.now_playing.state_changed.connect(self._played)
        self.player_bar.call_clicked.connect(self.show_in_list)

    # --- the list -------------------------------------------------------------------

    def _apply_filters(self) -> None:
        self.model.set_spec(self.filters.spec(self.model.spec))
        if self.detail is not None:
            self.detail.set_highlight_terms(self.model.spec.search.split())

    def _remember_current(self) -> None:
        """Before the rows change: the current call, and the call after it (before it, at
        the end), which becomes current if the current one leaves the list (a call marked
        done in the review queue, a note that no longer matches the search)."""
        row = self.table.currentIndex().row()
        self._keep = self.current_call_id()
        self._keep_row = row
        self._keep_next = None
        for neighbour in (row + 1, row - 1):
            if row >= 0 and 0 <= neighbour < self.model.rowCount():
                self._keep_next = self.model.call_id(neighbour)
                if self._keep_next is not None:
                    break

    def _select(self, call_id: int | None) -> None:
        """Make a call current, once its row is found; the first call when it is not
        listed (or None given)."""
        if call_id is None:
            self._select_row(None)
        else:
            self.model.locate(call_id, self._select_row)

    def _select_row(self, row: int | None) -> None:
        if row is None and self.model.rowCount() > 0:
            row = 0
        if row is None:
            if self.detail is not None:
                self.detail.show_call(None)
            return
        index = self.model.index(row, max(self.table.currentIndex().column(), 2))
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def _after_reset(self) -> None:
        """The same call stays current through a refresh, a filter or a search (when it is
        still listed); a new sort shows its first call, as a click on a header asks."""
        if self.model.rowCount() == 0:
            if self.model.spec.filtered:
                self.empty.show_no_match()
            else:
                self.empty.show_no_calls()
            self.list_stack.setCurrentWidget(self.empty)
        else:
            self.list_stack.setCurrentWidget(self.table)
        same_sort = self._kept_spec is not None and (
            self.model.spec.sort, self.model.spec.descending) == (
            self._kept_spec.sort, self._kept_spec.descending)
        self._kept_spec = self.model.spec  # the spec of the rows now shown
        self._recordings.clear()  # an import or a sync may have archived them since
        if same_sort and self._keep is not None:
            self._select_kept(self._keep, self._keep_next, self._keep_row)
        else:
            self._select(None)

    def _select_kept(self, call_id: int, then_id: int | None, row: int) -> None:
        """The call that was current if it is still listed; else the one that followed it;
        else the row it was on (the last, at the end). Never the first row by mistake:
        that made a review queue skip every second call."""
        def found(at: int | None) -> None:
            if at is not None:
                self._select_row(at)
            elif then_id is not None:
                self._select_kept(then_id, None, row)
            elif self.model.rowCount():
                self._select_row(max(0, min(row, self.model.rowCount() - 1)))
            else:
                self._select_row(None)

        self.model.locate(call_id, found)

    def _rows_read(self, first: QModelIndex, last: QModelIndex) -> None:
        """A page of rows arrived: when it holds the current row, the detail shows its
        call (the row was a placeholder when it became current)."""
        current = self.table.currentIndex()
        if self.detail is not None and current.isValid() \
                and first.row() <= current.row() <= last.row():
            self._current_changed(current, current)

    @property
    def reviewing(self) -> bool:
        """Whether the list is the review queue: the calls not done, under the filters."""
        return self.model.spec.done is False

    def _show_count(self, total: int | None = None, _filtered: bool = False) -> None:
        """The status bar's count, or in the review queue the current call's place in it
        ("12 of 47 to review"); both follow every change of the list and the cursor."""
        total, spec = self.model.total, self.model.spec
        for action, on in ((self.queue_action, self.reviewing), (self.all_action,
                                                                  not self.reviewing)):
            action.setChecked(on)
        if total is None:
            text = "Counting calls…"
        elif self.reviewing:
            row = self.table.currentIndex().row()
            text = (f"{row + 1:,} of {total:,} to review" if 0 <= row < total
                    else f"{total:,} to review")
        else:
            text = f"{total:,} call{'' if total == 1 else 's'}"
        self.count_label.setText(text + (" · filtered" if spec.filtered and not (
            self.reviewing and spec == replace(spec.unfiltered(), done=False)) else ""))

    def show_all_calls(self) -> None:
        """Ctrl+1: every call under the filters, done or not."""
        self.filters.set_done(None)

    def show_review_queue(self) -> None:
        """Ctrl+2: the calls not done, under the search and the other filters."""
        self.filters.set_done(False)

    def _look_up_recording(self, call_id: int | None) -> None:
        """Where the current call's recording is, looked up as it is selected (on READ),
        so that Space plays at once; forgotten when the list is read again. A team
        archive's fetch is never kept: NowPlaying asks for it when it plays."""
        if call_id is None or call_id in self._recordings or self.store is None:
            return
        source = self.store.archive.source

        def keep(found) -> None:
            if isinstance(found, str):
                self._recordings[call_id] = found
                while len(self._recordings) > RECORDINGS_KEPT:
                    self._recordings.pop(next(iter(self._recordings)))

        self.tasks.run(lambda: source(call_id), keep, failed=lambda _sentence: None,
                       lane=Lane.READ, name="finding the recording")

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.reviewing:
            self._show_count()
        # Read in the background: moving fast shows the last call only; a failed read is
        # said in the detail, with Retry.
        call_id = self.model.call_id(current.row()) if current.isValid() else None
        self.detail.show_call(call_id)
        self._look_up_recording(call_id)

    def current_call_id(self) -> int | None:
        """The call the list's cursor is on."""
        index = self.table.currentIndex()
        return self.model.call_id(index.row()) if index.isValid() else None

    def step(self, by: int) -> None:
        """Move to the next (1) or previous (-1) call, from anywhere in the window."""
        row = self.table.currentIndex().row() + by
        if 0 <= row < self.model.rowCount():
            index = self.model.index(row, max(self.table.currentIndex().column(), 0))
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(index)
        # The list takes the keyboard, so that the next Space plays the call instead of
        # typing into a note (whose draft stays: the notes panel writes it on the switch).
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def refresh(self) -> None:
        """Read the list again keeping the current call and the scroll position."""
        scrolled = self.table.verticalScrollBar().value()
        self.model.refresh(lambda: self.table.verticalScrollBar().setValue(scrolled))
        self.detail.refresh()

    # --- a team's live changes -------------------------------------------------------

    def _watch_team(self, store: Store) -> None:
        """Show the other desktops' changes as they are made, and say when the team's
        database is out of reach (an SQLite file has neither)."""
        self.unreachable = QLabel("Team database unreachable — retrying")
        self.unreachable.setTextFormat(Qt.TextFormat.PlainText)
        self.unreachable.setAccessibleName("Team database unreachable")
        self.unreachable.setStyleSheet("QLabel { background: palette(highlight); "
                                       "color: palette(highlighted-text); padding: 4px; }")
        self.unreachable.hide()
        self._layout.insertWidget(0, self.unreachable)
        self._changes: dict = {"calls": set(), "all": False, "sync": False}
        self._apply_timer = QTimer(self, singleShot=True, interval=CHANGES_DELAY_MS)
        self._apply_timer.timeout.connect(self._apply_changes)
        heard = _Heard(self)
        heard.changed.connect(self._heard_change)
        heard.reachable.connect(self._heard_reachable)
        self._stop_watching = store.watch(heard.changed.emit, heard.reachable.emit)

    def _watch_damage(self, store: Store) -> None:
        """Say so above the list when the SQLite file is found damaged (it is open
        read-only from then on): by the quick check, run off this thread, or later."""
        self.read_only_banner = QLabel(wordWrap=True)
        self.read_only_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.read_only_banner.setAccessibleName("Database damaged, read-only")
        self.read_only_banner.setStyleSheet("QLabel { background: palette(highlight); "
                                            "color: palette(highlighted-text); padding: 4px; }")
        self.read_only_banner.hide()
        self._layout.insertWidget(0, self.read_only_banner)
        heard = _Heard(self)
        heard.damaged.connect(self._show_read_only)
        store.on_damaged(heard.damaged.emit)
        # SQLite's quick check takes seconds on a million calls: off this thread, on the
        # JOB lane (not READ: the list's pages go on meanwhile).
        self.tasks.run(store.verify, name="checking the database")

    def _show_read_only(self, sentence: str) -> None:
        self.read_only_banner.setText(sentence)
        self.read_only_banner.show()
        self.setWindowTitle("Call Viewer — read-only")

    def _heard_change(self, change: Change) -> None:
        """Gather a burst of changes (a sync's pages) into one refresh."""
        if change.calls is None:
            self._changes["all"] = True
        else:
            self._changes["calls"].update(change.calls)
        self._changes["sync"] |= change.sync
        self._apply_timer.start()

    def _apply_changes(self) -> None:
        from callviewer.store import StoreError

        changes, self._changes = self._changes, {"calls": set(), "all": False, "sync": False}
        try:
            if changes["all"] or changes["calls"]:
                self._refresh_in_place()
                current = self.current_call_id()
                if changes["all"] or current in changes["calls"]:
                    self.detail.refresh()  # keeps the note being typed, and the transcript
            if changes["sync"]:
                self.syncing.show_shared_state()
        except StoreError:  # gone again meanwhile: the watcher says so, and reads it all
            self.unreachable.show()  # again when it is back

    def _refresh_in_place(self) -> None:
        """Read the list again with the same call current and the same call at the top of
        the view (new calls above it do not push what is being looked at away)."""
        top = self.model.call_id(self.table.rowAt(0))

        def to_top(row: int | None) -> None:
            if row is not None:
                self.table.scrollTo(self.model.index(row, 0),
                                    QAbstractItemView.ScrollHint.PositionAtTop)

        self.model.refresh(None if top is None else lambda: self.model.locate(top, to_top))

    def _list_unreadable(self, sentence: str) -> None:
        if self.store is not None and self.store.team:
            self.unreachable.show()  # until the watcher finds the database again
        else:
            self.statusBar().showMessage(sentence, 10_000)

    def show_problem(self, sentence: str) -> None:
        """The error boundary's last stop: an expected error no widget took is said in the
        status bar (a team's database out of reach is also shown by the banner above the
        list, which its watcher keeps)."""
        self.statusBar().showMessage(sentence, PROBLEM_SHOWN_MS)

    def _heard_reachable(self, reachable: bool) -> None:
        self.unreachable.setVisible(not reachable)
        if reachable:
            self.detail.notes_panel.save_waiting()

    # --- keyboard -----------------------------------------------------------------------

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        key = event.key()
        if watched is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and not event.modifiers():
            self.focus_detail()
            return True
        if watched is self.table and key == Qt.Key.Key_Space and not event.modifiers():
            if not event.isAutoRepeat():  # held down: one toggle, not a stutter
                self.play_pause()  # instead of the table's search-by-typing
            return True
        if watched is self.filters.search:
            if key == Qt.Key.Key_Escape:
                self.filters.search.clear()
                self.table.setFocus()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.table.setFocus()
                return True
        if watched is self.detail and key == Qt.Key.Key_Escape:
            self.table.setFocus()
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:  # Esc from anywhere in the detail
            self.table.setFocus()
            return
        # Space is no shortcut: a shortcut runs before the focused control sees the key,
        # so a button got Space twice (the shortcut clicked it, then its key release).
        # Here it comes only when no control took it: a button, box, combo or text field
        # has it; the list (eventFilter), the bubbles, a slider or the overview do not.
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            if not event.isAutoRepeat():
                self.play_pause()
            return
        super().keyPressEvent(event)

    def focus_search(self) -> None:
        self.filters.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filters.search.selectAll()

    def focus_detail(self) -> None:
        if self.detail is not None:
            self.detail.focus_in()

    # --- calls -------------------------------------------------------------------------------

    def toggle_done(self) -> None:
        """Ctrl+D: mark the current call done, or not done, and say which. In the review
        queue the call leaves the list and the one after it becomes current at once.
        Written in turn; when the database refuses it (busy, out of reach), shown as it
        was, with the sentence."""
        call_id = self.current_call_id()
        if call_id is None:
            return
        shown = self.detail.shown(call_id)
        # Not shown yet (its read is on its way): the flag the database has is turned.
        done = None if shown is None else not shown.done
        if self.reviewing and done is not False:
            self._leave_queue()
            # The next call is listened to next: the list takes the keyboard (from a note,
            # Space typed a space into it and Ctrl+Z undid the typing, not the done).
            self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
            mark = None
        else:
            mark = None if done is None else self.detail.mark_done(call_id, done,
                                                                   self.author())
        self._write_done(call_id, done, mark, undoing=False)

    def undo_done(self) -> None:
        """Ctrl+Z: undo the last Ctrl+D; the call is current again (back in the queue)."""
        if self._last_done is None:
            self.statusBar().showMessage("Nothing to undo.", 4000)
            return
        call_id, was = self._last_done
        self._last_done = None
        self._write_done(call_id, was, None, undoing=True)

    def _leave_queue(self) -> None:
        """The cursor to the next call (the previous one, at the end) before the call
        marked done leaves the queue: the next Ctrl+D is for the next call."""
        row = self.table.currentIndex().row()
        self._select_row(row + 1 if row + 1 < self.model.rowCount() else max(row - 1, 0))

    def _write_done(self, call_id: int, done: bool | None, mark, undoing: bool) -> None:

        store, by = self.store, self.author()

        def write() -> bool:
            value = done if done is not None else \
                not getattr(store.calls.get(call_id), "done", False)
            store.calls.set_done(call_id, value, by)
            return value

        def written(value: bool) -> None:
            if mark is not None:
                self.detail.mark_settled(mark, True)
            elif call_id == self.current_call_id():
                self.detail.refresh()
            self._last_done = None if undoing else (call_id, not value)
            said = "Marked done" if value else "Marked not done"
            self.statusBar().showMessage(
                f"{said} again" if undoing else f"{said} · Ctrl+Z undoes", 8000)
            # The list as it now is: the call leaves a queue or a filter it no longer
            # matches; an undone call comes back, current.
            self.model.refresh((lambda: self._select(call_id)) if undoing else None)

        def refused(sentence: str) -> None:
            if mark is not None:
                self.detail.mark_settled(mark, False)
            self.statusBar().showMessage(f"Not marked: {sentence}", 10_000)
            self.model.refresh()  # a call that left the queue at once comes back

        self.tasks.run(write, written, failed=refused, lane=Lane.WRITE,
                       name="marking the call done")

    # --- playing -------------------------------------------------------------------------

    def play_pause(self) -> None:
        """Space: on the list, the current call; elsewhere the now-playing call (or the
        current one). A focused control that wants Space gets it instead (keyPressEvent)."""
        focus = QApplication.focusWidget()
        current = self.current_call_id()
        if focus is self.table or self.now_playing.call_id is None:
            if current is not None:
                self.now_playing.toggle(current)
        else:
            self.now_playing.toggle()

    def _recording_of(self, call_id: int):
        # The store says what plays: a team database's archived recording not yet in this
        # desktop's cache comes as a function that fetches it. NowPlaying calls both on
        # the runner's JOB lane (its `background`).
        return self.store.archive.source(call_id)

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() == AT["recording"] and (index.data() or
                                    self.model.call_id(index.row()) == self.now_playing.call_id):
            self.now_playing.toggle(self.model.call_id(index.row()))

    def show_in_list(self, call_id: int) -> None:
        """Make a call current in the list (from the player bar), once its row is found."""
        def found(row: int | None) -> None:
            if row is None:
                self.statusBar().showMessage("The call playing is not in the list: clear the "
                                             "search or filters to see it.", 8000)
                return
            self._select_row(row)
            self.table.setFocus()

        self.model.locate(call_id, found)

    def new_note(self) -> None:
        call_id = self.current_call_id()
        if call_id is not None:  # once its detail is shown, when it is on its way
            self.detail.on_shown(call_id, self.detail.notes_panel.focus_new_note)

    def new_pinned_note(self) -> None:
        """Ctrl+Shift+N: a new note on the call playing (or paused), pinned to where the
        player is; that call becomes current when another is."""
        from callviewer.playback.now_playing import PAUSED, PLAYING

        now = self.now_playing
        call_id, at = now.call_id, now.position
        if call_id is None or now.state not in (PLAYING, PAUSED):
            self.statusBar().showMessage("Play a call first: Ctrl+Shift+N pins a note to "
                                         "where its recording is.", 6000)
            return

        def start() -> None:
            self.detail.on_shown(call_id, lambda: self.detail.notes_panel.start_pinned(at))

        def found(row: int | None) -> None:
            if row is None:
                self.statusBar().showMessage("The call playing is not in the list: clear "
                                             "the search or filters to write its note.", 8000)
                return
            self._select_row(row)
            start()

        if call_id == self.current_call_id():
            start()
        else:
            self.model.locate(call_id, found)

    def _notes_changed(self, _call_id: int) -> None:
        # A note changes the notes column and what the search finds: the list as it now is.
        self.model.refresh()

    def author(self) -> str:
        """Who writes notes: Preferences' name, else the login name."""
        from callviewer.ui.preferences import note_author

        return note_author(self.settings)

    def show_preferences(self, tab: int | None = None) -> None:
        from callviewer.ui.preferences import GENERAL_TAB, PreferencesDialog

        self.preferences = PreferencesDialog(self.settings, self.tasks, self, self.store,
                                             GENERAL_TAB if tab is None else tab)
        self.preferences.accepted.connect(self.syncing.apply_interval)
        self.preferences.finished.connect(self.syncing.watch_folders)
        self.preferences.open()

    # --- import and export -------------------------------------------------------------------

    def choose_import(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        files, _ = QFileDialog.getOpenFileNames(
            self, "Import call records", str(Path.home()),
            "Call records (*.json *.ndjson *.jsonl);;All files (*)")
        if files:
            self.import_paths([Path(f) for f in files])

    def load_demo(self) -> None:
        from callviewer.paths import demo_dir

        self.import_paths([demo_dir()])

    def sync_now(self) -> None:
        """F5: sync every connection now (or say there is none to sync)."""
        self.syncing.sync()

    def _synced(self, _result) -> None:
        self.refresh()
        self.timeline_pass.start()  # the calls it brought, measured

    def _played(self, state: str) -> None:
        # The archive's size cap evicts the least recently played first. Written on the
        # write lane; a refusal (busy, out of reach) is said in the status bar
        # (runner.problem), never as a crash.
        from callviewer.playback.now_playing import PLAYING

        if state == PLAYING and self.now_playing.call_id is not None:

            call_id, store = self.now_playing.call_id, self.store
            self.tasks.run(lambda: store.calls.mark_played(call_id), lane=Lane.WRITE,
                           name="noting the recording played")

    def show_connections(self) -> None:
        from callviewer.ui.preferences import SYNC_TAB

        self.show_preferences(SYNC_TAB)

    def import_paths(self, paths: list[Path]) -> None:
        """Import files and folders in the background, then show what happened."""
        if self._import is not None:
            self.statusBar().showMessage("An import is already running.", 5000)
            return
        from callviewer.ui.importing import ImportRun

        self._import = ImportRun(self.tasks, self.store.url, paths, self)
        self._import.done.connect(self._imported)
        self._import.start()

    def _imported(self, result) -> None:
        from callviewer.ui.importing import show_summary

        self._import = None
        self.refresh()
        self.timeline_pass.start()  # the calls it brought, measured
        self.summary = show_summary(self, result)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls()]
        event.acceptProposedAction()
        self.import_paths(paths)

    def export_csv(self) -> None:
        """Export the calls the list shows, in its order, as CSV with the canonical fields."""
        from PySide6.QtWidgets import QFileDialog

        target, _ = QFileDialog.getSaveFileName(self, "Export calls to CSV",
                                                str(Path.home() / "calls.csv"),
                                                "CSV files (*.csv)")
        if target:
            self.export_to(Path(target))

    def export_to(self, target: Path, done: Callable[[int], None] | None = None) -> Task:
        """Write the listed calls to `target` as CSV, off this thread (the JOB lane); the
        status bar says how many, or why not. Then `done(count)`, when written."""

        database, spec, store = self.model.database, self.model.spec, self.store

        def exported(count: int) -> None:
            self.statusBar().showMessage(f"Exported {count:,} calls to {target}", 8000)
            if done is not None:
                done(count)

        return self.tasks.run(lambda: _export(database, spec, store, target), exported,
                              failed=self.show_problem, lane=Lane.JOB, name="the export")

    # --- help -----------------------------------------------------------------------------

    def show_shortcuts(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        text = "\n".join(f"{keys:<24} {what}" for keys, what in SHORTCUTS)
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", text,
                          QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        font = box.font()
        font.setFamily("monospace")
        box.setFont(font)
        box.open()

    def show_about(self) -> None:
        from callviewer.ui.about import AboutDialog

        about = AboutDialog(self.store.where, self)
        about.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        about.open()

    # --- remembered -------------------------------------------------------------------------

    def _restore(self) -> ListSpec:
        """Put back geometry, splitter, columns and filters; returns the remembered sort."""
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 780)
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([720, 560])
        header = self.settings.value("list/header")
        if not (isinstance(header, QByteArray) and self.table.horizontalHeader().restoreState(
                header)):
            for at, column in enumerate(COLUMNS):
                self.table.setColumnWidth(at, column.width)
            ColumnMenu.hide_defaults(self.table)
        try:
            state = json.loads(str(self.settings.value("list/filters", "{}")))
            sort = state.get("sort", "started")
            spec = ListSpec(sort=sort, descending=bool(state.get("descending", True)))
        except (ValueError, TypeError, AttributeError):
            state, spec = {}, ListSpec()
        self.filters.restore(state)
        self.table.horizontalHeader().setSortIndicator(
            AT[spec.sort], Qt.SortOrder.DescendingOrder if spec.descending
            else Qt.SortOrder.AscendingOrder)
        return spec

    def save_state(self) -> None:
        """Save what must outlive the window: geometry, splitter, columns, sort and
        filters, and the note being typed. Closing does this first; so does the session's
        logout (ui/shutdown.py), after which the process may end without a close."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        if self.detail is not None:  # the detail's split, when set by hand
            split = self.detail.split_state()
            if split is None:
                self.settings.remove("detail/splitter")
            else:
                self.settings.setValue("detail/splitter", split)
        self.settings.setValue("list/header", self.table.horizontalHeader().saveState())
        spec = self.model.spec
        self.settings.setValue("list/filters", json.dumps(
            {**self.filters.state(), "sort": spec.sort, "descending": spec.descending}))
        self.settings.sync()
        if self.detail is not None:
            self.detail.notes_panel.flush()

    def closeEvent(self, event) -> None:
        self.save_state()
        if self._import is not None and self._import.running:
            self.statusBar().showMessage("Finishing the import first…")
        if self.store is not None:
            self.now_playing.release()  # silent at once, before waiting for the work
            self._stop_watching()
            self.store.stop_checking()  # a quick check of a big file need not finish now
            self.syncing.wait()
        self.model.close()
        self.tasks.shutdown()
        self.collector.stop()
        super().closeEvent(event)


def _export(database: Path | str, spec: ListSpec, store: Store, target: Path) -> int:
    """The export's work, on a JOB thread: the spec's ids in list order, read on a list
    connection of its own, then their records from the store (its engine lends this
    thread a connection of its own) written to `target`, whole or not at all."""
    from callviewer import listing
    from callviewer.atomic import replacing
    from callviewer.errors import ExpectedError
    from callviewer.store.export import write_csv

    try:
        conn = listing.connect(database)
        try:
            call_ids = listing.ids(conn, spec)
        finally:
            conn.close()
    except listing.read_errors() as exc:
        raise ExpectedError(f"The calls could not be read for the export: {exc}") from exc
    try:  # a full disk leaves an earlier export as it was
        with replacing(target, text=True) as out:
            return write_csv(store.calls.export(call_ids=call_ids), out)
    except OSError as exc:
        raise ExpectedError(f"Could not write {target}: {exc.strerror or exc}.") from exc
