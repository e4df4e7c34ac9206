"""Live changes between the desktops of a team: PostgreSQL's LISTEN/NOTIFY.

Each write transaction that changes calls, notes or a sync's state announces
it on one channel (`announce`); PostgreSQL delivers the notification when the
transaction commits, so whoever hears it reads the committed rows. A `Watcher`
thread listens on a connection of its own and tells its callbacks what
changed, and whether the database can be reached: it notices a lost
connection (a server restart, a network drop) within a few seconds and
connects again by itself, backing off up to RETRY_MAX_S.

SQLite has one desktop: nothing is announced and nothing is watched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import orjson
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from callviewer.store.records import Change

log = logging.getLogger(__name__)

CHANNEL = "callviewer_changes"
# NOTIFY's payload must stay under 8,000 bytes: past this many ids, "many calls changed".
MAX_IDS = 500
PING_S = 5.0  # how often an idle watcher checks its connection
RETRY_MAX_S = 10.0
# Keepalives on the watcher's connection: a silent network loss is noticed in ~20 s.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3,
               "keepalives_count": 3, "connect_timeout": 5}


def announce(conn: Connection, origin: str, call_ids: Iterable[int] | None,
             sync: bool = False) -> None:
    """Tell the other desktops, at commit, that these calls changed (None: many, or new
    ones) and whether a sync's state did. `origin` names this Store, whose own watcher
    ignores it."""
    ids = None if call_ids is None else sorted(set(call_ids))
    if ids is not None and len(ids) > MAX_IDS:
        ids = None
    payload = orjson.dumps({"from": origin, "calls": ids, "sync": sync}).decode()
    conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                 {"channel": CHANNEL, "payload": payload})


class Watcher(threading.Thread):
    """Listens for the team's changes until `stop()`, on a connection of its own.

    `on_change(change)` runs (in this thread) for each other desktop's change, and with
    ``Change(None, sync=True)`` after a reconnection, since changes made meanwhile
    were not heard; `on_reachable(bool)` when the database is lost or found again.
    """

    def __init__(self, engine: Engine, origin: str, on_change: Callable[[Change], None],
                 on_reachable: Callable[[bool], None]) -> None:
        super().__init__(daemon=True, name="team-changes")
        # Connect as SQLAlchemy does for this engine's URL (host, password, sslmode, …).
        self._args, self._kwargs = engine.dialect.create_connect_args(engine.url)
        self._origin = origin
        self._on_change, self._on_reachable = on_change, on_reachable
        self._stopping = threading.Event()
        self.listening = threading.Event()  # set while LISTEN is in place (for tests)

    def stop(self) -> None:
        """Stop listening (within a second)."""
        self._stopping.set()

    def run(self) -> None:
        import psycopg

        delay, reachable, heard_before = 1.0, True, False
        while not self._stopping.is_set():
            try:
                with psycopg.connect(*self._args, **{**self._kwargs, **_KEEPALIVES},
                                     autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    delay = 1.0
                    if not reachable:
                        reachable = True
                        self._on_reachable(True)
                    if heard_before:  # what changed while it was away was not heard
                        self._on_change(Change(None, sync=True))
                    heard_before = True
                    self._listen(conn)
            except psycopg.Error as exc:
                self.listening.clear()
                if self._stopping.is_set():
                    break
                if reachable:
                    reachable = False
                    log.warning("The team database cannot be reached: %s", exc)
                    self._on_reachable(False)
                self._stopping.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)
        self.listening.clear()

    def _listen(self, conn) -> None:
        idle = 0.0
        while not self._stopping.is_set():
            heard = False
            for notice in conn.notifies(timeout=1.0, stop_after=50):
                heard = True
                self._heard(notice.payload)
            idle = 0.0 if heard else idle + 1.0
            if idle >= PING_S:  # a dropped connection says so only when used
                conn.execute("SELECT 1")
                idle = 0.0

    def _heard(self, payload: str) -> None:
        try:
            change = orjson.loads(payload)
        except orjson.JSONDecodeError:
            log.warning("An unreadable change notice was ignored: %.200s", payload)
            return
        if change.get("from") != self._origin:
            calls = change.get("calls")
            self._on_change(Change(None if calls is None else tuple(calls),
                                   bool(change.get("sync"))))
