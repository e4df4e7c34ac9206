"""Call statistics from lanes: talk share, longest monologue, silence, interruptions."""

from __future__ import annotations

import pytest
from timeline_audio import DEMO_DURATION_MS, DEMO_TURNS, demo_turns, render, write_wav

from callviewer.record import message
from callviewer.timeline.lanes import Block, Lanes, lanes_of
from callviewer.timeline.peaks import compute_peaks
from callviewer.timeline.silence import Silence, find_silences
from callviewer.timeline.stats import call_stats


def lanes(*blocks, origin="transcript"):
    return Lanes(tuple(Block(*block) for block in blocks), origin)


def test_talk_share_monologue_silence_and_interruptions():
    stats = call_stats(lanes(
        (0, 4000, "agent", 0),
        (4200, 6000, "agent", 1),  # same speaker after 0.2 s: one monologue of 6 s
        (7000, 9000, "customer", 2),
        (8500, 10_000, "agent", 3),  # starts 0.5 s before the customer ends: interrupts
        (9900, 12_000, "customer", 4),  # 0.1 s overlap: a ragged edge, no interruption
        (12_000, 12_000, "tool", 5),  # takes no time
        (15_000, 16_000, "agent", 6),
    ), duration_ms=18_000)
    assert stats.talk_ms == {"agent": 4000 + 1800 + 1500 + 1000, "customer": 2000 + 2100}
    assert stats.talk_share["agent"] == pytest.approx(8300 / 12_400)
    assert stats.talk_share["customer"] == pytest.approx(4100 / 12_400)
    assert (stats.longest_monologue_ms, stats.longest_monologue_role,
            stats.longest_monologue_start_ms) == (6000, "agent", 0)
    assert stats.interruptions == 1 and stats.overlap_ms == 500 + 100
    assert stats.silence_ms == 3000 + 2000  # 12–15 s and 16–18 s; 6–7 s is only a pause
    assert not stats.estimated


def test_silences_from_the_recording_replace_the_gaps_between_blocks():
    stats = call_stats(lanes((0, 1000, "agent", 0)), 10_000,
                       silences=[Silence(1000, 3000), Silence(6000, 10_000)])
    assert stats.silence_ms == 6000


def test_an_empty_or_estimated_call():
    empty = call_stats(Lanes((), "none"), 5000)
    assert empty.talk_share == {"agent": 0.0, "customer": 0.0}
    assert empty.longest_monologue_role is None and empty.silence_ms == 5000
    said = [message("agent", "Hello."), message("customer", "Hi, I need help.")]
    estimated = call_stats(lanes_of(said, duration_ms=4000), 4000)
    assert estimated.estimated and estimated.interruptions == 0


def test_the_stats_of_a_stereo_recording(tmp_path):
    path = write_wav(tmp_path / "demo.wav", render(demo_turns(), DEMO_DURATION_MS), 16000)
    peaks = compute_peaks(path)
    found = lanes_of([message(role, text) for role, text, _, _ in DEMO_TURNS], peaks=peaks)
    stats = call_stats(found, peaks.duration_ms, find_silences(peaks))
    agent = sum(end - start for role, _, start, end in DEMO_TURNS if role == "agent")
    customer = sum(end - start for role, _, start, end in DEMO_TURNS if role == "customer")
    assert stats.talk_ms["agent"] == pytest.approx(agent, abs=300)
    assert stats.talk_ms["customer"] == pytest.approx(customer, abs=300)
    assert stats.interruptions == 1  # "So it is not my router?" over the agent
    assert stats.overlap_ms == pytest.approx(300, abs=100)
    assert stats.silence_ms == pytest.approx(3800 + 5600 + 1500, abs=200)
    assert stats.longest_monologue_role == "agent"
    assert stats.longest_monologue_ms == pytest.approx(4600, abs=100)
