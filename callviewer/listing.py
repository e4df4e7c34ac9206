"""The call list's queries: one page of rows in any sort, filter and search, and counts.

Plain SQL on a DB-API connection (`sqlite3`, or psycopg 3 for a team's
PostgreSQL database), so that the window can show its first rows without
importing SQLAlchemy, and so that a list worker thread can hold a read
connection of its own. The SQL is written once, with ``?`` parameters; on
PostgreSQL they become ``%s``, the search is its text search
(callviewer/textsearch.py), and NULL is asked to sort first, as on SQLite
(its indexes are built so: migration 0006).

Every sort is ``ORDER BY column, started_at, id`` in one direction; each
column has an index in that order (store/schema.py), so the first page of any
sort is read from an index. Pages are addressed by offset, counted from the
nearer end: the last page of a million calls is the first page of the
reversed order.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

# Sort keys the list offers, and the column each sorts by.
SORTS = {
    "started": "started_at",
    "who": "customer_name",
    "duration": "duration_ms",
    "outcome": "outcome",
    "score": "score",
    "done": "done",
    "notes": "note_count",
    "recording": "has_recording",
    "direction": "direction",
}

# What a list row holds, in this order.
ROW_COLUMNS = (
    "id", "direction", "started_at", "customer_name", "customer_number", "from_number",
    "duration_ms", "outcome", "score", "done", "note_count", "has_recording", "deleted_at",
    "is_purged", "recording_state",
)
_SELECT = ", ".join(ROW_COLUMNS)
_FTS = "calls_fts"  # schema.FTS_TABLE, not imported: that module loads SQLAlchemy
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ListSpec:
    """What the list shows: a sort, filters and a search. Empty filter sets mean "any"."""

    sort: str = "started"
    descending: bool = True
    since: int | None = None  # started_at >= since (epoch microseconds)
    until: int | None = None  # started_at < until
    directions: frozenset[str] = field(default_factory=frozenset)
    outcomes: frozenset[str] = field(default_factory=frozenset)
    done: bool | None = None
    has_recording: bool | None = None
    recording_states: frozenset[str] = field(default_factory=frozenset)
    include_deleted: bool = False
    search: str = ""

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"Unknown sort {self.sort!r}; use one of: {', '.join(SORTS)}.")

    @property
    def filtered(self) -> bool:
        """Whether anything but the sort narrows the list."""
        return self != ListSpec(sort=self.sort, descending=self.descending)

    def unfiltered(self) -> ListSpec:
        """The same sort with every filter and the search cleared."""
        return ListSpec(sort=self.sort, descending=self.descending)

    def sorted_by(self, sort: str, descending: bool) -> ListSpec:
        return replace(self, sort=sort, descending=descending)


# How a page of a search is read. A search with few matches is read through them (sorting
# them); one with many walks the sort's index, testing each call, and stops at a page.
# SQLite: dense when its FTS index finds DENSE_MATCHES calls (FTS5 stops counting there).
DENSE_MATCHES = 5000
# PostgreSQL: GIN reads every match before the first, so counting a common word's matches
# takes longer than its page, and the planner's guess is far off; the first SAMPLE calls
# of the walk are tested instead: dense when DENSE_SAMPLE_HITS of them match.
# Measured on a million calls (tests/bench/bench_team.py): the walk costs about 1 µs a
# call, reading the matches 4–7 µs a match; both are ≤ 40 ms near this threshold.
SAMPLE = 2000
DENSE_SAMPLE_HITS = 12


def connect(database: Path | str):
    """A read connection for the list: to an SQLite file (WAL lets it read while the store
    writes), or, given a PostgreSQL URL (``postgresql+psycopg://…``, password included),
    to that database, each statement reading what is committed by then."""
    if isinstance(database, Path):
        conn = sqlite3.connect(database)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        return conn
    import psycopg

    conninfo = database.replace("+psycopg", "", 1)
    options = {} if "connect_timeout=" in conninfo else {"connect_timeout": 10}
    conn = psycopg.connect(conninfo, autocommit=True, **options)
    conn.execute("SET default_transaction_read_only = on")
    return conn


def read_errors() -> tuple[type[Exception], ...]:
    """What a list read raises when it is interrupted or its database fails."""
    psycopg = sys.modules.get("psycopg")  # loaded only for a PostgreSQL database
    return (sqlite3.Error,) if psycopg is None else (sqlite3.Error, psycopg.Error)


def interrupt(conn) -> None:
    """Stop a query running on `conn` in another thread (it raises a read error there)."""
    if isinstance(conn, sqlite3.Connection):
        conn.interrupt()
    else:
        conn.cancel_safe()


def _on_postgresql(conn) -> bool:
    return conn is not None and not isinstance(conn, sqlite3.Connection)


def _run(conn, sql: str, params: Sequence = ()):
    """Execute on either engine: the SQL's ``?`` become psycopg's ``%s`` (no literal in
    this module's SQL holds a ``?`` or a ``%``)."""
    if _on_postgresql(conn):
        return conn.execute(sql.replace("?", "%s"), params)
    return conn.execute(sql, params)


def where_clause(spec: ListSpec, conn=None, plan: bool = False,
                 reverse: bool = False) -> tuple[str, list]:
    """The WHERE clause (with its parameters) that selects the spec's calls on `conn`'s
    engine (SQLite's when None). With `plan`, a search is planned for reading a page in
    the spec's order (`reverse`: from its other end) by how densely it matches (see
    DENSE_MATCHES and SAMPLE)."""
    terms: list[str] = []
    params: list = []
    if not spec.include_deleted:
        terms.append("deleted_at IS NULL")
    if spec.since is not None:
        terms.append("started_at >= ?")
        params.append(spec.since)
    if spec.until is not None:
        terms.append("started_at < ?")
        params.append(spec.until)
    for column, chosen in (("direction", spec.directions), ("outcome", spec.outcomes),
                           ("recording_state", spec.recording_states)):
        if chosen:
            terms.append(f"{column} IN ({', '.join('?' for _ in chosen)})")
            params.extend(sorted(chosen))
    for column, wanted in (("done", spec.done), ("has_recording", spec.has_recording)):
        if wanted is not None:
            terms.append(f"{column} = ?")
            params.append(wanted)
    if _on_postgresql(conn):
        from callviewer.textsearch import tsquery

        query = tsquery(spec.search)
        if query is not None:
            matches = f"SELECT rowid FROM {_FTS} WHERE document @@ CAST(? AS tsquery)"
            if not plan:
                terms.append(f"id IN ({matches})")  # the planner's choice, for counts
            elif _sampled_hits(conn, spec, terms, params, query, reverse) >= DENSE_SAMPLE_HITS:
                terms.append(_TESTS_EACH)
            else:
                terms.append(f"id = ANY(ARRAY({matches}))")
            params.append(query)
    elif (match := match_expression(spec.search)) is not None:
        # "+id" keeps SQLite from driving the query by the matches' rowids.
        matches = f"SELECT rowid FROM {_FTS} WHERE {_FTS} MATCH ?"
        probe = "+id" if plan and _is_dense(conn, matches, match) else "id"
        terms.append(f"{probe} IN ({matches})")
        params.append(match)
    return (" WHERE " + " AND ".join(terms)) if terms else "", params



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


def order_clause(spec: ListSpec, reverse: bool = False, conn=None) -> str:
    """ORDER BY for the spec's sort on `conn`'s engine (SQLite's when None), NULL the
    smallest value on both; `reverse` reads it from the other end."""
    descending = spec.descending != reverse
    way = "DESC" if descending else "ASC"
    if _on_postgresql(conn):
        way += " NULLS LAST" if descending else " NULLS FIRST"
    column = SORTS[spec.sort]
    keys = [column] if column == "started_at" else [column, "started_at"]
    return " ORDER BY " + ", ".join(f"{key} {way}" for key in [*keys, "id"])


def page(conn, spec: ListSpec, offset: int, limit: int,
         total: int | None = None) -> list[tuple]:
    """Rows offset..offset+limit of the list (fewer at its end), each in ROW_COLUMNS order.

    With `total` known, an offset past the middle is read backwards from the end.
    """
    limit = max(0, limit if total is None else min(limit, total - offset))
    backwards = total is not None and offset > total // 2
    where, params = where_clause(spec, conn, plan=True, reverse=backwards)
    order = order_clause(spec, reverse=backwards, conn=conn)
    skip = max(0, total - offset - limit) if backwards else offset
    rows = _run(conn, f"SELECT {_SELECT} FROM calls{where}{order} LIMIT ? OFFSET ?",
                [*params, limit, skip]).fetchall()
    if backwards:
        rows.reverse()
    return rows


def count(conn, spec: ListSpec) -> int:
    """How many calls the spec selects."""
    where, params = where_clause(spec, conn)
    return _run(conn, f"SELECT count(*) FROM calls{where}", params).fetchone()[0]


def position(conn, spec: ListSpec, call_id: int) -> int | None:
    """The row of a call in the list, or None when the spec does not select it.

    Counts the rows ordered before it as a sum of index range counts, each a
    row-value comparison on the sort's index.
    """
    where, params = where_clause(spec, conn)
    key_columns = _key_columns(spec)
    found = _run(conn, f"SELECT {', '.join(key_columns)} FROM calls{where}"
                       f"{' AND' if where else ' WHERE'} id = ?", [*params, call_id]).fetchone()
    if found is None:
        return None
    joiner = " AND" if where else " WHERE"
    return sum(_run(conn, f"SELECT count(*) FROM calls{where}{joiner} {piece}",
                    [*params, *piece_params]).fetchone()[0]
               for piece, piece_params in _before(key_columns, found, spec.descending))


def ids(conn, spec: ListSpec) -> list[int]:
    """Every call id the spec selects, in list order (for export)."""
    where, params = where_clause(spec, conn)
    order = order_clause(spec, conn=conn)
    return [row[0] for row in _run(conn, f"SELECT id FROM calls{where}{order}", params)]


def _is_dense(conn, matches: str, query: str) -> bool:
    """Whether the search `matches` (SQL with one parameter) finds DENSE_MATCHES calls."""
    found = _run(conn, f"SELECT count(*) FROM ({matches} LIMIT {DENSE_MATCHES}) AS found",
                 [query]).fetchone()[0]
    return found >= DENSE_MATCHES


# PostgreSQL: whether a call (of the table or subquery named calls) matches the tsquery
# parameter, by its own index row. A scalar subquery, so the planner neither makes it a
# join nor hashes every match first: each call the walk reaches is tested, 1 µs apiece.
_TESTS_EACH = f"(SELECT document @@ CAST(? AS tsquery) FROM {_FTS} WHERE rowid = calls.id)"


def _sampled_hits(conn, spec: ListSpec, terms: list[str], params: list, query: str,
                  reverse: bool) -> int:
    """How many of the first SAMPLE calls the page's walk reaches (those `terms` select, in
    the spec's order or its reverse) match the tsquery."""
    where = (" WHERE " + " AND ".join(terms)) if terms else ""
    walked = (f"SELECT id FROM calls{where}{order_clause(spec, reverse, conn)} "
              f"LIMIT {SAMPLE}")
    return _run(conn, f"SELECT count(*) FROM ({walked}) AS calls WHERE {_TESTS_EACH}",
                [*params, query]).fetchone()[0]


def _key_columns(spec: ListSpec) -> list[str]:
    column = SORTS[spec.sort]
    return ["started_at", "id"] if column == "started_at" else [column, "started_at", "id"]


def _before(columns: Sequence[str], values: Sequence,
            descending: bool) -> list[tuple[str, list]]:
    """Disjoint SQL conditions, with their parameters, that together hold for the rows
    ordered before `values` (NULL first, as order_clause has it). Each is one range of
    the sort's index, so counting them one by one reads only the index."""
    column, value = columns[0], values[0]
    pieces: list[tuple[str, list]] = []
    if descending:  # before = larger; NULL is the smallest
        if value is None:
            pieces.append((f"{column} IS NOT NULL", []))
        else:
            pieces.append((f"{column} > ?", [value]))
    elif value is not None:  # before = smaller, NULLs included
        pieces += [(f"{column} < ?", [value]), (f"{column} IS NULL", [])]
    if len(columns) > 1:
        same, same_params = (f"{column} IS NULL", []) if value is None \
            else (f"{column} = ?", [value])
        pieces += [(f"{same} AND {piece}", [*same_params, *params])
                   for piece, params in _before(columns[1:], values[1:], descending)]
    return pieces
