"""Peaks of real files: generated WAV and MP3 (lame), the demo's MP3s, damaged bytes."""

from __future__ import annotations

import os
import shutil
import wave

import numpy as np
import pytest
from timeline_audio import Turn, lame, render, write_mp3, write_wav

from callviewer.errors import ExpectedError
from callviewer.paths import demo_dir
from callviewer.timeline.peaks import (
    FLOOR_DB,
    MAGIC,
    Peaks,
    PeaksError,
    compute_peaks,
    peaks_of,
    read_peaks,
    write_peaks,
)

TONE = [(1000, 2500), (4000, 4500)]  # ms: a 440 Hz tone here, digital silence elsewhere


def tone_file(path, rate=16000, length_ms=6000, channels=1, spans=TONE):
    t = np.arange(length_ms * rate // 1000) / rate
    signal = np.zeros_like(t)
    for start, end in spans:
        inside = (t >= start / 1000) & (t < end / 1000)
        signal[inside] = 0.5 * np.sin(2 * np.pi * 440 * t[inside])
    frames = np.repeat(np.round(signal * 32767).astype(np.int16)[:, None], channels, axis=1)
    return write_wav(path, frames, rate)


def spans_of(peaks: Peaks, channel: int = 0, over_db: float = -40.0) -> list[tuple[int, int]]:
    """The stretches (ms) whose level is over ``over_db``."""
    loud = peaks.decibels()[channel] > over_db
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(np.int8), [0]))))
    return [(peaks.ms_at(start), peaks.ms_at(end)) for start, end in edges.reshape(-1, 2)]


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100])
def test_peaks_are_where_the_tone_is(tmp_path, rate):
    peaks = compute_peaks(tone_file(tmp_path / "tone.wav", rate=rate))
    assert (peaks.channels, peaks.sample_rate, peaks.duration_ms) == (1, rate, 6000)
    assert abs(peaks.ms_per_peak - 10) < 0.1
    for (start, end), (want_start, want_end) in zip(spans_of(peaks), TONE, strict=True):
        assert abs(start - want_start) <= 10 and abs(end - want_end) <= 10
    db = peaks.decibels()[0]
    assert db[peaks.index_at(1500)] == pytest.approx(-6.0, abs=0.5)  # 0.5 of full scale
    assert db[peaks.index_at(3000)] == FLOOR_DB  # digital silence
    assert peaks.amplitude()[0, peaks.index_at(3000)] == 0.0
    assert peaks.amplitude()[0, peaks.index_at(1500)] == pytest.approx(0.5, abs=0.03)


def test_full_scale_negative_samples_read_as_the_loudest(tmp_path):
    frames = np.full((1600, 2), -32768, dtype=np.int16)
    frames[:, 1] = 0
    peaks = compute_peaks(write_wav(tmp_path / "edge.wav", frames, 16000))
    assert peaks.levels[0].min() == 255 and peaks.levels[1].max() == 0
    assert peaks.count == 10


def test_a_stereo_file_keeps_each_channel_apart(tmp_path):
    turns = [Turn(0, 500, 1500), Turn(1, 2000, 3000)]
    peaks = compute_peaks(write_wav(tmp_path / "two.wav", render(turns, 3500), 16000))
    assert peaks.channels == 2
    left, right = spans_of(peaks, 0, -35), spans_of(peaks, 1, -35)
    assert left[0][0] == pytest.approx(500, abs=30) and left[-1][1] == pytest.approx(1500, abs=30)
    assert right[0][0] == pytest.approx(2000, abs=30)
    assert right[-1][1] == pytest.approx(3000, abs=30)


@pytest.mark.skipif(lame() is None, reason="no MP3 encoder here; the demo MP3 test covers MP3")
def test_an_encoded_mp3_gives_the_same_peaks_as_its_wav(tmp_path):
    turns = [Turn(0, 300, 1200), Turn(1, 1800, 2600)]
    frames = render(turns, 3000, 16000)
    wav = compute_peaks(write_wav(tmp_path / "call.wav", frames, 16000))
    mp3 = compute_peaks(write_mp3(tmp_path / "call.mp3", frames, 16000))
    assert (mp3.channels, mp3.sample_rate) == (2, 16000)
    assert abs(mp3.duration_ms - wav.duration_ms) <= 100
    for channel in (0, 1):
        for (a, b), (c, d) in zip(spans_of(wav, channel, -35), spans_of(mp3, channel, -35),
                                  strict=True):
            assert abs(a - c) <= 30 and abs(b - d) <= 30


def test_the_demo_mp3s_decode(tmp_path):
    for name in ("ap-1001.mp3", "vapi/vapi-call-5-stereo.mp3"):
        peaks = compute_peaks(demo_dir() / name)
        assert peaks.duration_ms > 5000
        assert peaks.levels.max() > 150  # someone speaks, well over the floor
    assert compute_peaks(demo_dir() / "vapi/vapi-call-5-stereo.mp3").channels == 2


@pytest.mark.parametrize("content", [os.urandom(50_000), b"", b"ID3\x04\x00" + b"\x00" * 200,
                                     b"RIFF\x10\x00\x00\x00WAVEfmt "])
def test_a_damaged_recording_gives_one_sentence_naming_it(tmp_path, content):
    path = tmp_path / "CA-damaged.mp3"
    path.write_bytes(content)
    with pytest.raises(PeaksError) as caught:
        peaks_of(path, tmp_path / "CA-damaged.peaks")
    message = str(caught.value)
    assert isinstance(caught.value, ExpectedError)
    assert "CA-damaged.mp3" in message and message.endswith(".") and message.count(". ") == 0
    assert "\n" not in message
    assert not (tmp_path / "CA-damaged.peaks").exists()


def test_a_missing_recording_says_so(tmp_path):
    with pytest.raises(PeaksError, match=r"^The recording gone\.mp3 is not there"):
        peaks_of(tmp_path / "gone.mp3", tmp_path / "gone.peaks")


def test_the_peaks_file_is_small_and_reused(tmp_path):
    audio = write_wav(tmp_path / "call.wav", render([Turn(0, 0, 50_000), Turn(1, 50_000, 60_000)],
                                                    60_000), 16000)
    cache = tmp_path / "peaks" / "call.peaks"
    first = peaks_of(audio, cache)
    data = cache.read_bytes()
    assert data.startswith(MAGIC)
    assert len(data) < 12_000  # a stereo minute: 12,000 levels, deflated
    # Prove the second call reads the file: doctor the levels it holds, keep the stamp.
    doctored = Peaks(first.channels, first.sample_rate, first.frames_per_peak, first.frames,
                     np.full_like(first.levels, 7))
    write_peaks(cache, doctored, audio)
    assert (peaks_of(audio, cache).levels == 7).all()
    # A copy of the same recording elsewhere (another mtime) still matches by digest.
    copy = tmp_path / "copy.wav"
    shutil.copyfile(audio, copy)
    os.utime(copy, ns=(1, 1))
    assert (read_peaks(cache, copy).levels == 7).all()


def test_a_changed_recording_is_measured_again(tmp_path):
    audio = tone_file(tmp_path / "call.wav")
    cache = tmp_path / "call.peaks"
    before = peaks_of(audio, cache)
    tone_file(audio, spans=[(200, 800)])  # same length and size, other content
    os.utime(audio, ns=(10**18, 10**18))
    after = peaks_of(audio, cache)
    assert spans_of(after) == [(200, 800)] and spans_of(before) != spans_of(after)
    assert read_peaks(cache, audio) is not None  # rewritten for the new content


def test_a_damaged_or_foreign_peaks_file_is_replaced(tmp_path):
    audio = tone_file(tmp_path / "call.wav")
    cache = tmp_path / "call.peaks"
    good = peaks_of(audio, cache).levels.copy()
    for junk in (cache.read_bytes()[:-5], b"not peaks", cache.read_bytes()[:20],
                 cache.read_bytes().replace(b"\x01\x00", b"\x09\x00", 1)):
        cache.write_bytes(junk)
        assert read_peaks(cache, audio) is None
        assert np.array_equal(peaks_of(audio, cache).levels, good)
        assert read_peaks(cache, audio) is not None


def test_an_unwritable_cache_still_gives_the_peaks(tmp_path):
    audio = tone_file(tmp_path / "call.wav")
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    assert peaks_of(audio, blocker / "call.peaks").duration_ms == 6000


def test_wav_module_files_of_odd_length_keep_their_last_partial_peak(tmp_path):
    path = tmp_path / "odd.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.full(8085, 16000, dtype=np.int16).tobytes())
    peaks = compute_peaks(path)
    assert peaks.frames == 8085 and peaks.count == 102  # 101 whole peaks of 80 and 5 frames
    assert peaks.duration_ms == 1010
