"""A team database's note drafts, kept on this desktop.

What a person types into a note editor is theirs until they save it: two
colleagues writing on the same call must not share a draft, and a draft must
survive the team database being out of reach (it is written as they type).
So a Store on a server database keeps its drafts in a small SQLite file of
this desktop's (one per team database, in the user's data folder), with the
same rows as an SQLite store's `drafts` table (store/notes.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = ("CREATE TABLE IF NOT EXISTS drafts (call_id INTEGER NOT NULL, "
           "note_id INTEGER NOT NULL, body TEXT NOT NULL, cursor INTEGER NOT NULL DEFAULT 0, "
           "updated_at INTEGER NOT NULL, PRIMARY KEY (call_id, note_id))")


class LocalDrafts:
    """Drafts by (call id, note id) in an SQLite file of their own."""

    def __init__(self, path: Path) -> None:
        self.path = path  # made by the first draft

    def save(self, call_id: int, note_id: int, body: str, cursor: int, now: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(_SCHEMA)
            conn.execute("INSERT INTO drafts VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_id, note_id) "
                         "DO UPDATE SET body = excluded.body, cursor = excluded.cursor, "
                         "updated_at = excluded.updated_at", (call_id, note_id, body, cursor, now))

    def discard(self, call_id: int, note_id: int) -> None:
        if not self.path.exists():
            return
        with self._connect() as conn:
            conn.execute("DELETE FROM drafts WHERE call_id = ? AND note_id = ?",
                         (call_id, note_id))

    def of(self, call_id: int) -> dict[int, dict]:
        if not self.path.exists():
            return {}
        with self._connect() as conn:
            rows = conn.execute("SELECT note_id, body, cursor, updated_at FROM drafts "
                                "WHERE call_id = ?", (call_id,)).fetchall()
        return {note_id: {"note_id": note_id, "body": body, "cursor": cursor,
                          "updated_at": updated_at}
                for note_id, body, cursor, updated_at in rows}

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in a transaction, committed (or rolled back) and closed."""
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            with conn:
                yield conn
        finally:
            conn.close()
