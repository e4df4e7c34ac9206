"""Bringing recordings into the archive, and giving them up for the size cap.

A download goes to ``<source>/<id>.part`` in the store's recordings folder,
continuing what an interrupted one left (the connection resumes it), is
checked to be audio a player can read (mutagen parses its frames) and only
then renamed to its final name (``.mp3``, ``.wav``…). A refused link is
refreshed through the source's detail once; refused again, the recording
is marked "link expired" (401/403) or "gone at the source" (400/404/410).

The cap evicts least-recently-played recordings, and only after the source
has shown it can still serve them: never the only copy.

A file that cannot be written here (a full disk, a file size limit, a
read-only folder) stops the connection with StorageFailed, a sentence; the
``.part`` holds what arrived, and the next sync resumes it.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from callviewer.store import Store, StoreError, WantedRecording
from callviewer.store.recordings import GONE, LINK_EXPIRED
from callviewer.sync.connection import Connection, RecordingUnavailable
from callviewer.sync.errors import Offline, StorageFailed, SyncFailed

EXPIRED_CODES = (401, 403)
NOT_AUDIO = ("The recording of call {call} is not audio a player can read; "
             "it will be downloaded again on the next sync.")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What became of one recording."""

    archived: bool = False
    size: int = 0
    state: str | None = None  # link_expired or gone, when so marked
    error: str | None = None


def download(store: Store, connection: Connection, connection_id: int,
             item: WantedRecording) -> Outcome:
    """Archive one wanted recording (from `store.archive.wanted`).

    Offline, TokenRefused, StorageFailed (a file here could not be written) and
    Canceled propagate (the whole sync stops); any other failure is noted on the
    recording, which stays wanted.
    """
    try:
        return _download(store, connection, connection_id, item)
    except OSError as exc:  # the network's errors come as SyncFailed: this is a local file
        log.info("the recording of call %s could not be saved", item.source_id,
                 exc_info=exc)
        sentence = _unwritable(item.source_id, store.archive.folder, exc)
        with suppress(StoreError):  # on a full disk the note may not fit either: no loss
            store.archive.failed(item.call_id, sentence)
        raise StorageFailed(sentence) from None


def _download(store: Store, connection: Connection, connection_id: int,
              item: WantedRecording) -> Outcome:
    call_id, source_id = item.call_id, item.source_id
    name = f"{_safe(item.source)}/{_safe(source_id)}"
    part = store.archive.folder / f"{name}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    reference, refreshed = item.source_ref, False
    try:
        if item.recording_state == LINK_EXPIRED:
            reference, refreshed = _refresh(store, connection, connection_id, item), True
        while reference is not None:
            try:
                connection.fetch_recording(reference, part)
                break
            except RecordingUnavailable as exc:
                if refreshed:
                    state = LINK_EXPIRED if exc.code in EXPIRED_CODES else GONE
                    part.unlink(missing_ok=True)
                    sentence = _refused(source_id, exc.code)
                    store.archive.failed(call_id, sentence, state)
                    return Outcome(state=state, error=sentence)
                reference, refreshed = _refresh(store, connection, connection_id, item), True
        if reference is None:
            part.unlink(missing_ok=True)
            sentence = f"The source no longer has the recording of call {source_id}."
            store.archive.failed(call_id, sentence, GONE)
            return Outcome(state=GONE, error=sentence)
    except Offline as exc:
        store.archive.failed(call_id, str(exc))
        raise
    except SyncFailed as exc:
        if exc.status == "refused" or isinstance(exc, StorageFailed):
            raise
        store.archive.failed(call_id, str(exc))
        return Outcome(error=str(exc))
    return _accept(store, call_id, source_id, part, name)


def _accept(store: Store, call_id: int, source_id: str, part: Path, name: str) -> Outcome:
    suffix = audio_suffix(part)
    if suffix is None:
        part.unlink(missing_ok=True)
        sentence = NOT_AUDIO.format(call=source_id)
        store.archive.failed(call_id, sentence)
        return Outcome(error=sentence)
    size, digest = part.stat().st_size, _sha256(part)
    final = part.with_name(Path(name).name + suffix)
    os.replace(part, final)
    _sync_folder(final.parent)
    if not store.archive.archived(call_id, f"{name}{suffix}", size, digest):
        final.unlink(missing_ok=True)  # purged while it downloaded
        return Outcome()
    return Outcome(archived=True, size=size)


def _refresh(store: Store, connection: Connection, connection_id: int,
             item: WantedRecording) -> str | None:
    """A fresh link through the source's detail (stored like any synced record); None when
    the source no longer has the call or its recording."""
    record = connection.fetch_detail(item.source_id)
    if record is None:
        return None
    store.sync.commit_page(connection_id, [record])
    fresh = store.archive.wanted(connection_id, [item.call_id])
    return fresh[0].source_ref if fresh else None


def evict_for_cap(store: Store, connections: dict[int, Connection]) -> tuple[int, int]:
    """Give up archived recordings until the archive fits its cap; (files, bytes) freed.

    Each is given up only after its source answered that it still serves it.
    """
    freed = [0, 0]
    for row in store.archive.eviction_plan():
        connection = connections.get(row.connection_id)
        if connection is None:
            continue  # its connection is not being synced now: cannot be checked
        record = connection.fetch_detail(row.source_id)
        if record is not None:
            store.sync.commit_page(row.connection_id, [record])
        reference = record.get("recording") if record else None
        if not reference or not connection.can_serve(reference):
            continue
        if store.archive.evicted(row.call_id, reference):
            freed[0] += 1
            freed[1] += row.size or 0
    return freed[0], freed[1]


def audio_suffix(path: Path) -> str | None:
    """The file name suffix for a file of audio a player can read, or None if it is not."""
    from mutagen import MutagenError
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    for kind, suffix in ((MP3, ".mp3"), (WAVE, ".wav"), (OggVorbis, ".ogg"),
                         (OggOpus, ".opus"), (FLAC, ".flac"), (MP4, ".m4a")):
        try:
            audio = kind(path)
        except (MutagenError, OSError, ValueError, EOFError):
            continue
        info = audio.info
        # "sketchy": a few stray frame headers in what is not really MP3 (random bytes).
        if getattr(info, "length", 0) > 0 and not getattr(info, "sketchy", False):
            return suffix
    return None


def _unwritable(source_id: str, folder: Path, exc: OSError) -> str:
    """The sentence for a recording that could not be written into the archive's `folder`."""
    where = f"The recording of call {source_id} could not be saved in {folder}"
    if exc.errno in _FULL:
        return (f"{where}: the disk is full (or a file size limit was reached); free some "
                "space and sync again — the download goes on where it stopped.")
    if exc.errno in _DENIED:
        return f"{where}: the folder cannot be written; check it and sync again."
    return f"{where}: {exc.strerror or 'a write error'}; check the disk and sync again."


def _refused(source_id: str, code: int) -> str:
    if code in EXPIRED_CODES:
        return (f"The source refused the recording of call {source_id} even with a fresh "
                f"link ({code}); sync again later to retry.")
    return f"The source no longer has the recording of call {source_id} ({code})."


def _safe(text: str) -> str:
    """A file name for an id: its own characters where they are safe, else a hash beside."""
    cleaned = _UNSAFE.sub("_", text)[:80].strip(".") or "_"
    if cleaned != text:
        cleaned += "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    return cleaned


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _sync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); other systems do without."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
