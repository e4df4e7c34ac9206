"""Sync connections, their cursors and status, and a watched folder's file fingerprints."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from callviewer.store.database import StoreError
from callviewer.store.schema import sync_connections, sync_state, watched_files


def add(conn: Connection, name: str, kind: str, settings: dict, now: int) -> dict:
    """A new connection; StoreError when the name is taken."""
    name = name.strip()
    if not name:
        raise StoreError("A connection needs a name.")
    if conn.execute(select(sync_connections.c.id)
                    .where(sync_connections.c.name == name)).first() is not None:
        raise StoreError(f"There is already a connection named {name!r}.")
    connection_id = conn.execute(insert(sync_connections).values(
        name=name, kind=kind, settings=_dump(settings), secret_key=f"connection-{uuid.uuid4()}",
        created_at=now)).inserted_primary_key[0]
    conn.execute(insert(sync_state).values(connection_id=connection_id))
    return find(conn, name)


def find(conn: Connection, name: str) -> dict | None:
    """One connection with its state, by name."""
    found = _listed(conn, sync_connections.c.name == name)
    return found[0] if found else None


def listed(conn: Connection) -> list[dict]:
    """Every connection with its state, by name."""
    return _listed(conn, None)


def _listed(conn: Connection, where: Any) -> list[dict]:
    query = (select(sync_connections, sync_state.c.cursor, sync_state.c.status,
                    sync_state.c.error, sync_state.c.last_attempt_at, sync_state.c.last_sync_at,
                    sync_state.c.last_full_at, sync_state.c.last_whole_at,
                    sync_state.c.last_summary)
             .join(sync_state, sync_state.c.connection_id == sync_connections.c.id)
             .order_by(sync_connections.c.name))
    if where is not None:
        query = query.where(where)
    found = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        for key in ("settings", "cursor", "last_summary"):
            item[key] = orjson.loads(item[key]) if item[key] else ({} if key == "settings"
                                                                   else None)
        found.append(item)
    return found


def set_settings(conn: Connection, name: str, settings: dict) -> None:
    """Replace a connection's settings."""
    _require(conn.execute(update(sync_connections).where(sync_connections.c.name == name)
                          .values(settings=_dump(settings))).rowcount, name)


def remove(conn: Connection, name: str) -> dict:
    """Delete a connection, its state and fingerprints; its calls and recordings stay."""
    found = find(conn, name)
    _require(found is not None, name)
    conn.execute(delete(sync_connections).where(sync_connections.c.id == found["id"]))
    return found


def save_cursor(conn: Connection, connection_id: int, cursor: dict | None) -> None:
    """Where the connection's next page starts (committed with the page it follows)."""
    conn.execute(update(sync_state).where(sync_state.c.connection_id == connection_id)
                 .values(cursor=_dump(cursor) if cursor is not None else None))


def set_status(conn: Connection, connection_id: int, **values: Any) -> None:
    """Record how a sync went: status, error sentence, last_*_at times, last_summary."""
    if values.get("status") is not None:
        values["status"] = str(values["status"])  # a ConnectionStatus, stored as its text
    if "last_summary" in values and values["last_summary"] is not None:
        values["last_summary"] = _dump(values["last_summary"])
    conn.execute(update(sync_state).where(sync_state.c.connection_id == connection_id)
                 .values(**values))


def fingerprints(conn: Connection, connection_id: int) -> dict[str, tuple[int, int, str]]:
    """A watched folder's imported files: relative path -> (size, mtime_ns, sha256)."""
    query = select(watched_files.c.path, watched_files.c.size, watched_files.c.mtime_ns,
                   watched_files.c.sha256).where(watched_files.c.connection_id == connection_id)
    return {path: (size, mtime, digest) for path, size, mtime, digest in conn.execute(query)}


def save_fingerprints(conn: Connection, connection_id: int,
                      files: list[tuple[str, int, int, str]], now: int) -> None:
    """Record files (path, size, mtime_ns, sha256) as imported."""
    if not files:
        return
    paths = [path for path, *_ in files]
    conn.execute(delete(watched_files).where(watched_files.c.connection_id == connection_id,
                                             watched_files.c.path.in_(paths)))
    conn.execute(insert(watched_files), [
        {"connection_id": connection_id, "path": path, "size": size, "mtime_ns": mtime,
         "sha256": digest, "imported_at": now} for path, size, mtime, digest in files])


def _require(found: object, name: str) -> None:
    if not found:
        raise StoreError(f"There is no connection named {name!r}.")


def _dump(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
