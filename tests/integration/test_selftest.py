"""`callviewer selftest` as a user runs it: a real process, the real window, real VLC."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def selftest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
                   "CALLVIEWER_VLC_ARGS": "--aout=dummy", "HOME": str(home),
                   "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
                   "TMPDIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-m", "callviewer", "selftest"], env=environment,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_selftest_imports_shows_plays_and_says_ok(tmp_path):
    done = selftest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Call Viewer ") and "Qt platform offscreen" in lines[0]
    assert re.fullmatch(r"imported the demo calls from .+: \d+ new, \d+ updated, 0 unchanged, "
                        r"0 rejected", lines[1]), lines[1]
    assert re.fullmatch(r"window shown with \d+ calls", lines[2]), lines[2]
    assert lines[3] == "ran the window's sync in a process of its own"
    assert re.fullmatch(r"played \S+\.mp3: \d+\.\d s of \d+\.\d s \(\d+ audio buffers\) in "
                        r"\d+\.\d s, VLC 3\.\S+.*", lines[4]), lines[4]
    assert lines[5:] == ["ok"]
    # No database or settings of the user's were made or touched (logs may be written);
    # the temporary store is gone.
    home = tmp_path / "home"
    assert [p for p in home.rglob("*") if p.is_file() and p.suffix != ".log"
            and "log" not in p.relative_to(home).parts] == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("callviewer-selftest")] == []


def test_selftest_without_libvlc_fails_with_a_sentence(tmp_path):
    # As on a machine with no VLC: python-vlc is told to load a libvlc that is not there.
    done = selftest(tmp_path, PYTHON_VLC_LIB_PATH=str(tmp_path / "no" / "libvlc.so.5"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "window shown with" in done.stdout and "ok" not in done.stdout.splitlines()
    assert re.search(r"^selftest failed: playing \S+\.mp3 failed: Playing recordings needs "
                     r"VLC\. .+$", done.stderr, re.M), done.stderr
    assert "Traceback" not in done.stderr


def test_selftest_with_no_audio_output_fails_with_a_sentence(tmp_path):
    # VLC starts and decodes, but the audio output asked for does not exist.
    done = selftest(tmp_path, CALLVIEWER_VLC_ARGS="--aout=none-such-output")
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"^selftest failed: VLC decoded \S+\.mp3 but no audio output took it",
                     done.stderr, re.M), done.stderr
