"""The PyInstaller bundle: built from the installed package, then run from a copy with no
Python, no virtual environment and a fresh HOME, under Xvfb (packaging/pyinstaller/build.sh).

Takes about a minute (PyInstaller collecting PySide6); `pytest -m "not bundle"` skips it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "packaging" / "pyinstaller" / "build.sh"
SESSION_PATH = "/usr/local/bin:/usr/bin:/bin"

pytestmark = [pytest.mark.bundle, pytest.mark.slow]


def test_the_bundle_builds_and_its_selftest_passes_without_python(tmp_path):
    assert shutil.which("xvfb-run", path=SESSION_PATH), \
        "xvfb-run is not installed: apt-get install xvfb xauth (packaging/debian.sh test)"
    out = tmp_path / "out"
    # --no-install: the test run's own environment holds the installed package already.
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHON": sys.executable}
    done = subprocess.run(["sh", str(BUILD), "--no-install", str(out)], env=env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("smoke test passed"), done.stdout
    assert "ok" in lines
    assert any(" (a bundle), PySide6 " in line and "Qt platform xcb" in line
               for line in lines), done.stdout
    assert any(re.fullmatch(r"window shown with \d+ calls", line) for line in lines)
    # The bundle's executable started again as the window's sync process.
    assert "ran the window's sync in a process of its own" in lines, done.stdout
    played = next(line for line in lines if line.startswith("played "))
    # libVLC came from the bundle's copy, not from the machine's.
    assert re.search(r", VLC 3\.\S+.* \(/.+/callviewer/_internal/libvlc\.so\.5\)$", played), \
        played
    bundle = out / "callviewer"
    assert (bundle / "callviewer").is_file() and os.access(bundle / "callviewer", os.X_OK)
    internal = bundle / "_internal"
    for needed in ("libvlc.so.5", "libvlccore.so.9",
                   "vlc/plugins/codec/libmpg123_plugin.so",
                   "vlc/plugins/audio_output/libpulse_plugin.so",
                   "callviewer/store/migrations/script.py.mako",
                   "callviewer/store/migrations/env.py",
                   "callviewer/resources/demo/ap-1001.mp3",
                   "PySide6/Qt/plugins/platforms/libqxcb.so",
                   "PySide6/Qt/plugins/platforms/libqoffscreen.so"):
        assert (internal / needed).exists(), needed
    versions = sorted(p.name for p in (internal / "callviewer/store/migrations/versions")
                      .glob("*.py"))
    source = sorted(p.name for p in (REPO / "callviewer/store/migrations/versions").glob("*.py"))
    assert versions == source
    # PyInstaller's work files stayed in the temporary folder.
    assert not (REPO / "build" / "callviewer").exists()
    # (and the test's own cache folder, XDG_CACHE_HOME, holds PyInstaller's binary cache).
    assert sorted(p.name for p in tmp_path.iterdir()) in (["out"], ["cache", "out"])
