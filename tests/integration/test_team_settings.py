"""Choosing the team database: `--db`, CALLVIEWER_DB, and Preferences' "Team database" page,
on the real PostgreSQL server; its password lives in the keyring (or the user's own file)
and nowhere else."""

from __future__ import annotations

import os
import subprocess
import sys

import keyring
import pytest
from keyring.backends import fail
from memory_keyring import use_memory_keyring
from pg_server import PASSWORD, USER, free_port
from PySide6.QtCore import QSettings, Qt

from callviewer.dbfile import TEAM_DB_KEY
from callviewer.paths import demo_dir
from callviewer.secrets import save_secret
from callviewer.store import Store
from callviewer.sync.importer import import_paths

WRONG = "wrong-pass-7731"


@pytest.fixture(autouse=True)
def no_keyring():
    """No system keyring in this process (and `cli` gives none to its children): secrets go
    to the user's own file in the test's config folder."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`callviewer ARGS` in a process of its own, as a person runs it."""
    environment = {name: value for name, value in os.environ.items() if name != "CALLVIEWER_DB"}
    environment.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", **env)
    return subprocess.run([sys.executable, "-m", "callviewer", *args], capture_output=True,
                          text=True, timeout=120, env=environment)


def bare_url(postgres, database: str, port: int | None = None, options: str = "") -> str:
    """The team database's address as Preferences keeps it: no password."""
    return (f"postgresql+psycopg://{USER}@127.0.0.1:{port or postgres.port}/{database}"
            + (f"?{options}" if options else ""))


def database_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def assert_one_sentence(done: subprocess.CompletedProcess, sentence: str) -> None:
    assert done.returncode == 2, done
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("callviewer: The database") and sentence in lines[0], lines[0]
    for secret in (PASSWORD, WRONG):
        assert secret not in done.stderr


@pytest.mark.parametrize("verbose", [(), ("-v",)], ids=["quiet", "verbose"])
def test_a_wrong_password_is_one_sentence_without_the_password(postgres, postgres_url,
                                                               verbose):
    url = postgres.url(database_of(postgres_url), password=WRONG)
    assert_one_sentence(cli("info", "--db", url, *verbose),
                        "refused the user name or password; check them and try again.")


def test_a_host_nothing_listens_on_is_one_sentence(postgres, postgres_url):
    url = postgres.url(database_of(postgres_url), port=free_port())
    assert_one_sentence(cli("info", "--db", url),
                        "could not be reached; check its address and that it is running")


def test_a_database_that_does_not_exist_is_one_sentence(postgres):
    assert_one_sentence(cli("info", "--db", postgres.url("no_such_team")),
                        "/no_such_team does not exist on its server; check its name")


def test_no_password_kept_for_the_database_is_one_sentence(postgres, postgres_url):
    assert_one_sentence(cli("info", "--db", bare_url(postgres, database_of(postgres_url))),
                        "asks for a password and none is kept for it")


def test_options_pass_through_to_postgresql(postgres, postgres_url):
    database = database_of(postgres_url)
    assert_one_sentence(cli("info", "--db", postgres.url(database) + "?sslmode=require"),
                        "does not offer encrypted connections, which its sslmode requires")
    assert_one_sentence(cli("info", "--db", postgres.url(database) + "?sslmode=sometimes"),
                        'does not accept (invalid sslmode value: "sometimes")')
    assert_one_sentence(cli("info", "--db", postgres.url(database) + "?colour=blue"),
                        'does not know (invalid connection option "colour")')
    done = cli("info", "--db", postgres.url(database) + "?sslmode=disable&connect_timeout=3"
               "&application_name=front-desk")
    assert done.returncode == 0 and "Calls:      0" in done.stdout, done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_the_kept_password_opens_the_database_from_db_the_environment_and_preferences(
        postgres, postgres_url, tmp_path):
    database = database_of(postgres_url)
    url = bare_url(postgres, database, options="application_name=front-desk")
    save_secret(f"{USER}@127.0.0.1:{postgres.port}/{database}", PASSWORD, what="password")
    config = tmp_path / "config"
    assert PASSWORD.encode() in (config / "callviewer" / "tokens.json").read_bytes()
    shown = f"Database:   postgresql+psycopg://{USER}:***@127.0.0.1:{postgres.port}/{database}"
    for done in (cli("info", "--db", url), cli("info", CALLVIEWER_DB=url)):
        assert done.returncode == 0 and shown in done.stdout, done
        assert PASSWORD not in done.stdout + done.stderr
    # Chosen in Preferences: the window's settings file, which the command line reads too.
    settings = QSettings(str(config / "callviewer" / "callviewer.conf"),
                         QSettings.Format.IniFormat)
    settings.setValue(TEAM_DB_KEY, url)
    settings.sync()
    done = cli("info")
    assert done.returncode == 0 and shown in done.stdout, done
    assert "sqlite" not in done.stdout


# --- Preferences' "Team database" page ------------------------------------------------------

def open_preferences(qtbot, store, settings, tab=None):
    from callviewer.ui.preferences import TEAM_TAB, PreferencesDialog
    from callviewer.ui.tasks import TaskRunner

    tasks = TaskRunner()
    dialog = PreferencesDialog(settings, tasks, None, store, TEAM_TAB if tab is None else tab)
    tasks.setParent(dialog)  # ends with the dialog, after its tests of connections
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


def alt(qtbot, dialog, key):
    qtbot.keyClick(dialog.focusWidget() or dialog, key, Qt.KeyboardModifier.AltModifier)


def type_into(qtbot, dialog, key, text):
    """Alt+KEY to the field, select what is there, and type."""
    alt(qtbot, dialog, key)
    field = dialog.focusWidget()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, text)
    return field


def fill_team_page(qtbot, dialog, postgres, database, password, options=""):
    alt(qtbot, dialog, Qt.Key.Key_B)  # A team data&base
    qtbot.waitUntil(dialog.team_page.team.isChecked)  # a button's mnemonic clicks after 100 ms
    type_into(qtbot, dialog, Qt.Key.Key_V, "127.0.0.1")
    type_into(qtbot, dialog, Qt.Key.Key_P, str(postgres.port))
    type_into(qtbot, dialog, Qt.Key.Key_D, database)
    type_into(qtbot, dialog, Qt.Key.Key_U, USER)
    assert type_into(qtbot, dialog, Qt.Key.Key_W, password) is dialog.team_page.password
    if options:
        type_into(qtbot, dialog, Qt.Key.Key_N, options)


def press_test_connection(qtbot, dialog) -> str:
    page = dialog.team_page
    page.result.setText("")
    alt(qtbot, dialog, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: page.result.text() not in ("", "Connecting…"), timeout=20_000)
    return page.result.text()


@pytest.fixture
def own_store(db):
    with Store(str(db)) as store:
        yield store


def settings_in(folder):
    return QSettings(str(folder / "callviewer" / "callviewer.conf"), QSettings.Format.IniFormat)


def test_test_connection_says_how_the_team_database_stands(qtbot, postgres, postgres_url,
                                                           own_store, tmp_path, caplog):
    caplog.set_level("DEBUG")
    database = database_of(postgres_url)
    where = f"{USER}@127.0.0.1:{postgres.port}/{database}"
    dialog = open_preferences(qtbot, own_store, settings_in(tmp_path / "config"))
    fill_team_page(qtbot, dialog, postgres, database, WRONG)
    assert press_test_connection(qtbot, dialog) == (
        f"The database {where} refused the user name or password; check them and try again.")
    type_into(qtbot, dialog, Qt.Key.Key_W, PASSWORD)
    assert press_test_connection(qtbot, dialog) == (
        f"Connected to {where}. It has no Call Viewer tables yet; they will be created when "
        "you switch to it.")
    # The test changed nothing: still no tables.
    assert postgres.sql("SELECT to_regclass('alembic_version')", database) == [(None,)]
    with Store(postgres_url) as team:
        import_paths(team, [demo_dir()])
        calls = team.calls.summary().calls
    assert calls > 0
    said = press_test_connection(qtbot, dialog)
    assert said == f"Connected to {where}: it holds {calls:,} calls."
    type_into(qtbot, dialog, Qt.Key.Key_P, str(free_port()))
    assert "could not be reached; check its address" in press_test_connection(qtbot, dialog)
    type_into(qtbot, dialog, Qt.Key.Key_N, "sslmode=require")
    type_into(qtbot, dialog, Qt.Key.Key_P, str(postgres.port))
    assert press_test_connection(qtbot, dialog) == (
        f"The database server of {where} does not offer encrypted connections, which its "
        "sslmode requires; ask its administrator, or change sslmode.")
    type_into(qtbot, dialog, Qt.Key.Key_N, "sslmode")
    assert press_test_connection(qtbot, dialog) == (
        "The option “sslmode” is not NAME=VALUE (for example sslmode=require).")
    assert PASSWORD not in caplog.text and WRONG not in caplog.text


def test_save_keeps_the_address_in_the_settings_and_the_password_in_the_keyring(
        qtbot, postgres, postgres_url, own_store, tmp_path):
    memory, before = use_memory_keyring()
    try:
        database = database_of(postgres_url)
        key = f"{USER}@127.0.0.1:{postgres.port}/{database}"
        settings = settings_in(tmp_path / "config")
        dialog = open_preferences(qtbot, own_store, settings)
        fill_team_page(qtbot, dialog, postgres, database, PASSWORD,
                       options="sslmode=disable application_name=front-desk")
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)  # OK
        assert dialog.result() == dialog.DialogCode.Accepted
        box = dialog.restart_question
        qtbot.waitUntil(box.isVisible)
        assert box.text() == (f"From the next start Call Viewer uses the team database {key}. "
                              f"Call Viewer uses {own_store.where} until it restarts.")
        assert box.textFormat() == Qt.TextFormat.PlainText
        later = next(b for b in box.buttons() if b.text() == "&Later")
        later.setFocus()
        qtbot.keyClick(later, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: not box.isVisible())

        url = (f"postgresql+psycopg://{key}?sslmode=disable&application_name=front-desk")
        written = (tmp_path / "config" / "callviewer" / "callviewer.conf").read_bytes()
        assert url.encode() in written and PASSWORD.encode() not in written
        assert memory.kept == {("callviewer", key): PASSWORD}
        assert not (tmp_path / "config" / "callviewer" / "tokens.json").exists()

        # Opened again, the page shows the choice and the kept password, masked.
        again = open_preferences(qtbot, own_store, settings_in(tmp_path / "config"))
        page = again.team_page
        assert page.team.isChecked() and page.host.text() == "127.0.0.1"
        assert page.port.value() == postgres.port and page.database.text() == database
        assert page.options.text() == "sslmode=disable application_name=front-desk"
        assert page.password.text() == PASSWORD
        assert page.password.echoMode() == page.password.EchoMode.Password
        # Back to this computer's own file: the address goes, the restart is offered again.
        alt(qtbot, again, Qt.Key.Key_O)
        qtbot.waitUntil(page.own_file.isChecked)
        qtbot.keyClick(again.focusWidget(), Qt.Key.Key_Return)
        assert again.restart_question.text().startswith(
            "From the next start Call Viewer uses this computer's own file.")
        again.restart_question.reject()
        assert settings_in(tmp_path / "config").value(TEAM_DB_KEY) == ""
    finally:
        keyring.set_keyring(before)


def test_a_team_database_without_a_server_is_not_saved(qtbot, own_store, tmp_path):
    settings = settings_in(tmp_path / "config")
    dialog = open_preferences(qtbot, own_store, settings)
    alt(qtbot, dialog, Qt.Key.Key_B)
    qtbot.waitUntil(dialog.team_page.team.isChecked)
    type_into(qtbot, dialog, Qt.Key.Key_D, "calls")
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() != dialog.DialogCode.Accepted
    assert dialog.team_page.result.text() == (
        "Enter the team database's server and name, or choose this computer's own file.")
    assert settings.value(TEAM_DB_KEY) is None


def test_what_preferences_saved_opens_the_team_database_and_no_secret_leaks(
        qtbot, postgres, postgres_url, own_store, tmp_path):
    """Without a system keyring the password goes to the user's own file; the command line
    (a new process) then opens the team database the page chose."""
    database = database_of(postgres_url)
    dialog = open_preferences(qtbot, own_store, settings_in(tmp_path / "config"))
    fill_team_page(qtbot, dialog, postgres, database, PASSWORD)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    dialog.restart_question.reject()
    config = tmp_path / "config" / "callviewer"
    assert PASSWORD.encode() not in (config / "callviewer.conf").read_bytes()
    assert PASSWORD.encode() in (config / "tokens.json").read_bytes()  # 0600, tested elsewhere
    done = cli("-v", "info")
    assert done.returncode == 0, done.stderr
    assert f"@127.0.0.1:{postgres.port}/{database}" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr


RESTARTING = """
import os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from callviewer.app import database_url
from callviewer.ui.team_page import offer_restart

if "--db" not in sys.argv:  # the second start
    print("again:", sys.argv[1:], os.environ.get("CALLVIEWER_DB"), database_url(None),
          flush=True)
    sys.exit(0)
app = QApplication(sys.argv[:1])
box = offer_restart(None, "From the next start Call Viewer uses this computer's own file.")
restart = next(b for b in box.buttons() if b.text() == "&Restart now")
QTimer.singleShot(0, restart.click)
app.exec()
print("first start ended", flush=True)
"""


def test_restart_now_starts_the_app_again_without_db_once_it_has_ended(tmp_path):
    script = tmp_path / "restarting.py"
    script.write_text(RESTARTING)
    own = tmp_path / "data" / "callviewer" / "callviewer.sqlite3"
    done = subprocess.run(
        [sys.executable, str(script), "--db", str(tmp_path / "given.sqlite3"), "--verbose"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "CALLVIEWER_DB": str(tmp_path / "env.sqlite3"),
             "XDG_DATA_HOME": str(tmp_path / "data"), "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["first start ended",
                                        f"again: ['--verbose'] None sqlite:///{own}"]


@pytest.mark.parametrize("fields", [
    {"host": "db.example.com", "port": 5432, "database": "calls", "user": "ann",
     "options": ""},
    {"host": "::1", "port": 6543, "database": "team calls/2026", "user": "ann@front desk",
     "options": "sslmode=verify-full sslrootcert=/etc/ssl/team+root.crt connect_timeout=4"},
])
def test_the_address_kept_reads_back_as_the_fields_typed(fields):
    from sqlalchemy.engine import make_url

    from callviewer.ui.team_page import team_url, url_fields

    url = team_url(**fields)
    parsed = make_url(url)
    assert (parsed.host, parsed.port, parsed.database, parsed.username, parsed.password) == (
        fields["host"], fields["port"], fields["database"], fields["user"], None)
    assert dict(parsed.query) == dict(pair.split("=") for pair in fields["options"].split())
    assert url_fields(url) == fields
