"""Files written whole or not at all: a temporary file beside the target, renamed over it.

Every file Call Viewer writes for a person (exports, the tokens file, crash reports,
recordings copied into the archive) goes through `replacing` or `write_bytes`: a full
disk, a size limit or an interruption leaves any earlier file as it was and no
half-written one in its place. (A download resumes from its own `.part` file, renamed
the same way when it is whole: sync/archive.py.)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def replacing(target: Path, text: bool = False, mode: int | None = None) -> Iterator[IO]:
    """A file to write `target` through: renamed over it when the block ends without an
    exception, removed otherwise. `mode` is its permission bits (default: as a new file
    gets them, 0666 less the umask, or those of the file it replaces); text files are
    UTF-8 with newlines as written."""
    target = Path(target)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)  # 0600 until it is whole
    try:
        with os.fdopen(handle, "w" if text else "wb",
                       **({"encoding": "utf-8", "newline": ""} if text else {})) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
            os.fchmod(out.fileno(), _permissions(target) if mode is None else mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(target.parent)


def write_bytes(target: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` as the whole of `target`, or leave `target` as it was."""
    with replacing(target, mode=mode) as out:
        out.write(data)


def write_text(target: Path, text: str, mode: int | None = None) -> None:
    """Write `text` (UTF-8) as the whole of `target`, or leave `target` as it was."""
    with replacing(target, text=True, mode=mode) as out:
        out.write(text)


def _permissions(target: Path) -> int:
    """The bits of the file being replaced, else those `open()` would give a new file."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Read, not set and reset: os.umask() changes it for every thread meanwhile.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022  # the usual one, where /proc is not there (macOS, Windows)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); nothing to do where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
