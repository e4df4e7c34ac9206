"""Whose turn it is to sync a connection: one desktop of a team at a time.

On PostgreSQL a desktop syncing a connection holds a session advisory lock
keyed by the connection's id, on a database connection of its own, for the
whole sync run. Another desktop that finds it taken leaves that connection
alone. The server releases the lock when the session ends: when the sync is
over, and when the desktop dies or loses its network (TCP keepalives on that
session notice a silent loss within about a minute and a half). SQLite has one
desktop: its turn is always its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# The first key of the two-key advisory locks ("cv"); the second is the connection's id.
# PostgreSQL keeps two-key locks apart from one-key ones such as the writers' WRITE_LOCK.
SYNC_LOCK_CLASS = 0x6376
# Server-side keepalives on the lock's session: a desktop gone without closing its
# connection gives up its turns within idle + interval × count seconds.
_KEEPALIVES = {"tcp_keepalives_idle": 60, "tcp_keepalives_interval": 10,
               "tcp_keepalives_count": 3}


@contextmanager
def sync_turn(engine: Engine, connection_id: int) -> Iterator[bool]:
    """True while this desktop holds the turn to sync a connection; False when another does."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    conn = engine.connect()
    try:
        for name, value in _KEEPALIVES.items():
            conn.exec_driver_sql(f"SET {name} = {value}")
        mine = bool(conn.execute(text("SELECT pg_try_advisory_lock(:kind, :id)"),
                                 {"kind": SYNC_LOCK_CLASS, "id": connection_id}).scalar())
        conn.commit()  # a session lock: it outlives the transaction
    except BaseException:
        conn.close()
        raise
    try:
        yield mine
    finally:
        if mine:
            _release(conn, connection_id)
        conn.close()


def _release(conn, connection_id: int) -> None:
    try:
        conn.execute(text("SELECT pg_advisory_unlock(:kind, :id)"),
                     {"kind": SYNC_LOCK_CLASS, "id": connection_id})
        conn.commit()
    except DBAPIError as exc:
        # The session is lost (server restart, network): the server let the lock go with
        # it. The connection is not returned to the pool.
        log.info("The turn to sync connection %s ended with its session: %s",
                 connection_id, exc)
        conn.invalidate()
