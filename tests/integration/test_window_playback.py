"""Playback in the window: one NowPlaying, three views that agree, real VLC (dummy audio)."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from windows import go_to, open_window, play

from callviewer.playback.follow import Timeline
from callviewer.playback.now_playing import PAUSED, PLAYING
from callviewer.ui.player import PAUSE, PLAY
from callviewer.ui.theme import dark_palette


def test_space_plays_the_current_call_and_every_view_says_so(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = play(qtbot, window, "ap-1001", past_ms=1200, timeout=6000)
    now = window.now_playing
    row = window.model.row_of(call_id)
    # The bar, the detail's player and the list's play column show the same state.
    assert window.player_bar.play_button.text() == PAUSE
    assert window.player_bar.who.text().startswith("\u2068Maya Cohen")
    position, length = window.player_bar.where.text().split(" of ")
    minutes, seconds = position.split(":")
    assert int(minutes) * 60 + int(seconds) == now.position // 1000
    assert length == "19 s"
    assert window.detail.player.play_button.text() == PAUSE
    assert window.detail.player.slider.value() == now.position
    assert window.detail.player.total.text() == "19 s"
    delegate = window.table.itemDelegateForColumn(0)
    assert delegate._call_id(row) == now.call_id
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert now.state == PAUSED
    assert window.player_bar.play_button.text() == PLAY
    assert window.detail.player.play_button.text() == PLAY
    qtbot.keyClick(window.detail.transcript_view.list_view, Qt.Key.Key_MediaTogglePlayPause)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=3000)


def on_screen(window, call_id: int):
    """The list's play cell of a call as the screen shows it (not as it would repaint)."""
    table = window.table
    rect = table.visualRect(window.model.index(window.model.row_of(call_id), 0))
    at = table.viewport().mapTo(window, rect.topLeft())
    return window.screen().grabWindow(window.winId(), at.x(), at.y(), rect.width(),
                                      rect.height()).toImage()


def test_the_list_repaints_the_play_cell_of_the_playing_call(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = go_to(qtbot, window, "ap-1001")
    qtbot.wait(50)
    idle = on_screen(window, call_id)
    now = window.now_playing
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING and now.position > 300, timeout=6000)
    qtbot.wait(60)
    early = on_screen(window, call_id)
    assert early != idle  # ⏸ and the start of the progress line
    qtbot.waitUntil(lambda: now.position > 3000, timeout=6000)
    qtbot.wait(60)
    assert on_screen(window, call_id) != early  # the progress line grew
    now.stop()
    qtbot.wait(60)
    assert on_screen(window, call_id) == idle


def test_selecting_another_call_keeps_playing_and_shows_that_calls_own_play(
        qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    playing_id = go_to(qtbot, window, "ap-1001")
    now = window.now_playing
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=6000)
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    assert window.current_call_id() != playing_id
    qtbot.wait(300)
    assert now.state == PLAYING and now.call_id == playing_id
    assert window.detail.player.play_button.text() == PLAY  # this call's own, not playing
    assert window.detail.player.slider.value() == 0
    assert window.player_bar.play_button.text() == PAUSE
    # Back on the playing call: its live position.
    qtbot.keyClick(window.table, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: window.detail.player.slider.value() > 0, timeout=3000)
    assert window.detail.player.play_button.text() == PAUSE


def test_clicking_the_bar_selects_the_playing_call(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    playing_id = go_to(qtbot, window, "ap-1002")
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.keyClick(window.table, Qt.Key.Key_Home)
    assert window.current_call_id() != playing_id
    qtbot.mouseClick(window.player_bar.who, Qt.MouseButton.LeftButton)
    assert window.current_call_id() == playing_id


def test_seek_and_speed_keys(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    go_to(qtbot, window, "ap-1001")
    now = window.now_playing
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING and now.duration > 0, timeout=6000)
    before = now.position
    qtbot.keyClick(window.table, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert now.position >= before + 5000
    qtbot.keyClick(window.table, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert abs(now.position - before) < 600
    qtbot.keyClick(window.table, Qt.Key.Key_BracketRight)
    assert now.rate == 1.25
    assert window.detail.player.rate.currentText() == "1.25×"
    qtbot.keyClick(window.table, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window.table, Qt.Key.Key_BracketLeft)
    assert now.rate == 0.75
    # In a text field the keys are text.
    qtbot.keyClick(window.table, Qt.Key.Key_Slash)
    qtbot.keyClicks(window.filters.search, "[")
    assert now.rate == 0.75
    assert window.filters.search.text() == "["


def test_the_transcript_follows_the_recording_and_a_click_seeks(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = go_to(qtbot, window, "ap-1001")
    call = window.store.calls.get(call_id)
    timeline = Timeline(call.transcript, call.duration_ms)
    now = window.now_playing
    model = window.detail.transcript_view.model
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=6000)
    for row in (2, 4, 1):
        now.seek(timeline.start_of(row) + 200)
        qtbot.waitUntil(lambda row=row: model.playing_row() == row, timeout=2000)
    # A click on a bubble seeks to its message.
    view = window.detail.transcript_view.list_view
    view.scrollTo(model.index(3))
    rect = view.visualRect(model.index(3))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert timeline.start_of(3) <= now.position < timeline.start_of(3) + 600
    qtbot.waitUntil(lambda: model.playing_row() == 3, timeout=2000)


def test_a_recording_that_is_missing_says_so_in_the_bar_and_the_detail(qtbot, db, tmp_path):
    conn = sqlite3.connect(db)
    conn.execute("UPDATE calls SET recording = '/nowhere/gone.mp3' WHERE source_id = 'ap-1003'")
    conn.commit()
    conn.close()
    window = open_window(qtbot, db, tmp_path)
    go_to(qtbot, window, "ap-1003")
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    # Found out off the GUI thread: as the call was selected, or on the way ("Loading…").
    qtbot.waitUntil(lambda: window.player_bar.message.text()
                    == "Recording file not found: /nowhere/gone.mp3", timeout=5_000)
    assert window.detail.player.error.text() == "Recording file not found: /nowhere/gone.mp3"
    # Readable where it is, in the light scheme and the dark one (the palette's BrightText,
    # white on a light window, could not be seen).
    for palette in (QPalette(QColor("#efefef")), dark_palette()):
        window.setPalette(palette)
        error = window.detail.player.error
        text = error.palette().color(error.foregroundRole())
        ground = error.palette().color(QPalette.ColorRole.Window)
        assert contrast(text, ground) >= 3, (text.name(), ground.name())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG's contrast ratio of two colours."""
    def luminance(colour: QColor) -> float:
        parts = [c / 255 for c in (colour.red(), colour.green(), colour.blue())]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_scrolling_by_hand_stops_following_until_follow_is_pressed(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    window.resize(1000, 560)  # a transcript taller than its view
    go_to(qtbot, window, "ap-1001")
    now, detail = window.now_playing, window.detail
    view = detail.transcript_view.list_view
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=6000)
    bar = view.verticalScrollBar()
    if bar.maximum() == 0:
        pytest.skip("the whole transcript fits: nothing to scroll")
    bar.triggerAction(bar.SliderAction.SliderToMinimum)
    assert detail.follow_button.isVisible()
    now.seek(now.duration - 2500)
    qtbot.waitUntil(lambda: detail.transcript_view.model.playing_row() == 4, timeout=2000)
    assert bar.value() == 0  # not followed while scrolled away
    qtbot.mouseClick(detail.follow_button, Qt.MouseButton.LeftButton)
    assert not detail.follow_button.isVisible()
    assert view.viewport().rect().intersects(view.visualRect(view.model().index(4)))
