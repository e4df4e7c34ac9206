"""A clean shutdown: SIGTERM or SIGINT to the real app saves the note being typed, the
layout and the filters, and stops the player; a second signal ends it at once; a close
that hangs is ended in bounded time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from test_app import fresh_home, wait_for_line

from callviewer.store import Store
from callviewer.ui.notes import NEW_NOTE

DRAFT = "Call back on Tuesday about the refund"

# The real start-up (cli.main → app.run), driven after its first paint: a filter and the
# layout changed, the call with a real MP3 playing, a draft typed and not yet saved.
DRIVE = """
import sys, time
from PySide6.QtCore import SIGNAL, Qt, QTimer
from PySide6.QtTest import QTest
from callviewer import app
from callviewer.playback.now_playing import PLAYING
from callviewer.ui import notes, shutdown
from callviewer.ui.tasks import Lane

notes.DRAFT_DELAY_MS = 600_000  # only the shutdown may write the draft
db, mode, draft = sys.argv[1:4]
if mode == "hung":
    shutdown.LIMIT_S = 1
waiting = []

def say(*words):
    print(*words, flush=True)

def until(condition, then):
    timer, started = QTimer(interval=20), time.monotonic()
    def tick():
        if condition():
            timer.stop()
            then()
        elif time.monotonic() - started > 20:
            timer.stop()
            say("gave up waiting")
            app.QApplication.exit(3)
    timer.timeout.connect(tick)
    timer.start()
    waiting.append(timer)

class Drive(app.FirstRows):
    def _say(self):
        super()._say()  # then the store (opened off the GUI thread) and the rest
        self._window.attached.connect(lambda: drive(self._window))

def drive(w):
    call_id = w.store.calls.id_of("agent-platform", "ap-1001")
    QTest.keyClick(w.filters.recording, Qt.Key.Key_Down)  # "With recording"
    w.splitter.setSizes([500, 780])
    w.table.setColumnWidth(2, 150)
    w.now_playing.state_changed.connect(lambda state: say("player", state.value))
    until(lambda: w.model.row_of(call_id) is not None, lambda: play(w, call_id))

def play(w, call_id):
    w.show_in_list(call_id)
    w.now_playing.play(call_id)
    until(lambda: w.now_playing.state == PLAYING and w.detail.current_call_id == call_id
          and w.detail.notes_panel.isEnabled(), lambda: type_draft(w))

def type_draft(w):
    QTest.keyClicks(w.detail.notes_panel.editor, draft)
    if mode in ("stuck", "hung"):  # work that does not stop when asked to
        w.tasks.run(lambda: time.sleep(30), lane=Lane.JOB, name="a stuck job")
    say("filters", w.filters.state()["recording"])
    say("splitter", w.splitter.saveState().toHex().data().decode())
    say("header", w.table.horizontalHeader().saveState().toHex().data().decode())
    say("ready")
    if mode == "exit":  # quitting without closing the window first
        QTimer.singleShot(0, lambda: app.QApplication.exit(0))
    elif mode == "logout":  # a session manager's request (Qt sends it only from one)
        told = app.QApplication.instance().findChild(shutdown.Shutdown)
        told.commit_data(None)
        say("told", app.QApplication.instance().receivers(
            SIGNAL("commitDataRequest(QSessionManager&)")), w.isVisible())

app.FirstRows = Drive
from callviewer.cli import main
sys.exit(main(["-v", "--db", db]))
"""


def start(tmp_path: Path, db: Path, mode: str = "") -> tuple[subprocess.Popen, dict, Path]:
    """The app, driven to the state above; its output so far by name, and its HOME."""
    env = fresh_home(tmp_path)
    process = subprocess.Popen([sys.executable, "-c", DRIVE, str(db), mode, DRAFT], env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = wait_for_line(process, "ready", limit=60)
    said = dict(line.split(" ", 1) for line in lines if line.startswith(
        ("filters ", "splitter ", "header ")))
    assert "player playing\n" in lines
    return process, {k: v.strip() for k, v in said.items()}, Path(env["HOME"])


def stop(process: subprocess.Popen, limit: float) -> tuple[int, str]:
    """Wait for the process to end; its status and the rest of its output."""
    try:
        rest, _ = process.communicate(timeout=limit)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, rest


def draft_of(db: Path) -> str | None:
    with Store(str(db)) as store:
        call_id = store.calls.id_of("agent-platform", "ap-1001")
        draft = store.notes.drafts_of(call_id).get(NEW_NOTE)
    return draft.body if draft else None


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_saves_the_draft_and_the_layout_and_stops_the_player(tmp_path, db, number):
    process, said, home = start(tmp_path, db)
    assert draft_of(db) is None  # typed, not yet saved
    os.kill(process.pid, number)
    status, rest = stop(process, 15)
    assert status == 128 + number, rest
    assert "player stopped" in rest.splitlines()
    assert f"{number.name}: saving and quitting" in rest
    assert_saved(db, home, said)


def test_quitting_without_closing_the_window_saves_too(tmp_path, db):
    process, said, home = start(tmp_path, db, "exit")
    status, rest = stop(process, 15)
    assert status == 0, rest
    assert "player stopped" in rest.splitlines()
    assert_saved(db, home, said)


def test_a_logout_saves_at_once_and_leaves_the_window_open(tmp_path, db):
    process, said, home = start(tmp_path, db, "logout")
    try:
        told = wait_for_line(process, "told ", limit=10)[-1]
        assert told == "told 1 True\n"  # heard from the session, and still open
        assert_saved(db, home, said)
    finally:
        process.send_signal(signal.SIGTERM)
        stop(process, 15)


def assert_saved(db: Path, home: Path, said: dict) -> None:
    """The draft is in the database, and the settings hold the layout and filters the
    window had."""
    assert draft_of(db) == DRAFT
    settings = QSettings(str(home / ".config/callviewer/callviewer.conf"),
                         QSettings.Format.IniFormat)
    assert json.loads(settings.value("list/filters"))["recording"] == int(said["filters"]) == 1
    assert settings.value("window/splitter").toHex().data().decode() == said["splitter"]
    assert settings.value("list/header").toHex().data().decode() == said["header"]


def test_a_second_signal_while_closing_ends_the_app_at_once(tmp_path, db):
    process, _said, _home = start(tmp_path, db, "stuck")  # the close waits up to 10 s
    process.send_signal(signal.SIGTERM)
    wait_for_line(process, "SIGTERM: saving and quitting", limit=10)
    wait_for_line(process, "player stopped", limit=10)  # closing, held up by the stuck job
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status, rest = stop(process, 10)
    assert status == -signal.SIGTERM, rest  # ended by the signal, not by the close
    assert time.monotonic() - asked < 3
    assert draft_of(db) == DRAFT  # the first signal's close had saved it


def test_a_close_that_hangs_is_ended_after_the_limit(tmp_path, db):
    process, _said, _home = start(tmp_path, db, "hung")  # the limit is 1 s here
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status, rest = stop(process, 10)
    assert status == 128 + signal.SIGTERM, rest
    assert "still closing after 1 s: quitting without waiting any longer" in rest
    assert time.monotonic() - asked < 6  # not the 10 s the runner would wait
    assert draft_of(db) == DRAFT
