"""The desktop citizen: one instance per user, crash reports, logs, scheme, About, lazy start."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel
from windows import open_window

from callviewer import app as start
from callviewer.paths import demo_dir
from callviewer.store import Store
from callviewer.sync.importer import import_paths
from callviewer.ui import theme
from callviewer.ui.about import AboutDialog

HEAVY = ("vlc", "requests", "urllib3", "keyring", "watchdog")


def fresh_home(tmp_path: Path) -> dict[str, str]:
    """An environment as a launcher gives it: a fresh HOME, no XDG or database overrides."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "CALLVIEWER_DB", "PYTEST"))}
    env["HOME"] = str(home)
    return env


def launch(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "callviewer", "-v", *args], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_for_line(process: subprocess.Popen, needle: str, limit: float = 30) -> list[str]:
    """Lines of the process's output up to the one containing `needle`."""
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if needle in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(limit), f"no {needle!r} in:\n{''.join(lines)}"
    return lines


def count_calls(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM calls").fetchone()[0]
    finally:
        conn.close()


def test_a_second_launch_hands_its_files_to_the_open_window_and_exits(tmp_path):
    env = fresh_home(tmp_path)
    first = launch(env)
    try:
        wait_for_line(first, "first paint after")
        database = Path(env["HOME"]) / ".local/share/callviewer/callviewer.sqlite3"
        assert count_calls(database) == 0  # the welcome panel, no calls yet
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-c", "import sys; from callviewer.cli import gui_main; "
             "sys.exit(gui_main())", str(demo_dir() / "twilio.json")],
            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        assert second.returncode == 0, second.stderr
        assert time.monotonic() - started < 10
        deadline = time.monotonic() + 15
        while count_calls(database) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        with Store(str(tmp_path / "alone.sqlite3")) as alone:  # the same file imported alone
            expected = import_paths(alone, [demo_dir() / "twilio.json"]).counts.new
        assert count_calls(database) == expected > 0  # imported by the first window
        assert first.poll() is None  # still open
        log = (Path(env["HOME"]) / ".local/state/callviewer/log/callviewer.log").read_text()
        assert "handed 1 files over to the window already open" in log
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(10)


def test_a_crashed_instance_leaves_no_socket_that_blocks_the_next(tmp_path):
    env = fresh_home(tmp_path)
    first = launch(env)
    wait_for_line(first, "first paint after")
    first.kill()  # no clean-up: the socket file stays behind
    first.wait(10)
    second = launch(env)
    try:
        wait_for_line(second, "first paint after")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)


def test_a_hard_crash_is_written_to_the_log_folder(tmp_path):
    env = fresh_home(tmp_path)
    code = ("import faulthandler; from callviewer.app import setup_logging; "
            "setup_logging(False); faulthandler._sigsegv()")
    crashed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             timeout=30)
    assert crashed.returncode != 0
    faults = Path(env["HOME"]) / ".local/state/callviewer/log/faults.log"
    assert "Fatal Python error: Segmentation fault" in faults.read_text()


def test_start_up_loads_no_vlc_http_or_keyring_before_the_first_paint(tmp_path):
    env = fresh_home(tmp_path)
    code = (
        "import sys\n"
        "from callviewer import app\n"
        "from PySide6.QtCore import QTimer\n"
        "said = []\n"
        "class Quit(app.FirstRows):\n"
        "    def _say(self):\n"
        f"        said.append([m for m in {HEAVY!r} if m in sys.modules])\n"
        "        app.QApplication.quit()\n"
        "app.FirstRows = Quit\n"
        "from callviewer.cli import main\n"
        "main([])\n"
        "print('loaded:', said)\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "loaded: [[]]" in done.stdout, done.stdout + done.stderr


def test_the_list_paints_before_the_store_loads_and_the_rest_follows_it(tmp_path, db):
    env = fresh_home(tmp_path)
    store_modules = ("sqlalchemy", "alembic", "callviewer.store", "callviewer.ui.detail",
                     "PySide6.QtNetwork", "logging.handlers")
    code = (
        "import sys\n"
        "from callviewer import app\n"
        "said = []\n"
        "class Watch(app.FirstRows):\n"
        "    def _say(self):\n"
        f"        said.append([m for m in {store_modules!r} if m in sys.modules])\n"
        "        super()._say()  # then the store and the rest of the window\n"
        "        w = self._window\n"
        "        def shown(call_id):  # the detail is read in the background\n"
        "            said.append(w.store is not None and call_id is not None\n"
        "                        and call_id == w.current_call_id())\n"
        "            app.QApplication.quit()\n"
        "        w.attached.connect(lambda: w.detail.call_shown.connect(shown))\n"
        "app.FirstRows = Watch\n"
        "from callviewer.cli import gui_main\n"
        f"gui_main(['--db', {str(db)!r}])\n"
        "print('said:', said)\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "said: [[], True]" in done.stdout, done.stdout + done.stderr


def test_a_new_database_is_created_by_the_store_before_the_window(qtbot, tmp_path):
    path = tmp_path / "new.sqlite3"
    begin = start.Start(str(path), [])
    assert begin.open()
    qtbot.addWidget(begin.window)
    try:
        assert begin.store is not None and begin.window.detail is not None
        assert path.is_file() and begin.window.model.rowCount() == 0
    finally:
        begin.window.close()
        begin.close()


class Answering:
    """Clicks these buttons, in turn, in the message boxes that come, and keeps their texts."""

    def __init__(self, labels: list[str]) -> None:
        self.labels, self.said = list(labels), []
        self.timer = QTimer(interval=50, timeout=self._answer)
        self.timer.start()

    def _answer(self) -> None:
        box = QApplication.activeModalWidget()
        if box is not None and self.labels:
            self.said.append(box.text())
            label = self.labels.pop(0)
            button = next((b for b in box.buttons() if b.text() == label), None)
            if button is None:  # said, and the box closed: the test goes on to fail
                self.said.append(f"no {label!r} button")
                box.reject()
            else:
                button.click()


@pytest.mark.parametrize("then", ["Open This Computer's Calls", "Quit"])
def test_a_team_database_out_of_reach_at_start_offers_this_computers_calls(
        qtbot, postgres, tmp_path, monkeypatch, then):
    from pg_server import free_port

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    answers = Answering(["Try Again", then])
    begin = start.Start(postgres.url("calls", port=free_port()), [])  # nobody listens there
    opened = begin.open()
    answers.timer.stop()
    assert len(answers.said) == 2
    assert all(text.startswith("The team database cannot be opened. ") for text in answers.said)
    if then == "Quit":
        assert not opened and begin.window is None
        return
    qtbot.addWidget(begin.window)
    try:
        assert opened and begin.store.path == tmp_path / "data" / "callviewer" / \
            "callviewer.sqlite3"
        assert begin.window.windowTitle() == "Call Viewer — this computer's calls"
        assert "Restart Call Viewer" in begin.window.statusBar().currentMessage()
        assert not begin.window.empty.isHidden()  # a new file: the welcome panel
    finally:
        begin.window.close()
        begin.close()


def test_files_handed_over_before_the_store_opens_are_imported_once_it_is(qtbot, tmp_path):
    path = tmp_path / "calls.sqlite3"
    Store(str(path)).close()
    begin = start.Start(str(path), [])
    assert begin.open() and begin.store is None  # the list alone, read from the file
    qtbot.addWidget(begin.window)
    try:
        begin.hand_over([demo_dir() / "twilio.json"])
        assert begin.window.store is None and count_calls(path) == 0
        begin.finish()
        qtbot.waitUntil(lambda: begin.window.model.rowCount() > 0, timeout=20_000)
        assert begin.window.store is begin.store
        assert begin.window.model.rowCount() == count_calls(path)
    finally:
        begin.window.close()
        begin.close()


def test_what_is_logged_before_the_first_paint_reaches_the_log_file(tmp_path):
    env = fresh_home(tmp_path)
    code = ("import logging\n"
            "from callviewer import app\n"
            "folder = app.setup_logging(False)\n"
            "logging.getLogger('t').info('before the file')\n"
            "app.log_to_file(folder)\n"
            "app.log_to_file(folder)  # once only\n"
            "logging.getLogger('t').info('after it')\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = (Path(env["HOME"]) / ".local/state/callviewer/log/callviewer.log").read_text()
    lines = lines.splitlines()
    assert [line.split(": ", 1)[1] for line in lines][1:] == ["before the file", "after it"]
    assert "starting" in lines[0]


@pytest.mark.qt_no_exception_capture
def test_an_uncaught_exception_ends_in_a_dialog_and_the_app_goes_on(qtbot, db, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    window = open_window(qtbot, db, tmp_path)
    reporter = start.CrashReporter()
    reporter.parent_window = window
    reporter.install()
    try:
        QTimer.singleShot(0, lambda: {}["a key nobody set"])
        qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
        box = reporter.dialog
        assert box.text().startswith(
            "Call Viewer ran into a problem it did not expect (KeyError: 'a key nobody set').")
        saved = Path(box.text().split("The details were saved to ")[1].split(".txt")[0] + ".txt")
        assert saved.parent == tmp_path / "state" / "callviewer" / "log"
        assert "Traceback" in saved.read_text() and "a key nobody set" in saved.read_text()
        copy = next(b for b in box.buttons() if b.text() == "Copy details")
        copy.click()
        assert QApplication.clipboard().text() == saved.read_text()
        assert box.isVisible()  # copying keeps the dialog
        next(b for b in box.buttons() if b.text() == "Continue").click()
        assert not box.isVisible()
        # A worker thread's exception reaches the same dialog, through the GUI thread.
        worker = threading.Thread(target=lambda: int("not a number"), name="worker")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: reporter.dialog is not box and reporter.dialog.isVisible())
        assert "ValueError" in reporter.dialog.text()
        assert "thread worker" in reporter.dialog.detailedText()
        reporter.dialog.close()
        # And the window still works.
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
        assert window.current_call_id() is not None
    finally:
        reporter.uninstall()


@pytest.mark.qt_no_exception_capture
def test_a_crash_report_keeps_secrets_out(qtbot, tmp_path, monkeypatch):
    from callviewer.redaction import register_secret

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    register_secret("tok_live_SECRET123")
    reporter = start.CrashReporter()
    reporter.install()
    try:
        def fail() -> None:
            raise RuntimeError("GET https://api.example.com/a.mp3?sig=abc123 with "
                               "tok_live_SECRET123 refused")

        QTimer.singleShot(0, fail)
        qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
        shown = reporter.dialog.text() + reporter.dialog.detailedText()
        assert "https://api.example.com/a.mp3" in shown
        assert "sig=abc123" not in shown and "tok_live_SECRET123" not in shown
        reporter.dialog.close()
    finally:
        reporter.uninstall()


def test_the_scheme_follows_the_override_both_ways(qapp, monkeypatch):
    before = QApplication.palette()
    try:
        monkeypatch.setenv(theme.ENV_VAR, "dark")
        theme.apply_scheme(qapp)
        assert theme.is_dark(QApplication.palette())
        monkeypatch.setenv(theme.ENV_VAR, "light")
        theme.apply_scheme(qapp)
        assert not theme.is_dark(QApplication.palette())
    finally:
        QApplication.setPalette(before)


def test_about_says_the_version_the_folders_and_vlc(qtbot, monkeypatch, tmp_path):
    from callviewer import __version__

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    dialog = AboutDialog("/some/calls.sqlite3")
    qtbot.addWidget(dialog)
    shown = "\n".join(label.text() for label in dialog.findChildren(QLabel))
    assert f"Call Viewer {__version__}" in shown
    assert str(tmp_path / "data" / "callviewer") in shown
    assert "libVLC 3." in shown
    assert set(dialog.folders) == {"Data folder", "Log folder"}


def test_about_without_vlc_says_how_to_install_it(qtbot, monkeypatch):
    monkeypatch.setenv("PYTHON_VLC_LIB_PATH", "/nonexistent/libvlc.so.5")
    monkeypatch.delitem(sys.modules, "vlc", raising=False)
    from callviewer.ui.about import vlc_line

    assert vlc_line().startswith("not found. Playing recordings needs VLC.")


def test_the_message_box_of_a_store_that_cannot_open_names_it(tmp_path):
    env = fresh_home(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = subprocess.run(
        [sys.executable, "-c",
         "from PySide6.QtCore import QTimer\n"
         "from PySide6.QtWidgets import QApplication, QLabel\n"
         "from callviewer import app\n"
         "a = app.make_application()\n"
         "def close():\n"
         "    box = QApplication.activeModalWidget()\n"
         "    print('said:', box.text() if box else None)\n"
         "    box and box.done(0)\n"
         "QTimer.singleShot(500, close)\n"
         "from callviewer.cli import main\n"
         f"print('status', main(['--db', {str(blocker / 'calls.sqlite3')!r}]))\n"],
        env=env, capture_output=True, text=True, timeout=60)
    assert "said: Cannot create the folder for the database" in done.stdout, done.stderr
    assert "status 2" in done.stdout
