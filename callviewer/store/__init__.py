"""The local store of call records: one `Store` per database, the only door to it."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from callviewer.dbfile import DEFAULT_FILENAME, HEAD, resolve_url, shown_address, sqlite_path
from callviewer.store import team_roles
from callviewer.store.archive_repository import ArchiveRepository
from callviewer.store.call_repository import CallRepository
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
from callviewer.store.migrate import SchemaTooNewError, current_revision, ensure_schema
from callviewer.store.modes import LocalMode, TeamMode
from callviewer.store.note_repository import NEW_NOTE, NoteRepository
from callviewer.store.records import (
    Call,
    Caller,
    Change,
    ConnectionStatus,
    Draft,
    Eviction,
    Note,
    RecordingInfo,
    Summary,
    SyncConnection,
    WantedRecording,
    now_micros,
)
from callviewer.store.stats_repository import StatsRepository
from callviewer.store.sync_repository import SyncRepository

__all__ = ["NEW_NOTE", "Call", "Caller", "Change", "ConnectionStatus", "DamagedError",
           "Draft", "Eviction", "Note", "RecordingInfo", "SchemaTooNewError", "Store",
           "StoreError", "Summary", "SyncConnection", "WantedRecording", "now_micros"]

log = logging.getLogger(__name__)


class Store:
    """An open database of calls: created or upgraded on open, closed with `close()`.

    A damaged SQLite file is open read-only: found so by SQLite's quick check, which runs
    before the first write (and, for the window, on a thread of its own once it is open),
    or by SQLite answering with a code of corruption at any time. From then on every
    write is refused with DamagedError, whose sentence says how to restore the file.

    Its repositories: `calls`, `notes`, `sync`, `archive` and `stats`; what differs between an
    SQLite file and a team's server database is its `mode` (store/modes.py).

    `url`: a path or URL; None for $CALLVIEWER_DB, else this computer's own file. The team
    database chosen in Preferences is read by the app and passed in (app.database_url).
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
        self.mode = self._open_mode()
        self.calls = CallRepository(self, self.mode)
        self.notes = NoteRepository(self, self.mode)
        self.sync = SyncRepository(self, self.mode)
        self.archive = ArchiveRepository(self, self.mode)
        self.stats = StatsRepository(self)

    def close(self) -> None:
        """Release the database's connections (stopping a quick check under way)."""
        self.stop_checking()
        self.engine.dispose()

    def stop_checking(self) -> None:
        """Interrupt a quick check under way on another thread (`verify` then returns
        without a verdict; the next open checks again)."""
        checking = self._checking
        if checking is not None:
            with suppress(sqlite3.ProgrammingError):  # finished and closed meanwhile
                checking.interrupt()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection in a read transaction; environment faults (a server out of reach)
        become StoreError."""
        with self.explained(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection in a write transaction: all of it is committed, or none.

        Environment faults (busy, read-only, disk full) become StoreError; a damaged
        file refuses it with DamagedError (the quick check runs before the first).
        """
        self.check_writable()
        with self.explained(), self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def explained(self) -> Iterator[None]:
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
        on its task runner, and `stop_checking` interrupts it."""
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

    def _open_mode(self) -> LocalMode:
        """The strategy for what differs between an SQLite file and a team's database."""
        from callviewer.paths import data_dir

        folder = data_dir()
        if self.engine.dialect.name != "sqlite":
            return TeamMode(self, folder)
        return LocalMode(self, folder, folder / DEFAULT_FILENAME)

    @property
    def team(self) -> bool:
        """True on a team's server database (store/modes.py)."""
        return self.mode.team

    @property
    def who(self) -> team_roles.Who:
        """Who this desktop writes as: on a team database a member's own role, as the
        server says; else nobody in particular (the name the caller passes)."""
        return self.mode.who

    @property
    def identity(self) -> str | None:
        """The database role this desktop writes notes and done flags as, when the team
        database vouches for it; None: as the name the caller passes (Preferences)."""
        return self.mode.who.role

    def watch(self, on_change: Callable[[Change], None],
              on_reachable: Callable[[bool], None]) -> Callable[[], None]:
        """Hear the other desktops' changes: `on_change(Change)` and `on_reachable(bool)`,
        called from a thread of their own (see store/live.py). Returns what stops it. One
        desktop's SQLite file: nothing to hear."""
        return self.mode.watch(on_change, on_reachable)

    @contextmanager
    def unturned(self) -> Iterator[Connection]:
        """A transaction that writes without taking the writers' turn (large uploads only)."""
        self.check_writable()
        with self.explained(), self.engine.connect() as conn, conn.begin():
            yield conn


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ValueError, ArgumentError):  # an address open_engine refuses with a sentence
        return shown_address(url)
