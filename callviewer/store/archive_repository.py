"""The recordings archive of a store: what plays, what to download, what was archived,
failed or evicted, the size cap, and deleting what calls let go of."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from callviewer.store import recordings as archive_rows
from callviewer.store.modes import remove_file
from callviewer.store.records import Eviction, RecordingInfo, WantedRecording, now_micros
from callviewer.store.schema import calls, recordings, store_settings

if TYPE_CHECKING:
    from callviewer.store import Store
    from callviewer.store.modes import LocalMode

_CAP_KEY = "archive_cap_bytes"


class ArchiveRepository:
    """`store.archive`: each call's recording and its archived copy.

    An SQLite file's archive is a folder beside it (store/recordings.py); a team
    database's is in the database, with a cache on this desktop (`folder`, either way).
    """

    def __init__(self, store: Store, mode: LocalMode) -> None:
        self._store, self._mode = store, mode

    @property
    def folder(self) -> Path:
        """The folder of this store's recordings, by their archive paths."""
        return self._mode.recordings_dir

    def recording(self, call_id: int) -> str | None:
        """What plays a call's recording: a local file or a URL; None when it has none.
        Waits for a team archive's bytes when this desktop has no copy yet."""
        found = self.source(call_id)
        return found() if callable(found) else found

    def source(self, call_id: int) -> str | Callable[[], str | None] | None:
        """`recording(call_id)` without waiting for the bytes: when they must first come from
        a team database's archive (not yet cached on this desktop), a function that fetches
        them and returns the cached copy's path, for the caller to run off its GUI thread."""
        with self._store.reading() as conn:
            row = conn.execute(
                select(calls.c.recording, calls.c.recording_state, recordings.c.path,
                       recordings.c.size, recordings.c.sha256, recordings.c.archived_at)
                .outerjoin(recordings, recordings.c.call_id == calls.c.id)
                .where(calls.c.id == call_id)).first()
        return None if row is None else self._mode.playable(call_id, row)

    def info(self, call_id: int) -> RecordingInfo:
        """A call's recording state and archive record; the source's link is not included."""
        with self._store.reading() as conn:
            state = conn.execute(select(calls.c.recording_state)
                                 .where(calls.c.id == call_id)).scalar()
            row = conn.execute(select(recordings.c.path, recordings.c.size,
                                      recordings.c.archived_at, recordings.c.last_played_at,
                                      recordings.c.error, recordings.c.source_gone)
                               .where(recordings.c.call_id == call_id)).mappings().first()
        label = archive_rows.STATES.get(state, state)
        if row is None:
            return RecordingInfo(state, label)
        path = str(self.folder / row["path"]) if row["path"] else row["path"]
        return RecordingInfo(state, label, **{**row, "path": path})

    def wanted(self, connection_id: int,
               call_ids: list[int] | None = None) -> list[WantedRecording]:
        """A connection's recordings to download."""
        with self._store.reading() as conn:
            return [WantedRecording(row["id"], *(row[name] for name in (
                        "source", "source_id", "recording_state", "source_ref", "attempts")))
                    for row in archive_rows.wanted(conn, connection_id, call_ids)]

    def archived(self, call_id: int, path: str, size: int, digest: str) -> bool:
        """A downloaded recording (`path` relative to `folder`) is now what plays; False
        when the call no longer wants it (purged meanwhile): the caller deletes it. A team
        database takes the file's bytes into its archive; the file stays as this desktop's
        cached copy."""
        return self._mode.archived(call_id, path, size, digest)

    def failed(self, call_id: int, error: str, state: str | None = None) -> None:
        """A download failed with the sentence `error`; `state` link_expired or gone marks
        the recording so, None leaves it to be tried again."""
        with self._store.writing() as conn:
            if state is None:
                archive_rows.failed(conn, call_id, error)
            else:
                archive_rows.set_state(conn, call_id, state, error)
                self._mode.announce(conn, [call_id])

    def evicted(self, call_id: int, reference: str) -> bool:
        """Give up an archived copy for the size cap; the call plays from `reference` again."""
        with self._store.writing() as conn:
            path = archive_rows.evicted(conn, call_id, reference, now_micros())
            self._mode.announce(conn, [call_id])
        if path is not None:
            self.delete_stale()
        return path is not None

    def state_counts(self) -> dict[str, int]:
        """How many calls are in each recording state, every state listed."""
        with self._store.reading() as conn:
            return archive_rows.state_counts(conn)

    def size(self) -> tuple[int, int]:
        """(files, bytes) in the recordings archive."""
        with self._store.reading() as conn:
            return archive_rows.archive_size(conn)

    def cap(self) -> int | None:
        """The archive's size cap in bytes; None (the default) for no cap."""
        with self._store.reading() as conn:
            value = conn.execute(select(store_settings.c.value)
                                 .where(store_settings.c.key == _CAP_KEY)).scalar()
        return int(value) if value else None

    def set_cap(self, cap_bytes: int | None) -> None:
        """Set (or, with None, remove) the archive's size cap; the next sync applies it."""
        with self._store.writing() as conn:
            conn.execute(store_settings.delete().where(store_settings.c.key == _CAP_KEY))
            if cap_bytes is not None:
                conn.execute(store_settings.insert().values(key=_CAP_KEY,
                                                            value=str(int(cap_bytes))))

    def eviction_plan(self, cap_bytes: int | None = None) -> list[Eviction]:
        """What a cap (default: the one set) would remove, in eviction order; only
        recordings the source still serves."""
        cap = self.cap() if cap_bytes is None else cap_bytes
        with self._store.reading() as conn:
            return [Eviction.from_row(row) for row in archive_rows.eviction_plan(conn, cap)]

    def delete_stale(self) -> int:
        """Delete archived files whose calls let go of them (purged, evicted); how many.
        A team database's cache also drops copies the archive no longer holds as they are.
        Not for a damaged file (DamagedError), whose rows cannot be trusted to say which."""
        self._store.check_writable()
        with self._store.reading() as conn:
            stale = archive_rows.stale_files(conn)
            self._mode.sweep(conn)
        deleted = [call_id for call_id, path in stale if remove_file(self.folder, path)]
        self._mode.forget_stale(deleted)
        return len(deleted)
