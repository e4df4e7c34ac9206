"""Preferences ▸ Sync ▸ Add connection: the vendor, the fields it needs and nothing else,
and a Test connection that asks the vendor's first list page and says what it found."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from callviewer.errors import ExpectedError
from callviewer.ui.tasks import Lane, Task, TaskRunner

if TYPE_CHECKING:
    from callviewer.store import SyncConnection

log = logging.getLogger(__name__)
FOLDER = "folder"
# Adding or removing a connection keeps or forgets its secret in the system keyring, which
# can take seconds (a Secret Service over D-Bus, a keychain waiting to be unlocked): on the
# write lane it would hold every write of the window (a note's draft) behind it. On a JOB
# thread it waits alone; its row is written as any writer's, in the database's turn.
CONNECTIONS_LANE = Lane.JOB
# A test asks once more at most, and not for long: the person is waiting for it.
PROBE_SETTINGS = {"retries": 1, "backoff_factor": 0.5, "backoff_max": 2.0,
                  "retry_after_max": 5, "connect_timeout": 5.0, "read_timeout": 15.0}


@dataclass(frozen=True)
class Vendor:
    """A choice in the dialog: its name, its `sync add --api` kind (or "folder"), and
    the label and placeholder of its secret ("": none)."""

    label: str
    kind: str
    secret: str = "API &key:"
    hint: str = "Your API key"
    # Twilio's two secrets, joined as SID:SECRET: the second field's label and placeholder.
    second: tuple[str, str] | None = None
    optional: bool = False  # the secret may be left empty


VENDORS = (
    Vendor("Vapi", "vapi", hint="Your private API key"),
    Vendor("Twilio", "twilio", "&SID:", "Account SID (AC…) or API key SID (SK…)",
           second=("S&ecret:", "The auth token, or the API key's secret")),
    Vendor("VoIPBIN", "voipbin", "Access to&ken:", "Your access token"),
    Vendor("Retell", "retell"),
    Vendor("ElevenLabs", "elevenlabs", hint="Your API key (xi-api-key)"),
    Vendor("Bland", "bland"),
    Vendor("Call module", "call-module", "Session &cookie:",
           "The session cookie of a signed-in browser, name=value"),
    Vendor("Agent platform", "agent-platform", "API to&ken:",
           "A token with the calls:read scope", optional=True),
    Vendor("Watched folder", FOLDER, secret="", hint=""),
)


def stored_kind(vendor: Vendor) -> str:
    """The kind a connection of this vendor is stored with (sync/connection.py KINDS)."""
    from callviewer.sync.connection import API_KINDS

    return FOLDER if vendor.kind == FOLDER else API_KINDS[vendor.kind]


def kind_label(kind: str) -> str:
    """A stored connection's kind in words: "Vapi", "Agent platform", "Watched folder"."""
    return next((v.label for v in VENDORS if stored_kind(v) == kind), kind)


def probe(row: dict, token: str | None, canceled: threading.Event) -> str:
    """Test connection, on the runner's JOB lane: the connector built as a sync builds it,
    with the secret typed, asked for its first list page; the sentence to show. A
    connector that cannot be built or fails unexpectedly is a bug (the crash dialog)."""
    from callviewer.sync.connection import open_connection

    try:
        connection = open_connection(row["name"], row["kind"], row["settings"], token, canceled)
    except ValueError as exc:  # a setting the connector refuses
        return str(exc)
    try:
        test = getattr(connection, "probe", None)
        return test() if test is not None else \
            "This connector cannot be tested yet; add it and press F5 to sync."
    finally:
        connection.close()


def add(store, name: str, **where) -> tuple[SyncConnection, str | None]:
    """sync.manage.add_connection, for the task runner: a name, address or folder it
    refuses (ValueError) is an expected error, whose sentence is shown."""
    from callviewer.sync.manage import add_connection

    try:
        return add_connection(store, name, **where)
    except ValueError as exc:
        raise ExpectedError(str(exc)) from exc


class AddConnectionDialog(QDialog):
    """Pick the vendor, fill in what it needs, test, add. Adding goes through
    sync.manage.add_connection (the secret kept where secrets are kept) on the task runner;
    the dialog closes once it has landed, or stays open with the sentence saying why not.
    `added` then holds the new connection's row and `kept` the sentence saying where its
    secret went; `connection_added` says so (also when the dialog was closed meanwhile)."""

    connection_added = Signal(object, object)  # SyncConnection, kept (str or None)

    def __init__(self, store, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add connection")
        self.store, self._tasks = store, tasks
        self.added: SyncConnection | None = None
        self.kept: str | None = None
        self._test: Task | None = None
        self._adding: Task | None = None
        self._taken: set[str] = set()  # the names in use (casefolded), once read
        self._defaults: dict[str, str] = {}  # vendor kind -> its default address
        self._auto_name = ""  # the name the dialog offered, not one the person typed
        self.vendor = QComboBox()
        for vendor in VENDORS:
            self.vendor.addItem(vendor.label, vendor)
        self.name, self.url = QLineEdit(), QLineEdit()
        self.secret, self.second = QLineEdit(), QLineEdit()
        self.folder = QLineEdit()
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.browse = QPushButton("&Browse…")
        self.browse.setAutoDefault(False)
        self.browse.clicked.connect(self.choose_folder)
        self.folder_row = _beside(self.folder, self.browse)
        self.keyring_hint = self._label("Kept in the system keyring, never in the settings.",
                                        hint=True)
        self.test_button = QPushButton("&Test connection")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self.test_connection)
        self.message = self._label("")
        self.message.setAccessibleName("Connection message")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_row = _beside(self.test_button, None)
        self.form = QFormLayout()
        self.form.addRow("&Vendor:", self.vendor)
        self.form.addRow("&Name:", self.name)
        self.form.addRow("&Address:", self.url)
        self.form.addRow("API &key:", self.secret)
        self.form.addRow("S&ecret:", self.second)
        self.form.addRow("&Folder:", self.folder_row)
        self.form.addRow("", self.keyring_hint)
        self.form.addRow("", self.test_row)
        self.form.addRow("", self.message)
        for field, what in ((self.vendor, "Vendor"), (self.name, "Name"),
                            (self.url, "Base address"), (self.folder, "Folder")):
            field.setAccessibleName(what)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        # No mnemonic: Alt+A is the address's. Enter adds only what is whole (accept).
        self.add_button = self.buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addStretch()
        layout.addWidget(self.buttons)
        self.add_button.setDefault(True)  # in the dialog by now, or the box picks Cancel
        self.vendor.currentIndexChanged.connect(self._show_vendor)
        self._show_vendor()
        self.setMinimumWidth(520)
        self.vendor.setFocus()
        self.reading_names: Task | None = tasks.run(
            lambda: {row.name.casefold() for row in store.sync.connections()},
            self._names_read, failed=self._names_unread, lane=Lane.READ,
            name="reading the connections' names")

    @staticmethod
    def _label(text: str, hint: bool = False) -> QLabel:
        label = QLabel(text, wordWrap=True)
        label.setTextFormat(Qt.TextFormat.PlainText)  # a vendor's answer is text, never markup
        label.setEnabled(not hint)
        return label

    @property
    def chosen(self) -> Vendor:
        return self.vendor.currentData()

    # --- what the vendor needs -------------------------------------------------------------

    def _show_vendor(self) -> None:
        vendor = self.chosen
        is_folder = vendor.kind == FOLDER
        self._stop_test()
        self.message.setText("")
        self.test_button.setEnabled(True)
        self.add_button.setEnabled(True)
        for field, shown in ((self.url, not is_folder), (self.secret, bool(vendor.secret)),
                             (self.second, vendor.second is not None),
                             (self.folder_row, is_folder), (self.keyring_hint, not is_folder),
                             (self.test_row, not is_folder)):
            self.form.setRowVisible(field, shown)
        # A key, a SID or an address belongs to one vendor: none is carried to another.
        self.secret.clear()
        self.second.clear()
        if vendor.secret:
            self.form.labelForField(self.secret).setText(vendor.secret)
            # Twilio's SID names the account and is shown in its console: typed in clear.
            self.secret.setEchoMode(QLineEdit.EchoMode.Normal if vendor.second else
                                    QLineEdit.EchoMode.Password)
            self.secret.setPlaceholderText(vendor.hint)
            self.secret.setAccessibleName(vendor.secret.replace("&", "").rstrip(":"))
        if vendor.second is not None:
            self.form.labelForField(self.second).setText(vendor.second[0])
            self.second.setPlaceholderText(vendor.second[1])
            self.second.setAccessibleName(vendor.second[0].replace("&", "").rstrip(":"))
        if not self.name.text().strip() or self.name.text() == self._auto_name:
            self._auto_name = "" if is_folder else self._free_name(vendor.label)
            self.name.setText(self._auto_name)
        if not is_folder:
            self._fill_address(vendor)
        self.adjustSize()

    def _fill_address(self, vendor: Vendor) -> None:
        """The vendor's default base address (a regional or self-hosted one is typed over
        it)."""
        default = self._default_address(vendor)
        self.url.setPlaceholderText("https://api.example.com/v1" if vendor.kind ==
                                    "agent-platform" else "")
        if default is None:
            self.url.clear()
            self.test_button.setEnabled(False)
            self.add_button.setEnabled(False)
            self.message.setText(f"This version of Call Viewer cannot connect to "
                                 f"{vendor.label} yet: its connector is missing.")
            return
        self.url.setText(default)
        self.url.setCursorPosition(0)

    def _default_address(self, vendor: Vendor) -> str | None:
        """The connector's own default address ("" for none); None when it is missing.
        Its module is imported only now, when its vendor is chosen."""
        if vendor.kind not in self._defaults:
            from callviewer.sync.connection import module_for

            try:
                defaults = module_for(stored_kind(vendor)).DEFAULTS
            except ImportError:
                return None
            except Exception:  # a connector broken on import is a bug: logged, said
                log.exception("The %s connector could not be loaded", vendor.kind)
                return None
            self._defaults[vendor.kind] = str(defaults.get("url") or "")
        return self._defaults[vendor.kind]

    def _names_read(self, taken: set[str]) -> None:
        """The names in use have come: a name offered that one of them has is offered
        again with a number."""
        self.reading_names = None
        self._taken = taken
        if self.name.text() == self._auto_name and self.chosen.kind != FOLDER:
            self._auto_name = self._free_name(self.chosen.label)
            self.name.setText(self._auto_name)

    def _names_unread(self, _sentence: str) -> None:
        # The name is only a suggestion: one taken is said when adding.
        self.reading_names = None

    def _free_name(self, label: str) -> str:
        """`label`, or "label 2", … when a connection already has that name."""
        name, number = label, 1
        while name.casefold() in self._taken:
            number += 1
            name = f"{label} {number}"
        return name

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder to watch",
                                                  self.folder.text())
        if folder:
            self.folder.setText(folder)
            if not self.name.text().strip() or self.name.text() == self._auto_name:
                self._auto_name = Path(folder).name
                self.name.setText(self._auto_name)

    # --- what was typed --------------------------------------------------------------------

    def token(self) -> str | None:
        """The secret as the connector takes it (Twilio's as SID:SECRET); None: none given."""
        first = self.secret.text().strip()
        if self.chosen.second is not None:
            second = self.second.text().strip()
            return f"{first}:{second}" if first or second else None
        return first or None

    def missing(self, for_test: bool = False) -> tuple[QWidget, str] | None:
        """The first field still needed, with the sentence saying so; None when all are."""
        vendor = self.chosen
        needed: list[tuple[QWidget, str]] = []
        if not for_test:
            needed.append((self.name, "Give the connection a name."))
        if vendor.kind == FOLDER:
            needed.append((self.folder, "Choose the folder to watch."))
        else:
            needed.append((self.url, f"Enter {vendor.label}'s base address."))
            what = vendor.secret.replace("&", "").rstrip(":")
            if not vendor.optional:
                needed.append((self.secret, f"Enter the {what}."))
            if vendor.second is not None:
                second = vendor.second[0].replace("&", "").rstrip(":").lower()
                needed.append((self.second, f"Enter the {second} that goes with the SID."))
        for field, sentence in needed:
            if not field.text().strip():
                return field, sentence
        if vendor.second is not None and ":" in self.secret.text():
            return self.secret, "Enter the SID alone, without a colon."
        return None

    # --- test --------------------------------------------------------------------------------

    def test_connection(self) -> None:
        """Ask the vendor for its first list page on a thread of the test's own; the
        sentence comes back through the test's `done`."""
        from callviewer.sync.connection import module_for

        gap = self.missing(for_test=True)
        if gap is not None:
            self._say(*gap)
            return
        vendor = self.chosen
        url = self.url.text().strip().rstrip("/")
        problem = address_problem(url)
        if problem:
            self._say(self.url, problem)
            return
        kind = stored_kind(vendor)
        settings = {"url": url, **{key: value for key, value in PROBE_SETTINGS.items()
                                   if key in module_for(kind).DEFAULTS}}
        self._stop_test()
        row = {"name": self.name.text().strip() or vendor.label, "kind": kind,
               "settings": settings}
        token, canceled = self.token(), threading.Event()
        self.test_button.setEnabled(False)
        self.message.setText("Testing…")
        self._test = self._tasks.run(lambda: probe(row, token, canceled), self._show_test,
                                     failed=self._show_test, name="the connection test",
                                     canceled=canceled)

    def _show_test(self, sentence: str) -> None:
        self._test = None
        self.test_button.setEnabled(True)
        self.message.setText(sentence)

    def _stop_test(self) -> None:
        """Cancel a test still running; its answer is for fields no longer shown."""
        if self._test is not None:
            self._test.cancel()
            self._test = None
            self.test_button.setEnabled(True)

    def _say(self, field: QWidget, sentence: str) -> None:
        self.message.setText(sentence)
        field.setFocus()

    # --- add -----------------------------------------------------------------------------

    def accept(self) -> None:
        """Add the connection when every field it needs is there, else say which is not
        (Enter in a field never adds one half-filled); the dialog closes once it is added."""
        if self._adding is not None:
            return
        gap = self.missing()
        if gap is not None:
            self._say(*gap)
            return
        vendor = self.chosen
        problem = None if vendor.kind == FOLDER else address_problem(self.url.text().strip())
        if problem:
            self._say(self.url, problem)
            return
        where = {"folder": Path(self.folder.text().strip())} if vendor.kind == FOLDER else \
            {"url": self.url.text().strip(), "token": self.token(), "api": vendor.kind}
        store, name = self.store, self.name.text()
        self._stop_test()
        self._show_adding(True)
        self._adding = self._tasks.run(lambda: add(store, name, **where), self._added,
                                       failed=self._not_added, lane=CONNECTIONS_LANE,
                                       name=f"adding {name.strip() or 'the connection'}")

    def _show_adding(self, adding: bool) -> None:
        # What was typed is what is added: the vendor is not changed under it.
        self.message.setText("Adding…" if adding else "")
        for control in (self.add_button, self.test_button, self.vendor):
            control.setEnabled(not adding)

    def _added(self, result: tuple[SyncConnection, str | None]) -> None:
        self._adding = None
        self.added, self.kept = result
        self._show_adding(False)
        self.connection_added.emit(*result)
        if self.isVisible():  # not closed (Esc) while it was being added
            super().accept()

    def _not_added(self, sentence: str) -> None:
        self._adding = None
        self._show_adding(False)
        if self.isVisible():
            self.message.setText(sentence)
        else:  # closed meanwhile: the window's status bar says it
            self._tasks.problem.emit(sentence)

    def reject(self) -> None:
        """Close without adding (an add under way still lands, and is said)."""
        self._stop_test()
        if self.reading_names is not None:
            self.reading_names.cancel()
            self.reading_names = None
        super().reject()


def _beside(first: QWidget, second: QWidget | None) -> QWidget:
    """Two widgets in a row (the first stretched), or one and space after it (None)."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(first, 0 if second is None else 1)
    if second is None:
        layout.addStretch()
    else:
        layout.addWidget(second)
    return row


def address_problem(url: str) -> str | None:
    """Why a base address cannot be tested, in a sentence; None when it can."""
    from callviewer.redaction import redact_url
    from callviewer.sync.manage import credentials_in

    if not url.startswith(("http://", "https://")):
        return f"The address {redact_url(url)!r} must start with http:// or https://."
    found = credentials_in(url)
    if found:
        return (f"The address {redact_url(url)} carries {found}: give the address without "
                "it and the secret in its own field.")
    return None
