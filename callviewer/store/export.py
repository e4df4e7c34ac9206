"""Calls as canonical records (the contract `export --format json` prints) and as CSV rows."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from sqlalchemy import Connection, select

from callviewer.jsontext import dumps, loads
from callviewer.record import FIELDS, TIME_FIELDS, format_time
from callviewer.redaction import redact_url, without_url_queries
from callviewer.store.notes import notes_of
from callviewer.store.schema import calls

_JSON_FIELDS = ("transcript", "analysis", "extras")
_BATCH = 500
_MESSAGE_KEYS = ("role", "text", "start_ms", "end_ms")


def iter_canonical(conn: Connection, include_deleted: bool = False) -> Iterator[dict]:
    """Every call, newest first, as a canonical record with its staff notes."""
    query = select(calls).order_by(calls.c.started_at.desc(), calls.c.id.desc())
    if not include_deleted:
        query = query.where(calls.c.deleted_at.is_(None))
    result = conn.execution_options(yield_per=_BATCH).execute(query).mappings()
    for batch in result.partitions():
        yield from _with_notes(conn, batch)


def iter_calls(conn: Connection, call_ids: list[int]) -> Iterator[dict]:
    """Some calls, in the order given, as canonical records with their staff notes."""
    for start in range(0, len(call_ids), _BATCH):
        chunk = call_ids[start:start + _BATCH]
        rows = {row["id"]: row for row in
                conn.execute(select(calls).where(calls.c.id.in_(chunk))).mappings()}
        yield from _with_notes(conn, [rows[i] for i in chunk if i in rows])


def _with_notes(conn: Connection, rows: list) -> Iterator[dict]:
    notes = notes_of(conn, [row["id"] for row in rows])
    for row in rows:
        yield canonical(row, notes.get(row["id"], []))


def canonical(row, notes: list[dict]) -> dict:
    """One calls row and its notes as a canonical record, keys in contract order."""
    record = {name: row[name] for name in FIELDS if name != "notes"}
    for name in TIME_FIELDS:
        record[name] = format_time(record[name])
    for name in _JSON_FIELDS:
        record[name] = loads(record[name]) if record[name] else None
    record["transcript"] = [_message(entry) for entry in record["transcript"] or []]
    record["analysis"] = [{"analyzer": run.get("analyzer"), "text": run.get("text"),
                           "created_at": format_time(run.get("created_at"))}
                          for run in record["analysis"] or []]
    # A signed link's query string is its key: exports never carry it, nor any URL's
    # query in what the source sent beside the record.
    record["extras"] = without_url_queries(record["extras"] or {})
    record["recording"] = redact_url(record["recording"])
    if isinstance(record["score"], float) and record["score"].is_integer():
        record["score"] = int(record["score"])
    record["notes"] = [{"author": note["author"], "body": note["body"],
                        "created_at": format_time(note["created_at"]),
                        "updated_at": format_time(note["updated_at"])} for note in notes]
    return {name: record[name] for name in FIELDS}


def _message(entry: dict) -> dict:
    """A transcript entry as exported: role, text, times, and a tool call's parts if any."""
    message = {key: entry.get(key) for key in _MESSAGE_KEYS}
    if isinstance(entry.get("tool"), dict):
        message["tool"] = without_url_queries(entry["tool"])
    return message


def write_json(records: Iterator[dict], out: IO[bytes]) -> int:
    """Write records as one JSON array, an object a line, streamed; returns how many."""
    count = 0
    for record in records:
        out.write(b"[\n" if count == 0 else b",\n")
        out.write(dumps(record))
        count += 1
    out.write(b"\n]\n" if count else b"[]\n")
    return count


def write_json_lines(records: Iterator[dict], out: IO[bytes]) -> int:
    """Write records as NDJSON; returns how many."""
    count = 0
    for record in records:
        out.write(dumps(record) + b"\n")
        count += 1
    return count


def write_csv(records: Iterator[dict], out: IO[str]) -> int:
    """Write records as CSV with the canonical fields; lists and objects as JSON text."""
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    count = 0
    for record in records:
        writer.writerow([_csv_cell(record[name]) for name in FIELDS])
        count += 1
    return count


def _csv_cell(value: object) -> object:
    if isinstance(value, (list, dict)):
        return dumps(value).decode()
    if value is None:
        return ""
    return value
