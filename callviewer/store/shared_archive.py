"""A team database's recordings archive: the bytes in the database, a cache on each desktop.

On PostgreSQL (any server database) the archive is the ``recording_files`` table:
a recording downloaded by one desktop is in the database, so every desktop can
play it, and it is backed up with the database and outlives any one desktop. A
player needs a file, so each desktop writes the recordings it plays to a cache
folder of its own (`cache_dir`), by the same relative paths as an SQLite
file's archive folder. A cached copy is trusted while its size and its
modification time (set to the archiving time) are as the database says: writing
to the file changes its time, and it is fetched again. Its bytes are checked
against the archive's sha256 when fetched. Its access time is when it was last
played: the cache is kept within a size (`trim`) by deleting the copies played
longest ago, which are fetched again if played.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select

from callviewer.store.schema import calls, recording_files, recordings

log = logging.getLogger(__name__)

CACHE_FOLDER = "team-recordings"
# A temporary file of a copy being written is left alone this long (another thread of
# this desktop may be writing it); then it is a leftover.
TEMPORARY_GRACE_S = 3600
CACHE_CAP_BYTES = 2 * 1024 ** 3  # a desktop's cache of a team's recordings, at most
# The timeline's peaks of the recordings (timeline/recording.py), kept in this folder too:
# not recordings, so neither swept nor trimmed (a few KB a call, checked against the
# recording they were made from when read).
PEAKS_FOLDER = "peaks"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def cache_dir(url: str) -> Path:
    """This desktop's cache of a team database's recordings: one folder per database,
    under the user's cache folder."""
    import platformdirs

    from callviewer.paths import APP_NAME

    return (Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / CACHE_FOLDER
            / database_name(url))


def database_name(url: str) -> str:
    """A file name for a team database (server, port and database name), for what this
    desktop keeps of it."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}-{parsed.port or 'default'}-{parsed.database or ''}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:10]
    return f"{_UNSAFE.sub('_', where)[:60]}-{digest}"


def put(conn: Connection, call_id: int, content: bytes) -> None:
    """Store a recording's bytes (replacing any the call had)."""
    conn.execute(delete(recording_files).where(recording_files.c.call_id == call_id))
    conn.execute(insert(recording_files).values(call_id=call_id, content=content))


def drop(conn: Connection, call_ids: list[int]) -> None:
    """Delete the bytes of calls that let go of their recordings (purged, evicted)."""
    for start in range(0, len(call_ids), 400):
        conn.execute(delete(recording_files)
                     .where(recording_files.c.call_id.in_(call_ids[start:start + 400])))


def drop_purged(conn: Connection) -> None:
    """Delete bytes left behind by an upload whose call was purged before it was accepted."""
    conn.execute(delete(recording_files).where(recording_files.c.call_id.in_(
        select(calls.c.id).where(calls.c.recording_state == "purged"))))


def read(conn: Connection, call_id: int) -> bytes | None:
    """A recording's bytes, or None when the archive does not hold them."""
    if conn.dialect.name == "postgresql":
        # In binary: bytea as text (hex) costs the server and psycopg about three times
        # as long (tests/bench/bench_team_archive.py).
        cursor = conn.connection.dbapi_connection.cursor(binary=True)
        try:
            cursor.execute("SELECT content FROM recording_files WHERE call_id = %s",
                           (call_id,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return bytes(row[0]) if row is not None else None
    content = conn.execute(select(recording_files.c.content)
                           .where(recording_files.c.call_id == call_id)).scalar()
    return bytes(content) if content is not None else None


def local_copy(reading: Callable[[], AbstractContextManager[Connection]], folder: Path,
               call_id: int, row: Any, where: str, cap: int) -> str | None:
    """This desktop's copy of an archived recording (`row`: recording, path, size, sha256,
    archived_at): the cached file while it is whole, else fetched from the archive and
    checked against its sha256, and the cache trimmed to `cap` bytes; None when it cannot
    be had."""
    local = folder / row.path
    if is_cached(local, row.size, row.archived_at):
        return str(local)
    with reading() as conn:
        content = read(conn, call_id)
        if content is None:
            # Archived before the archive moved into the database (schema 0004): a file on
            # the desktop that downloaded it, which plays there.
            return row.recording
        if digest_of(content) != row.sha256:
            log.warning("The archived recording of call %s is damaged in the database %s.",
                        call_id, where)
            return None
        try:
            write_cached(local, content, row.archived_at)
        except OSError as exc:
            log.warning("Could not cache the recording of call %s in %s: %s",
                        call_id, local, exc)
            return None
        trim(conn, folder, cap, keep=row.path)
    return str(local)


def digest_of(content: bytes) -> str:
    """The sha256 the archive keeps for a recording's bytes."""
    return hashlib.sha256(content).hexdigest()


def stamp_ns(archived_at: int) -> int:
    """The modification time a cached copy carries: its archiving time, to an even second
    (which every file system keeps exactly, FAT's two-second clock too)."""
    return archived_at // 2_000_000 * 2 * 1_000_000_000


def is_cached(path: Path, size: int | None, archived_at: int | None) -> bool:
    """True when the cached copy at `path` is whole and untouched since it was written."""
    try:
        stat = path.stat()
    except OSError:
        return False
    return _is_stamped(stat, size, archived_at)


def _is_stamped(stat: os.stat_result, size: int | None, archived_at: int | None) -> bool:
    return archived_at is not None and stat.st_size == size \
        and stat.st_mtime_ns == stamp_ns(archived_at)


def mark_cached(path: Path, archived_at: int) -> None:
    """Stamp a file as the whole, untouched copy of the recording archived at `archived_at`,
    played now (its access time, which `trim` goes by)."""
    os.utime(path, ns=(time.time_ns(), stamp_ns(archived_at)))


def write_cached(path: Path, content: bytes, archived_at: int) -> None:
    """Write a recording's bytes to the cache: whole (a temporary file renamed) and stamped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        temporary.write_bytes(content)
        mark_cached(temporary, archived_at)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def sweep(conn: Connection, folder: Path) -> int:
    """Delete cached copies the archive no longer holds as they are (purged, evicted,
    archived again, damaged); how many. Downloads in progress (.part) are left, and so are
    copies being written (for an hour).

    A download of this desktop between its rename and its upload could go too (a sync in
    another process): its upload then finds no file, and the next sync downloads it again.
    """
    now = time.time()
    found = {name: stat for name, stat in _files(folder).items()
             if not (name.endswith(".tmp") and now - stat.st_mtime < TEMPORARY_GRACE_S)}
    archived = _archived(conn, list(found))
    removed = 0
    for name, stat in found.items():
        if (name not in archived or not _is_stamped(stat, *archived[name])) \
                and _delete(folder / name):
            removed += 1
    return removed


def trim(conn: Connection, folder: Path, cap: int, keep: str | None = None) -> int:
    """Delete the copies played longest ago until the cache holds at most `cap` bytes; how
    many. Only whole copies of bytes the archive holds go (a play fetches them again), and
    never `keep` (the archive path of the copy just fetched)."""
    files = _files(folder)
    total = sum(stat.st_size for stat in files.values())
    oldest_first = sorted(files, key=lambda name: files[name].st_atime_ns)
    removed, start = 0, 0
    while total > cap and start < len(oldest_first):
        chunk = oldest_first[start:start + 100]
        start += len(chunk)
        held = _archived(conn, chunk, held_only=True)
        for name in chunk:
            if total <= cap:
                break
            if name != keep and name in held and _is_stamped(files[name], *held[name]) \
                    and _delete(folder / name):
                total -= files[name].st_size
                removed += 1
    return removed


def _files(folder: Path) -> dict[str, os.stat_result]:
    """The cache's files by their archive paths, with their stat; downloads in progress
    (.part) and the timeline's peaks left out."""
    found = {}
    for directory, folders, names in os.walk(folder):
        if directory == os.fspath(folder) and PEAKS_FOLDER in folders:
            folders.remove(PEAKS_FOLDER)
        prefix = Path(directory).relative_to(folder).as_posix()
        prefix = "" if prefix == "." else f"{prefix}/"
        for name in names:
            if not name.endswith(".part"):
                with suppress(OSError):  # deleted meanwhile
                    found[prefix + name] = os.stat(os.path.join(directory, name))
    return found


def _archived(conn: Connection, names: list[str],
              held_only: bool = False) -> dict[str, tuple[int, int]]:
    """The archived recordings among these paths: path -> (size, archived_at); with
    `held_only`, only those whose bytes the archive holds."""
    archived: dict[str, tuple[int, int]] = {}
    for start in range(0, len(names), 400):
        query = select(recordings.c.path, recordings.c.size, recordings.c.archived_at).where(
            recordings.c.path.in_(names[start:start + 400]))
        if held_only:
            query = query.where(exists().where(recording_files.c.call_id == recordings.c.call_id))
        archived.update({path: (size, at) for path, size, at in conn.execute(query)})
    return archived


def _delete(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError as exc:
        log.warning("Could not delete the cached recording %s: %s", path, exc)
        return False
