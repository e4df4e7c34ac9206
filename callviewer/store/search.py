"""The full-text index over names, numbers, summaries, transcripts and notes.

On SQLite an FTS5 table; on PostgreSQL a table of the same name and columns
whose words (callviewer/textsearch.py) make a generated ``tsvector`` column
with a GIN index (migration 0001). Index rows are written by the code that
changes a call, in the same transaction (an explicit write is 2–3× faster
than a trigger), with the call's id as the rowid.

Beside it, the numbers index (migration 0012, textsearch.NUMBERS_TABLE): each
call's numbers as digits only, for finding a run of digits anywhere inside
them. Written here too, in the same transaction; a purge (which empties the
numbers) leaves the call no row there.

And the names index (migration 0017, schema.NAMES_TABLE): each customer name once, with
its words, for a search sorted by Who (callviewer/listing.py `_by_names`). A name is added
here when a call written has it; it is never taken out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from operator import itemgetter

import orjson
from sqlalchemy import Connection, Integer, column, select, text
from sqlalchemy.sql.elements import ColumnElement

from callviewer.listing import match_expression
from callviewer.store.database import insert_many
from callviewer.store.schema import FTS_COLUMNS, FTS_DOCUMENT, FTS_TABLE, NAMES_TABLE, calls, notes
from callviewer.textsearch import NUMBERS_TABLE, index_text, number_digits, tsquery

_DELETE = text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id")
_DELETE_NUMBERS = text(f"DELETE FROM {NUMBERS_TABLE} WHERE rowid = :id")
# The fields of a call that hold phone numbers (record.py).
NUMBER_FIELDS = ("customer_number", "from_number", "to_number")
_NOT_DIGIT = re.compile(r"\D+")
_TEXT = itemgetter("text")  # a transcript message's text


def index_calls(conn: Connection, rows: list[dict], notes_by_call: dict[int, list[str]],
                transcripts: dict[int, list[dict]] | None = None) -> None:
    """Add index rows for calls that have none yet. `transcripts` may give, by call id, the
    messages a row's transcript was encoded from (decoded, they are the same)."""
    transcripts = transcripts or {}
    entries = (_entry(row, notes_by_call.get(row["id"], ()), transcripts.get(row["id"]))
               for row in rows)
    if _cuts_words(conn):
        entries = ((entry[0], *map(index_text, entry[1:])) for entry in entries)
    insert_many(conn, FTS_TABLE, ("rowid", *FTS_COLUMNS), entries)
    numbers = [(row["id"], digits) for row in rows
               if (digits := number_digits(row[key] for key in NUMBER_FIELDS)) is not None]
    if numbers:
        insert_many(conn, NUMBERS_TABLE, ("rowid", "digits"), numbers)
    index_names(conn, {row["customer_name"] for row in rows} - {None})


def index_names(conn: Connection, names: set[str]) -> None:
    """Add to the names index those of `names` it does not hold yet."""
    if not names:
        return
    if _cuts_words(conn):  # a writer in another session may add the same name: skipped
        conn.exec_driver_sql(f"INSERT INTO {NAMES_TABLE} (name, words) VALUES (%s, %s) "
                             "ON CONFLICT (name) DO NOTHING",
                             [(name, index_text(name)) for name in sorted(names)])
        return
    last = conn.exec_driver_sql(f"SELECT max(id) FROM {NAMES_TABLE}").scalar() or 0
    conn.exec_driver_sql(f"INSERT INTO {NAMES_TABLE} (name) VALUES (?) "
                         "ON CONFLICT (name) DO NOTHING", [(name,) for name in names])
    # SQLite has one writer at a time: the names given ids past `last` are the new ones.
    conn.exec_driver_sql(f"INSERT INTO {NAMES_TABLE}_fts (rowid, name) "
                         f"SELECT id, name FROM {NAMES_TABLE} WHERE id > ?", (last,))


def reindex_calls(conn: Connection, rows: list[dict]) -> None:
    """Replace the index rows of changed calls (their notes included)."""
    ids = [{"id": row["id"]} for row in rows]
    conn.execute(_DELETE, ids)
    conn.execute(_DELETE_NUMBERS, ids)
    index_calls(conn, rows, note_bodies(conn, [row["id"] for row in rows]))


def reindex_notes(conn: Connection, call_id: int, source_note: str | None) -> None:
    """Refresh the notes column of one call after its staff notes changed."""
    bodies = note_bodies(conn, [call_id]).get(call_id, [])
    joined = _join([source_note, *bodies])
    conn.execute(text(f"UPDATE {FTS_TABLE} SET notes = :notes WHERE rowid = :id"),
                 {"notes": index_text(joined) if _cuts_words(conn) else joined, "id": call_id})


def matching(dialect: str, user_text: str) -> ColumnElement[bool] | None:
    """The condition that a call matches what a person typed: every word occurs, the
    last also as a prefix; None when there is no word to search for."""
    if dialect == "postgresql":
        query = tsquery(user_text)
        condition = f"{FTS_DOCUMENT} @@ CAST(:query AS tsquery)"
    else:
        query = match_expression(user_text)
        condition = f"{FTS_TABLE} MATCH :query"
    if query is None:
        return None
    found = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {condition}").bindparams(query=query)
    return calls.c.id.in_(found.columns(column("rowid", Integer)))


def note_bodies(conn: Connection, call_ids: list[int]) -> dict[int, list[str]]:
    """The staff notes' text for each of some calls."""
    found: dict[int, list[str]] = {}
    query = select(notes.c.call_id, notes.c.body).where(notes.c.call_id.in_(call_ids),
                                                        notes.c.hidden_at.is_(None))
    for call_id, body in conn.execute(query):
        found.setdefault(call_id, []).append(body)
    return found


def _cuts_words(conn: Connection) -> bool:
    # FTS5 cuts and folds words itself; PostgreSQL is given them (see textsearch.py).
    return conn.dialect.name == "postgresql"


def _entry(row: dict, bodies: Iterable[str], messages: list[dict] | None = None) -> tuple:
    """The index row of a call, in FTS_COLUMNS order after the rowid (`messages`: its
    transcript's, when already decoded)."""
    return (
        row["id"],
        row["customer_name"],
        _numbers(row),
        _join([row["subject"], row["summary"]]),
        _transcript_text(row, messages),
        _join([row["source_note"], *bodies]),
    )


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
    """The digits after the country calling code of an international number."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE  # loaded by the first import

    if not number.lstrip().startswith("+"):
        return None
    digits = _NOT_DIGIT.sub("", number)
    for length in (1, 2, 3):  # calling codes are prefix-free
        if int(digits[:length] or 0) in COUNTRY_CODE_TO_REGION_CODE:
            return digits[length:] or None
    return None


def _transcript_text(row: dict, messages: list[dict] | None = None) -> str | None:
    if row["transcript"]:
        if messages is None:
            messages = orjson.loads(row["transcript"])
        return _join(map(_TEXT, messages))
    return row["transcript_text"]


def _join(parts: Iterable[str | None]) -> str | None:
    joined = "\n".join(filter(None, parts))  # the parts that are not empty
    return joined or None
