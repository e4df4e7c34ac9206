"""A recording's loudness envelope: decoded once with miniaudio, kept in a small peaks file.

The envelope holds, for each channel, the loudest sample of every ~10 ms (100 peaks a
second) as one byte on a decibel scale: 0 is ``FLOOR_DB`` or quieter, 255 full scale.
A log scale keeps the quiet parts of a phone call (noise at -60 dB, soft speech at
-40 dB) apart, which a linear byte would round to zero; `Peaks.amplitude` gives the
linear values for drawing.

Decoding streams ten seconds at a time into one reused buffer, so a 30-minute call needs
a few MB, not the 300 MB of its whole PCM. The peaks file (`write_peaks`) is versioned,
little-endian and deflated; it names its source by size, mtime and a sampled digest, so
a changed recording is decoded again and a copy of the same recording elsewhere (a
team's share, another desktop's archive) is still recognised.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callviewer.atomic import write_bytes
from callviewer.errors import ExpectedError

log = logging.getLogger(__name__)

PEAKS_PER_SECOND = 100
FLOOR_DB = -80.0  # level byte 0: digital silence and anything this quiet
CHUNK_SECONDS = 10  # decoded per read: big enough that Python's per-chunk cost vanishes

MAGIC = b"CVPEAKS\x00"
FORMAT_VERSION = 1
# magic, version, channels, sample rate, frames per peak, frames decoded, peak count,
# source size, source mtime (ns), source digest, crc32 of the payload, payload length.
_HEADER = struct.Struct("<8sHHIIQIQq16sII")
_SAMPLE = 64 * 1024  # bytes hashed at each of the start, middle and end of the source


class PeaksError(ExpectedError):
    """A recording that cannot be decoded; str() is the sentence to show."""


@dataclass(frozen=True, eq=False)
class Peaks:
    """One recording's envelope: ``levels[channel, i]`` covers frames
    ``i * frames_per_peak`` up to ``(i + 1) * frames_per_peak``."""

    channels: int
    sample_rate: int
    frames_per_peak: int
    frames: int  # PCM frames decoded: the recording's exact length
    levels: np.ndarray  # uint8, shape (channels, count), decibel scale (module docstring)

    @property
    def count(self) -> int:
        """How many peaks each channel has."""
        return self.levels.shape[1]

    @property
    def duration_ms(self) -> int:
        """The recording's length, from the frames decoded."""
        return self.frames * 1000 // self.sample_rate

    @property
    def peaks_per_second(self) -> float:
        """The envelope's resolution: 100, or close to it when the rate is odd."""
        return self.sample_rate / self.frames_per_peak

    @property
    def ms_per_peak(self) -> float:
        """Milliseconds each peak covers (10 ms, or close to it when the rate is odd)."""
        return self.frames_per_peak * 1000 / self.sample_rate

    def ms_at(self, index: int) -> int:
        """Where peak ``index`` starts, in ms from the recording's start."""
        return index * self.frames_per_peak * 1000 // self.sample_rate

    def index_at(self, position_ms: int) -> int:
        """The peak covering ``position_ms`` (clamped to the recording)."""
        index = position_ms * self.sample_rate // (1000 * self.frames_per_peak)
        return max(0, min(self.count - 1, index))

    def decibels(self) -> np.ndarray:
        """The levels as dBFS (float32, same shape); ``FLOOR_DB`` stands for silence."""
        return (self.levels.astype(np.float32) * (-FLOOR_DB / 255) + FLOOR_DB)

    def amplitude(self) -> np.ndarray:
        """The levels as linear amplitude 0..1 (float32, same shape), for drawing."""
        linear = np.power(10.0, self.decibels() / 20, dtype=np.float32)
        linear[self.levels == 0] = 0.0
        return linear

    def mixed(self) -> np.ndarray:
        """The loudest channel at each peak (uint8 levels, shape (count,)): anyone speaking."""
        return self.levels.max(axis=0)


def peaks_of(audio_path: Path | str, cache_path: Path | str) -> Peaks:
    """The peaks of ``audio_path``: read from ``cache_path`` when it is of this very
    recording, else decoded and written there (atomically) for next time.

    Raises PeaksError when the recording is missing or cannot be decoded. A peaks file
    that cannot be written (a read-only share, a full disk) is only logged.
    """
    audio_path, cache_path = Path(audio_path), Path(cache_path)
    stamp = _stamp(audio_path)
    cached = read_peaks(cache_path, audio_path, stamp)
    if cached is not None:
        return cached
    peaks = compute_peaks(audio_path)
    try:
        write_peaks(cache_path, peaks, audio_path, stamp)
    except OSError as exc:
        log.warning("Could not keep the peaks of %s in %s: %s", audio_path, cache_path, exc)
    return peaks


def compute_peaks(audio_path: Path | str) -> Peaks:
    """Decode ``audio_path`` (MP3, WAV, FLAC, Ogg Vorbis) once and measure its peaks."""
    from miniaudio import ffi, lib

    audio_path = Path(audio_path)
    if not audio_path.is_file():
        raise PeaksError(f"The recording {audio_path.name} is not there any more ({audio_path}).")
    decoder = ffi.new("ma_decoder *")
    # Channels and rate 0: the file's own, so nothing is mixed down or resampled.
    config = lib.ma_decoder_config_init(lib.ma_format_s16, 0, 0)
    if sys.platform == "win32":
        result = lib.ma_decoder_init_file_w(ffi.new("wchar_t[]", str(audio_path)),
                                            ffi.addressof(config), decoder)
    else:
        result = lib.ma_decoder_init_file(os.fsencode(audio_path), ffi.addressof(config), decoder)
    if result != lib.MA_SUCCESS:
        raise _undecodable(audio_path, f"miniaudio result {result}")
    try:
        return _measure(decoder, audio_path)
    finally:
        lib.ma_decoder_uninit(decoder)


def _measure(decoder, audio_path: Path) -> Peaks:
    from miniaudio import ffi, lib

    channels, rate = int(decoder.outputChannels), int(decoder.outputSampleRate)
    if not 0 < channels <= 8 or rate <= 0:
        raise _undecodable(audio_path, f"{channels} channels at {rate} Hz")
    frames_per_peak = max(1, rate // PEAKS_PER_SECOND)
    chunk = frames_per_peak * PEAKS_PER_SECOND * CHUNK_SECONDS
    buffer = ffi.new("int16_t[]", chunk * channels)
    samples = np.frombuffer(ffi.buffer(buffer), dtype=np.int16)
    got = ffi.new("ma_uint64 *")
    parts: list[np.ndarray] = []
    frames = 0
    while True:
        result = lib.ma_decoder_read_pcm_frames(decoder, buffer, chunk, got)
        count = int(got[0])
        if count:
            parts.append(_chunk_peaks(samples[:count * channels], channels, frames_per_peak))
            frames += count
        if result != lib.MA_SUCCESS or count < chunk:
            if result not in (lib.MA_SUCCESS, lib.MA_AT_END):
                # A damaged stretch part-way: keep what came before it, as players do.
                log.warning("Decoding %s stopped at frame %d (miniaudio result %d)",
                            audio_path, frames, result)
            break
    if frames == 0:
        raise _undecodable(audio_path, "no frames")
    peaks = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    return Peaks(channels, rate, frames_per_peak, frames, _LEVELS[peaks])


def _chunk_peaks(samples: np.ndarray, channels: int, frames_per_peak: int) -> np.ndarray:
    """The largest absolute sample of each peak's frames, per channel: shape (channels, n)."""
    # |int16| as uint16: -32768 wraps to itself as int16, which reads as 32768 unsigned.
    magnitude = np.abs(samples).view(np.uint16)
    if channels > 1:
        # Channel-major first: a max along contiguous memory is ten times one across frames.
        magnitude = magnitude.reshape(-1, channels).T.copy()
    magnitude = magnitude.reshape(channels, -1)
    frames = magnitude.shape[1]
    whole = frames // frames_per_peak
    peaks = magnitude[:, :whole * frames_per_peak].reshape(channels, whole, frames_per_peak).max(2)
    if whole * frames_per_peak < frames:  # the last, partial peak at the very end
        peaks = np.hstack([peaks, magnitude[:, whole * frames_per_peak:].max(1, keepdims=True)])
    return peaks


def _level_table() -> np.ndarray:
    """uint8 level of every 16-bit magnitude 0..32768 (index), on the decibel scale."""
    magnitude = np.arange(32769, dtype=np.float64)
    with np.errstate(divide="ignore"):
        db = 20 * np.log10(magnitude / 32768)
    scaled = np.round((db - FLOOR_DB) * (255 / -FLOOR_DB))
    return np.clip(np.nan_to_num(scaled, neginf=0), 0, 255).astype(np.uint8)


_LEVELS = _level_table()


def _undecodable(audio_path: Path, detail: str) -> PeaksError:
    log.info("Cannot decode %s: %s", audio_path, detail)
    return PeaksError(f"The recording {audio_path.name} is damaged or not in a sound format "
                      f"Call Viewer can read, so its waveform cannot be shown.")


# The peaks file ----------------------------------------------------------------------


def write_peaks(cache_path: Path | str, peaks: Peaks, audio_path: Path | str,
                stamp: tuple[int, int] | None = None) -> None:
    """Write ``peaks`` of ``audio_path`` to ``cache_path``, whole or not at all."""
    cache_path, audio_path = Path(cache_path), Path(audio_path)
    size, mtime_ns = stamp or _stamp(audio_path)
    payload = zlib.compress(np.ascontiguousarray(peaks.levels, dtype=np.uint8).tobytes(), 6)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, peaks.channels, peaks.sample_rate,
                          peaks.frames_per_peak, peaks.frames, peaks.count, size, mtime_ns,
                          _digest(audio_path, size), zlib.crc32(payload), len(payload))
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(cache_path, header + payload)


def read_peaks(cache_path: Path | str, audio_path: Path | str,
               stamp: tuple[int, int] | None = None) -> Peaks | None:
    """The peaks kept in ``cache_path`` if they are of ``audio_path`` as it is now; None
    when the file is absent, of another version or recording, or damaged."""
    cache_path, audio_path = Path(cache_path), Path(audio_path)
    try:
        data = cache_path.read_bytes()
    except OSError:
        return None
    try:
        return _parse(data, audio_path, stamp or _stamp(audio_path))
    except (ValueError, struct.error, zlib.error) as exc:
        log.info("Peaks file %s is not usable (%s); decoding again", cache_path, exc)
        return None


def _parse(data: bytes, audio_path: Path, stamp: tuple[int, int]) -> Peaks | None:
    (magic, version, channels, rate, frames_per_peak, frames, count, size, mtime_ns, digest,
     crc, length) = _HEADER.unpack_from(data)
    if magic != MAGIC or version != FORMAT_VERSION:
        raise ValueError(f"not a version {FORMAT_VERSION} peaks file")
    if size != stamp[0]:
        return None
    if mtime_ns != stamp[1] and digest != _digest(audio_path, size):
        return None
    payload = data[_HEADER.size:]
    if len(payload) != length or zlib.crc32(payload) != crc:
        raise ValueError("damaged payload")
    raw = zlib.decompress(payload)
    if channels == 0 or len(raw) != channels * count or rate == 0 or frames_per_peak == 0:
        raise ValueError("inconsistent header")
    levels = np.frombuffer(raw, dtype=np.uint8).reshape(channels, count)
    return Peaks(channels, rate, frames_per_peak, frames, levels)


def _stamp(audio_path: Path) -> tuple[int, int]:
    try:
        status = audio_path.stat()
    except OSError:
        raise PeaksError(f"The recording {audio_path.name} is not there any more "
                         f"({audio_path}).") from None
    return status.st_size, status.st_mtime_ns


def _digest(audio_path: Path, size: int) -> bytes:
    """A digest of the size and three 64 KB samples (start, middle, end) of the file.

    Not the whole file: hashing a 300 MB WAV would cost a fifth of decoding it, and any
    real change to a recording (re-encoded, cut, replaced) changes these bytes too.
    """
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    try:
        with open(audio_path, "rb") as source:
            for offset in sorted({0, max(0, size // 2 - _SAMPLE // 2), max(0, size - _SAMPLE)}):
                source.seek(offset)
                digest.update(source.read(_SAMPLE))
    except OSError:
        return b"\x00" * 16
    return digest.digest()
