"""Preferences: what a person sets once and keeps (QSettings)."""

from __future__ import annotations

import getpass
import logging

from PySide6.QtCore import QSettings, Qt
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

from callviewer.store import connections as status
from callviewer.ui.connection_dialog import kind_label
from callviewer.ui.syncing import INTERVAL_KEY, sync_interval

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


class PreferencesDialog(QDialog):
    """Edits the settings in place when accepted; connections and the archive's cap are
    changed at once (they live in the store)."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None, store=None,
                 tab: int = GENERAL_TAB) -> None:
        super().__init__(parent)
        self.settings = settings
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
        self.sync_page = SyncPage(store, settings) if store is not None else None
        if self.sync_page is not None:
            self.tabs.addTab(self.sync_page, "&Sync")
        from callviewer.ui.team_page import TeamDatabasePage

        self.team_page = TeamDatabasePage(settings, store.where if store is not None else None,
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


    def _keep_display_name(self) -> None:
        """On a team database, the name beside one's role for colleagues to see; a server
        out of reach keeps it in the settings only (saved again next time)."""
        from callviewer.store import StoreError

        if getattr(self.store, "identity", None) is None:
            return
        try:
            self.store.set_display_name(self.author.text().strip())
        except StoreError as exc:
            logging.getLogger(__name__).warning("Display name not saved: %s", exc)


class SyncPage(QWidget):
    """Connections (calls APIs, watched folders) and how they stand; how often to sync;
    the recordings archive's size and its optional cap."""

    COLUMNS = ("Name", "Kind", "Where", "Last synced", "Status")

    def __init__(self, store, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.settings = store, settings
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
        self.message = QLabel(wordWrap=True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAccessibleName("Connections message")
        self.interval = QSpinBox(minimum=0, maximum=24 * 60, suffix=" min")
        self.interval.setSpecialValueText("Only on F5")
        self.interval.setAccessibleName("Sync every")
        self.interval.setValue(sync_interval(settings))
        self.archive = QLabel(wordWrap=True)
        self.archive.setTextFormat(Qt.TextFormat.PlainText)
        self.cap = QSpinBox(minimum=0, maximum=10_000_000, suffix=" MB", singleStep=100)
        self.cap.setSpecialValueText("No cap")
        self.cap.setAccessibleName("Archive size cap")
        cap = store.archive_cap()
        self.cap.setValue(cap // MB if cap else 0)
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
        self.show_connections()
        self._show_archive()

    def show_connections(self) -> None:
        from callviewer.sync.runner import local_clock

        rows = self.store.connections()
        self.table.setRowCount(len(rows))
        for at, row in enumerate(rows):
            settings = row["settings"]
            values = (row["name"], kind_label(row["kind"]),
                      settings.get("url") or settings.get("folder") or "",
                      local_clock(row["last_sync_at"]) if row["last_sync_at"] else "Never",
                      row["error"] or STATUS_WORDS.get(row["status"], row["status"]))
            for column, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                item.setToolTip(str(value))
                self.table.setItem(at, column, item)
        self.table.resizeColumnsToContents()
        self.remove_button.setEnabled(bool(rows))

    def _show_archive(self) -> None:
        files, size = self.store.archive_size()
        text = f"The archive holds {files:,} recordings ({size / MB:,.1f} MB)."
        if self.cap.value():
            plan = self.store.eviction_plan(self.cap.value() * MB)
            freed = sum(entry["size"] or 0 for entry in plan)
            text += (f" With this cap, the next sync removes {len(plan):,} ({freed / MB:,.1f}"
                     " MB): the least recently played that the source can still serve."
                     if plan else " This cap removes nothing now.")
            text += " A recording the source no longer has is never removed."
        self.archive.setText(text)

    def add_connection(self) -> None:
        """Open "Add connection" (the vendor, its fields, Test connection); once it has
        added one, say so and show it."""
        from callviewer.ui.connection_dialog import AddConnectionDialog

        self.add_dialog = AddConnectionDialog(self.store, self)
        self.add_dialog.accepted.connect(self._show_added)
        self.add_dialog.open()

    def _show_added(self) -> None:
        row, kept = self.add_dialog.added, self.add_dialog.kept
        self._say_added(row["name"], kept)

    def _say_added(self, name: str, kept: str | None) -> None:
        self.message.setText(f"Added {name}. {kept or ''} It syncs on F5 and "
                             "every few minutes.".replace("  ", " "))
        self.show_connections()

    def _add(self, name: str, **where) -> None:
        from callviewer.store import StoreError
        from callviewer.sync.manage import add_connection

        try:
            row, kept = add_connection(self.store, name, **where)
        except (ValueError, StoreError) as exc:
            self.message.setText(str(exc))
            return
        self._say_added(row["name"], kept)

    def remove_selected(self) -> None:
        from callviewer.sync.manage import remove_connection

        selected = self.table.selectionModel().selectedRows()
        if not selected:
            self.message.setText("Choose a connection to remove.")
            return
        name = self.table.item(selected[0].row(), 0).text()
        remove_connection(self.store, name)
        self.message.setText(f"Removed {name}; its calls and recordings stay.")
        self.show_connections()

    def save(self) -> None:
        self.settings.setValue(INTERVAL_KEY, self.interval.value())
        cap = self.cap.value() * MB
        if cap != (self.store.archive_cap() or 0):
            self.store.set_archive_cap(cap or None)
