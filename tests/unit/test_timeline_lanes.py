"""Lanes from the transcript's times, from a stereo file's channels, and estimated."""

from __future__ import annotations

import orjson
import pytest
from timeline_audio import DEMO_DURATION_MS, DEMO_TURNS, Turn, demo_turns, render, write_wav

from callviewer.paths import demo_dir
from callviewer.record import message, tool_message
from callviewer.timeline.lanes import Block, lanes_of
from callviewer.timeline.peaks import compute_peaks

RATE = 16000


def stereo(tmp_path, turns, length_ms, name="call.wav"):
    return compute_peaks(write_wav(tmp_path / name, render(turns, length_ms, RATE), RATE))


def untimed(turns=DEMO_TURNS):
    return [message(role, text) for role, text, _, _ in turns]


@pytest.fixture(scope="module")
def demo_peaks(tmp_path_factory):
    return stereo(tmp_path_factory.mktemp("lanes"), demo_turns(), DEMO_DURATION_MS)


def test_stereo_channels_give_the_lanes_within_100_ms(demo_peaks):
    lanes = lanes_of(untimed(), peaks=demo_peaks)
    assert lanes.origin == "channels" and not lanes.estimated
    assert lanes.channel_roles == ("customer", "agent")
    assert len(lanes.blocks) == len(DEMO_TURNS)
    for block, (role, _, start, end) in zip(lanes.blocks, DEMO_TURNS, strict=True):
        assert block.role == role
        assert abs(block.start_ms - start) <= 100 and abs(block.end_ms - end) <= 100
    assert [block.row for block in lanes.blocks] == list(range(len(DEMO_TURNS)))


def test_swapped_channels_are_read_from_the_transcripts_order(tmp_path):
    # The agent on the left this time (as VICIdial records): the transcript's first
    # speaker decides.
    turns = [Turn(1 - turn.channel, turn.start_ms, turn.end_ms) for turn in demo_turns()]
    lanes = lanes_of(untimed(), peaks=stereo(tmp_path, turns, DEMO_DURATION_MS))
    assert lanes.channel_roles == ("agent", "customer")
    assert [b.role for b in lanes.blocks] == [role for role, *_ in DEMO_TURNS]


def test_given_channel_roles_win_and_no_transcript_takes_the_default(demo_peaks):
    forced = lanes_of(untimed(), peaks=demo_peaks, channel_roles=("agent", "customer"))
    assert forced.blocks[0].role == "customer" and forced.channel_roles == ("agent", "customer")
    bare = lanes_of([], peaks=demo_peaks)
    assert bare.origin == "channels" and bare.channel_roles == ("customer", "agent")
    assert all(block.row is None for block in bare.blocks)


def test_a_transcript_that_does_not_match_the_turns_leaves_blocks_unnamed(demo_peaks):
    lanes = lanes_of(untimed()[:4], peaks=demo_peaks)
    assert lanes.origin == "channels" and len(lanes.blocks) == len(DEMO_TURNS)
    assert all(block.row is None for block in lanes.blocks)


def test_several_messages_in_one_turn_share_its_blocks(tmp_path):
    # One agent turn with a pause of 700 ms in it (two blocks), said as two messages.
    turns = [Turn(1, 500, 2000), Turn(1, 2700, 4000), Turn(0, 5000, 6000)]
    said = [message("agent", "Hello there, thanks for calling."),
            message("agent", "How can I help?"), message("customer", "Hi.")]
    lanes = lanes_of(said, peaks=stereo(tmp_path, turns, 6500))
    assert [(b.role, b.row) for b in lanes.blocks] == [("agent", 0), ("agent", 1),
                                                       ("customer", 2)]
    timed = lanes.timed(said)
    assert abs(timed[1]["start_ms"] - 2700) <= 100 and abs(timed[2]["end_ms"] - 6000) <= 100
    assert "start_ms" in said[0] and said[0]["start_ms"] is None  # the input is left alone


def test_tool_lines_are_estimated_instants_among_channel_blocks(demo_peaks):
    said = untimed()
    said.insert(5, tool_message("line_test", {"account": "447192"}, "noise after 18:00"))
    lanes = lanes_of(said, peaks=demo_peaks)
    tool = lanes.lane("tool")
    assert len(tool) == 1 and tool[0].estimated and tool[0].row == 5
    assert tool[0].start_ms == tool[0].end_ms == lanes.of_row(6)[0].start_ms


def test_transcript_times_come_first(demo_peaks):
    timed = [message(role, text, start, end) for role, text, start, end in DEMO_TURNS]
    lanes = lanes_of(timed, peaks=demo_peaks)
    assert lanes.origin == "transcript" and not lanes.estimated
    assert [(b.start_ms, b.end_ms, b.role, b.row) for b in lanes.blocks] == \
        [(start, end, role, row) for row, (role, _, start, end) in enumerate(DEMO_TURNS)]


def test_transcript_starts_without_ends_last_until_the_next_message():
    story = "Hi, I have a question about a very long story " * 3
    said = [message("system", "You are a helpful agent."), message("agent", "Hello!", 0),
            message("customer", story, 2000),
            message("agent", "Sure.", 20_000)]
    lanes = lanes_of(said, duration_ms=21_000)
    assert [(b.row, b.start_ms, b.end_ms) for b in lanes.blocks] == [
        (1, 0, 1400),  # "Hello!" + padding at a slow 10 characters a second
        # Capped by its length, not stretched over the silence after it.
        (2, 2000, 2000 + (len(story) + 8) * 100),
        (3, 20_000, 21_000),  # ends with the recording
    ]


def test_untimed_messages_between_timed_ones_are_estimated():
    said = [message("agent", "Hello, how can I help?", 0), message("customer", "My bill."),
            message("agent", "Let me look.", 6000)]
    lanes = lanes_of(said, duration_ms=9000)
    assert lanes.origin == "transcript" and lanes.estimated
    middle = lanes.of_row(1)[0]
    assert middle.estimated and 0 < middle.start_ms < 6000
    assert not lanes.of_row(0)[0].estimated


def test_without_times_or_stereo_the_follow_along_estimate_is_used(tmp_path):
    mono = compute_peaks(write_wav(tmp_path / "mono.wav",
                                   render([Turn(0, 0, 3000)], 3000, RATE, channels=1), RATE))
    said = untimed()
    lanes = lanes_of(said, peaks=mono)
    assert lanes.origin == "estimate" and lanes.estimated
    assert all(block.estimated for block in lanes.blocks)
    assert [b.row for b in lanes.blocks] == list(range(len(said)))
    assert lanes.blocks[0].start_ms == 0 and lanes.blocks[-1].end_ms <= 3000
    starts = [b.start_ms for b in lanes.blocks]
    assert starts == sorted(starts)
    assert lanes_of([], duration_ms=5000).origin == "none"


def test_next_and_previous_blocks_jump_by_turns(demo_peaks):
    lanes = lanes_of(untimed(), peaks=demo_peaks)
    assert lanes.next_block(0).row == 0
    assert lanes.next_block(9000).row == 3
    assert lanes.next_block(9000, "customer").row == 3
    assert lanes.next_block(16_000, "customer").row == 6
    assert lanes.next_block(42_000) is None
    assert lanes.previous_block(16_000).row == 2  # row 3 began 0.6 s ago: still "this one"
    assert lanes.previous_block(18_000).row == 3
    assert lanes.previous_block(500) is None


def test_the_demo_stereo_call_agrees_with_its_transcript():
    report = orjson.loads((demo_dir() / "vapi" / "stereo-end-of-call-report.json").read_bytes())
    artifact = report["message"]["artifact"]
    peaks = compute_peaks(demo_dir() / "vapi" / artifact["recordingUrl"])
    assert peaks.channels == 2
    said = [message({"bot": "agent", "user": "customer"}[m["role"]], m["message"])
            for m in artifact["messages"]]
    lanes = lanes_of(said, peaks=peaks)
    assert lanes.origin == "channels" and len(lanes.blocks) == len(said)
    for block, given in zip(lanes.blocks, artifact["messages"], strict=True):
        start = round(given["secondsFromStart"] * 1000)
        assert abs(block.start_ms - start) <= 100
        assert abs(block.end_ms - (start + given["duration"])) <= 100


def test_blocks_are_plain_values():
    assert Block(0, 10, "agent", 1) == Block(0, 10, "agent", 1, estimated=False)


def test_the_other_partys_echo_on_a_channel_is_not_speech(tmp_path):
    # A poor line: each side hears the other at -16 dB.
    frames = render(demo_turns(), DEMO_DURATION_MS, RATE, crosstalk_db=-16.0)
    lanes = lanes_of(untimed(), peaks=compute_peaks(write_wav(tmp_path / "echo.wav", frames,
                                                              RATE)))
    assert len(lanes.blocks) == len(DEMO_TURNS)
    for block, (role, _, start, end) in zip(lanes.blocks, DEMO_TURNS, strict=True):
        assert block.role == role
        assert abs(block.start_ms - start) <= 100 and abs(block.end_ms - end) <= 100


def test_a_mono_mix_on_two_channels_is_no_pair_of_parties(tmp_path):
    mix = render(demo_turns(), DEMO_DURATION_MS, RATE, channels=2, crosstalk_db=0.0)
    same = compute_peaks(write_wav(tmp_path / "mix.wav", mix, RATE))
    assert same.channels == 2
    lanes = lanes_of(untimed(), peaks=same)
    assert lanes.origin == "estimate" and lanes.estimated
