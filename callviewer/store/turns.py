"""Whose turn it is to sync a connection: one desktop of a team at a time.

On PostgreSQL a sync run takes each connection's turn as a session advisory
lock keyed by the connection's id, on one database connection of its own, and
holds them all until the run ends. Another desktop that finds a turn taken
leaves that connection alone. The server releases the locks when the session
ends: when the run is over, and when the desktop dies or loses its network (TCP
keepalives on that session notice a silent loss within about a minute and a
half). SQLite has one desktop: every turn is its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# The first key of the two-key advisory locks ("cv"); the second is the connection's id.
# PostgreSQL keeps two-key locks apart from one-key ones such as the writers' WRITE_LOCK.
SYNC_LOCK_CLASS = 0x6376
# Server-side keepalives on the turns' session: a desktop gone without closing its
# connection gives up its turns within idle + interval × count seconds.
_KEEPALIVES = {"tcp_keepalives_idle": 60, "tcp_keepalives_interval": 10,
               "tcp_keepalives_count": 3}


@contextmanager
def sync_turns(engine: Engine) -> Iterator[Callable[[int], bool]]:
    """A sync run's turns: ``take(connection_id)`` is True when this desktop now holds that
    connection's turn (until the block ends), False when another desktop does."""
    if engine.dialect.name != "postgresql":
        yield lambda _connection_id: True
        return
    session: list[Connection] = []  # opened on the first take
    held: list[int] = []

    def take(connection_id: int) -> bool:
        if not session:
            session.append(engine.connect())
            for name, value in _KEEPALIVES.items():
                session[0].exec_driver_sql(f"SET {name} = {value}")
        conn = session[0]
        mine = bool(conn.execute(text("SELECT pg_try_advisory_lock(:kind, :id)"),
                                 {"kind": SYNC_LOCK_CLASS, "id": connection_id}).scalar())
        conn.commit()  # a session lock: it outlives the transaction
        if mine:
            held.append(connection_id)
        return mine

    try:
        yield take
    finally:
        if session:
            _release(session[0], held)
            session[0].close()


def _release(conn: Connection, held: list[int]) -> None:
    try:
        for connection_id in held:
            conn.execute(text("SELECT pg_advisory_unlock(:kind, :id)"),
                         {"kind": SYNC_LOCK_CLASS, "id": connection_id})
        conn.commit()
    except DBAPIError as exc:
        # The session is lost (server restart, network): the server let the locks go with
        # it. The connection is not returned to the pool.
        log.info("The sync turns ended with their session: %s", exc)
        conn.invalidate()
