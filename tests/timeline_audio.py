"""Synthetic call audio for the timeline: speech-like turns on chosen channels, silences between.

Used by tests/unit/test_timeline_*.py and tests/bench/bench_timeline.py, and run as a
script it makes the demo's stereo call (`python tests/timeline_audio.py`): an MP3 in
resources/demo/vapi/ and the Vapi end-of-call report beside it, whose message times are
the turns' own, so the transcript, the channels and the follow-along agree.

A "voice" is a harmonic tone (its own pitch, a little vibrato) cut into syllables of
120-220 ms with short gaps, so its envelope looks like speech to an energy detector:
a turn starts at its first syllable's onset and ends at its last one's release.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Turn:
    """One party speaking on one channel from ``start_ms`` to ``end_ms``."""

    channel: int
    start_ms: int
    end_ms: int


PITCH = {0: 210.0, 1: 120.0}  # Hz by channel: a higher and a lower voice


def voice(length: int, rate: int, pitch: float, rng: np.random.Generator) -> np.ndarray:
    """``length`` samples of a syllabic voice at about -12 dBFS peak (float32, -1..1)."""
    t = np.arange(length, dtype=np.float32) / rate
    phase = 2 * np.pi * pitch * (t + 0.002 * np.sin(2 * np.pi * 5 * t))
    tone = sum(np.sin(k * phase) / k for k in range(1, 6)) / 2.3
    envelope = np.zeros(length, dtype=np.float32)
    at = 0
    ramp = max(1, rate // 100)  # 10 ms attack and release
    while at < length:
        size = min(int(rate * rng.uniform(0.12, 0.22)), length - at)
        if length - at - size < int(rate * 0.25):  # no room for another: this one runs to the end
            size = length - at
        shape = np.ones(size, dtype=np.float32)
        edge = min(ramp, size // 2)
        if edge:
            shape[:edge] = np.linspace(0, 1, edge, dtype=np.float32)
            shape[-edge:] = np.linspace(1, 0, edge, dtype=np.float32)
        envelope[at:at + size] = shape * rng.uniform(0.6, 1.0)
        at += size + int(rate * rng.uniform(0.03, 0.09))
    return (0.25 * tone * envelope).astype(np.float32)


def render(turns: list[Turn], duration_ms: int, rate: int = 16000, channels: int = 2,
           noise_db: float = -62.0, crosstalk_db: float | None = -34.0,
           seed: int = 7) -> np.ndarray:
    """The call as int16 frames, shape (frames, channels): each turn's voice on its
    channel over a faint noise floor, and (stereo) a faint echo of the other side, as
    real dual-channel recordings carry."""
    rng = np.random.default_rng(seed)
    frames = duration_ms * rate // 1000
    out = np.zeros((frames, channels), dtype=np.float32)
    for turn in turns:
        start, end = turn.start_ms * rate // 1000, min(frames, turn.end_ms * rate // 1000)
        out[start:end, turn.channel] += voice(end - start, rate, PITCH.get(turn.channel, 160.0),
                                             rng)
    if crosstalk_db is not None and channels == 2:
        bleed = 10 ** (crosstalk_db / 20)
        out = out + bleed * out[:, ::-1]
    out += rng.normal(0, 10 ** (noise_db / 20) / 3, out.shape).astype(np.float32)
    return np.clip(np.round(out * 32767), -32768, 32767).astype(np.int16)


def write_wav(path: Path, frames: np.ndarray, rate: int) -> Path:
    """``frames`` (int16, (n, channels)) as a 16-bit PCM WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.ascontiguousarray(frames).tobytes())
    return path


def lame() -> str | None:
    """The lame MP3 encoder on PATH, if there is one."""
    return shutil.which("lame")


def write_mp3(path: Path, frames: np.ndarray, rate: int, bitrate: int = 48) -> Path:
    """``frames`` as an MP3 through lame (raw PCM on stdin; joint stereo off, so each
    channel stays its own party)."""
    mode = "m" if frames.shape[1] == 1 else "s"
    subprocess.run([lame(), "--quiet", "-r", "-s", str(rate / 1000), "--bitwidth", "16",
                    "--signed", "--little-endian", "-m", mode, "-b", str(bitrate), "-q", "7",
                    "--resample", str(rate / 1000),  # lame lowers the rate of low bitrates
                    "-", str(path)],
                   input=np.ascontiguousarray(frames).tobytes(), check=True,
                   stderr=subprocess.PIPE)  # lame warns about raw input on every run
    return path


# The demo's stereo call ----------------------------------------------------------------

# Customer on the left channel (0), agent on the right (1): Twilio's dual-channel layout
# (the first channel is the parent call: the caller), which lanes.py takes by default.
DEMO_NAME = "vapi-call-5-stereo"
DEMO_TURNS = [  # (role, text, start_ms, end_ms)
    ("agent", "Thanks for calling Northwind Internet, this is Ava. How can I help?", 600, 4300),
    ("customer", "Hi, my connection keeps dropping every evening.", 5100, 8200),
    ("agent", "Sorry to hear that. Can I have the account number?", 8800, 11600),
    # A long pause while the customer looks for it: skip silence jumps this.
    ("customer", "Just a second... it is 4 4 7 1 9 2.", 15400, 19000),
    ("agent", "Thank you. Let me run a line test, it takes a moment.", 19600, 22900),
    # Hold: the line test.
    ("agent", "The test shows noise on your line after six pm.", 28500, 31600),
    ("customer", "So it is not my router?", 31300, 33000),  # talks over the agent's end
    ("agent", "No, it is the street cabinet. A technician will come on Thursday.", 33600,
     38200),
    ("customer", "Thursday works. Thank you!", 39000, 40800),
    ("agent", "You're welcome, goodbye.", 41300, 43000),
]
DEMO_DURATION_MS = 44500
DEMO_CHANNEL = {"customer": 0, "agent": 1}


def demo_turns() -> list[Turn]:
    """The demo call's turns on their channels."""
    return [Turn(DEMO_CHANNEL[role], start, end) for role, _, start, end in DEMO_TURNS]


def demo_report(recording: str) -> dict:
    """The demo call as a Vapi end-of-call report with timed messages."""
    speaker = {"agent": "bot", "customer": "user"}
    return {"message": {
        "type": "end-of-call-report",
        "endedReason": "customer-ended-call",
        "summary": "Evening drop-outs traced to the street cabinet; technician booked "
                   "for Thursday.",
        "artifact": {
            # Vapi sends the stereo file as stereoRecordingUrl beside the mono recordingUrl;
            # the demo has only the stereo one, so it is both.
            "recordingUrl": recording,
            "stereoRecordingUrl": recording,
            "messages": [{"role": speaker[role], "message": text,
                          "secondsFromStart": start / 1000, "duration": end - start}
                         for role, text, start, end in DEMO_TURNS],
        },
        "call": {"id": DEMO_NAME, "type": "inboundPhoneCall", "orgId": "org-1",
                 "customer": {"number": "+14155550377", "name": "Sam Okafor"},
                 "phoneNumber": {"number": "+14155550000"},
                 "startedAt": "2026-11-21T09:12:00.000Z",
                 "endedAt": "2026-11-21T09:12:44.500Z"},
    }}


def make_demo(folder: Path) -> list[Path]:
    """Write the demo's stereo MP3 and its report into ``folder``; returns the paths."""
    import json

    if lame() is None:
        sys.exit("The demo's stereo call needs the lame MP3 encoder (apt install lame).")
    rate = 16000
    mp3 = write_mp3(folder / f"{DEMO_NAME}.mp3", render(demo_turns(), DEMO_DURATION_MS, rate),
                    rate, bitrate=32)
    report = folder / "stereo-end-of-call-report.json"
    report.write_text(json.dumps(demo_report(mp3.name), indent=1, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    return [mp3, report]


if __name__ == "__main__":
    for written in make_demo(REPOSITORY / "resources" / "demo" / "vapi"):
        print(written.relative_to(REPOSITORY), written.stat().st_size, "bytes")
