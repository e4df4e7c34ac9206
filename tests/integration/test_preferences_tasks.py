"""Preferences and Add connection never wait for the database on the window's thread: what
they show is read on the task runner and shown when it comes, what they change is written
there, and what the database refuses is said in the dialog (or, for what OK saves, in the
window's status bar), never as a crash report.

Real windows and dialogs on real SQLite files (another connection holding the write lock,
or a damaged file open read-only), the calls API on loopback, a real PostgreSQL server for
a team member's display name."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import pytest
from fake_calls_api import TOKEN
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog
from test_window_no_db_wait import STALL_S, EventLoopGaps, record_crashes, write_lock_held
from windows import open_window

from callviewer.store import Store
from callviewer.ui.preferences import MB, READING, SYNC_TAB, PreferencesDialog, archive_sentence
from callviewer.ui.tasks import Lane

HOLD_S = 2.0  # how long another program holds the write lock
DAMAGED = "is damaged; it is open read-only. Restore it from a backup"


def type_into(qtbot, field, text: str) -> None:
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def open_sync_page(qtbot, window):
    """Preferences ▸ Sync, once what it shows has been read."""
    window.show_preferences(SYNC_TAB)
    page = window.preferences.sync_page
    qtbot.waitUntil(lambda: not page.reading and page.cap.isEnabled(), timeout=5000)
    return page


def add_through_dialog(qtbot, page, name: str, url: str, token: str = TOKEN):
    """Add connection… ▸ Agent platform, its fields typed, Enter; the dialog (still open)."""
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    dialog = page.add_dialog
    qtbot.waitUntil(lambda: dialog.reading_names is None)
    dialog.vendor.setCurrentIndex(dialog.vendor.findText("Agent platform"))
    type_into(qtbot, dialog.name, name)
    type_into(qtbot, dialog.url, url)
    type_into(qtbot, dialog.secret, token)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    return dialog


def damaged_copy(db, tmp_path):
    """The demo database with a connection, then a page of its search index overwritten:
    what Preferences reads can still be read, and the store is read-only once it finds
    the damage (before its first write)."""
    path = tmp_path / "damaged.sqlite3"
    shutil.copy(db, path)
    with Store(str(path)) as store:
        store.sync.add_connection("main", "calls-api", {"url": "http://127.0.0.1:9"})
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    [(page,)] = conn.execute("SELECT max(pageno) FROM dbstat WHERE name = 'calls_fts_data'")
    conn.close()
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size)
        file.write(bytes([0xA5]) * page_size)
    return path


def test_a_locked_database_never_stalls_preferences_and_all_lands_after(qtbot, db, tmp_path,
                                                                         api):
    from callviewer.sync.connection import module_for

    window = open_window(qtbot, db, tmp_path)
    window.now_playing.prepare()  # libVLC starts on this thread once: not measured
    # Nor is importing a vendor's connector (requests, urllib3: ~250 ms once per process),
    # which the dialog does on this thread when the vendor is first chosen.
    module_for("calls-api")
    with write_lock_held(db):
        held = time.monotonic()
        gaps = EventLoopGaps()
        page = open_sync_page(qtbot, window)  # reads go on beside the writer
        for megabytes in (100, 200, 300):
            page.cap.setValue(megabytes)
        qtbot.waitUntil(lambda: not page.reading)
        assert page.archive.text() == archive_sentence(window.store, 300 * MB)
        dialog = add_through_dialog(qtbot, page, "main", api.url)
        # The add waits for the lock on its own thread; the dialog stays, saying so.
        assert dialog.isVisible() and dialog.message.text() == "Adding…"
        assert not dialog.add_button.isEnabled()
        qtbot.wait(max(0, int((HOLD_S - (time.monotonic() - held)) * 1000)))
        assert dialog.isVisible() and window.tasks.busy(Lane.JOB)  # still waiting
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=10_000)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    assert page.table.item(0, 0).text() == "main"
    assert page.message.text().startswith("Added main. No system keyring is available")
    longest = gaps.stop()
    print(f"longest event-loop gap in Preferences with the write lock held {HOLD_S:g} s: "
          f"{longest * 1000:.1f} ms")
    assert longest < STALL_S, f"the window stalled {longest * 1000:.0f} ms"
    assert [row.name for row in window.store.sync.connections()] == ["main"]


def test_what_ok_saves_lands_after_the_dialog_and_the_window_have_closed(qtbot, db,
                                                                         tmp_path):
    window = open_window(qtbot, db, tmp_path)
    page = open_sync_page(qtbot, window)
    assert page.cap.value() == 0 and page.cap.specialValueText() == "No cap"
    page.cap.setValue(250)
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    # Let go by a thread of its own, a second from now: this one is busy closing by then.
    let_go = threading.Timer(1.0, lambda: (holder.execute("ROLLBACK"), holder.close()))
    let_go.start()
    try:
        started = time.perf_counter()
        window.preferences.accept()
        took = time.perf_counter() - started
        assert not window.preferences.isVisible() and window.tasks.busy(Lane.WRITE)
        assert took < STALL_S, f"OK took {took * 1000:.0f} ms"
        window.close()  # waits for the writes asked for
    finally:
        let_go.join(10)
    with Store(str(db)) as other:
        assert other.archive.cap() == 250 * MB


def test_the_connections_show_when_read_and_remove_waits_for_its_answer(qtbot, db,
                                                                        tmp_path, api):
    with Store(str(db)) as store:
        store.sync.add_connection("front desk", "calls-api", {"url": api.url})
        store.sync.add_connection("exports", "folder", {"folder": str(tmp_path)})
    window = open_window(qtbot, db, tmp_path)
    window.show_preferences(SYNC_TAB)
    page = window.preferences.sync_page
    assert page.message.text() == READING and page.table.rowCount() == 0  # quiet until read
    assert not page.cap.isEnabled() and page.archive.text() == READING
    qtbot.waitUntil(lambda: page.table.rowCount() == 2)
    assert page.message.text() == ""
    assert [page.table.item(row, 1).text() for row in range(2)] == ["Watched folder",
                                                                    "Agent platform"]
    qtbot.waitUntil(page.cap.isEnabled)
    qtbot.waitUntil(lambda: page.archive.text().startswith("The archive holds"))
    page.table.selectRow(0)
    page.remove_selected()
    assert page.message.text() == "Removing exports…"
    assert not page.remove_button.isEnabled() and not page.add_button.isEnabled()
    qtbot.waitUntil(lambda: page.message.text() != "Removing exports…")
    assert page.message.text() == "Removed exports; its calls and recordings stay."
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    assert page.remove_button.isEnabled() and page.add_button.isEnabled()
    assert [row.name for row in window.store.sync.connections()] == ["front desk"]


def test_a_refused_add_or_remove_is_said_in_the_dialog_never_as_a_crash(qtbot, db, tmp_path,
                                                                        monkeypatch, tasks):
    crashes = record_crashes(monkeypatch)
    path = damaged_copy(db, tmp_path)
    with Store(str(path)) as store:
        dialog = PreferencesDialog(QSettings(str(tmp_path / "s.ini"),
                                             QSettings.Format.IniFormat), tasks, None, store,
                                   SYNC_TAB)
        qtbot.addWidget(dialog)
        dialog.show()
        page = dialog.sync_page
        qtbot.waitUntil(lambda: page.table.rowCount() == 1 and not page.reading)
        add = add_through_dialog(qtbot, page, "second", "http://127.0.0.1:9")
        qtbot.waitUntil(lambda: add.message.text() != "Adding…", timeout=10_000)
        assert DAMAGED in add.message.text() and add.isVisible()
        assert add.add_button.isEnabled() and add.result() != QDialog.DialogCode.Accepted
        add.reject()
        page.table.selectRow(0)
        page.remove_selected()
        qtbot.waitUntil(lambda: DAMAGED in page.message.text(), timeout=10_000)
        assert page.remove_button.isEnabled() and page.table.rowCount() == 1
        assert [row.name for row in store.sync.connections()] == ["main"]
        assert crashes == []


def test_an_add_left_with_esc_still_lands_and_is_said(qtbot, db, tmp_path, api):
    window = open_window(qtbot, db, tmp_path)
    page = open_sync_page(qtbot, window)
    with write_lock_held(db):
        dialog = add_through_dialog(qtbot, page, "main", api.url)
        assert dialog.message.text() == "Adding…"
        qtbot.keyClick(dialog.secret, Qt.Key.Key_Escape)
        assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    qtbot.waitUntil(lambda: page.message.text().startswith("Added main."), timeout=10_000)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    assert dialog.result() == QDialog.DialogCode.Rejected  # not opened again by the answer


def test_what_closed_dialogs_could_not_write_is_said_in_the_status_bar(qtbot, db, tmp_path,
                                                                       monkeypatch):
    crashes = record_crashes(monkeypatch)
    path = damaged_copy(db, tmp_path)
    window = open_window(qtbot, path, tmp_path)
    page = open_sync_page(qtbot, window)
    dialog = add_through_dialog(qtbot, page, "second", "http://127.0.0.1:9")
    dialog.reject()  # before the refusal came
    qtbot.waitUntil(lambda: DAMAGED in window.statusBar().currentMessage(), timeout=10_000)
    assert dialog.message.text() == ""
    window.statusBar().clearMessage()
    page.cap.setValue(100)
    window.preferences.accept()
    assert not window.preferences.isVisible()
    qtbot.waitUntil(lambda: DAMAGED in window.statusBar().currentMessage(), timeout=10_000)
    assert window.store.archive.cap() is None and crashes == []
    assert [row.name for row in window.store.sync.connections()] == ["main"]


# --- a team member's display name -------------------------------------------------------

@pytest.fixture
def member(postgres):
    """A team database and a member's own role in it (`team add-user`, as an administrator
    runs it); the roles are dropped afterwards (they are the whole server's)."""
    import subprocess
    import sys

    name = postgres.database()
    admin_url = postgres.url(name)
    Store(admin_url).close()
    done = subprocess.run([sys.executable, "-m", "callviewer", "team", "add-user", "ann",
                           "--db", admin_url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    password = next(line for line in done.stdout.splitlines()
                    if line.startswith("Password")).rsplit(" ", 1)[1]
    yield f"postgresql+psycopg://ann:{password}@127.0.0.1:{postgres.port}/{name}"
    postgres.drop(name)
    for role in ("ann", f"callviewer_admin_{name}", f"callviewer_{name}"):
        postgres.sql(f'DROP ROLE IF EXISTS "{role}"')


def test_the_display_name_is_written_after_the_dialog_has_closed(qtbot, member, tmp_path,
                                                                  tasks):
    from callviewer.store import team_roles

    with Store(member) as store:
        dialog = PreferencesDialog(QSettings(str(tmp_path / "s.ini"),
                                             QSettings.Format.IniFormat), tasks, None, store)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.author.accessibleName() == "Display name"
        type_into(qtbot, dialog.author, "Ann Lee")
        qtbot.keyClick(dialog.author, Qt.Key.Key_Return)
        assert not dialog.isVisible()  # at once; the name goes on the write lane
        assert tasks.wait(Lane.WRITE, 10_000)
        with store.reading() as conn:
            assert team_roles.display_names(conn) == {"ann": "Ann Lee"}
