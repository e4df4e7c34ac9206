"""Preferences: what a person sets once and keeps (QSettings)."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QSettings, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from callviewer.store import ConnectionStatus as status
from callviewer.store import SyncConnection
from callviewer.ui import formatting
from callviewer.ui.connection_dialog import CONNECTIONS_LANE, kind_label
from callviewer.ui.syncing import INTERVAL_KEY, sync_interval
from callviewer.ui.tasks import Lane, Task, TaskRunner

AUTHOR_KEY = "notes/author"


def login_name() -> str:
    """The operating system's name for the person at the keyboard."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "Me"


def note_author(settings: QSettings) -> str:
    """Who writes notes: the name set in Preferences, else the login name."""
    return str(settings.value(AUTHOR_KEY, "") or "").strip() or login_name()


GENERAL_TAB, SYNC_TAB, TEAM_TAB = 0, 1, 2
# A connection's sync status in words (its error sentence, when it has one, is shown instead).
STATUS_WORDS = {status.NEVER: "Not synced yet", status.RUNNING: "Syncing", status.OK: "OK",
                status.OFFLINE: "Offline", status.REFUSED: "Token refused",
                status.FAILED: "Failed", status.CANCELED: "Canceled"}
MB = 1_000_000
READING = "Reading…"  # what the page says until what it shows has been read
T = TypeVar("T")


class PreferencesDialog(QDialog):
    """Edits the settings in place when accepted. Connections are added and removed at
    once, on the window's task runner; the archive's cap and the display name are
    written there when accepted, and the dialog closes without waiting for them (a
    failure is said in the window's status bar, through the runner's `problem`)."""

    def __init__(self, settings: QSettings, tasks: TaskRunner, parent: QWidget | None = None,
                 store=None, tab: int = GENERAL_TAB) -> None:
        super().__init__(parent)
        self.settings, self.tasks = settings, tasks
        self.setWindowTitle("Preferences")
        self.store = store
        # On a team database where this person has a role of their own, the server says
        # who wrote a note (the role); the name here is only shown beside it.
        role = getattr(store, "identity", None)
        self.author = QLineEdit(str(settings.value(AUTHOR_KEY, "") or ""))
        self.author.setPlaceholderText(role or login_name())
        self.author.setAccessibleName("Display name" if role else "Note author")
        self.author.setClearButtonEnabled(True)
        hint = QLabel(f"Shown beside your database user, {role}, on your notes; the team "
                      "database itself records the user." if role else
                      "Shown on the notes you write. Empty: your login name.")
        hint.setTextFormat(Qt.TextFormat.PlainText)
        hint.setWordWrap(True)
        hint.setEnabled(False)
        general = QWidget()
        form = QFormLayout(general)
        form.addRow("Display &name:" if role else "Note &author:", self.author)
        form.addRow("", hint)
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "&General")
        self.sync_page = SyncPage(store, settings, tasks) if store is not None else None
        if self.sync_page is not None:
            self.tabs.addTab(self.sync_page, "&Sync")
        from callviewer.ui.team_page import TeamDatabasePage

        self.team_page = TeamDatabasePage(settings, tasks,
                                          store.where if store is not None else None,
                                          identity=role)
        self.tabs.addTab(self.team_page, "&Team database")
        pages = {GENERAL_TAB: general, SYNC_TAB: self.sync_page, TEAM_TAB: self.team_page}
        self.tabs.setCurrentWidget(pages.get(tab) or general)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(640 if self.sync_page else 420, self.sizeHint().height())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.tabs.currentIndex() == GENERAL_TAB:
            self.author.setFocus()  # not the tab bar: the one field to type in

    def accept(self) -> None:
        from callviewer.ui.team_page import offer_restart

        try:
            self.team_page.chosen_url()
        except ValueError as exc:  # nothing is kept until the page is right
            self.team_page.result.setText(str(exc))
            self.tabs.setCurrentWidget(self.team_page)
            return
        self.settings.setValue(AUTHOR_KEY, self.author.text().strip())
        self._keep_display_name()
        if self.sync_page is not None:
            self.sync_page.save()
        changed = self.team_page.save()
        self.settings.sync()
        super().accept()
        if changed:
            self.restart_question = offer_restart(self.parentWidget(), changed)

    def done(self, result: int) -> None:
        if self.sync_page is not None:
            self.sync_page.stop_reading()  # their answers are for a page no longer shown
        super().done(result)

    def _keep_display_name(self) -> None:
        """On a team database, the name beside one's role for colleagues to see, written
        on the runner's write lane. A server out of reach is said in the window's status
        bar; the settings keep the name, and it is written again next time."""
        if getattr(self.store, "identity", None) is None:
            return
        store, name = self.store, self.author.text().strip()
        self.tasks.run(lambda: store.notes.set_display_name(name), lane=Lane.WRITE,
                       name="saving your display name")


class SyncPage(QWidget):
    """Connections (calls APIs, watched folders) and how they stand; how often to sync;
    the recordings archive's size and its optional cap.

    Nothing here waits for the database: what the page shows is read on the runner's read
    lane and shown when it comes; adding and removing a connection run on the runner
    (CONNECTIONS_LANE), with their buttons disabled until the answer."""

    COLUMNS = ("Name", "Kind", "Where", "Last synced", "Status")

    def __init__(self, store, settings: QSettings, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.settings, self.tasks = store, settings, tasks
        self._reads: dict[str, Task] = {}  # what is being read, by what it is for
        self._changing: Task | None = None  # an add or remove under way
        self._stored_cap: int | None = None  # the cap in bytes (0: none) once read
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setAccessibleName("Connections")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.add_button = QPushButton("&Add connection…")
        self.add_button.clicked.connect(self.add_connection)
        self.add_dialog = None  # the open "Add connection" dialog
        self.remove_button = QPushButton("&Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.message = QLabel(READING, wordWrap=True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAccessibleName("Connections message")
        self.interval = QSpinBox(minimum=0, maximum=24 * 60, suffix=" min")
        self.interval.setSpecialValueText("Only on F5")
        self.interval.setAccessibleName("Sync every")
        self.interval.setValue(sync_interval(settings))
        self.archive = QLabel(READING, wordWrap=True)
        self.archive.setTextFormat(Qt.TextFormat.PlainText)
        self.cap = QSpinBox(minimum=0, maximum=10_000_000, suffix=" MB", singleStep=100)
        self.cap.setSpecialValueText("No cap")
        self.cap.setAccessibleName("Archive size cap")
        self.cap.setEnabled(False)  # until the cap set is read
        self.cap.valueChanged.connect(self._show_archive)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch()
        form = QFormLayout()
        form.addRow("Sync &every:", self.interval)
        form.addRow("Archive size &cap:", self.cap)
        form.addRow("", self.archive)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addLayout(form)
        self.remove_button.setEnabled(False)  # nothing to remove until the table is read
        self.show_connections()
        self._read("the archive's size cap", self.store.archive.cap, self._show_cap,
                   self.archive.setText)

    # --- reading ---------------------------------------------------------------------------

    def _read(self, what: str, work: Callable[[], T], done: Callable[[T], None],
              failed: Callable[[str], None]) -> None:
        """Read on the runner's read lane; a newer read of `what` replaces one still out."""
        earlier = self._reads.pop(what, None)
        if earlier is not None:
            earlier.cancel()

        def answered(answer: Callable[[Any], None]) -> Callable[[Any], None]:
            def deliver(value: Any) -> None:
                self._reads.pop(what, None)
                answer(value)
            return deliver

        self._reads[what] = self.tasks.run(work, answered(done), failed=answered(failed),
                                           lane=Lane.READ, name=f"reading {what}")

    @property
    def reading(self) -> bool:
        """Whether something the page shows is still being read."""
        return bool(self._reads)

    def stop_reading(self) -> None:
        """Drop the reads still out (the dialog is closing); writes go on."""
        for task in self._reads.values():
            task.cancel()
        self._reads.clear()

    def show_connections(self) -> None:
        """Read the connections and show them in the table when they come."""
        self._read("the connections", self.store.sync.connections, self._fill_table,
                   self.message.setText)

    def _fill_table(self, rows: list[SyncConnection]) -> None:
        if self.message.text() == READING:
            self.message.clear()
        self.table.setRowCount(len(rows))
        for at, row in enumerate(rows):
            settings = row.settings
            values = (row.name, kind_label(row.kind),
                      settings.get("url") or settings.get("folder") or "",
                      formatting.local_time(row.last_sync_at) or "Never",
                      row.error or STATUS_WORDS.get(row.status, row.status))
            for column, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                item.setToolTip(str(value))
                self.table.setItem(at, column, item)
        self.table.resizeColumnsToContents()
        self._enable_buttons()

    def _show_cap(self, cap: int | None) -> None:
        self._stored_cap = cap or 0
        with QSignalBlocker(self.cap):
            self.cap.setValue(cap // MB if cap else 0)
        self.cap.setEnabled(True)
        self._show_archive()

    def _show_archive(self) -> None:
        """What the archive holds and what the cap in the spin box would remove: read for
        the latest value only."""
        store, cap = self.store, self.cap.value() * MB
        self._read("the archive", lambda: archive_sentence(store, cap), self.archive.setText,
                   self.archive.setText)

    # --- adding and removing ---------------------------------------------------------------

    def add_connection(self) -> None:
        """Open "Add connection" (the vendor, its fields, Test connection); once it has
        added one, say so and show it."""
        from callviewer.ui.connection_dialog import AddConnectionDialog

        self.add_dialog = AddConnectionDialog(self.store, self.tasks, self)
        self.add_dialog.connection_added.connect(self._say_added)
        self.add_dialog.open()

    def _say_added(self, row: SyncConnection, kept: str | None) -> None:
        self.message.setText(f"Added {row.name}. {kept or ''} It syncs on F5 and "
                             "every few minutes.".replace("  ", " "))
        self.show_connections()

    def remove_selected(self) -> None:
        """Remove the selected connection (its token too), on the runner; the buttons wait
        for the answer."""
        from callviewer.sync.manage import remove_connection

        selected = self.table.selectionModel().selectedRows()
        if not selected:
            self.message.setText("Choose a connection to remove.")
            return
        if self._changing is not None:
            return
        store, name = self.store, self.table.item(selected[0].row(), 0).text()
        self.message.setText(f"Removing {name}…")
        self._changing = self.tasks.run(lambda: remove_connection(store, name),
                                        lambda _row: self._removed(name),
                                        failed=self._not_removed, lane=CONNECTIONS_LANE,
                                        name=f"removing {name}")
        self._enable_buttons()

    def _removed(self, name: str) -> None:
        self._changing = None
        self.message.setText(f"Removed {name}; its calls and recordings stay.")
        self.show_connections()

    def _not_removed(self, sentence: str) -> None:
        self._changing = None
        self._enable_buttons()
        if self.isVisible():
            self.message.setText(sentence)
        else:  # Preferences closed meanwhile: the window's status bar says it
            self.tasks.problem.emit(sentence)

    def _enable_buttons(self) -> None:
        idle = self._changing is None
        self.add_button.setEnabled(idle)
        self.remove_button.setEnabled(idle and self.table.rowCount() > 0)

    # --- OK --------------------------------------------------------------------------------

    def save(self) -> None:
        """Keep the interval; write the cap when it changed, on the runner's write lane
        (the dialog need not wait: a refusal is said in the window's status bar)."""
        self.settings.setValue(INTERVAL_KEY, self.interval.value())
        cap = self.cap.value() * MB
        if self._stored_cap is None or cap == self._stored_cap:
            return  # not read yet (the spin box was never enabled), or the same
        store = self.store
        self.tasks.run(lambda: store.archive.set_cap(cap or None), lane=Lane.WRITE,
                       name="saving the archive's size cap")


def archive_sentence(store, cap_bytes: int) -> str:
    """What the archive holds and, with a cap (bytes; 0: none), what the next sync would
    remove for it; read on the runner's read lane."""
    files, size = store.archive.size()
    text = f"The archive holds {files:,} recordings ({size / MB:,.1f} MB)."
    if cap_bytes:
        plan = store.archive.eviction_plan(cap_bytes)
        freed = sum(entry.size or 0 for entry in plan)
        text += (f" With this cap, the next sync removes {len(plan):,} ({freed / MB:,.1f}"
                 " MB): the least recently played that the source can still serve."
                 if plan else " This cap removes nothing now.")
        text += " A recording the source no longer has is never removed."
    return text
