"""Preferences' "Team database" page: this computer's own file, or a team's PostgreSQL
database (its address in the settings, its password in the keyring), tested before use."""

from __future__ import annotations

import atexit
import os
import sys
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from callviewer.dbfile import (
    DEFAULT_PORT,
    ENV_VAR,
    TEAM_DB_KEY,
    check_team_database,
    password_key,
    with_password,
)
from callviewer.redaction import register_secret
from callviewer.ui.tasks import Task, TaskRunner

DRIVER = "postgresql+psycopg"


def team_url(host: str, port: int, database: str, user: str, options: str) -> str:
    """The address Preferences keeps (never a password): ``postgresql+psycopg://user@host:
    port/database?options``. `options` are NAME=VALUE pairs, apart by spaces or ``&``
    (``sslmode=verify-full sslrootcert=/etc/ssl/team.crt``); ValueError names a bad one."""
    pairs = []
    for part in options.replace("&", " ").split():
        name, equals, value = part.partition("=")
        if not equals or not name:
            raise ValueError(f"The option “{part}” is not NAME=VALUE (for example "
                             "sslmode=require).")
        pairs.append((name, value))
    who = f"{quote(user.strip(), safe='')}@" if user.strip() else ""
    where = host.strip()
    if ":" in where and not where.startswith("["):
        where = f"[{where}]"  # an IPv6 address
    query = f"?{urlencode(pairs)}" if pairs else ""
    # SQLAlchemy takes the database name as written (it unquotes only the user's).
    return f"{DRIVER}://{who}{where}:{port}/{database.strip()}{query}"


def url_fields(url: str) -> dict:
    """The page's fields for a kept address (the inverse of `team_url`)."""
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        port = DEFAULT_PORT
    return {"host": parts.hostname or "", "port": port,
            "database": unquote(parts.path.lstrip("/")), "user": unquote(parts.username or ""),
            "options": " ".join(f"{name}={value}" for name, value in parse_qsl(parts.query))}


def restart_command() -> list[str]:
    """This app's command line again, without ``--db`` (the choice just saved decides)."""
    frozen = getattr(sys, "frozen", False)
    args = list(sys.argv[1:] if frozen else sys.orig_argv[1:])
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--db":
            skip = True
        elif not arg.startswith("--db="):
            kept.append(arg)
    return [sys.executable, *kept]


def restart_after_exit() -> None:
    """Start the app again once this one has closed its window and store (at exit), then
    quit: the new one takes the database Preferences now name."""
    command = restart_command()
    environment = {name: value for name, value in os.environ.items() if name != ENV_VAR}

    def again() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(command[0], command, environment)

    atexit.register(again)
    QApplication.closeAllWindows()  # each window keeps what was typed as it closes
    QApplication.quit()


class TeamDatabasePage(QWidget):
    """Where the calls are: this computer's own file, or a team database. Saving keeps the
    address in the settings and the password in the keyring (never in the settings)."""

    def __init__(self, settings: QSettings, tasks: TaskRunner, in_use: str | None = None,
                 parent: QWidget | None = None, identity: str | None = None) -> None:
        super().__init__(parent)
        self.settings, self.in_use, self._tasks = settings, in_use, tasks
        self._test: Task | None = None
        self.kept_url = str(settings.value(TEAM_DB_KEY, "") or "")
        self.own_file = QRadioButton("This computer's &own file")
        self.team = QRadioButton("A team data&base (PostgreSQL)")
        choice = QButtonGroup(self)
        choice.addButton(self.own_file)
        choice.addButton(self.team)
        self.host, self.database, self.user = QLineEdit(), QLineEdit(), QLineEdit()
        self.password, self.options = QLineEdit(), QLineEdit()
        self.port = QSpinBox(minimum=1, maximum=65535, value=DEFAULT_PORT)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.host.setPlaceholderText("db.example.com")
        self.options.setPlaceholderText("sslmode=verify-full sslrootcert=/path/root.crt")
        for field, name in ((self.host, "Server"), (self.port, "Port"),
                            (self.database, "Database"), (self.user, "User"),
                            (self.password, "Password"), (self.options, "Options")):
            field.setAccessibleName(name)
        self.test_button = QPushButton("Test &connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel(wordWrap=True)
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        self.result.setAccessibleName("Connection test")
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint = QLabel("The password is kept in the system keyring, never in the settings. "
                      "Each person has a user of their own (callviewer team add-user): the "
                      "database records it on their notes; the name in General is only "
                      "shown beside it.")
        hint.setWordWrap(True)
        hint.setEnabled(False)
        self.form = QWidget()
        form = QFormLayout(self.form)
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow("Ser&ver:", self.host)
        form.addRow("&Port:", self.port)
        form.addRow("&Database:", self.database)
        form.addRow("&User:", self.user)
        form.addRow("Pass&word:", self.password)
        form.addRow("Optio&ns:", self.options)
        form.addRow("", hint)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch()
        form.addRow("", test_row)
        form.addRow("", self.result)
        # Who this desktop is to the team database in use, as its server says.
        self.identity = QLabel(f"You write as the database user {identity}." if identity
                               else "")
        self.identity.setTextFormat(Qt.TextFormat.PlainText)
        self.identity.setVisible(bool(identity))
        layout = QVBoxLayout(self)
        layout.addWidget(self.identity)
        layout.addWidget(self.own_file)
        layout.addWidget(self.team)
        layout.addWidget(self.form)
        layout.addStretch()
        self.team.toggled.connect(self.form.setEnabled)
        self._load()

    def _load(self) -> None:
        if not self.kept_url:
            self.own_file.setChecked(True)
            self.form.setEnabled(False)
            return
        self.team.setChecked(True)
        fields = url_fields(self.kept_url)
        self.host.setText(fields["host"])
        self.port.setValue(fields["port"])
        self.database.setText(fields["database"])
        self.user.setText(fields["user"])
        self.options.setText(fields["options"])
        from callviewer.secrets import load_secret

        self.password.setText(load_secret(password_key(self.kept_url) or "") or "")

    def chosen_url(self) -> str:
        """The address as the fields say ("" for this computer's own file); ValueError
        with a sentence when a field is missing or wrong."""
        if not self.team.isChecked():
            return ""
        if not self.host.text().strip() or not self.database.text().strip():
            raise ValueError("Enter the team database's server and name, or choose this "
                             "computer's own file.")
        return team_url(self.host.text(), self.port.value(), self.database.text(),
                        self.user.text(), self.options.text())

    def test_connection(self) -> None:
        """Connect off the GUI thread (the runner's JOB lane), without changing the
        database, and say what happened; a test started again replaces the last."""
        try:
            url = self.chosen_url()
        except ValueError as exc:
            self._show_test(str(exc))
            return
        if not url:
            self._show_test("This computer's own file needs no test.")
            return
        if self.password.text():
            register_secret(self.password.text())  # masked in any log the test makes
            url = with_password(url, self.password.text())
        self.test_button.setEnabled(False)
        self.result.setText("Connecting…")
        if self._test is not None:
            self._test.cancel()
        self._test = self._tasks.run(lambda: check_team_database(url)[1], self._show_test,
                                     failed=self._show_test, name="the connection test")

    def _show_test(self, sentence: str) -> None:
        self._test = None
        self.test_button.setEnabled(True)
        self.result.setText(sentence)

    def save(self) -> str | None:
        """Keep the choice: the address in the settings, the password in the keyring.
        Returns a sentence when the database changed (it is used from the next start);
        ValueError with a sentence when the fields are wrong (nothing is kept then)."""
        url = self.chosen_url()
        if url:
            from callviewer.secrets import delete_secret, save_secret

            key = password_key(url)
            if self.password.text():
                save_secret(key, self.password.text(), what="password")
            else:
                delete_secret(key)
        self.settings.setValue(TEAM_DB_KEY, url)
        if url == self.kept_url:
            return None
        self.kept_url = url
        now = f"Call Viewer uses {self.in_use} until it restarts." if self.in_use else ""
        then = (f"the team database {password_key(url)}" if url
                else "this computer's own file")
        override = (f" {ENV_VAR} is set and names the database for now; restarting from "
                    "here leaves it out." if os.environ.get(ENV_VAR) else "")
        return f"From the next start Call Viewer uses {then}. {now}{override}".strip()


def offer_restart(parent: QWidget | None, sentence: str) -> QMessageBox:
    """Ask whether to restart now (the window closes, keeping what was typed) or later."""
    box = QMessageBox(QMessageBox.Icon.Question, "Team database", sentence,
                      parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    restart = box.addButton("&Restart now", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("&Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restart)
    box.buttonClicked.connect(
        lambda button: restart_after_exit() if button is restart else None)
    box.open()
    return box
