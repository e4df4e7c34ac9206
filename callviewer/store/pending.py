"""Parts of calls that came before their call, kept until it comes (migration 0009).

`write_records` reads the parts waiting for the calls a batch may create
(`parts_for`), adds the batch's own new parts to them (`keep`), merges a
call's parts into it when the call is written, and then writes what is left
back and lets go of what joined a call (`settle`). A part is a partial calls
row; the same part twice (by its digest) is kept once.
"""

from __future__ import annotations

import hashlib

import orjson
from sqlalchemy import Connection, and_, delete, insert, or_, select

from callviewer.store.schema import pending_attachments as table

Key = tuple[str, str]
Parts = dict[Key, dict[str, dict]]  # call key → {digest: partial row}, in arrival order
_CHUNK = 200
_NEW = "_new"  # a part of this batch, not stored yet
_JOINED = "_joined"  # marks a call whose stored parts joined it in this batch


def parts_for(conn: Connection, keys: set[Key]) -> Parts:
    """The parts waiting for any of these calls, oldest first."""
    parts: Parts = {}
    if not keys or conn.execute(select(table.c.id).limit(1)).first() is None:
        return parts  # nothing waits: the common case costs one look
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        query = (select(table.c.source, table.c.source_id, table.c.digest, table.c.record)
                 .where(_any_of(ordered[start:start + _CHUNK])).order_by(table.c.id))
        for row in conn.execute(query):
            parts.setdefault((row.source, row.source_id), {})[row.digest] = \
                orjson.loads(row.record)
    return parts


def keep(parts: Parts, key: Key, row: dict) -> bool:
    """Add a part for a call not written yet; False when the same part already waits."""
    digest = hashlib.sha256(orjson.dumps(row, option=orjson.OPT_SORT_KEYS)).hexdigest()
    waiting = parts.setdefault(key, {})
    if digest in waiting:
        return False
    waiting[digest] = {**row, _NEW: True}
    return True


def take(parts: Parts, key: Key) -> list[dict]:
    """The parts of a call being written, in arrival order; they no longer wait."""
    waiting = parts.get(key)
    if not waiting:
        return []
    taken = [{k: v for k, v in row.items() if k != _NEW} for row in waiting.values()]
    if any(_NEW not in row for row in waiting.values()):
        parts[key] = {_JOINED: {}}  # stored ones: settle deletes them
    else:
        del parts[key]
    return taken


def settle(conn: Connection, parts: Parts, now: int) -> None:
    """Write the batch's new parts that still wait, and delete the stored ones that joined
    their call."""
    new_rows = [{"source": key[0], "source_id": key[1], "digest": digest,
                 "record": orjson.dumps({k: v for k, v in row.items() if k != _NEW}).decode(),
                 "received_at": now}
                for key, waiting in parts.items() for digest, row in waiting.items()
                if row.get(_NEW)]
    if new_rows:
        conn.execute(insert(table), new_rows)
    joined = sorted(key for key, waiting in parts.items() if _JOINED in waiting)
    for start in range(0, len(joined), _CHUNK):
        conn.execute(delete(table).where(_any_of(joined[start:start + _CHUNK])))


def _any_of(keys: list[Key]):
    return or_(*(and_(table.c.source == source, table.c.source_id == source_id)
                 for source, source_id in keys))
