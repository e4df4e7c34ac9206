"""Writing call records: the upsert by (source, source_id), merging, and purges.

The rules (the same for files now and for APIs later):

- A record's key is ``(source, source_id)``. The same record again changes
  nothing and counts as unchanged.
- A version is older when its update time is earlier, or, with no update
  times to tell, when its life-cycle ``progress`` is lower; an older version
  is ignored. Otherwise the fields the incoming version *has* replace the
  stored ones; fields it lacks (a list item without a transcript) are kept.
- Analysis runs are only ever added, never replaced; an identical run is
  not added twice.
- Local state — staff notes, a done flag set locally — is never written by an
  import. Unknown source fields (``extras``) are merged, never dropped.
- A purge is final: transcript, recording and numbers are removed and stay
  removed, from the row and from the search index.
- Every write keeps the call's recording state in step (store/recordings.py);
  an archived recording stays archived whatever a later version says, until a
  purge, which also lets go of the archived file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, select, update
from sqlalchemy.sql.expression import bindparam

from callviewer.jsontext import dumps, loads
from callviewer.record import FIELDS, PURGED_FIELDS
from callviewer.store import pending, search
from callviewer.store.database import insert_many
from callviewer.store.recordings import ARCHIVED, next_state
from callviewer.store.schema import call_stats, calls

JSON_COLUMNS = ("transcript", "analysis", "extras")
# Canonical fields stored as calls columns (notes live in their own table).
RECORD_COLUMNS = (*(name for name in FIELDS if name != "notes"), "progress")
_RECORD_COLUMNS = frozenset(RECORD_COLUMNS)  # for `in` once a field of every record
DEFAULT_ROW = {
    **dict.fromkeys(RECORD_COLUMNS),
    "direction": "unknown", "outcome": "unknown", "done": False, "has_recording": False,
    "is_purged": False, "progress": 0, "done_local": False, "note_count": 0,
    "recording_state": "none",
}
_KEY_CHUNK = 400  # keys per IN (...) query, below every engine's parameter limit


@dataclass
class WriteCounts:
    """How a batch of records changed the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    waiting: int = 0  # parts of calls (attach_only records) kept until their call comes
    # Calls whose archived recording a purge in this batch let go of (not a count).
    purged_archives: list[int] = field(default_factory=list, compare=False, repr=False)

    def add(self, other: WriteCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.waiting += other.waiting
        self.purged_archives.extend(other.purged_archives)


def write_records(conn: Connection, records: list[dict], now: int) -> WriteCounts:
    """Upsert validated partial records in the caller's transaction.

    A record marked ``attach_only`` (a part of a call, such as a recording resource)
    merges into its call like any version, but never makes a call: until its call is
    written it waits in ``pending_attachments``, and joins the call when that comes.
    """
    counts = WriteCounts()
    keys = {(r["source"], r["source_id"]) for r in records}
    stored = _load_existing(conn, keys)
    waiting = pending.parts_for(conn, keys - stored.keys())
    fresh: dict[tuple[str, str], dict] = {}
    changed: dict[tuple[str, str], dict] = {}
    # Each key's last transcript: (its encoded text, the record's messages it was encoded
    # from), so that the search index of a new call reads the messages, not the text.
    transcripts: dict[tuple[str, str], tuple[str, list]] = {}
    for record in records:
        key = (record["source"], record["source_id"])
        incoming = to_row(record)
        if incoming.get("transcript") is not None:
            transcripts[key] = (incoming["transcript"], record["transcript"])
        base = fresh.get(key) or changed.get(key) or stored.get(key)
        if base is None and record.get("attach_only"):
            if pending.keep(waiting, key, incoming):
                counts.waiting += 1
            else:
                counts.unchanged += 1
            continue
        if base is None:
            row = _purge_if_needed({**DEFAULT_ROW, **incoming, "imported_at": now})
            row["recording_state"] = next_state(row, None)
            for part in pending.take(waiting, key):
                row = merge(row, part)
            fresh[key] = row
            counts.new += 1
            continue
        merged = merge(base, incoming)
        if merged == base:
            counts.unchanged += 1
        else:
            if merged["is_purged"] and not base["is_purged"] \
                    and base["recording_state"] == ARCHIVED and "id" in base:
                counts.purged_archives.append(base["id"])
            (fresh if key in fresh else changed)[key] = merged
            counts.updated += 1
    if fresh:
        _insert(conn, list(fresh.values()), transcripts)
    if changed:
        _update(conn, list(changed.values()))
    pending.settle(conn, waiting, now)
    return counts


def to_row(record: dict) -> dict:
    """A partial canonical record as column values (JSON fields encoded)."""
    row = {key: value for key, value in record.items() if key in _RECORD_COLUMNS}
    for key in JSON_COLUMNS:
        if row.get(key) is not None:
            row[key] = _dump(row[key])
    return row


def merge(base: dict, incoming: dict) -> dict:
    """The stored row updated by an incoming partial row, by the rules above."""
    if _is_older(incoming, base):
        return base
    merged = {**base, **incoming}
    if "analysis" in incoming:
        merged["analysis"] = _merge_analysis(base["analysis"], incoming["analysis"])
    if "extras" in incoming and base["extras"] is not None:
        merged["extras"] = _dump({**loads(base["extras"]), **loads(incoming["extras"] or "{}")})
    if base["done_local"] or merged["done"] is None:
        merged["done"] = base["done"]
    if base["is_purged"]:
        merged["is_purged"] = True
    merged = _purge_if_needed(merged)
    merged["recording_state"] = next_state(merged, base)
    return merged


def _is_older(incoming: dict, base: dict) -> bool:
    new_time, old_time = incoming.get("updated_at"), base["updated_at"]
    if new_time is not None and old_time is not None and new_time != old_time:
        return new_time < old_time
    progress = incoming.get("progress")
    return progress is not None and progress < base["progress"]


def _merge_analysis(stored: str | None, incoming: str | None) -> str | None:
    runs = orjson.loads(stored) if stored else []
    for run in orjson.loads(incoming) if incoming else []:
        if run not in runs:
            runs.append(run)
    runs.sort(key=lambda run: run.get("created_at") or 0, reverse=True)
    return _dump(runs) if runs else None


def _purge_if_needed(row: dict) -> dict:
    row["is_purged"] = bool(row["is_purged"])  # a source's null says nothing: not purged
    if row["is_purged"]:
        row.update(dict.fromkeys(PURGED_FIELDS))
        row["has_recording"] = False
    if row["done"] is None:
        row["done"] = False
    return row


def _dump(value: object) -> str:
    # Sorted keys: a re-imported record must encode to the same text to count as unchanged.
    return dumps(value, option=orjson.OPT_SORT_KEYS).decode()  # integers past 64 bits exact


def _load_existing(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    return {key: dict(row) for key, row in _rows_by_key(conn, [calls], keys)}


def ids_of(conn: Connection, keys) -> dict[tuple[str, str], int]:
    """The local ids of calls by (source, source_id)."""
    return {key: row["id"] for key, row in _rows_by_key(conn, [calls.c.id, calls.c.source_id],
                                                         keys)}


def versions_of(conn: Connection, source: str, ids: list[str]) -> dict[str, tuple]:
    """(updated_at, progress) of stored calls of one source, by source id."""
    columns = [calls.c.source_id, calls.c.updated_at, calls.c.progress]
    return {key[1]: (row["updated_at"], row["progress"])
            for key, row in _rows_by_key(conn, columns, {(source, i) for i in ids})}


def _rows_by_key(conn: Connection, columns: list, keys) -> Iterator[tuple[tuple[str, str], Any]]:
    """Rows for (source, source_id) keys, queried a source and a chunk of ids at a time."""
    by_source: dict[str, list[str]] = {}
    for source, source_id in keys:
        by_source.setdefault(source, []).append(source_id)
    for source, ids in by_source.items():
        for start in range(0, len(ids), _KEY_CHUNK):
            query = select(*columns).where(calls.c.source == source,
                                           calls.c.source_id.in_(ids[start:start + _KEY_CHUNK]))
            for row in conn.execute(query).mappings():
                yield (source, row["source_id"]), row


def _insert(conn: Connection, rows: list[dict],
            transcripts: dict[tuple[str, str], tuple[str, list]]) -> None:
    for row in rows:
        row.pop("id", None)
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # The ids SQLite would choose (one past the largest), given: the transaction holds
        # the write lock (BEGIN IMMEDIATE), so no other writer can take them meanwhile.
        first = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) + 1 FROM calls").scalar()
        for number, row in enumerate(rows, first):
            row["id"] = number
    columns = list(rows[0])
    insert_many(conn, calls.name, columns, map(itemgetter(*columns), rows))
    if not sqlite:
        # With no explicit id the database assigned them (a sequence the team's desktops
        # share); read them back by key to write the index rows (portable, unlike
        # multi-row RETURNING order).
        keys = [(row["source"], row["source_id"]) for row in rows]
        ids = {key: found["id"] for key, found in
               _rows_by_key(conn, [calls.c.id, calls.c.source_id], keys)}
        for row, key in zip(rows, keys, strict=True):
            row["id"] = ids[key]
    _add_stats(conn, rows)
    # A row whose transcript is still the very text encoded from a record's messages (not
    # purged, not replaced by a later version or a waiting part) is indexed from them.
    messages = {}
    for row in rows:
        encoded = transcripts.get((row["source"], row["source_id"]))
        if encoded is not None and row["transcript"] is encoded[0]:
            messages[row["id"]] = encoded[1]
    search.index_calls(conn, rows, notes_by_call={}, transcripts=messages)


def _add_stats(conn: Connection, rows: list[dict]) -> None:
    """Each new call's row of call_stats, unmeasured (migration 0015: written here, in the
    calls' transaction, not by a trigger). A row already there is kept, as the trigger
    before it did."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {call_stats.name} (call_id, call_started_at) VALUES ({mark}, {mark}) "
        "ON CONFLICT (call_id) DO NOTHING",
        [(row["id"], row["started_at"]) for row in rows])


def _update(conn: Connection, rows: list[dict]) -> None:
    # The SET clause is every column of the parameter rows but the id.
    statement = update(calls).where(calls.c.id == bindparam("row_id"))
    conn.execute(statement, [{**{k: v for k, v in row.items() if k != "id"}, "row_id": row["id"]}
                             for row in rows])
    search.reindex_calls(conn, rows)


def set_done(conn: Connection, call_id: int, done: bool, by: str, now: int) -> None:
    """Mark a call done (by whom, when) or not, locally: later imports leave this flag
    alone."""
    conn.execute(update(calls).where(calls.c.id == call_id).values(
        done=done, done_local=True, done_by=by if done else None, done_at=now if done else None))
