"""The full-text index over names, numbers, summaries, transcripts and notes (SQLite FTS5).

Index rows are written by the code that changes a call, in the same
transaction (an explicit write is 2–3× faster than a trigger), with the
call's id as the FTS rowid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import orjson
from sqlalchemy import Connection, select, text

from callviewer.store.schema import FTS_COLUMNS, FTS_TABLE, notes

_INSERT = text(
    f"INSERT INTO {FTS_TABLE} (rowid, {', '.join(FTS_COLUMNS)}) "
    f"VALUES (:id, {', '.join(':' + name for name in FTS_COLUMNS)})"
)
_DELETE = text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id")
_NOT_DIGIT = re.compile(r"\D+")
_TOKEN = re.compile(r"\w+", re.UNICODE)


def index_calls(conn: Connection, rows: list[dict], notes_by_call: dict[int, list[str]]) -> None:
    """Add index rows for calls that have none yet."""
    conn.execute(_INSERT, [_entry(row, notes_by_call.get(row["id"], ())) for row in rows])


def reindex_calls(conn: Connection, rows: list[dict]) -> None:
    """Replace the index rows of changed calls (their notes included)."""
    ids = [row["id"] for row in rows]
    conn.execute(_DELETE, [{"id": call_id} for call_id in ids])
    index_calls(conn, rows, note_bodies(conn, ids))


def reindex_notes(conn: Connection, call_id: int, source_note: str | None) -> None:
    """Refresh the notes column of one call after its staff notes changed."""
    bodies = note_bodies(conn, [call_id]).get(call_id, [])
    conn.execute(text(f"UPDATE {FTS_TABLE} SET notes = :notes WHERE rowid = :id"),
                 {"notes": _join([source_note, *bodies]), "id": call_id})


def note_bodies(conn: Connection, call_ids: list[int]) -> dict[int, list[str]]:
    """The staff notes' text for each of some calls."""
    found: dict[int, list[str]] = {}
    query = select(notes.c.call_id, notes.c.body).where(notes.c.call_id.in_(call_ids))
    for call_id, body in conn.execute(query):
        found.setdefault(call_id, []).append(body)
    return found


def match_expression(user_text: str) -> str | None:
    """An FTS5 MATCH expression for what a person typed: every word must occur.

    Each word is quoted, so FTS syntax in the input (``customer-ended``, a
    lone ``"``, a trailing ``AND``) is searched for as text; the last word
    also matches as a prefix, so results narrow while typing.
    """
    words = _TOKEN.findall(user_text)
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _entry(row: dict, bodies: Iterable[str]) -> dict:
    return {
        "id": row["id"],
        "name": row["customer_name"],
        "numbers": _numbers(row),
        "summary": _join([row["subject"], row["summary"]]),
        "transcript": _transcript_text(row),
        "notes": _join([row["source_note"], *bodies]),
    }


def _numbers(row: dict) -> str | None:
    # Each number also as bare digits and without its country code, so
    # "15550100123" and "5550100123" both find "+1 555-010-0123".
    found = []
    for key in ("customer_number", "from_number", "to_number"):
        number = row[key]
        if number and number not in found:
            found.extend([number, _NOT_DIGIT.sub("", number), _national(number)])
    return _join(dict.fromkeys(found))


def _national(number: str) -> str | None:
    import phonenumbers  # 45 ms: paid by the first import, not by start-up

    if not number.lstrip().startswith("+"):
        return None
    try:
        return str(phonenumbers.parse(number, None).national_number)
    except phonenumbers.NumberParseException:
        return None


def _transcript_text(row: dict) -> str | None:
    if row["transcript"]:
        return _join(entry["text"] for entry in orjson.loads(row["transcript"]))
    return row["transcript_text"]


def _join(parts: Iterable[str | None]) -> str | None:
    joined = "\n".join(part for part in parts if part)
    return joined or None
