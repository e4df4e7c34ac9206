"""`callviewer sync run` in a process of its own, killed with SIGKILL at a chosen moment:
for the tests that a sync killed anywhere leaves a store the next sync completes."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def sync_killed_when(db: Path, env: dict, reached: Callable[[subprocess.Popen], T]) -> T:
    """Run a sync of `db`, kill it once `reached(process)` returns, and return that."""
    process = subprocess.Popen([sys.executable, "-m", "callviewer", "sync", "run", "--db",
                                str(db)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        found = reached(process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    return found
