"""The local store of call records: one `Store` per database, the only door to it."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from types import EllipsisType

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from callviewer import jsontext
from callviewer.dbfile import DEFAULT_FILENAME, HEAD, resolve_url, shown_address, sqlite_path
from callviewer.recording_state import ARCHIVED
from callviewer.store import calls as call_writes
from callviewer.store import connections as sync_connections
from callviewer.store import live, shared_archive, sync_seen, team_roles, turns
from callviewer.store import notes as note_writes
from callviewer.store import recordings as archive
from callviewer.store.database import (
    WRITE_OPTION,
    DamagedError,
    StoreError,
    connect_read_only,
    damage_code,
    damage_detail,
    damaged_sentence,
    explain,
    has_sqlite_header,
    is_environment_fault,
    known_verdict,
    open_engine,
    open_read_only_engine,
    quick_check,
    remember_verdict,
    unreadable_sentence,
)
from callviewer.store.export import iter_calls, iter_canonical
from callviewer.store.local_drafts import LocalDrafts
from callviewer.store.migrate import SchemaTooNewError, current_revision, ensure_schema
from callviewer.store.notes import NEW_NOTE
from callviewer.store.schema import calls, recordings, store_settings
from callviewer.store.schema import sync_seen as seen_calls

__all__ = ["NEW_NOTE", "DamagedError", "SchemaTooNewError", "Store", "StoreError"]

log = logging.getLogger(__name__)
_CAP_KEY = "archive_cap_bytes"


def now_micros() -> int:
    """The current time as epoch microseconds."""
    return time.time_ns() // 1000


class Store:
    """An open database of calls: created or upgraded on open, closed with `close()`.

    A damaged SQLite file is open read-only: found so by SQLite's quick check, which runs
    before the first write (and, for the window, on a thread of its own once it is open),
    or by SQLite answering with a code of corruption at any time. From then on every
    write is refused with DamagedError, whose sentence says how to restore the file.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        self.path: Path | None = sqlite_path(self.url)
        self.where = str(self.path) if self.path else _without_password(self.url)
        self._damaged: str | None = None
        self._checked = False  # the quick check has run on this store
        self._check_lock = threading.Lock()
        self._damage_lock = threading.Lock()  # the check's thread and a failed read may race
        self._checking: sqlite3.Connection | None = None
        self._checker: threading.Thread | None = None
        self._on_damaged: list[Callable[[str], None]] = []
        known, sentence = known_verdict(self.path) if self.path else (False, None)
        try:
            self.engine = open_engine(self.url)
            if known and sentence is not None:  # damaged: never opened for writing
                self._become_read_only("found damaged earlier in this process")
            else:
                self._checked = known
                self._open_schema()
        except DBAPIError as exc:
            if not self._is_damage(exc):
                if is_environment_fault(exc) or "unable to open" in str(exc):
                    raise explain(exc, self.where) from exc
                raise
            self._become_read_only(damage_detail(exc))
        if self._damaged is not None:
            self._check_read_only_schema()
        # A server database is a team's: its recordings archive is in the database, and
        # this desktop's copies of them are a cache (store/shared_archive.py); its changes
        # are announced to the other desktops (store/live.py), and note drafts stay on this
        # desktop (store/local_drafts.py).
        self.team = self.engine.dialect.name != "sqlite"
        self.recordings_dir = self._recordings_dir()
        # A team database's cache on this desktop holds at most this many bytes.
        self.cache_cap = shared_archive.CACHE_CAP_BYTES
        self.origin = uuid.uuid4().hex  # this Store, in its announcements
        self._local_drafts = self._team_drafts() if self.team else None
        # Who writes: on a team database a member's own role, as the server says
        # (store/team_roles.py); else the name the caller passes (Preferences).
        self.who = self._who() if self.team else team_roles.NOBODY

    def close(self) -> None:
        """Release the database's connections (stopping a quick check under way)."""
        checking, checker = self._checking, self._checker
        if checking is not None:
            with suppress(sqlite3.ProgrammingError):  # finished and closed meanwhile
                checking.interrupt()
        if checker is not None:
            checker.join(timeout=10)
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection in a read transaction; environment faults (a server out of reach)
        become StoreError."""
        with self._explained(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection in a write transaction: all of it is committed, or none.

        Environment faults (busy, read-only, disk full) become StoreError; a damaged
        file refuses it with DamagedError (the quick check runs before the first).
        """
        self.check_writable()
        with self._explained(), self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _explained(self) -> Iterator[None]:
        """Environment faults (busy, read-only, full, a server out of reach) as StoreError,
        a damaged file as DamagedError (read-only from then on); anything else, a bug, as
        it is."""
        try:
            yield
        except (DBAPIError, sqlite3.DatabaseError) as exc:
            if self._is_damage(exc):
                raise DamagedError(self._become_read_only(damage_detail(exc))) from exc
            if isinstance(exc, DBAPIError) and is_environment_fault(exc):
                raise explain(exc, self.where) from exc
            raise

    # --- a damaged SQLite file: read-only ----------------------------------------------

    @property
    def damaged(self) -> str | None:
        """The sentence saying the file is damaged and open read-only; None while it is not
        known to be."""
        return self._damaged

    def verify(self) -> str | None:
        """Run SQLite's quick check on the file once (not again for a file this process
        found whole as it is now); read-only from then on when it fails. Returns the
        sentence when damaged, else None. A million calls take seconds: the window runs it
        off its thread (`verify_in_background`)."""
        if self.path is None or self._damaged is not None:
            return self._damaged
        with self._check_lock:
            if self._checked or self._damaged is not None:
                return self._damaged
            findings = self._quick_check()
            if findings is None:  # interrupted or busy: not checked, writes go on
                return None
            self._checked = True
            if findings:
                self._become_read_only("; ".join(findings))
            else:
                remember_verdict(self.path, None)
        return self._damaged

    def verify_in_background(self) -> None:
        """Start `verify` on a thread of its own; a write meanwhile waits for it."""
        if self.path is None or self._checked or self._checker is not None:
            return
        self._checker = threading.Thread(target=self.verify, name="callviewer-quick-check",
                                         daemon=True)
        self._checker.start()

    def on_damaged(self, tell: Callable[[str], None]) -> None:
        """Have `tell(sentence)` called once the file is found damaged (now, if it is
        already), from whichever thread found it."""
        self._on_damaged.append(tell)
        if self._damaged is not None:
            tell(self._damaged)

    def _quick_check(self) -> list[str] | None:
        try:
            conn = connect_read_only(self.path)
        except sqlite3.Error as exc:
            return [damage_detail(exc)] if damage_code(exc) is not None else None
        self._checking = conn
        try:
            return quick_check(conn)
        finally:
            self._checking = None
            conn.close()

    def _is_damage(self, exc: BaseException) -> bool:
        # Not a database at all (a text file given as --db) is not damage: it is
        # explained as such. A file that begins as SQLite's do is damaged.
        return (self.path is not None and damage_code(exc) is not None
                and has_sqlite_header(self.path))

    def _become_read_only(self, detail: str) -> str:
        """From now on this store reads the file through connections SQLite keeps from
        writing, and refuses every write; returns the sentence saying so."""
        with self._damage_lock:
            if self._damaged is not None:
                return self._damaged
            log.info("The database %s is damaged (%s); it is open read-only from now on.",
                     self.where, detail)
            sentence = damaged_sentence(self.path)
            remember_verdict(self.path, sentence)
            writable, self.engine = self.engine, open_read_only_engine(self.path)
            writable.dispose()
            self._damaged = sentence
        for tell in self._on_damaged:
            tell(sentence)
        return sentence

    def check_writable(self) -> None:
        """DamagedError when the file is damaged (the quick check runs first, once): for a
        command to refuse before it begins, as every write does."""
        sentence = self.verify()
        if sentence is not None:
            raise DamagedError(sentence)

    def _open_schema(self) -> None:
        """Create or upgrade the schema. An upgrade writes: an older file is checked
        first, and a damaged one is left as it is."""
        if self.path is not None and current_revision(self.engine) not in (HEAD, None) \
                and self.verify() is not None:
            return
        ensure_schema(self.engine, self.where, self.path)

    def _check_read_only_schema(self) -> None:
        """A damaged file is read as it is: only at this version's schema, and only when
        SQLite can read its schema at all (StoreError otherwise)."""
        try:
            revision = current_revision(self.engine)
        except DBAPIError as exc:
            if damage_code(exc) is None:
                raise
            self.engine.dispose()
            raise StoreError(unreadable_sentence(self.path)) from exc
        if revision != HEAD:
            self.engine.dispose()
            raise StoreError(f"The database {self.where} is damaged, and its schema is not "
                             "this version's, so it cannot be read; restore it from a "
                             "backup.")

    def _team_drafts(self) -> LocalDrafts:
        from callviewer.paths import data_dir

        name = shared_archive.database_name(self.url)
        return LocalDrafts(data_dir() / "team-drafts" / f"{name}.sqlite3")

    def _announce(self, conn: Connection, call_ids: Iterable[int] | None,
                  sync: bool = False) -> None:
        """Tell a team's other desktops, when this transaction commits, which calls it
        changed (None: many, or new ones) and whether a sync's state changed."""
        if self.team:
            live.announce(conn, self.origin, call_ids, sync)

    def watch(self, on_change: Callable[[dict], None],
              on_reachable: Callable[[bool], None]) -> Callable[[], None]:
        """Hear the other desktops' changes: `on_change({"calls": ids or None, "sync":
        bool})` and `on_reachable(bool)`, called from a thread of their own (see
        store/live.py). Returns what stops it. One desktop's SQLite file: nothing to hear."""
        if not self.team:
            return lambda: None
        watcher = live.Watcher(self.engine, self.origin, on_change, on_reachable)
        watcher.start()
        return watcher.stop

    def write_records(self, records: list[dict]) -> call_writes.WriteCounts:
        """Upsert validated partial records, all in one transaction."""
        with self.writing() as conn:
            counts = call_writes.write_records(conn, records, now_micros())
            if counts.purged_archives:
                archive.let_go(conn, counts.purged_archives)
            if counts.new or counts.updated:
                self._announce(conn, None)
        if counts.purged_archives:
            self.delete_stale_recordings()
        return counts

    @property
    def identity(self) -> str | None:
        """The database role this desktop writes notes and done flags as, when the team
        database vouches for it; None: as the name the caller passes (Preferences)."""
        return self.who.role

    def _who(self) -> team_roles.Who:
        with self.reading() as conn:
            return team_roles.who(conn)

    @contextmanager
    def _judged(self) -> Iterator[None]:
        """A team database's refusal of a note or flag (migration 0010) as a sentence."""
        try:
            yield
        except DBAPIError as exc:
            if not team_roles.is_refusal(exc):
                raise
            log.info("The team database refused a change", exc_info=True)
            raise StoreError(
                f"The team database {self.where} refused this change: a note is changed or "
                f"deleted only by its author, and hidden only by an administrator (you are "
                f"{self.who.role or 'not a team member'}).") from exc

    def set_done(self, call_id: int, done: bool, by: str) -> None:
        """Mark a call done (or not) locally, as `by` (a team member: as its role, which
        the server records whatever `by` says); imports never change it back."""
        with self._judged(), self.writing() as conn:
            call_writes.set_done(conn, call_id, done, self.who.role or by, now_micros())
            self._announce(conn, [call_id])

    def add_note(self, call_id: int, author: str, body: str, key: str | None = None) -> int:
        """Add a staff note to a call; returns its id. `key`, picked by the writer for this
        note (a uuid), makes a save tried again after its answer was lost save it once.
        A team member's note is the server's `current_user`'s, whatever `author` says."""
        with self._judged(), self.writing() as conn:
            note_id = note_writes.add_note(conn, call_id, None if self.who.role else author,
                                           body, now_micros(), key)
            self._announce(conn, [call_id])
        self._saved(call_id, NEW_NOTE)
        return note_id

    def update_note(self, note_id: int, author: str, body: str) -> None:
        """Replace a staff note's text; only its author may (StoreError for anyone else;
        a team member is its role, whatever `author` says)."""
        with self._judged(), self.writing() as conn:
            call_id = note_writes.update_note(conn, note_id, self.who.role or author, body,
                                              now_micros())
            self._announce(conn, [call_id])
        self._saved(call_id, note_id)

    def delete_note(self, note_id: int, author: str) -> dict:
        """Delete a staff note (its author's alone: StoreError for anyone else); returns it
        so `restore_note` can undo."""
        with self._judged(), self.writing() as conn:
            note = note_writes.delete_note(conn, note_id, self.who.role or author)
            self._announce(conn, [note["call_id"]])
        self._saved(note["call_id"], note_id)
        return note

    def restore_note(self, note: dict) -> None:
        """Undo a `delete_note`."""
        note = {key: value for key, value in note.items() if key != "display_name"}
        with self._judged(), self.writing() as conn:
            note_writes.restore_note(conn, note)
            self._announce(conn, [note["call_id"]])

    def hide_note(self, note_id: int) -> None:
        """Hide a note (a team administrator's alone): kept and marked with who and when,
        no longer shown to others, exported, counted or searched."""
        if not self.team or not self.who.admin:
            raise StoreError("Only a team database's administrator can hide a note; ask one "
                             "(callviewer team add-user NAME --admin makes one).")
        with self._judged(), self.writing() as conn:
            user = conn.execute(select(func.current_user())).scalar()
            call_id = note_writes.hide_note(conn, note_id, user, now_micros())
            self._announce(conn, [call_id])

    def set_display_name(self, name: str) -> None:
        """The name shown beside this desktop's role on a team database (a member's alone);
        nothing to keep elsewhere: the Preferences name is the author itself."""
        if self.who.role is None:
            return
        with self._judged(), self.writing() as conn:
            team_roles.set_display_name(conn, self.who.role, name)

    def notes_of(self, call_id: int) -> list[dict]:
        """A call's staff notes, oldest first (an administrator's view has hidden ones)."""
        with self.reading() as conn:
            return self._notes(conn, call_id)

    def _notes(self, conn: Connection, call_id: int) -> list[dict]:
        found = note_writes.notes_of(conn, [call_id], hidden=self.who.admin).get(call_id, [])
        if self.team:  # each author's display name, as its person chose it
            names = team_roles.display_names(conn)
            for note in found:
                note["display_name"] = names.get(note["author"])
        return found

    def save_draft(self, call_id: int, note_id: int, body: str, cursor: int = 0) -> None:
        """Keep a note editor's text as it is typed; note_id NEW_NOTE is a new note.
        (A team database's drafts are kept on this desktop, reachable or not.)"""
        if self._local_drafts is not None:
            self._local_drafts.save(call_id, note_id, body, cursor, now_micros())
            return
        if self.verify() is not None:  # the editor keeps the text; saving it is refused
            return
        with self.writing() as conn:
            note_writes.save_draft(conn, call_id, note_id, body, cursor, now_micros())

    def discard_draft(self, call_id: int, note_id: int) -> None:
        """Forget a draft; saving the note does this by itself."""
        if self._local_drafts is not None:
            self._local_drafts.discard(call_id, note_id)
            return
        if self.verify() is not None:
            return
        with self.writing() as conn:
            note_writes.discard_draft(conn, call_id, note_id)

    def drafts_of(self, call_id: int) -> dict[int, dict]:
        """A call's unsaved drafts by note id: {body, cursor, updated_at}."""
        if self._local_drafts is not None:
            return self._local_drafts.of(call_id)
        with self.reading() as conn:
            return note_writes.drafts_of(conn, call_id)

    def _saved(self, call_id: int, note_id: int) -> None:
        """A note was saved or deleted: its draft goes (an SQLite store's went with it)."""
        if self._local_drafts is not None:
            self._local_drafts.discard(call_id, note_id)

    def call(self, call_id: int) -> dict | None:
        """One call for display: every column (times in epoch microseconds, JSON decoded)
        and its staff notes with their ids, oldest first; None when there is no such call."""
        with self.reading() as conn:
            row = conn.execute(select(calls).where(calls.c.id == call_id)).mappings().first()
            if row is None:
                return None
            found = {**row, "notes": self._notes(conn, call_id)}
        for name in ("transcript", "analysis", "extras"):
            found[name] = jsontext.loads(found[name]) if found[name] else None
        return found

    def recording(self, call_id: int) -> str | None:
        """What plays a call's recording: a local file or a URL; None when it has none.

        Once archived, the archived file; from a team database's archive, this
        desktop's cached copy, fetched from the database on first play.
        """
        found = self.recording_source(call_id)
        return found() if callable(found) else found

    def recording_source(self, call_id: int) -> str | Callable[[], str | None] | None:
        """`recording(call_id)` without waiting for the bytes: when they must first come from
        a team database's archive (not yet cached on this desktop), a function that fetches
        them and returns the cached copy's path, for the caller to run off its GUI thread.
        """
        with self.reading() as conn:
            row = conn.execute(
                select(calls.c.recording, calls.c.recording_state, recordings.c.path,
                       recordings.c.size, recordings.c.sha256, recordings.c.archived_at)
                .outerjoin(recordings, recordings.c.call_id == calls.c.id)
                .where(calls.c.id == call_id)).first()
        if row is None:
            return None
        if not self.team or row.recording_state != ARCHIVED or row.path is None:
            return row.recording
        local = self.recordings_dir / row.path
        if shared_archive.is_cached(local, row.size, row.archived_at):
            with suppress(OSError):  # played now: the cache's trim keeps it longer
                shared_archive.mark_cached(local, row.archived_at)
            return str(local)
        return partial(shared_archive.local_copy, self.reading, self.recordings_dir, call_id,
                       row, self.where, self.cache_cap)

    def caller(self, call_id: int) -> dict | None:
        """Who a call was with: customer_name, customer_number and from_number; None when
        there is no such call. (For one line about a call; `call` reads all of it.)"""
        with self.reading() as conn:
            row = conn.execute(select(calls.c.customer_name, calls.c.customer_number,
                                      calls.c.from_number).where(calls.c.id == call_id)).first()
        return dict(row._mapping) if row is not None else None

    def call_connections(self, call_id: int) -> list[int]:
        """The ids of the sync connections a call came from: those that listed it, and the
        one its recording comes through."""
        with self.reading() as conn:
            key = conn.execute(select(calls.c.source, calls.c.source_id)
                               .where(calls.c.id == call_id)).first()
            if key is None:
                return []
            listed = conn.execute(select(seen_calls.c.connection_id).where(
                seen_calls.c.source == key.source,
                seen_calls.c.source_id == key.source_id)).scalars().all()
            via = conn.execute(select(recordings.c.connection_id).where(
                recordings.c.call_id == call_id,
                recordings.c.connection_id.is_not(None))).scalars().all()
        return sorted({*listed, *via})

    def call_id(self, source: str, source_id: str) -> int | None:
        """The local id of a call by its source key."""
        with self.reading() as conn:
            return conn.execute(select(calls.c.id).where(
                calls.c.source == source, calls.c.source_id == source_id)).scalar()

    def export(self, include_deleted: bool = False,
               call_ids: list[int] | None = None) -> Iterator[dict]:
        """Every call (or the given ones, in that order) as a canonical record, streamed."""
        with self.reading() as conn:
            if call_ids is None:
                yield from iter_canonical(conn, include_deleted)
            else:
                yield from iter_calls(conn, call_ids)

    def summary(self) -> dict:
        """What `info` prints: where the database is, its schema and its counts."""
        with self._explained():
            schema = current_revision(self.engine)
        with self.reading() as conn:
            total, deleted, purged, with_recording = conn.execute(select(
                func.count(),
                func.count(calls.c.deleted_at),
                func.coalesce(func.sum(calls.c.is_purged.cast(calls.c.note_count.type)), 0),
                func.coalesce(func.sum(calls.c.has_recording.cast(calls.c.note_count.type)), 0),
            )).one()
            by_source = dict(conn.execute(
                select(calls.c.source, func.count()).group_by(calls.c.source)).all())
        return {
            "database": self.where,
            "schema": schema,
            "calls": total,
            "deleted": deleted,
            "purged": purged,
            "with_recording": with_recording,
            "by_source": by_source,
        }


    # --- sync: connections and their state ---------------------------------------------

    def add_connection(self, name: str, kind: str, settings: dict) -> dict:
        """A new sync connection (StoreError if the name is taken); settings never hold a token."""
        with self.writing() as conn:
            return sync_connections.add(conn, name, kind, settings, now_micros())

    def connections(self) -> list[dict]:
        """Every sync connection by name: id, name, kind, settings, secret_key, and its state
        (cursor, status, error, last_attempt_at, last_sync_at, last_full_at, last_summary)."""
        with self.reading() as conn:
            return sync_connections.listed(conn)

    def connection(self, name: str) -> dict | None:
        """One sync connection and its state, by name (as in `connections`)."""
        with self.reading() as conn:
            return sync_connections.find(conn, name)

    def update_connection(self, name: str, settings: dict) -> None:
        """Replace a connection's settings (StoreError if there is none by that name)."""
        with self.writing() as conn:
            sync_connections.set_settings(conn, name, settings)

    def remove_connection(self, name: str) -> dict:
        """Forget a connection, its cursor and fingerprints; its calls and recordings stay."""
        with self.writing() as conn:
            return sync_connections.remove(conn, name)

    def set_sync_status(self, connection_id: int, **values) -> None:
        """Record how a connection's sync went (see store/connections.py set_status)."""
        with self.writing() as conn:
            sync_connections.set_status(conn, connection_id, **values)
            self._announce(conn, [], sync=True)

    def commit_page(self, connection_id: int, records: list[dict],
                    cursor: dict | EllipsisType | None = ...,
                    files: Iterable[tuple[str, int, int, str]] = (),
                    seen: tuple[str, list[str], int] | None = None,
                    whole_history: bool = False) -> call_writes.WriteCounts:
        """One page of a sync, whole or not at all: its records, where the source serves
        their recordings, the cursor past it (``...``: left as it is), (a folder) the
        fingerprints of its files, and (an API) the calls it listed: `seen` is (source,
        ids, full pass number or 0). `whole_history`: the page ended a full pass, so the
        connection's calls it no longer listed are marked deleted at the source."""
        with self.writing() as conn:
            now = now_micros()
            if seen is not None:  # first: a record's own deleted_at below has the last word
                sync_seen.note(conn, connection_id, seen[0], seen[1], seen[2], seen[2] > 0)
            counts = call_writes.write_records(conn, records, now) if records \
                else call_writes.WriteCounts()
            if whole_history and seen is not None:
                gone = sync_seen.mark_absent(conn, connection_id, seen[0], seen[2], now)
                counts.updated += len(gone)
            references = {key: record["recording"] for record in records
                          if "recording" in record
                          for key in [(record["source"], record["source_id"])]}
            if references:
                ids = call_writes.ids_of(conn, references)  # a part waiting has no call yet
                archive.note_sources(conn, {ids[key]: ref for key, ref in references.items()
                                            if key in ids}, connection_id)
            if counts.purged_archives:
                archive.let_go(conn, counts.purged_archives)
            if counts.new or counts.updated:
                self._announce(conn, None)
            if cursor is not ...:
                sync_connections.save_cursor(conn, connection_id, cursor)
            sync_connections.save_fingerprints(conn, connection_id, list(files), now_micros())
        if counts.purged_archives:
            self.delete_stale_recordings()
        return counts

    def source_versions(self, source: str, source_ids: list[str]) -> dict[str, tuple]:
        """(updated_at, progress) of the stored calls among some source ids."""
        with self.reading() as conn:
            return call_writes.versions_of(conn, source, source_ids)

    def file_fingerprints(self, connection_id: int) -> dict[str, tuple[int, int, str]]:
        """A watched folder's imported files: relative path -> (size, mtime_ns, sha256)."""
        with self.reading() as conn:
            return sync_connections.fingerprints(conn, connection_id)

    # --- the recordings archive ---------------------------------------------------------

    def _recordings_dir(self) -> Path:
        """The folder of this store's recordings, by their archive paths: an SQLite file's
        archive (store/recordings.py); a team database's cache on this desktop."""
        if self.team:
            return shared_archive.cache_dir(self.url)
        from callviewer.paths import data_dir

        return archive.archive_dir(self.path, data_dir(), data_dir() / DEFAULT_FILENAME)

    @contextmanager
    def sync_turns(self) -> Iterator[Callable[[int], bool]]:
        """A sync run's turns: ``take(connection_id)`` is True when this desktop now syncs
        that connection (its turn is held until the block ends), False when another desktop
        of the team is syncing it (store/turns.py)."""
        with self._explained(), turns.sync_turns(self.engine) as take:
            yield take

    def wanted_recordings(self, connection_id: int,
                          call_ids: list[int] | None = None) -> list[dict]:
        """A connection's recordings to download: id, source, source_id, recording_state,
        source_ref (secret: never log it), attempts."""
        with self.reading() as conn:
            return archive.wanted(conn, connection_id, call_ids)

    def recording_archived(self, call_id: int, path: str, size: int, digest: str) -> bool:
        """A downloaded recording (`path` relative to recordings_dir) is now what plays;
        False when the call no longer wants it (purged meanwhile): the caller deletes it.

        A team database takes the file's bytes into its archive (size and digest are
        then those of the bytes it holds); the file stays as this desktop's cached copy.
        """
        local, now = self.recordings_dir / path, now_micros()
        plays = str(local)
        if self.team:
            with self.reading() as conn:
                if not archive.still_wanted(conn, call_id):
                    return False
            try:
                content = local.read_bytes()
            except FileNotFoundError:  # swept by a sync in another process: the next
                return False           # sync downloads it again
            size, digest, plays = len(content), shared_archive.digest_of(content), path
            # Not in a writer's turn: an upload over a slow link would make colleagues'
            # saves wait for it. Accepting it below is the turn's, and quick.
            with self._transaction() as conn:
                shared_archive.put(conn, call_id, content)
        with self.writing() as conn:
            accepted = archive.archived(conn, call_id, path, plays, size, digest, now)
            self._announce(conn, [call_id])
            if not accepted and self.team:
                shared_archive.drop(conn, [call_id])
        if accepted and self.team:
            with suppress(OSError):  # swept meanwhile: fetched from the archive when played
                shared_archive.mark_cached(local, now)
            with self.reading() as conn:
                shared_archive.trim(conn, self.recordings_dir, self.cache_cap, keep=path)
        return accepted

    def recording_failed(self, call_id: int, error: str, state: str | None = None) -> None:
        """A download failed with the sentence `error`; `state` link_expired or gone marks
        the recording so, None leaves it to be tried again."""
        with self.writing() as conn:
            if state is None:
                archive.failed(conn, call_id, error)
            else:
                archive.set_state(conn, call_id, state, error)
                self._announce(conn, [call_id])

    def recording_evicted(self, call_id: int, reference: str) -> bool:
        """Give up an archived copy for the size cap; the call plays from `reference` again."""
        with self.writing() as conn:
            path = archive.evicted(conn, call_id, reference, now_micros())
            self._announce(conn, [call_id])
        if path is not None:
            self.delete_stale_recordings()
        return path is not None

    def recording_info(self, call_id: int) -> dict:
        """A call's recording state and archive record: state, label, path (absolute),
        size, archived_at, last_played_at, error; the source's link is not included."""
        with self.reading() as conn:
            state = conn.execute(select(calls.c.recording_state)
                                 .where(calls.c.id == call_id)).scalar()
            row = conn.execute(select(recordings.c.path, recordings.c.size,
                                      recordings.c.archived_at, recordings.c.last_played_at,
                                      recordings.c.error, recordings.c.source_gone)
                               .where(recordings.c.call_id == call_id)).mappings().first()
        info = dict(row) if row else dict.fromkeys(
            ("path", "size", "archived_at", "last_played_at", "error", "source_gone"))
        if info["path"]:
            info["path"] = str(self.recordings_dir / info["path"])
        return {"state": state, "label": archive.STATES.get(state, state), **info}

    def mark_played(self, call_id: int) -> None:
        """Note that a call's recording was played now (the size cap keeps recent ones);
        not on a damaged file, where it is bookkeeping nobody asked for, not refused."""
        if self.verify() is not None:
            return
        with self.writing() as conn:
            archive.played(conn, call_id, now_micros())

    def recording_state_counts(self) -> dict[str, int]:
        """How many calls are in each recording state, every state listed."""
        with self.reading() as conn:
            return archive.state_counts(conn)

    def archive_size(self) -> tuple[int, int]:
        """(files, bytes) in the recordings archive."""
        with self.reading() as conn:
            return archive.archive_size(conn)

    def archive_cap(self) -> int | None:
        """The archive's size cap in bytes; None (the default) for no cap."""
        with self.reading() as conn:
            value = conn.execute(select(store_settings.c.value)
                                 .where(store_settings.c.key == _CAP_KEY)).scalar()
        return int(value) if value else None

    def set_archive_cap(self, cap_bytes: int | None) -> None:
        """Set (or, with None, remove) the archive's size cap; the next sync applies it."""
        with self.writing() as conn:
            conn.execute(store_settings.delete().where(store_settings.c.key == _CAP_KEY))
            if cap_bytes is not None:
                conn.execute(store_settings.insert().values(key=_CAP_KEY,
                                                            value=str(int(cap_bytes))))

    def eviction_plan(self, cap_bytes: int | None = None) -> list[dict]:
        """What a cap (default: the one set) would remove: call_id, size, last_played_at,
        source, source_id, in eviction order; only recordings the source still serves."""
        cap = self.archive_cap() if cap_bytes is None else cap_bytes
        with self.reading() as conn:
            return archive.eviction_plan(conn, cap)

    def delete_stale_recordings(self) -> int:
        """Delete archived files whose calls let go of them (purged, evicted); how many.
        A team database's cache also drops copies the archive no longer holds as they are.
        Not for a damaged file (DamagedError), whose rows cannot be trusted to say which."""
        self.check_writable()
        with self.reading() as conn:
            stale = archive.stale_files(conn)
            if self.team:
                shared_archive.sweep(conn, self.recordings_dir)
        done = []
        for call_id, path in stale:
            try:
                os.unlink(self.recordings_dir / path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("Could not delete the archived recording %s: %s", path, exc)
                continue
            done.append(call_id)
        if done or self.team:
            with self.writing() as conn:
                archive.forget_stale(conn, done)
                if self.team:
                    shared_archive.drop_purged(conn)
        return len(done)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction that writes without taking the writers' turn (large uploads only)."""
        self.check_writable()
        with self._explained(), self.engine.connect() as conn, conn.begin():
            yield conn


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ValueError, ArgumentError):  # an address open_engine refuses with a sentence
        return shown_address(url)
