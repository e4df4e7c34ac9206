"""What differs between one desktop's SQLite file and a team's server database, chosen once
when the store opens: `LocalMode` or `TeamMode`.

A server database is a team's: its recordings archive is in the database, and this
desktop's copies of them are a cache (store/shared_archive.py); its changes are
announced to the other desktops (store/live.py); note drafts stay on this desktop
(store/local_drafts.py); who writes is the member's own role, as the server says
(store/team_roles.py), and note authors are shown by the names they chose.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from callviewer.store import live, shared_archive, team_roles
from callviewer.store import notes as note_rows
from callviewer.store import recordings as archive_rows
from callviewer.store.database import StoreError
from callviewer.store.local_drafts import LocalDrafts
from callviewer.store.records import Change, Draft, Note, now_micros

if TYPE_CHECKING:
    from callviewer.store import Store

log = logging.getLogger(__name__)


class LocalMode:
    """One desktop's SQLite file: drafts in the file, nothing announced, the archive a
    folder beside it, notes written as the name the caller passes."""

    team = False

    def __init__(self, store: Store, data_dir: Path, default_database: Path) -> None:
        self._store = store
        self.who = team_roles.NOBODY
        self.recordings_dir = archive_rows.archive_dir(store.path, data_dir, default_database)

    def writer(self, by: str) -> str:
        """Who a note or done flag is written as: the name the caller passes."""
        return by

    @contextmanager
    def judged(self) -> Iterator[None]:
        """Nothing here refuses a note or flag by who wrote it."""
        yield

    def announce(self, conn: Connection, call_ids: Iterable[int] | None,
                 sync: bool = False) -> None:
        """Nobody else to tell."""

    def watch(self, on_change: Callable[[Change], None],
              on_reachable: Callable[[bool], None]) -> Callable[[], None]:
        """Nothing to hear: one desktop's file."""
        return lambda: None

    # --- notes ----------------------------------------------------------------------

    def with_names(self, conn: Connection, notes: list[dict]) -> list[Note]:
        """Notes as records; the author is the name itself."""
        return [Note.from_row(note) for note in notes]

    def check_may_hide(self) -> None:
        raise StoreError("Only a team database's administrator can hide a note; ask one "
                         "(callviewer team add-user NAME --admin makes one).")

    def save_draft(self, call_id: int, note_id: int, body: str, cursor: int) -> None:
        if self._store.verify() is not None:  # the editor keeps the text; saving is refused
            return
        with self._store.writing() as conn:
            note_rows.save_draft(conn, call_id, note_id, body, cursor, now_micros())

    def discard_draft(self, call_id: int, note_id: int) -> None:
        if self._store.verify() is not None:
            return
        with self._store.writing() as conn:
            note_rows.discard_draft(conn, call_id, note_id)

    def drafts_of(self, call_id: int) -> dict[int, Draft]:
        with self._store.reading() as conn:
            found = note_rows.drafts_of(conn, call_id)
        return {note_id: Draft(**draft) for note_id, draft in found.items()}

    def note_saved(self, call_id: int, note_id: int) -> None:
        """A note was saved or deleted: its draft went with it, in the same transaction."""

    # --- the recordings archive -------------------------------------------------------

    def playable(self, call_id: int, row: Any) -> str | Callable[[], str | None] | None:
        """What plays a call's recording (`row`: recording, state and archive record)."""
        return row.recording

    def archived(self, call_id: int, path: str, size: int, digest: str) -> bool:
        """A downloaded file (relative to recordings_dir) is the call's recording now."""
        with self._store.writing() as conn:
            return archive_rows.archived(conn, call_id, path, str(self.recordings_dir / path),
                                         size, digest, now_micros())

    def sweep(self, conn: Connection) -> None:
        """Nothing beyond the stale files: the archive folder is the archive."""

    def forget_stale(self, deleted: list[int]) -> None:
        """The stale files of these calls are deleted."""
        if deleted:
            with self._store.writing() as conn:
                archive_rows.forget_stale(conn, deleted)


class TeamMode(LocalMode):
    """A team's server database: see the module's docstring."""

    team = True

    def __init__(self, store: Store, data_dir: Path) -> None:
        self._store = store
        self.origin = uuid.uuid4().hex  # this Store, in its announcements
        self.recordings_dir = shared_archive.cache_dir(store.url)
        # This desktop's cache of the team's recordings holds at most this many bytes.
        self.cache_cap = shared_archive.CACHE_CAP_BYTES
        name = shared_archive.database_name(store.url)
        self._drafts = LocalDrafts(data_dir / "team-drafts" / f"{name}.sqlite3")
        with store.reading() as conn:
            self.who = team_roles.who(conn)

    def writer(self, by: str) -> str:
        """A member writes as its role, which the server records whatever `by` says."""
        return self.who.role or by

    def announce(self, conn: Connection, call_ids: Iterable[int] | None,
                 sync: bool = False) -> None:
        """Tell the other desktops, when this transaction commits (store/live.py)."""
        live.announce(conn, self.origin, call_ids, sync)

    def watch(self, on_change: Callable[[Change], None],
              on_reachable: Callable[[bool], None]) -> Callable[[], None]:
        watcher = live.Watcher(self._store.engine, self.origin, on_change, on_reachable)
        watcher.start()
        return watcher.stop

    @contextmanager
    def judged(self) -> Iterator[None]:
        """The server's refusal of a note or flag (migration 0010) as a sentence."""
        try:
            yield
        except DBAPIError as exc:
            if not team_roles.is_refusal(exc):
                raise
            log.info("The team database refused a change", exc_info=True)
            raise StoreError(
                f"The team database {self._store.where} refused this change: a note is "
                f"changed or deleted only by its author, and hidden only by an administrator "
                f"(you are {self.who.role or 'not a team member'}).") from exc

    # --- notes ----------------------------------------------------------------------

    def with_names(self, conn: Connection, notes: list[dict]) -> list[Note]:
        """Notes with each author's display name, as its person chose it."""
        names = team_roles.display_names(conn) if notes else {}
        return [Note.from_row(note, names.get(note["author"])) for note in notes]

    def check_may_hide(self) -> None:
        if not self.who.admin:
            super().check_may_hide()

    def save_draft(self, call_id: int, note_id: int, body: str, cursor: int) -> None:
        """On this desktop, reachable or not (store/local_drafts.py)."""
        self._drafts.save(call_id, note_id, body, cursor, now_micros())

    def discard_draft(self, call_id: int, note_id: int) -> None:
        self._drafts.discard(call_id, note_id)

    def drafts_of(self, call_id: int) -> dict[int, Draft]:
        return {note_id: Draft(**draft) for note_id, draft in self._drafts.of(call_id).items()}

    def note_saved(self, call_id: int, note_id: int) -> None:
        """A note was saved or deleted: its draft, on this desktop, goes."""
        self._drafts.discard(call_id, note_id)

    # --- the shared archive and this desktop's cache -------------------------------------

    def playable(self, call_id: int, row: Any) -> str | Callable[[], str | None] | None:
        """Once archived, this desktop's cached copy, fetched from the database's archive
        on first play (a function for the caller to run off its GUI thread)."""
        if row.recording_state != archive_rows.ARCHIVED or row.path is None:
            return row.recording
        local = self.recordings_dir / row.path
        if shared_archive.is_cached(local, row.size, row.archived_at):
            with suppress(OSError):  # played now: the cache's trim keeps it longer
                shared_archive.mark_cached(local, row.archived_at)
            return str(local)
        return partial(shared_archive.local_copy, self._store.reading, self.recordings_dir,
                       call_id, row, self._store.where, self.cache_cap)

    def archived(self, call_id: int, path: str, size: int, digest: str) -> bool:
        """The database's archive takes the file's bytes (size and digest are then those of
        the bytes it holds); the file stays as this desktop's cached copy."""
        store, local, now = self._store, self.recordings_dir / path, now_micros()
        with store.reading() as conn:
            if not archive_rows.still_wanted(conn, call_id):
                return False
        try:
            content = local.read_bytes()
        except FileNotFoundError:  # swept by a sync in another process: the next
            return False           # sync downloads it again
        size, digest = len(content), shared_archive.digest_of(content)
        # Not in a writer's turn: an upload over a slow link would make colleagues' saves
        # wait for it. Accepting it below is the turn's, and quick.
        with store.unturned() as conn:
            shared_archive.put(conn, call_id, content)
        with store.writing() as conn:
            accepted = archive_rows.archived(conn, call_id, path, path, size, digest, now)
            self.announce(conn, [call_id])
            if not accepted:
                shared_archive.drop(conn, [call_id])
        if accepted:
            with suppress(OSError):  # swept meanwhile: fetched from the archive when played
                shared_archive.mark_cached(local, now)
            with store.reading() as conn:
                shared_archive.trim(conn, self.recordings_dir, self.cache_cap, keep=path)
        return accepted

    def sweep(self, conn: Connection) -> None:
        """The cache drops copies the archive no longer holds as they are."""
        shared_archive.sweep(conn, self.recordings_dir)

    def forget_stale(self, deleted: list[int]) -> None:
        """Also bytes left by an upload whose call was purged before it was accepted."""
        with self._store.writing() as conn:
            archive_rows.forget_stale(conn, deleted)
            shared_archive.drop_purged(conn)


def remove_file(folder: Path, path: str) -> bool:
    """Delete an archived file (gone already counts); False when it could not be."""
    try:
        os.unlink(folder / path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("Could not delete the archived recording %s: %s", path, exc)
        return False
    return True
