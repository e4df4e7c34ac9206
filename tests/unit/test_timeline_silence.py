"""Silences of a generated tone-and-silence file, and skip-silence never skipping speech."""

from __future__ import annotations

import numpy as np
import pytest
from timeline_audio import Turn, render, write_wav

from callviewer.timeline.peaks import compute_peaks
from callviewer.timeline.silence import (
    LEAD_IN_MS,
    SILENCE_MS,
    Jump,
    Silence,
    SkipSilence,
    find_silences,
    silences_between,
)

# Speech (ms) on a mono file: gaps of 2 s, 0.6 s (a pause, not a silence), 3 s, and 1.5 s
# of silence at the start and 2 s at the end.
SPEECH = [(1500, 4000), (6000, 7000), (7600, 9000), (12000, 14000)]
LENGTH = 16000


@pytest.fixture(scope="module")
def peaks(tmp_path_factory):
    path = tmp_path_factory.mktemp("silence") / "call.wav"
    frames = render([Turn(0, start, end) for start, end in SPEECH], LENGTH, 16000, channels=1)
    return compute_peaks(write_wav(path, frames, 16000))


def test_the_silences_are_the_gaps_over_a_second(peaks):
    found = find_silences(peaks)
    want = [(0, 1500), (4000, 6000), (9000, 12000), (14000, 16000)]
    assert len(found) == len(want)
    for silence, (start, end) in zip(found, want, strict=True):
        assert abs(silence.start_ms - start) <= 50 and abs(silence.end_ms - end) <= 50


def test_skipping_jumps_every_gap_and_no_speech(peaks):
    skip = SkipSilence(find_silences(peaks), peaks.duration_ms)
    # Play the file as the player would, polling every 50 ms, seeking when told.
    heard = np.zeros(LENGTH // 10, dtype=bool)
    position, jumps = 0, 0
    while position < LENGTH:
        target = skip.target_at(position)
        if target is not None:
            assert target > position
            position, jumps = target, jumps + 1
            continue
        heard[position // 10:(position + 50) // 10] = True
        position += 50
    assert jumps == 4
    for start, end in SPEECH:  # all of every word was heard...
        assert heard[start // 10:end // 10].all()
        # ...with a lead-in before each, where the speech follows a skipped silence.
        if start > 1000:
            assert heard[(start - LEAD_IN_MS + 50) // 10:start // 10].all()
    skipped = LENGTH // 10 - heard.sum()
    assert abs(skipped * 10 - skip.saved_ms) <= 4 * 50
    assert skip.saved_ms > 6000  # 1.2 + 1.55 + 2.55 + 1.85 s or so


def test_jump_targets_land_in_silence_just_before_speech(peaks):
    silences = find_silences(peaks)
    for jump in SkipSilence(silences, peaks.duration_ms).jumps:
        assert not any(start <= jump.from_ms < end or start < jump.to_ms < end
                       for start, end in SPEECH)
        following = [start for start, _ in SPEECH if start >= jump.to_ms]
        if following:
            assert following[0] - jump.to_ms == pytest.approx(LEAD_IN_MS, abs=50)
        else:
            assert jump.to_ms == peaks.duration_ms


def test_next_jump_is_the_one_ahead():
    skip = SkipSilence([Silence(0, 2000), Silence(5000, 8000)], 10_000)
    assert skip.jumps == (Jump(0, 1700), Jump(5150, 7700))
    assert skip.next_jump(0) == Jump(0, 1700) and skip.target_at(0) == 1700
    assert skip.next_jump(1700) == Jump(5150, 7700) and skip.target_at(1700) is None
    assert skip.target_at(5100) is None and skip.target_at(6000) == 7700
    assert skip.next_jump(7700) is None
    assert skip.saved_ms == 1700 + 2550
    assert skip.saved_after(6000) == 1700


def test_a_short_pause_is_no_silence_and_an_empty_call_is_all_silence():
    assert silences_between([(0, 1000), (1900, 3000)], 3000) == []
    assert silences_between([], 5000) == [Silence(0, 5000)]
    assert SkipSilence([Silence(0, 5000)], 5000).jumps == (Jump(0, 5000),)
    assert silences_between([(0, 1000)], 2000, min_ms=SILENCE_MS) == []


def test_digital_silence_and_a_constant_tone(tmp_path):
    quiet = np.zeros((32000, 1), dtype=np.int16)
    assert find_silences(compute_peaks(write_wav(tmp_path / "q.wav", quiet, 16000))) == \
        [Silence(0, 2000)]
    loud = render([Turn(0, 0, 3000)], 3000, 16000, channels=1)
    assert find_silences(compute_peaks(write_wav(tmp_path / "l.wav", loud, 16000))) == []
    # One level throughout: a tone is someone there, a faint hum is nobody.
    t = np.arange(48000) / 16000
    for amplitude, silent in ((8000, False), (10, True)):
        hum = np.round(amplitude * np.sin(2 * np.pi * 50 * t)).astype(np.int16)[:, None]
        found = find_silences(compute_peaks(write_wav(tmp_path / "c.wav", hum, 16000)))
        assert found == ([Silence(0, 3000)] if silent else [])
