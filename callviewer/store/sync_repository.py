"""What a store keeps for syncing: connections and their state, the pages they commit, the
calls they listed, a watched folder's files, and whose turn it is."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import EllipsisType
from typing import TYPE_CHECKING

from callviewer.store import calls as call_rows
from callviewer.store import connections as connection_rows
from callviewer.store import recordings as archive_rows
from callviewer.store import sync_seen, turns
from callviewer.store.records import SyncConnection, now_micros

if TYPE_CHECKING:
    from callviewer.store import Store
    from callviewer.store.modes import LocalMode


class SyncRepository:
    """`store.sync`: sync connections as `SyncConnection` records, and a sync's writes."""

    def __init__(self, store: Store, mode: LocalMode) -> None:
        self._store, self._mode = store, mode

    def connections(self) -> list[SyncConnection]:
        """Every sync connection with its state, by name."""
        with self._store.reading() as conn:
            return [_record(row) for row in connection_rows.listed(conn)]

    def connection(self, name: str) -> SyncConnection | None:
        """One sync connection and its state, by name."""
        with self._store.reading() as conn:
            found = connection_rows.find(conn, name)
        return _record(found) if found is not None else None

    def add_connection(self, name: str, kind: str, settings: dict) -> SyncConnection:
        """A new sync connection (StoreError if the name is taken); settings never hold a
        token."""
        with self._store.writing() as conn:
            return _record(connection_rows.add(conn, name, kind, settings, now_micros()))

    def update_connection(self, name: str, settings: dict) -> None:
        """Replace a connection's settings (StoreError if there is none by that name)."""
        with self._store.writing() as conn:
            connection_rows.set_settings(conn, name, settings)

    def remove_connection(self, name: str) -> SyncConnection:
        """Forget a connection, its cursor and fingerprints; its calls and recordings stay."""
        with self._store.writing() as conn:
            return _record(connection_rows.remove(conn, name))

    def set_status(self, connection_id: int, **values) -> None:
        """Record how a connection's sync went (see store/connections.py set_status)."""
        with self._store.writing() as conn:
            connection_rows.set_status(conn, connection_id, **values)
            self._mode.announce(conn, [], sync=True)

    def commit_page(self, connection_id: int, records: list[dict],
                    cursor: dict | EllipsisType | None = ...,
                    files: Iterable[tuple[str, int, int, str]] = (),
                    seen: tuple[str, list[str], int] | None = None,
                    whole_history: bool = False) -> call_rows.WriteCounts:
        """One page of a sync, whole or not at all: its records, where the source serves
        their recordings, the cursor past it (``...``: left as it is), (a folder) the
        fingerprints of its files, and (an API) the calls it listed: `seen` is (source,
        ids, full pass number or 0). `whole_history`: the page ended a full pass, so the
        connection's calls it no longer listed are marked deleted at the source."""
        with self._store.writing() as conn:
            now = now_micros()
            if seen is not None:  # first: a record's own deleted_at below has the last word
                sync_seen.note(conn, connection_id, seen[0], seen[1], seen[2], seen[2] > 0)
            counts = call_rows.write_records(conn, records, now) if records \
                else call_rows.WriteCounts()
            if whole_history and seen is not None:
                gone = sync_seen.mark_absent(conn, connection_id, seen[0], seen[2], now)
                counts.updated += len(gone)
            references = {key: record["recording"] for record in records
                          if "recording" in record
                          for key in [(record["source"], record["source_id"])]}
            if references:
                ids = call_rows.ids_of(conn, references)  # a part waiting has no call yet
                archive_rows.note_sources(conn, {ids[key]: ref for key, ref
                                                 in references.items() if key in ids},
                                          connection_id)
            if counts.purged_archives:
                archive_rows.let_go(conn, counts.purged_archives)
            if counts.new or counts.updated:
                self._mode.announce(conn, None)
            if cursor is not ...:
                connection_rows.save_cursor(conn, connection_id, cursor)
            connection_rows.save_fingerprints(conn, connection_id, list(files), now_micros())
        if counts.purged_archives:
            self._store.archive.delete_stale()
        return counts

    def versions(self, source: str, source_ids: list[str]) -> dict[str, tuple]:
        """(updated_at, progress) of the stored calls among some source ids."""
        with self._store.reading() as conn:
            return call_rows.versions_of(conn, source, source_ids)

    def fingerprints(self, connection_id: int) -> dict[str, tuple[int, int, str]]:
        """A watched folder's imported files: relative path -> (size, mtime_ns, sha256)."""
        with self._store.reading() as conn:
            return connection_rows.fingerprints(conn, connection_id)

    @contextmanager
    def turns(self) -> Iterator[Callable[[int], bool]]:
        """A sync run's turns: ``take(connection_id)`` is True when this desktop now syncs
        that connection (its turn is held until the block ends), False when another desktop
        of the team is syncing it (store/turns.py)."""
        with self._store.explained(), turns.sync_turns(self._store.engine) as take:
            yield take


def _record(row: dict) -> SyncConnection:
    return SyncConnection.from_row(row)
