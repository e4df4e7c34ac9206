"""The call's timeline in the window: lanes and waveform, click to seek, the keys along it,
Skip silence, a damaged recording, a call with no recording (real VLC, dummy audio)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from timeline_audio import DEMO_TURNS, Turn, render, write_wav
from windows import open_window

from callviewer.playback.now_playing import PAUSED, PLAYING
from callviewer.store import Store
from callviewer.sync.importer import import_paths
from callviewer.timeline.recording import peaks_file
from callviewer.timeline.silence import LEAD_IN_MS


def go_to(qtbot, window, source: str, source_id: str) -> int:
    call_id = window.store.calls.id_of(source, source_id)
    window.show_in_list(call_id)
    qtbot.waitUntil(lambda: window.detail.current_call_id == call_id, timeout=5000)
    return call_id


def decoded(qtbot, window) -> None:
    timeline = window.detail.timeline
    qtbot.waitUntil(lambda: not timeline.waiting, timeout=10_000)


def stereo(qtbot, window) -> int:
    call_id = go_to(qtbot, window, "vapi", "vapi-call-5-stereo")
    decoded(qtbot, window)
    return call_id


def lane_point(timeline, ms: int) -> QPoint:
    return QPoint(round(timeline.x_of(ms)), timeline.lane_rect("agent").center().y())


def test_the_stereo_demo_call_shows_its_waveform_and_a_lane_per_party(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = stereo(qtbot, window)
    timeline = window.detail.timeline
    assert timeline.isVisible() and 60 <= timeline.height() <= 90
    assert timeline.width() >= window.detail.player.width() - 2  # the pane's width
    assert timeline.y() > window.detail.player.y()  # under the player
    assert timeline.problem == "" and timeline.peaks is not None
    assert timeline.peaks.channels == 2
    assert abs(timeline.peaks.duration_ms - 44_500) < 200  # an MP3's padding
    lanes = timeline.lanes
    assert lanes.origin == "transcript" and not lanes.estimated
    said = {role: [(start, end) for r, _text, start, end in DEMO_TURNS if r == role]
            for role in ("agent", "customer")}
    for role, turns in said.items():
        assert [(b.start_ms, b.end_ms) for b in lanes.lane(role)] == turns
    # One party a channel: the agent's channel drawn over the middle, the customer's under.
    assert timeline._channel_roles == ("customer", "agent")
    # Kept in the archive's folder: the next showing reads it instead of decoding.
    assert peaks_file(window.store.archive.folder, call_id).stat().st_size > 1000
    # Drawn: a block's middle is not the colour of the lane between blocks.
    image = timeline.grab().toImage()
    first, gap = lanes.lane("agent")[0], (4300 + 8800) // 2
    block = lane_point(timeline, (first.start_ms + first.end_ms) // 2)
    assert image.pixelColor(block) != image.pixelColor(lane_point(timeline, gap))


def test_a_click_seeks_the_player_and_a_drag_scrubs(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = stereo(qtbot, window)
    timeline, now = window.detail.timeline, window.now_playing
    # Not playing yet: a click plays the call from there.
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=lane_point(timeline, 20_000))
    qtbot.waitUntil(lambda: now.call_id == call_id and now.state == PLAYING
                    and now.position >= 20_000, timeout=6000)
    assert now.position < 21_500
    now.pause()
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=lane_point(timeline, 30_000))
    assert now.state == PAUSED
    assert abs(now.position - 30_000) <= 44_500 / timeline._track()[1] + 1  # one pixel
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=lane_point(timeline, 5_000))
    qtbot.mouseMove(timeline, lane_point(timeline, 12_000))
    assert abs(now.position - 12_000) < 300
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=lane_point(timeline, 12_000))
    # The position line moved with it.
    assert abs(timeline._position_x() - timeline.x_of(12_000)) < 2


def test_the_keys_go_from_message_to_message_and_the_transcript_follows(
        qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = stereo(qtbot, window)
    now, transcript = window.now_playing, window.detail.transcript_view
    now.play(call_id, 0)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=6000)
    now.pause()
    now.seek(0)
    starts = [start for _role, _text, start, _end in DEMO_TURNS]

    def key(which, modifier=Qt.KeyboardModifier.NoModifier, expected=None):
        qtbot.keyClick(window.table, which, modifier)
        qtbot.waitUntil(lambda: transcript.model.playing_row() == expected, timeout=2000)

    key(Qt.Key.Key_Period, expected=0)
    assert now.position == starts[0] and now.state == PAUSED  # paused stays paused
    key(Qt.Key.Key_Period, expected=1)
    assert now.position == starts[1]
    key(Qt.Key.Key_Period, expected=2)
    key(Qt.Key.Key_Comma, expected=1)
    assert now.position == starts[1]
    # Next customer turn: from the customer's row 1 to row 3 (row 2 is the agent's), then 6.
    key(Qt.Key.Key_Period, Qt.KeyboardModifier.ShiftModifier, expected=3)
    assert now.position == starts[3]
    key(Qt.Key.Key_Period, Qt.KeyboardModifier.ShiftModifier, expected=6)
    key(Qt.Key.Key_Comma, Qt.KeyboardModifier.ShiftModifier, expected=3)
    # From the transcript too; and in a text field the key is typed, nothing moves.
    key(Qt.Key.Key_Period, expected=4)
    qtbot.keyClick(transcript.list_view, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: transcript.model.playing_row() == 5, timeout=2000)
    assert now.position == starts[5]
    window.focus_search()
    qtbot.keyClick(window.filters.search, Qt.Key.Key_Period)
    assert window.filters.search.text() == "."
    assert now.position == starts[5]
    # Playing, the highlight goes on following the recording from there.
    now.play(call_id)
    qtbot.waitUntil(lambda: now.position > starts[6] + 200, timeout=6000)
    assert transcript.model.playing_row() == 6


def test_the_keys_move_along_a_call_with_no_recording(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    go_to(qtbot, window, "vapi", "vapi-call-3")
    timeline, transcript = window.detail.timeline, window.detail.transcript_view
    assert not window.detail.player.isVisible()
    # No recording: the lanes from the transcript, estimated, and a line that says so.
    assert timeline.isVisible() and len(timeline.lanes.blocks) == 2
    assert timeline.lanes.estimated and not timeline.waiting
    assert timeline.status == "No recording: times estimated from the length of each message."
    qtbot.keyClick(window.table, Qt.Key.Key_Period)
    qtbot.keyClick(window.table, Qt.Key.Key_Period)
    assert transcript.model.playing_row() == 1
    assert window.now_playing.call_id is None  # nothing to play


def test_an_estimated_block_looks_and_says_estimated(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    go_to(qtbot, window, "twilio", "tw-1")
    decoded(qtbot, window)
    timeline = window.detail.timeline
    assert timeline.peaks is not None and timeline.lanes.origin == "estimate"
    block = timeline.lanes.lane("agent")[0]
    middle = timeline.block_rect(block).center()
    assert "estimated" in timeline.tip_at(middle.x(), middle.y())
    # Hatched: not one flat colour across the block.
    image = timeline.grab().toImage()
    rect = timeline.block_rect(block).toRect().adjusted(2, 2, -2, -2)
    colours = {image.pixelColor(x, y).name() for x in range(rect.left(), rect.left() + 12)
               for y in range(rect.top(), rect.bottom())}
    assert len(colours) > 1


def call_report(folder: Path, name: str, recording: str, turns: list[tuple]) -> Path:
    """A Vapi end-of-call report of one call whose recording is `recording`, beside it."""
    report = {"message": {
        "type": "end-of-call-report", "endedReason": "customer-ended-call",
        "artifact": {"recordingUrl": recording, "messages": [
            {"role": role, "message": text, "secondsFromStart": start / 1000,
             "duration": end - start} for role, text, start, end in turns]},
        "call": {"id": name, "type": "inboundPhoneCall", "orgId": "org-1",
                 "customer": {"number": "+14155550999"},
                 "startedAt": "2026-12-01T09:00:00.000Z",
                 "endedAt": "2026-12-01T09:00:10.000Z"}}}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


@pytest.fixture
def made_calls(tmp_path):
    """A database of two calls: one whose recording is tone, 3 s of silence, tone; one
    whose MP3 is damaged."""
    folder = tmp_path / "calls"
    folder.mkdir()
    rate = 16_000
    write_wav(folder / "gap.wav", render([Turn(0, 500, 3000), Turn(0, 6000, 9000)], 10_000,
                                         rate, channels=1), rate)
    call_report(folder, "gap", "gap.wav", [("bot", "Hello, one moment please.", 500, 3000),
                                           ("bot", "Thanks for waiting.", 6000, 9000)])
    (folder / "broken.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40)
    call_report(folder, "broken", "broken.mp3", [("bot", "Hello.", 0, 1000),
                                                 ("user", "Hi there.", 1500, 2500)])
    path = tmp_path / "made.sqlite3"
    with Store(str(path)) as store:
        assert import_paths(store, [folder]).rejected == 0
    return path


def test_skip_silence_jumps_the_gap_and_says_what_it_saved(qtbot, made_calls, tmp_path):
    window = open_window(qtbot, made_calls, tmp_path)
    call_id = go_to(qtbot, window, "vapi", "gap")
    decoded(qtbot, window)
    detail, now = window.detail, window.now_playing
    assert detail.timeline.peaks is not None
    qtbot.keyClick(window.table, Qt.Key.Key_S)
    assert detail.skipper.enabled and detail.player.skip_button.isChecked()
    assert window.skip_action.isChecked()
    assert detail.player.skip_saved.isVisible()
    assert detail.player.skip_saved.text() == "on · saved 0 s"
    heard: list[int] = []
    now.position_changed.connect(heard.append)
    now.set_rate(2.0)
    now.play(call_id, 0)
    qtbot.waitUntil(lambda: now.state == PLAYING and now.position > 6500, timeout=10_000)
    # Jumped from just after the first tone to just before the second: no speech skipped.
    # (VLC reports its old time for a poll after a seek: the same jump can be seen twice.)
    jumps = [(a, b) for a, b in itertools.pairwise(heard) if b - a > 1000]
    assert jumps
    left, landed = jumps[0]
    assert 3000 <= left <= 3400
    assert landed == 6000 - LEAD_IN_MS
    assert all(3000 <= a <= 3400 and 5500 <= b < 6000 for a, b in jumps)
    assert not [ms for ms in heard if 3500 < ms < 5500]
    saved = detail.skipper.saved_ms(call_id)
    # Counted once: from where the skip was made (a poll after the last one heard here).
    assert landed - left - 200 <= saved <= landed - left
    assert detail.player.skip_saved.text() == "on · saved 2 s"
    # Off again (the player's button): playing on, nothing more is skipped.
    detail.player.skip_button.click()
    assert not detail.skipper.enabled and not detail.player.skip_saved.isVisible()
    assert not window.skip_action.isChecked()


def test_a_damaged_recording_says_so_in_one_line_and_the_lanes_stay(
        qtbot, made_calls, tmp_path):
    window = open_window(qtbot, made_calls, tmp_path)
    go_to(qtbot, window, "vapi", "broken")
    decoded(qtbot, window)
    timeline = window.detail.timeline
    assert timeline.problem == ("The recording broken.mp3 is damaged or not in a sound format "
                                "Call Viewer can read, so its waveform cannot be shown.")
    assert timeline.status == timeline.problem and "\n" not in timeline.status
    assert timeline.peaks is None and timeline.isVisible()
    assert [b.role for b in timeline.lanes.blocks] == ["agent", "customer"]
    assert timeline.grab().toImage().width() > 0  # painted, no crash
    qtbot.keyClick(window.table, Qt.Key.Key_S)  # Skip silence with no silences known
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=lane_point(timeline, 1000))
    qtbot.waitUntil(lambda: window.now_playing.error != "", timeout=6000)


def test_f1_and_the_readme_list_the_timeline_keys():
    from callviewer.ui.window import SHORTCUTS

    listed = dict(SHORTCUTS)
    assert any("Next / previous message" in what for what in listed.values())
    assert any("customer turn" in what for what in listed.values())
    assert listed.get("S", "").startswith("Skip silence")
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "| `.`, `,` |" in text and "Skip silence" in text
    assert "timeline-stereo-light.png" in text
