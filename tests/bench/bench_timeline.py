"""A 30-minute call's peaks against miniaudio's own decode of the same file, in one run.

    .venv/bin/python tests/bench/bench_timeline.py [--minutes 30] [--rate 16000] [--tries 3]

Generates a stereo call (two synthetic voices taking turns, one per channel, silences
between: tests/timeline_audio.py) as a 16-bit WAV and, when lame is installed, an MP3;
then, for each file, times (medians of --tries, the runs interleaved):

- ``decode_file``: miniaudio decoding the whole file into memory, at the file's own
  channels and rate (what the issue's 1.5x target is measured against);
- ``stream``: miniaudio's streaming decoder drained without doing anything (a stricter
  yardstick: the decode alone, no big buffer);
- ``peaks cold``: `peaks_of` with no peaks file (decode, measure, write the file);
- ``peaks cached``: `peaks_of` again, reading the file it wrote.

and the memory each of decode_file and peaks_of holds at most (tracemalloc, in a
separate untimed pass), and the peaks file's size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import miniaudio
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: timeline_audio

from timeline_audio import Turn, lame, render, write_mp3, write_wav  # noqa: E402

from callviewer.timeline.peaks import peaks_of  # noqa: E402

TARGET = 1.5


def make_call(folder: Path, minutes: int, rate: int) -> list[Path]:
    """A ``minutes``-long stereo call as WAV (and MP3 with lame): seven generated minutes
    of turns and pauses, repeated (seven, so that the peaks file does not shrink by the
    repetition: deflate looks back 32 KB, under three minutes of one channel's peaks)."""
    distinct = [_minute(rate, seed) for seed in range(min(7, minutes))]
    frames = np.concatenate([distinct[index % len(distinct)] for index in range(minutes)])
    files = [write_wav(folder / "call.wav", frames, rate)]
    if lame():
        started = time.perf_counter()
        files.append(write_mp3(folder / "call.mp3", frames, rate,
                               bitrate=32 if rate <= 16000 else 96))
        print(f"(lame encoded the MP3 in {time.perf_counter() - started:.1f} s)")
    else:
        print("(no lame here: WAV only)")
    return files


def _minute(rate: int, seed: int) -> np.ndarray:
    turns, at, channel = [], 400, 1
    rng = np.random.default_rng(seed)
    while at < 58_000:
        length = int(rng.uniform(1500, 7000))
        turns.append(Turn(channel, at, min(at + length, 59_500)))
        at += length + int(rng.choice([300, 600, 900, 1800, 3500]))
        channel = 1 - channel
    return render(turns, 60_000, rate, seed=seed)


def decode_whole(path: Path, rate: int) -> None:
    # At the file's own channels and rate, as peaks_of decodes: no conversion in either.
    miniaudio.decode_file(str(path), nchannels=2, sample_rate=rate)


def stream_whole(path: Path, rate: int) -> None:
    for _ in miniaudio.stream_file(str(path), nchannels=2, sample_rate=rate,
                                   frames_to_read=rate * 10):
        pass


def peaks_cold(path: Path, cache: Path) -> None:
    cache.unlink(missing_ok=True)
    peaks_of(path, cache)


def timed(action, *args) -> float:
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


def most_memory(action, *args) -> int:
    tracemalloc.start()
    try:
        action(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench(path: Path, rate: int, tries: int) -> float:
    cache = path.with_suffix(".peaks")
    info = miniaudio.get_file_info(str(path))
    assert (info.nchannels, info.sample_rate) == (2, rate), "the file is not what was made"
    runs: dict[str, list[float]] = {"decode_file": [], "stream": [], "peaks cold": [],
                                    "peaks cached": []}
    for _ in range(tries):  # interleaved, so the machine's moods touch all alike
        runs["decode_file"].append(timed(decode_whole, path, rate))
        runs["stream"].append(timed(stream_whole, path, rate))
        runs["peaks cold"].append(timed(peaks_cold, path, cache))
        runs["peaks cached"].append(timed(peaks_of, path, cache))
    median = {name: statistics.median(values) for name, values in runs.items()}
    size_mb = path.stat().st_size / 1e6
    print(f"\n{path.name}: {size_mb:.1f} MB")
    for name, seconds in median.items():
        print(f"  {name:<13} {seconds * 1000:9.1f} ms")
    ratio = median["peaks cold"] / median["decode_file"]
    print(f"  peaks cold / decode_file = {ratio:.2f}x (target <= {TARGET}x) "
          f"{'OK' if ratio <= TARGET else 'OVER'}")
    print(f"  peaks cold / stream      = {median['peaks cold'] / median['stream']:.2f}x")
    memory = {"decode_file": most_memory(decode_whole, path, rate),
              "peaks_of": most_memory(peaks_cold, path, cache)}
    print("  most memory held: " + ", ".join(f"{name} {value / 1e6:.1f} MB"
                                              for name, value in memory.items()))
    peaks = peaks_of(path, cache)
    minutes = peaks.duration_ms / 60_000
    print(f"  peaks file: {cache.stat().st_size / 1000:.0f} KB for {minutes:.0f} min "
          f"({cache.stat().st_size / 1000 / minutes:.1f} KB/min, {peaks.channels} channels)")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--rate", type=int, default=16000, help="sample rate of the call")
    parser.add_argument("--tries", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = make_call(Path(folder), args.minutes, args.rate)
        ratios = [bench(path, args.rate, args.tries) for path in files]
    return 0 if all(ratio <= TARGET for ratio in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
