"""Two desktops' windows on one team database (a real PostgreSQL server): a colleague's
note arrives while the other keeps its place and its typing; notes saved at once are all
kept; a server restart under an open window loses nothing."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from windows import detail_follows, open_window

from callviewer.ui.tasks import Lane

ARRIVAL_S = 1.0  # the bound for a colleague's note to show


@pytest.fixture
def two_desktops(qtbot, team_db, tmp_path, monkeypatch):
    """The front desk's and the support lead's windows, each with its own data folder."""
    windows = []
    for name in ("front", "lead"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / name / "data"))
        windows.append(open_window(qtbot, team_db, tmp_path / name))
    return windows


def go_to(qtbot, window, rows_down: int) -> int:
    qtbot.keyClick(window.table, Qt.Key.Key_Home)
    for _ in range(rows_down):
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
    detail_follows(qtbot, window)
    return window.current_call_id()


def type_note(qtbot, window, text: str) -> None:
    qtbot.keyClick(window.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.detail.notes_panel.editor, text)


def save_note(qtbot, window) -> None:
    qtbot.keyClick(window.detail.notes_panel.editor, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)
    # Written in the background: until the database has answered.
    qtbot.waitUntil(lambda: not window.tasks.busy(Lane.WRITE), timeout=15_000)


def bodies(window) -> list[str]:
    return [note.body for note in window.store.notes.of(window.current_call_id())]


def shown_notes(window) -> str:
    return window.detail.notes_panel.title.text()


def test_a_colleagues_note_arrives_within_a_second_and_the_other_keeps_its_place(
        qtbot, two_desktops):
    front, lead = two_desktops
    lead.resize(900, 300)  # a list that scrolls
    call_id = go_to(qtbot, lead, 20)
    top = lead.table.rowAt(0)
    assert top > 0
    type_note(qtbot, lead, "half typed")
    assert go_to(qtbot, front, 20) == call_id
    type_note(qtbot, front, "Booked the engineer for Tuesday")
    save_note(qtbot, front)
    qtbot.waitUntil(lambda: shown_notes(lead) == "Notes (1)", timeout=int(ARRIVAL_S * 1000))
    # The note is shown as text, with its author; the list counts it.
    labels = [label.text() for label in lead.detail.notes_panel.findChildren(QLabel)]
    assert any(text.strip("\u200e") == "Booked the engineer for Tuesday" for text in labels)
    row = lead.table.currentIndex().row()
    assert lead.model.index(row, 8).data() == "1"
    # Nothing moved under the lead: the same call, the same rows in view, the typing.
    assert lead.current_call_id() == lead.detail.current_call_id == call_id
    assert lead.table.rowAt(0) == top
    editor = lead.detail.notes_panel.editor
    assert editor.toPlainText() == "half typed" and editor.hasFocus()


def test_notes_saved_at_once_on_two_desktops_are_all_kept(qtbot, two_desktops):
    front, lead = two_desktops
    call_id = go_to(qtbot, front, 3)
    assert go_to(qtbot, lead, 3) == call_id
    for n in range(5):
        type_note(qtbot, front, f"front {n}")
        type_note(qtbot, lead, f"lead {n}")
        save_note(qtbot, front)
        save_note(qtbot, lead)
    want = sorted([f"front {n}" for n in range(5)] + [f"lead {n}" for n in range(5)])
    assert sorted(bodies(front)) == want
    qtbot.waitUntil(lambda: shown_notes(front) == shown_notes(lead) == "Notes (10)",
                    timeout=int(ARRIVAL_S * 1000))


def test_a_server_restart_under_an_open_window_loses_nothing(qtbot, team_db, postgres,
                                                             tmp_path):
    window = open_window(qtbot, team_db, tmp_path)
    call_id = go_to(qtbot, window, 2)
    postgres.halt()
    try:
        qtbot.waitUntil(window.unreachable.isVisible, timeout=15_000)
        assert window.unreachable.text() == "Team database unreachable — retrying"
        type_note(qtbot, window, "Typed while the server was down")
        save_note(qtbot, window)
        panel = window.detail.notes_panel
        assert panel.waiting_label.isVisible()
        assert "Not saved yet" in panel.waiting_label.text()
        assert panel.editor.toPlainText() == "Typed while the server was down"
        qtbot.keyClick(window.table, Qt.Key.Key_Down)  # browsing goes on, without a crash
        qtbot.keyClick(window.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Not marked: "),
                        timeout=15_000)
        qtbot.keyClick(window.table, Qt.Key.Key_Up)
    finally:
        postgres.start()
    qtbot.waitUntil(lambda: not window.unreachable.isVisible(), timeout=20_000)
    qtbot.waitUntil(lambda: not window.tasks.busy(Lane.WRITE), timeout=15_000)
    assert window.store.notes.of(call_id)[0].body == "Typed while the server was down"
    assert len(window.store.notes.of(call_id)) == 1
    assert not window.detail.notes_panel.waiting_label.isVisible()
    assert window.store.notes.drafts_of(call_id) == {}


def test_a_note_whose_saves_answer_was_lost_is_kept_once_when_saved_again(
        qtbot, team_db, postgres, tmp_path):
    from losing_proxy import LosingProxy

    proxy = LosingProxy(postgres.port)
    try:
        window = open_window(qtbot, proxy.url(team_db), tmp_path)
        call_id = go_to(qtbot, window, 2)
        type_note(qtbot, window, "Quote sent")
        proxy.lose_commit_of(b"INSERT INTO notes")
        save_note(qtbot, window)  # the server takes it; its answer never comes
        panel = window.detail.notes_panel
        assert proxy.lost.is_set()
        assert "Not saved yet" in panel.waiting_label.text()
        assert panel.editor.toPlainText() == "Quote sent"
        save_note(qtbot, window)  # again, as the sentence invites
        assert not panel.waiting_label.isVisible() and panel.editor.toPlainText() == ""
        assert bodies(window) == ["Quote sent"]
        qtbot.waitUntil(lambda: shown_notes(window) == "Notes (1)", timeout=2000)
        assert window.store.calls.get(call_id).note_count == 1
    finally:
        proxy.close()


def test_a_colleagues_note_shows_who_wrote_it_and_only_its_author_can_change_it(
        qtbot, two_desktops):
    from callviewer.ui.preferences import AUTHOR_KEY

    front, lead = two_desktops
    front.settings.setValue(AUTHOR_KEY, "Omar")
    lead.settings.setValue(AUTHOR_KEY, "Maria")
    call_id = go_to(qtbot, front, 4)
    assert go_to(qtbot, lead, 4) == call_id
    type_note(qtbot, front, "Quote sent")
    save_note(qtbot, front)
    qtbot.waitUntil(lambda: shown_notes(lead) == "Notes (1)", timeout=int(ARRIVAL_S * 1000))

    def buttons(window) -> set[str]:
        return {button.text() for button in window.detail.notes_panel.findChildren(QPushButton)
                if button.isVisibleTo(window.detail.notes_panel)}

    assert {"Edit", "Delete"} <= buttons(front)
    assert not {"Edit", "Delete"} & buttons(lead)
    labels = [label.text() for label in lead.detail.notes_panel.findChildren(QLabel)]
    assert any(text.startswith("Omar · ") for text in labels)
    # The lead marks it done; the front desk sees who did, and when.
    qtbot.keyClick(lead.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: front.detail.fields["Done"].text().startswith(
        "Yes · marked by Maria, "), timeout=int(ARRIVAL_S * 1000))
    assert front.model.index(front.table.currentIndex().row(), 7).data() == "✓"
