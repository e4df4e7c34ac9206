"""The call list's queries: one page of rows in any sort, filter and search, and counts.

Plain SQL on a DB-API connection (`sqlite3`, or psycopg 3 for a team's
PostgreSQL database), so that the window can show its first rows without
importing SQLAlchemy, and so that the list's reads can run on a connection of
their own off the window's thread. Each statement is written once, for either
engine: a `_Query` binds each value as the text is written and puts the
engine's own marker in its place (``?`` or psycopg's ``%s``). On PostgreSQL the
search is its text search (callviewer/textsearch.py), and NULL is asked to sort
first, as on SQLite (its indexes are built so: migration 0006).

Every sort is ``ORDER BY column, started_at, id`` in one direction; each
column has an index in that order (store/schema.py), so the first page of any
sort is read from an index. Pages are addressed by offset, counted from the
nearer end: the last page of a million calls is the first page of the
reversed order. The columns and their sorts are declared in callviewer/columns.py.
"""

from __future__ import annotations

import heapq
import json
import math
import re
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

from callviewer import call_match
from callviewer.columns import COLUMNS, PAIRED_INDEXES, ROW_FIELDS, STATS_FIELDS
from callviewer.textsearch import NUMBERS_TABLE, NumberRun, number_runs

# Sort keys the list offers, and the column each sorts by.
SORTS = {column.key: column.sort for column in COLUMNS}
# What a list row holds, in this order.
ROW_COLUMNS = ROW_FIELDS
# The sorts by a call's statistics (call_stats, migration 0014), read through its index.
STATS_SORTS = frozenset(column.key for column in COLUMNS if column.stats)
_STATS = "call_stats"  # schema.call_stats, not imported (see _FTS)
# A row read from the calls table: a statistic is its call's row of call_stats, on
# SQLite a scalar subquery each. PostgreSQL reads the calls joined to call_stats
# (_WITH_STATS) instead: four subqueries a row cost its server 0.8 ms a page of 200 rows
# ("missed", newest first, at a million calls: 1.3 ms in all, 0.8 joined; SQLite's page
# 0.55), and it drops the join from a statement that reads none of its columns (a count,
# a page's ids).
_SELECT = ", ".join(
    f"(SELECT {name} FROM {_STATS} WHERE {_STATS}.call_id = calls.id) AS {name}"
    if name in STATS_FIELDS else name for name in ROW_COLUMNS)
_WITH_STATS = f"calls LEFT JOIN {_STATS} ON {_STATS}.call_id = calls.id"
# The calls' columns a filter or a row reads, besides the id and started_at.
_CALL_FIELDS = tuple(dict.fromkeys(
    name for name in (*ROW_COLUMNS, "deleted_at", "direction", "outcome", "recording_state",
                      "done", "has_recording")
    if name not in STATS_FIELDS and name not in ("id", "started_at")))
# A sort by a statistic reads the calls through call_stats, whose every call has a row
# (made with the call) and whose index is in the list's order: ``(customer_share,
# call_started_at, call_id)``. Named calls, as the table: every clause below reads it
# as it reads the table (both engines fold it into the query, so the first page of such
# a sort walks that index and looks each call up by its id, as the others walk theirs).
# On SQLite a CROSS JOIN keeps call_stats the outer loop: with a filter such as "has a
# recording" the planner would rather read that filter's index and sort all it finds
# (250-400 ms at a million calls, against 1-2 ms for the walk).
_BY_STATS = (
    "(SELECT s.call_id AS id, s.call_started_at AS started_at, "
    + ", ".join(f"s.{name} AS {name}" for name in sorted(STATS_FIELDS)) + ", "
    + ", ".join(f"c.{name} AS {name}" for name in _CALL_FIELDS)
    + f" FROM {_STATS} AS s {{join}} calls AS c ON c.id = s.call_id) AS calls")
_FTS = "calls_fts"  # schema.FTS_TABLE, not imported: that module loads SQLAlchemy
_NUMBERS = NUMBERS_TABLE
_NAMES = "call_names"  # schema.NAMES_TABLE, and on SQLite its word index call_names_fts
_WHO = "customer_name"  # the Who column's sort (columns.py)
# The word index's columns but its numbers: where a number typed is also looked for as
# words (an order number said in a transcript); the numbers are the numbers index's.
_TEXT_COLUMNS = "{name summary transcript notes}"
_OTHER_COLUMNS = "{numbers summary transcript notes}"  # all but the name (_by_names)
# The numbers index is asked for the last digits of a longer run (each call found is
# checked for the whole run after): a digit trigram such as "555" of a common area code
# is in nearly every call, and reading its list costs 10-25 ms a trigram at a million
# calls (on either engine), while the last digits of a number tell numbers apart.
NUMBER_WINDOW = 5
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
# PostgreSQL samples fewer calls (_sample_hits_postgresql) for a sort by another column than
# the time: a page's walk then reads each call's row at random, besides its index row
# (about 4.7 µs a call), where reading the matches (READ_MATCHES) costs about 1.3 µs a
# match and 1.5 µs a call of the walk that tests calls against them: below about
# sqrt(2.5 × 200 / calls) of the calls (2.2 % at a million) reading the matches is the
# cheaper: dense when DENSE_SAMPLE_HITS of the first SAMPLE_POSTGRESQL calls match (it was
# 850 while the matches were read by a subquery, 4 µs a match). Measured
# (tests/bench/bench_team.py, "appointment" in 1 % of a million calls, by duration, 64
# rows): walked 31-33 ms, read 23-26. In time order the rows are read in about the order
# they are stored, ~2 µs a call: SAMPLE ("Priya Natarajan", 1.1 %: walked 35 ms, read
# 220 ms).
SAMPLE_POSTGRESQL = 550
# Those samples are for a page of SAMPLED_ROWS rows. A walk costs in proportion to the rows
# it must find (rows / density calls), reading the matches in proportion to the density:
# they cost the same at a density that goes with the square root of the rows. So a page
# of fewer rows (a new spec's first read, list_reads.FIRST: 64) is walked at lower
# densities, a deeper one only at higher: each sample is scaled by sqrt(SAMPLED_ROWS /
# rows), rows taken within 4× of SAMPLED_ROWS (1.25 % of a million calls for 64 rows).
SAMPLED_ROWS = 200
# SQLite: a page of a search whose words match many of the calls its walk reaches is read
# by that walk, each call tested by callviewer/call_match.py (5-10 µs a call), not through
# the matches: FTS5 reads every match of a word first, and merges those of every word a
# prefix begins ("refund" typed: 370,000 matches at a million calls, 100-160 ms; "c": 3
# million, 400-550 ms). The first WALK_SAMPLE calls of the walk are tested (1-3 ms, a
# rare word too; their first eighth alone, when it held none, misjudged "priya cal" by
# duration ↓, one call in 13 of the walk: 220 ms read, 7 walked). It is walked when
# WALK_SAMPLE_HITS of them match (6 %: a page of SAMPLED_ROWS rows walks about 3,300
# calls, 30 ms; at 6 % of a million calls, reading the matches takes as long; a page of
# fewer rows at lower densities, by the square root of its rows as on PostgreSQL: a new
# spec's first 64 at 3.4 %, "priya refund" newest first, 7 of 200, 31 ms read, 11
# walked; in proportion to the rows, 2 %, "ann lee" (1.1 %, 4 or 5 of 200 in some
# orders) was walked in 32-40 ms where it was read in 25) and the page ends at most
# WALK_ROWS rows from its end of the list. The walk stops at WALK_SLACK times the calls
# the sample says it needs, or at WALK_REACH calls walked for each row needed; a page it
# did not fill by then is read through the matches.
WALK_SAMPLE = 200
WALK_SAMPLE_HITS = 12
WALK_ROWS = 600
WALK_SLACK = 2
# SQLite: where that sample holds some of the search's calls but too few to walk testing
# each, and the page would not be read from its first words' calls (_by_head) or by
# names (_by_names), the walk probes the search's matches instead (FTS5 reads them once;
# a call probed costs about 0.2 µs), as far as PROBE_SLACK times the calls the sample says
# it needs; past that it is read as planned. Counting the matches first, to choose, cost
# FTS5 that read again: "sam k" by score ↑ 59 → 37 ms at a million calls, "mia r" 100 →
# 57, "priya refund" 32 → 21.
PROBE_SLACK = 2
# Where none of the WALK_SAMPLE calls matches, the first APART_SAMPLE are tested (4-7 ms),
# and the walk probes where as many of those match (one in WALK_SAMPLE at least, as
# when one of the first sample does): "invoice tues" by score ↑ (158,000 calls, one in
# 160 of the calls not answered, which come first) had none in 200 and 6 in 1,000, and
# is walked probing: 46-48 ms in all, where counting its matches first to read the page
# as planned (FTS5 merging "tues"'s words again) took 51. Fewer ("wang appointment", 677
# calls, 1 or 2 in 1,000 in several orders: probing walks went 20-28 ms without filling
# a page; read through the matches, 3-5) and the page is read as planned, which does not
# take that sample again ("appointment" by score ↑, none in 1,000: sorted apart).
#
# A search of several words probed so probes the calls of its words but the last instead,
# those whose ids lie between the least and the greatest of the calls the walk may pass
# (its bound), where those are fewer than RANGE_SPAN ids apart, and tests each call it
# finds there for the whole search (RANGE_TESTS at most; past it, the page is read as
# planned). FTS5 reads whole words' calls within a range of rowids, but merges every word
# a prefix begins from all of them; and a call's id follows the order it was stored in,
# often its time's, so the calls of an order's first stretch often lie close: the calls
# not answered, first by score ↑ or duration ↑, are in time order there. "invoice tues"
# by score ↑ at a million calls: the probe gathered its 158,000 calls in 37 ms; the
# 23,000 of "invoice" in the range (62,000 ids), 1,200 of them tested, take 10. Not
# under a filter (a value or a date): the range's walk would pass every call it does not
# let through, unbounded (a walk bounded call by call, as the page's, costs 0.4 µs a
# call in Python: 5-7 ms for the range, where the range takes 2). And only where the
# last word is RANGE_PREFIX letters or fewer, a prefix of many words: where the matches
# are cheap to gather ("priya natarajan" newest first, 11,000 calls: 10.5 ms probed),
# the range's walks and the tests cost more (17.6).
RANGE_SPAN = 100_000
RANGE_PREFIX = 4
RANGE_TESTS = 4096
# SQLite, a page in another order than time's under a filter of a few values ("has a
# recording", an outcome, done, a direction): the filter is tested on the walk of the
# sort's index ("+" keeps its own index out of the plan), for SQLite would rather read
# all that filter's calls from its index and sort them: 75-720 ms at a million calls,
# against 1-8 ms for the walk. But where the filter's calls come late in that order (the
# missed calls, whose score is NULL, last by score from the highest) the walk would pass
# most calls first (1.6-4 s): it stops after WALK_REACH calls a row it needs (10,000 for a
# page of 200, ~20 ms), and the page is read as SQLite plans it; so is a page ending more
# than WALK_ROWS rows from its end of the list. In time's order a filter's index is itself
# in that order, and the planner's choice.
WALK_REACH = 50


def connect(database: Path | str):
    """A read connection for the list: to an SQLite file (WAL lets it read while the store
    writes), or, given a PostgreSQL URL (``postgresql+psycopg://…``, password included),
    to that database, each statement reading what is committed by then.

    An SQLite connection may be used from another thread than the one that opened it
    (check_same_thread off): the window's model reads on its task runner's READ lane, one
    thread at a time, and only interrupt() comes from elsewhere, which SQLite allows."""
    if isinstance(database, Path):
        conn = sqlite3.connect(database, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        return conn
    import psycopg

    conninfo = database.replace("+psycopg", "", 1)
    options = {} if "connect_timeout=" in conninfo else {"connect_timeout": 10}
    conn = psycopg.connect(conninfo, autocommit=True, **options)
    conn.execute("SET default_transaction_read_only = on")
    # Each statement planned for its own values (psycopg prepares a statement run five
    # times, and PostgreSQL may then plan it once for any): a search's matches are a
    # list whose length decides the plan (_read_matches_postgresql).
    conn.execute("SET plan_cache_mode = force_custom_plan")
    return conn


def read_errors() -> tuple[type[Exception], ...]:
    """What a list read raises when it is interrupted or its database fails."""
    psycopg = sys.modules.get("psycopg")  # loaded only for a PostgreSQL database
    return (sqlite3.Error,) if psycopg is None else (sqlite3.Error, psycopg.Error)


INTERRUPT_TIMEOUT_S = 5  # PostgreSQL: asking the server to cancel waits at most this


def interrupt(conn) -> None:
    """Stop a query running on `conn` in another thread (it raises a read error there).
    On PostgreSQL this asks the server, so it may wait up to INTERRUPT_TIMEOUT_S: call it
    off the window's thread there."""
    if isinstance(conn, sqlite3.Connection):
        conn.interrupt()
    else:
        conn.cancel_safe(timeout=INTERRUPT_TIMEOUT_S)


def on_postgresql(conn) -> bool:
    """Whether `conn` is a PostgreSQL connection (None and SQLite's are not)."""
    return conn is not None and not isinstance(conn, sqlite3.Connection)


class _Query:
    """The parameters of one statement being written for `conn`'s engine: `bind(value)`
    keeps the value and returns the marker to write in its place, so that the text and
    its parameters are made in one pass and cannot part (no literal in this module's
    SQL holds a ``?`` or a ``%``)."""

    __slots__ = ("_marker", "apart", "head", "keyed", "names", "params", "walk")

    def __init__(self, conn, params: Iterable = ()) -> None:
        self._marker = "%s" if on_postgresql(conn) else "?"
        self.params: list = list(params)
        # A bounded walk the page is read by (_Walk); its search is not in the WHERE.
        self.walk: _Walk | None = None
        # Whether the page may be read by the names that match (_by_names).
        self.names = False
        # Whether its ids are read first, then its rows (READ_MATCHES); and whether those
        # ids are then sorted, not walked to (PostgreSQL, _search_postgresql).
        self.keyed = False
        self.apart = False
        # SQLite: the words before the last, in few calls, and the whole search, when the
        # page may be read by testing those calls in its order (_by_head).
        self.head: tuple[str, str] | None = None

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return self._marker

    def bind_all(self, values: Iterable) -> str:
        """Markers for each value, comma-separated (an IN list)."""
        return ", ".join(self.bind(value) for value in values)


def _run(conn, query: _Query, sql: str):
    return conn.execute(sql, query.params)


def where_clause(spec: ListSpec, conn=None, plan: bool = False,
                 reverse: bool = False, rows: int | None = None) -> tuple[str, list]:
    """The WHERE clause (with its parameters) that selects the spec's calls on `conn`'s
    engine (SQLite's when None). With `plan`, a search is planned for reading a page in
    the spec's order (`reverse`: from its other end) by how densely it matches (see
    DENSE_MATCHES and SAMPLE); on PostgreSQL, for a page of `rows` rows when given (see
    SAMPLED_ROWS)."""
    query = _Query(conn)
    walk = rows if on_postgresql(conn) else None  # SQLite's walk is not a WHERE clause
    return _where(query, spec, conn, plan, reverse, walk), query.params


def _where(query: _Query, spec: ListSpec, conn, plan: bool = False,
           reverse: bool = False, walk: int | None = None, names: bool = False,
           seen: _Seen | None = None) -> str:
    """The WHERE clause of `spec`, its values bound to `query` (see where_clause). `walk`:
    the rows a page needs from its end of the list, when it may be read by a walk that
    tests each call (SQLite: the search's words then go to `query.walk`, see WALK_SAMPLE,
    and are not in the clause). With `names`, a page that may be read by the names that
    match (`query.names`, _by_names) is planned for that alone: if they cannot read it,
    it is planned again without. `seen`: what planning the same page found before."""
    terms: list[str] = []
    if not spec.include_deleted:
        terms.append("deleted_at IS NULL")
    if spec.since is not None:
        terms.append(f"started_at >= {query.bind(spec.since)}")
    if spec.until is not None:
        terms.append(f"started_at < {query.bind(spec.until)}")
    rows = walk  # the rows the page needs from its end of the list, when it is to be read
    if not (plan and walk is not None and walk <= WALK_ROWS and not on_postgresql(conn)):
        walk = None  # not walked (see WALK_ROWS)
    filters = _filters(spec)
    paired = _paired(spec, filters)
    # Filters tested on the walk of the sort's index (WALK_REACH), unless one has an index
    # of its own in the sort's order (_PAIRED), which the planner then reads.
    way = "+" if walk is not None and SORTS[spec.sort] != "started_at" and paired is None \
        else ""
    first = len(terms)
    for column, values in filters:
        terms.append(f"{way}{column} = {query.bind(values[0])}" if len(values) == 1
                     else f"{way}{column} IN ({query.bind_all(values)})")
    if way and filters:
        query.walk = _Walk(rows=WALK_REACH * walk)
    if on_postgresql(conn):
        _search_postgresql(query, terms, spec, conn, plan, reverse, rows, names)
    elif _search_sqlite(query, terms, spec, conn, plan, reverse, walk, names,
                        seen or _Seen()) and paired:
        # A search read through its few matches drives the page: the pair's index, in
        # the sort's order, would have SQLite walk every call of the filter's value to
        # find them ("zebra", with a recording, by score ↑: 100 ms, against 1).
        at = first + filters.index(paired)
        terms[at] = "+" + terms[at]
    if query.walk is not None:
        call_match.register(conn, _FTS)
        terms.insert(0, f"{call_match.STEP}()")  # counts the calls walked
    return (" WHERE " + " AND ".join(terms)) if terms else ""


# Each filter of a ListSpec: the calls column it tests and its field (a set of values,
# any of which passes, empty for any; or one value, None for any).
_FILTER_FIELDS = (("direction", "directions"), ("outcome", "outcomes"),
                  ("recording_state", "recording_states"), ("done", "done"),
                  ("has_recording", "has_recording"))


def _filters(spec: ListSpec) -> list[tuple[str, list]]:
    """Each filter chosen: its column and the values it lets through, in order."""
    chosen = []
    for column, name in _FILTER_FIELDS:
        value = getattr(spec, name)
        if isinstance(value, frozenset):
            if value:
                chosen.append((column, sorted(value)))
        elif value is not None:
            chosen.append((column, [value]))
    return chosen


# (filter's column, sort's column) of each index in a sort's order that begins with a
# filter's column: the pairs of columns.py, and in time order every filter's own index
# (store/schema.py: column, started_at, id). An IN list of several values goes to the
# index of another pair as gladly (SQLite chose outcome and score for "busy or
# voicemail" newest first, then sorted all 95,000: 265 ms, against 1 a value at a time).
_PAIRED = frozenset(PAIRED_INDEXES.values()) \
    | frozenset((column, "started_at") for column, _field in _FILTER_FIELDS)


def _paired(spec: ListSpec, filters: list[tuple[str, list]]) -> tuple[str, list] | None:
    """The filter (of `filters`, the spec's) with an index of its own in the spec's sort
    order, if one has: one of its values a page is read from that index."""
    sort = SORTS[spec.sort]
    return next(((column, values) for column, values in filters
                 if (column, sort) in _PAIRED), None)


# A search is its words (every one must occur: the word index) and its numbers (each run
# of digits, textsearch.number_runs, must occur inside one of the call's numbers, or as
# words elsewhere in the call), all of them required. Each part is read by its matches
# when they are few, or tested call by call on the walk of the sort's index when many.


def _search_sqlite(query: _Query, terms: list[str], spec: ListSpec, conn, plan: bool,
                   reverse: bool, walk: int | None, names: bool, seen: _Seen) -> bool:
    """Add the search's terms to `terms` (see where_clause, DENSE_MATCHES and
    WALK_SAMPLE); `walk`, `names` and `seen` as _where's, `walk` None when the page is not
    to be walked. Whether a part of it is read through its matches, few of them (they are
    to drive the page)."""
    words, numbers = number_runs(spec.search)
    filters, values = list(terms), list(query.params)
    reach = None if walk is None else WALK_REACH * walk  # the walk's bound (a sample's too)
    by_matches = False
    by_names = names and plan and not numbers and SORTS[spec.sort] == _WHO
    if (match := match_expression(words)) is not None:
        if walk is not None:
            wanted = (match, call_match.register(conn, _FTS))
            hits = _walk_sample(conn, spec, filters, values, wanted, reverse)
            if hits is None or \
                    hits * hits * SAMPLED_ROWS < WALK_SAMPLE_HITS ** 2 * min(walk, SAMPLED_ROWS):
                probes = not numbers and not by_names and seen.head(conn, words) is None
                sampled = WALK_SAMPLE
                if hits == 0 and probes:  # none: a longer sample (see PROBE_SLACK)
                    sampled = APART_SAMPLE
                    hits = seen.start = _sampled_hits(
                        conn, spec, filters, values, _words_test_sqlite, wanted, reverse,
                        sampled, WALK_REACH * sampled)
                if hits and hits * WALK_SAMPLE >= sampled and probes:
                    # Some, too few to test each call walked: the walk probes its matches
                    # (see PROBE_SLACK); past its bound, the page is read as planned.
                    rows = PROBE_SLACK * walk * sampled // hits
                    head = _before_the_last(words)
                    if head is not None and not values \
                            and len(_TOKEN.findall(words)[-1]) <= RANGE_PREFIX \
                            and _walked_span(conn, spec, filters, reverse, rows) < RANGE_SPAN:
                        # Those of the first words' calls in the walk's range, each tested
                        # for the whole search (see RANGE_SPAN).
                        query.walk = _Walk(wanted, RANGE_TESTS, rows)
                        matches = _matches_sqlite(query, head)  # bound in the text's order
                        within = _walked_range(query, spec, conn, filters, values, reverse,
                                               rows)
                        terms.append(f"+id IN ({matches} AND {within})")
                        return False
                    query.walk = _Walk(rows=rows)
                    terms.append(f"+id IN ({_matches_sqlite(query, match)})")
                    return False
                query.walk = _Walk(rows=0)  # not walked: page() reads it as SQLite plans it
                return False
            query.walk = _Walk(wanted, WALK_SLACK * walk * WALK_SAMPLE // max(hits, 1), reach)
        elif plan and not (by_names and _in_a_name(conn, words)) \
                and (head := seen.head(conn, words)) is not None:
            query.head = (head, match)  # a page by _by_head; else through the matches
            by_matches = True
            terms.append(f"id IN ({_matches_sqlite(query, match)})")
        else:
            query.names = by_names
            # "+id" keeps SQLite from driving the query by the matches' rowids. Not counted
            # for the names (_where): "priya cal" counted its matches in 69 ms, FTS5
            # gathering the calls of every word "cal" begins, and read its page in 15.
            # Counted once to APART_MATCHES: FTS5 merges a prefix's calls for each count
            # ("priya cal": 65 ms a count, twice).
            found = _found(conn, _matches_sqlite, match, up_to=APART_MATCHES) \
                if plan and not query.names else 0
            dense = found >= DENSE_MATCHES
            if dense and found < APART_MATCHES:
                # Not so many that the first calls of the page's order would not hold any:
                # when they hold none, the matches are read and sorted, not walked to.
                wanted = (match, call_match.register(conn, _FTS))
                hits = seen.start if seen.start is not None else _sampled_hits(
                    conn, spec, filters, values, _words_test_sqlite, wanted, reverse,
                    APART_SAMPLE, up_to=1)
                dense = hits != 0
            by_matches = plan and not dense
            terms.append(f"{'+id' if dense else 'id'} IN ({_matches_sqlite(query, match)})")
    for run in numbers:
        if plan and _number_is_dense(conn, spec, filters, values, run, reverse, reach):
            terms.append(_number_tests_sqlite(query, run))
        else:
            by_matches = by_matches or plan
            terms.append(f"id IN ({_number_matches_sqlite(query, run)})")
    return by_matches


# SQLite: a search in DENSE_MATCHES calls and fewer than APART_MATCHES is read through its
# matches, sorted, when the first APART_SAMPLE calls of the page's order hold none of them
# ("appointment", 6,500 calls, by score ↑: the unscored third of the calls come first, and
# SQLite walked them, probing each: 48-53 ms at a million calls, now 10-12); else by
# walking the sort's index, as planned. The sample stops at the first that does; of 200,
# none held "ann lee" newest first (11,000 calls, one in 90 of them) often enough:
# sorted in 44 ms, walked to in 10.
APART_MATCHES = 20_000
APART_SAMPLE = 1000
# SQLite: the calls of a search's words but its last, at most HEAD_CALLS, are read in a
# page's order and tested for the whole search (_few_before_the_last, _by_head), a batch
# of HEAD_BATCH at a time (15 µs a call) until the page is full. Past HEAD_TESTS calls
# tested without filling it (the last word is rare among them: "appointment zeb" tested
# all 6,500 in 100 ms), the page is read through the whole search's matches (then few).
# A full name's calls are 1 % of a million, 11,000: "kenji smith refund" read so 27-34 ms
# in any order, through its matches 42-50 (10,000 until then).
HEAD_CALLS = 20_000
HEAD_BATCH = 256
HEAD_TESTS = 4 * HEAD_BATCH


def _in_a_name(conn, text: str) -> bool:
    """Whether a customer's name holds one of a search's words but the last. By Who, the
    names that match then read its page (_by_names) before its first words' calls do
    (_by_head, _with_head; it is planned again without the names where they cannot):
    "kenji smith refund", 7 and 6 ms (SQLite, PostgreSQL) by the names, 28 and 67 by
    the calls of Kenji Smith; "appointment cal", in no name, by the calls of
    "appointment" (14, 17 ms), where asking the names first cost 167 and 111."""
    query = _Query(conn)
    if on_postgresql(conn):
        from callviewer.textsearch import tsquery, words

        typed = words(text)
        wanted = tsquery(" ".join(typed[:-1]), prefix=False, any_word=True)
        sql = (f"SELECT 1 FROM {_NAMES} WHERE document @@ CAST({query.bind(wanted)} AS "
               "tsquery) LIMIT 1")
    else:
        typed = _TOKEN.findall(text)
        wanted = match_expression(" ".join(typed[:-1]), prefix=False, any_word=True)
        sql = f"SELECT 1 FROM {_NAMES}_fts WHERE {_NAMES}_fts MATCH {query.bind(wanted)} LIMIT 1"
    # None for a single word: no word before the last.
    return wanted is not None and _run(conn, query, sql).fetchone() is not None


def _few_before_the_last(conn, words: str) -> str | None:
    """SQLite: the match expression of a search's words but its last, when there are such
    words and they are in fewer than HEAD_CALLS calls (none, often: a name not in the
    file). A page not walked is then read from those calls (_by_head), for the last word
    is a prefix, whose calls FTS5 merges from every word it begins before it finds one:
    at a million calls "maria call" (no Maria) took 130-200 ms to show no row, "zebra
    call" 150-230 ms, "appointment cal" (6,500 calls hold "appointment") 150-320 ms, in
    any order."""
    head = _before_the_last(words)
    if head is None:
        return None
    return None if _is_dense(conn, _matches_sqlite, head, dense=HEAD_CALLS) else head


def _before_the_last(words: str) -> str | None:
    """SQLite: the match expression of a search's words but its last (whole words, which
    FTS5 reads by a rowid's range too); None for a single word."""
    typed = _TOKEN.findall(words)
    return match_expression(" ".join(typed[:-1]), prefix=False) if len(typed) > 1 else None


def _walked_range(query: _Query, spec: ListSpec, conn, filters: list[str], values: list,
                  reverse: bool, calls: int) -> str:
    """SQLite: a condition on calls_fts's rowid holding the ids of the first `calls` calls
    a page's walk reaches (`filters` select them, `values` bound in them, bound again
    here): their least and greatest, asked in the statement itself, so that a call written
    meanwhile cannot fall outside."""
    ends = []
    for end in ("min", "max"):
        query.params.extend(values)
        walked = _walk_head(spec, conn, filters, reverse, calls)
        ends.append(f"(SELECT {end}(id) FROM ({walked}))")
    return f"rowid BETWEEN {ends[0]} AND {ends[1]}"


def _walked_span(conn, spec: ListSpec, filters: list[str], reverse: bool, calls: int) -> int:
    """SQLite: how far apart the least and the greatest ids of the first `calls` calls of a
    page's walk are (`filters` select them, no value bound in them); 0 for none."""
    query = _Query(conn)
    walked = _walk_head(spec, conn, filters, reverse, calls)
    return _run(conn, query, f"SELECT coalesce(max(id) - min(id), 0) FROM ({walked})"
                ).fetchone()[0]


def _by_head(conn, spec: ListSpec, skip: int, limit: int, reverse: bool, head: str,
             match: str) -> list[tuple] | None:
    """SQLite: rows skip..skip+limit of a search (`reverse`: of its reverse) whose words
    but the last (`head`) are in few calls: those calls the filters select, in the page's
    order, each tested for the whole search (`match`) a batch at a time until the page is
    full (the last word typed is often in most of them: a batch or two); None past
    HEAD_TESTS calls tested short of it."""
    query = _Query(conn)
    source = (f"(SELECT rowid AS call FROM {_FTS} WHERE {_FTS} MATCH {query.bind(head)}) "
              f"AS wanted CROSS JOIN {_source(spec, conn)} ON calls.id = wanted.call")
    where = _where(query, replace(spec, search=""), conn)
    order = order_clause(spec, reverse=reverse, conn=conn)
    ids = [row[0] for row in _run(conn, query, f"SELECT id FROM {source}{where}{order}")]
    wanted = (match, call_match.register(conn, _FTS))
    found = _passing(conn, ids, lambda test: _words_test_sqlite(test, wanted), skip + limit,
                     HEAD_TESTS)
    return None if found is None else _rows_of(conn, spec, found[skip:], reverse)


def _walk_sample(conn, spec: ListSpec, filters: list[str], values: list,
                 wanted: tuple[str, list[str]], reverse: bool) -> int | None:
    """SQLite: how many of the first WALK_SAMPLE calls the page's walk reaches (those
    `filters` select, `values` bound in them) match the search `wanted`; None when the
    walk passes WALK_REACH calls for each call sampled."""
    return _sampled_hits(conn, spec, filters, values, _words_test_sqlite, wanted, reverse,
                         WALK_SAMPLE, WALK_REACH * WALK_SAMPLE)


def _number_is_dense(conn, spec: ListSpec, filters: list[str], values: list, run: NumberRun,
                     reverse: bool, reach: int | None) -> bool:
    """SQLite: whether a number is found in DENSE_MATCHES calls. Its candidates are counted
    first (the calls that hold its last digits, not yet checked whole: fewer means few);
    when there are many and the number is longer, checking 5,000 of them whole costs
    ~12 ms, so the first SAMPLE calls of the page's walk (`filters` select them, `values`
    bound in them) are tested instead, as on PostgreSQL."""
    if not _is_dense(conn, _number_matches_sqlite, run, "UNION ALL", False):
        return False
    if len(run.digits) <= NUMBER_WINDOW:
        return True  # the candidates are the matches
    hits = _sampled_hits(conn, spec, filters, values, _number_tests_sqlite, run, reverse,
                         reach=reach)
    return hits is not None and hits >= DENSE_SAMPLE_HITS


def _search_postgresql(query: _Query, terms: list[str], spec: ListSpec, conn, plan: bool,
                       reverse: bool, rows: int | None = None, names: bool = False) -> None:
    """Add the search's terms to `terms` (see where_clause and SAMPLE_POSTGRESQL); `rows`:
    those the page needs from its end of the list, when known (see SAMPLED_ROWS); `names`
    as _where's."""
    from callviewer.textsearch import tsquery

    text, numbers = number_runs(spec.search)
    parts = [(_matches_postgresql, _tests_each, words)
             for words in [tsquery(text)] if words is not None]
    parts += [(_number_matches_postgresql, _number_tests_postgresql, run) for run in numbers]
    for matches, tests, wanted in parts:
        if not plan:
            terms.append(f"id IN ({matches(query, wanted)})")  # the planner's choice
            continue
        hits, sampled = _sample_hits_postgresql(conn, spec, terms, query.params, tests,
                                                wanted, reverse, rows)
        head = _head_postgresql(conn, text) \
            if hits < DENSE_SAMPLE_HITS and matches is _matches_postgresql else None
        # By Who, the names that match read the page (_by_names), where they can: not the
        # matches, nor a walk ("wang appointment" by Who ↓: 6 of the sample's 972 calls,
        # among the Wangs, who come first; the walk passed 19,000 calls, 38-67 ms). It
        # is planned again without them where they cannot.
        by_names = names and not numbers and SORTS[spec.sort] == _WHO
        if hits >= DENSE_SAMPLE_HITS or (
                not by_names and head is not None and head[1] > HEAD_CALLS_POSTGRESQL
                and 0 < 4 * (rows or SAMPLED_ROWS) * sampled <= head[1] * hits):
            # Dense; or its words but the last are in so many calls that reading them
            # would cost more than the walk (see HEAD_CALLS_POSTGRESQL).
            terms.append(tests(query, wanted))
            continue
        few = head[0] if head is not None and head[1] <= HEAD_CALLS_POSTGRESQL \
            and not (by_names and _in_a_name(conn, text)) else None
        query.names = by_names and few is None
        if query.names:
            terms.append(f"id = ANY(ARRAY({matches(query, wanted)}))")
            continue
        walked, params = list(terms), list(query.params)  # the walk's, before the matches
        term, ids = _read_matches_postgresql(
            conn, query, matches if few is None else _with_head(few), wanted)
        terms.append(term)
        # None of them at the walk's start ("appointment cal" by score ↑: its calls are
        # scored, and a third of the calls are not, first): the page's matches are
        # sorted, not walked to (the planner walked 300,000 calls: 30 ms, against 7),
        # where none of the walk's calls after the sample's, to APART_WALK, is one of them
        # either (their ids read: 1-2 ms). "kenji smith refund" by notes ↓ (4,000 matches,
        # one call in 250 of the walk, none of its first 550) was sorted in 60-67 ms, and
        # is walked to in 24. Not by a statistic: its calls' keys are read through
        # call_stats, which PostgreSQL then reads whole ("kenji smith refund" by talk
        # share ↓, 4,000 matches: 40-52 ms, walked to in 3).
        query.apart = hits == 0 and spec.sort not in STATS_SORTS and ids is not None \
            and not _walk_meets(conn, spec, walked, params, ids, reverse, sampled)


# PostgreSQL: how far into a walk its calls are looked up among a search's matches (by
# id, read already), where the walk's sample held none, before those are sorted rather
# than walked to.
APART_WALK = 5000
# PostgreSQL: the most calls a search's words but its last may hold for its matches to be
# read through them (_head_postgresql), each tested by its row (1.2-3.7 µs a call):
# "kenji smith refund", 11,000 calls of Kenji Smith, by duration or score 29-35 ms, 45
# through all of its matches (10,000 until then).
HEAD_CALLS_POSTGRESQL = 20_000
# When those words are in more calls than that, reading the matches reads
# all of those calls' index entries and rows ("priya refund": Priya in 100,000 of a
# million calls, 36,700 matches; by score ↑, 108 ms to find that they are more than
# READ_MATCHES, 313 ms for the page through them): the page is walked instead, each call
# tested (1-4 µs a call), wherever the walk's sample found matches and the calls it is
# expected to walk (the page's rows over the sample's share of matches) are no more than
# a quarter of the calls those words are in (reading costs about 4 µs a call of theirs):
# "priya refund", one in 108 of the sample, 6,900 calls, 7-24 ms. The margin is for the
# sample's error: "omar haddad leak" by duration ↓, 11 of its 972 calls, would walk 5,700
# calls by it, and walked 13,000 (27-80 ms; its 11,000 calls read in 41).


def _head_postgresql(conn, text: str) -> tuple[str, int] | None:
    """PostgreSQL: the tsquery of a search's words but its last, and how many calls the
    planner expects to hold them, when there are such words (its guess for whole words,
    from the index's statistics, is within a few per cent: "patel" 109,818 for 110,952,
    "appointment" 5,966 for 6,506); else None. When they are in HEAD_CALLS_POSTGRESQL calls
    at most, the search's matches are read from those calls, each tested for the whole
    search by its row (_with_head), for GIN gathers the calls of every word the last word
    (a prefix) begins before it answers: "appointment cal" at a million calls, 34 ms its
    matches alone (now 11), a first page by duration, score or Who 45-200 ms (now
    12-45)."""
    from callviewer.textsearch import tsquery, words

    typed = words(text)
    if len(typed) < 2:
        return None
    head = tsquery(" ".join(typed[:-1]), prefix=False)
    if head is None:
        return None
    query = _Query(conn)
    plan = _run(conn, query, f"EXPLAIN (FORMAT JSON) {_matches_postgresql(query, head)}")
    return head, plan.fetchone()[0][0]["Plan"]["Plan Rows"]


def _with_head(head: str):
    """PostgreSQL: `matches` (see _matches_postgresql) of a search read through the calls
    of its words but the last (`head`, by GIN), each tested for the whole search by its
    own row: behind OFFSET 0, which the planner does not see through, so the index does
    not answer that test (the last word a prefix of many words). The tsvector made an
    expression did the same, copying each: "kenji smith refund", 11,000 calls read, 20 ms
    that way, 16 this."""
    def matches(query: _Query, words: str) -> str:
        return (f"SELECT rowid FROM (SELECT rowid, document FROM {_FTS} WHERE document @@ "
                f"CAST({query.bind(head)} AS tsquery) OFFSET 0) AS head WHERE document @@ "
                f"CAST({query.bind(words)} AS tsquery)")
    return matches


# PostgreSQL: a search part read through its matches (not dense) has them read first, up
# to READ_MATCHES of them (about 1.3 µs a match), and given to the page's statement as a
# list of ids: the planner then knows how many there are and, for a page, walks the sort's
# index testing each call against them (hashed), where a subquery's matches were each
# read by id and sorted. The page's ids are read first, from the sort's index alone, then
# its rows ("appointment", 6,500 matches, by duration ↓, 64 rows: 31-33 ms walked, testing
# each call by its index row; now 6 ms the matches, 3 the ids, 1-4 the rows). More
# matches than that are left to the subquery, as before (the first READ_MATCHES read
# for nothing: 25-70 ms).
READ_MATCHES = 20_000


def _read_matches_postgresql(conn, query: _Query, matches,
                             wanted: Any) -> tuple[str, str | None]:
    """PostgreSQL: the term that a call is one of the matches of `matches(query, wanted)`
    (a search's words or a number), bound to `query` (see READ_MATCHES), and their ids as
    an array's text (None: more than READ_MATCHES, left to a subquery)."""
    # As one array's text, read and given back as it is: 6,500 ids as rows, and as a list
    # bound by psycopg, cost 5 ms more.
    found = _Query(conn)
    count, ids = _run(conn, found, f"SELECT count(*), array_agg(rowid)::text FROM "
                                   f"({matches(found, wanted)} LIMIT {READ_MATCHES + 1}) "
                                   "AS found").fetchone()
    if count > READ_MATCHES:
        return f"id = ANY(ARRAY({matches(query, wanted)}))", None
    query.keyed = True
    ids = ids or "{}"
    return f"id = ANY(CAST({query.bind(ids)} AS integer[]))", ids


def _walk_meets(conn, spec: ListSpec, terms: list[str], params: Sequence, ids: str,
                reverse: bool, after: int) -> bool:
    """PostgreSQL: whether one of the calls `ids` (an array's text) is among those the
    page's walk reaches after its first `after`, to its first APART_WALK (`terms` select
    them, `params` their values): their ids alone, from the sort's index."""
    if after >= APART_WALK:
        return False
    query = _Query(conn, params)
    walked = _walk_head(spec, conn, terms, reverse, APART_WALK, after)
    return _run(conn, query, f"SELECT 1 FROM ({walked}) AS calls WHERE id = ANY(CAST("
                             f"{query.bind(ids)} AS integer[])) LIMIT 1").fetchone() is not None


def _sample_hits_postgresql(conn, spec: ListSpec, terms: list[str], params: Sequence, tests,
                            wanted: Any, reverse: bool,
                            rows: int | None = None) -> tuple[int, int]:
    """PostgreSQL: how many of the first SAMPLE_POSTGRESQL calls (SAMPLE in time order) the
    page's walk reaches pass `tests(query, wanted)` (as _sampled_hits: `terms` select the
    walk, `params` their values), up to DENSE_SAMPLE_HITS (dense), and of how many first
    calls (the sample's size; fewer tested when dense). The sample stops at the
    DENSE_SAMPLE_HITS-th call that passes: a word in a third of the calls ("refund") or in
    every call (a prefix such as "ca") is known dense after a few dozen calls tested,
    where testing all of the sample (1.5-5 µs a call) cost 3-11 ms at a million calls,
    more than the page it planned."""
    sample = SAMPLE if SORTS[spec.sort] == "started_at" else SAMPLE_POSTGRESQL
    scaled = sample if rows is None else \
        int(sample * math.sqrt(SAMPLED_ROWS / min(max(rows, SAMPLED_ROWS // 4),
                                                  4 * SAMPLED_ROWS)))
    # A larger sample only after the first found some matches but too few (see
    # SAMPLED_ROWS), testing the calls after the first's: a rare word is known after the
    # first, as before.
    hits, tested = 0, 0
    for size in (scaled,) if scaled <= sample else (sample, scaled):
        query = _Query(conn, params)
        passed = (f"SELECT 1 FROM ({_walk_head(spec, conn, terms, reverse, size, tested)}) "
                  f"AS calls WHERE {tests(query, wanted)} LIMIT {DENSE_SAMPLE_HITS - hits}")
        hits += _run(conn, query, f"SELECT count(*) FROM ({passed}) AS passed").fetchone()[0]
        if hits >= DENSE_SAMPLE_HITS or hits == 0:
            break
        tested = size
    return hits, size


@dataclass(frozen=True)
class _Walk:
    """A page read by walking the sort's index (SQLite), stopped after `rows` calls walked
    (WALK_REACH); with `wanted` (a match expression and the index's columns,
    _words_test_sqlite), the search tested on each call its filters select, stopped after
    `tests` of them (WALK_SLACK)."""

    wanted: tuple[str, list[str]] | None = None
    tests: int | None = None
    rows: int | None = None


class _Seen:
    """What planning a page on SQLite found out, for planning it again (a page its walk
    did not read, _read): the words before the last in few calls (_few_before_the_last,
    by the search's words), and how many of the first APART_SAMPLE calls of its walk
    match, when they were tested (None when not)."""

    def __init__(self) -> None:
        self._heads: dict[str, str | None] = {}
        self.start: int | None = None

    def head(self, conn, words: str) -> str | None:
        if words not in self._heads:
            self._heads[words] = _few_before_the_last(conn, words)
        return self._heads[words]


def _words_test_sqlite(query: _Query, wanted: tuple[str, list[str]]) -> str:
    """SQLite: whether a call (of the table or subquery named calls) matches the FTS5
    expression `wanted[0]`, asked of its own row of the index by call_match (registered on
    the connection, `wanted[1]` the index's columns)."""
    match, columns = wanted
    return (f"(SELECT {call_match.FUNCTION}({query.bind(match)}, {', '.join(columns)}) "
            f"FROM {_FTS} WHERE rowid = calls.id)")


def _matches_sqlite(query: _Query, match: str) -> str:
    return f"SELECT rowid FROM {_FTS} WHERE {_FTS} MATCH {query.bind(match)}"


def _matches_postgresql(query: _Query, words: str) -> str:
    return f"SELECT rowid FROM {_FTS} WHERE document @@ CAST({query.bind(words)} AS tsquery)"


def _number_matches_sqlite(query: _Query, run: NumberRun, union: str = "UNION",
                          checked: bool = True) -> str:
    """SQLite: the calls whose numbers hold `run` (by the trigram index, asked for its
    last NUMBER_WINDOW digits, each call found then checked for the whole run unless not
    `checked`), or whose other text holds its words; `union` "UNION ALL" for counting
    them fast."""
    window = run.digits[-NUMBER_WINDOW:]
    phrase = '"' + window + '"'  # digits: a trigram phrase, found anywhere in the digits
    sql = f"SELECT rowid FROM {_NUMBERS} WHERE {_NUMBERS} MATCH {query.bind(phrase)}"
    if window != run.digits and checked:
        sql += f" AND instr(digits, {query.bind(run.digits)}) > 0"
    if (words := _words_of_sqlite(run)) is not None:
        sql += f" {union} {_matches_sqlite(query, words)}"
    return sql


def _number_tests_sqlite(query: _Query, run: NumberRun) -> str:
    """SQLite: whether a call (of the table named calls) matches `run`, by its own row of
    the numbers index (a rowid lookup, ~1 µs a call), or its words (as DENSE_MATCHES)."""
    test = (f"instr((SELECT digits FROM {_NUMBERS} WHERE rowid = calls.id), "
            f"{query.bind(run.digits)}) > 0")
    if (words := _words_of_sqlite(run)) is not None:
        test = f"({test} OR +id IN ({_matches_sqlite(query, words)}))"
    return test


def _words_of_sqlite(run: NumberRun) -> str | None:
    """An FTS5 MATCH for the words of a number as typed, in every column but the numbers:
    whole words (a digits prefix such as "5550*" would read the list of every number's
    word that begins so, to keep none of them: 15 ms at a million calls)."""
    match = match_expression(run.text, prefix=False)
    return None if match is None else f"{_TEXT_COLUMNS} : ({match})"


def _number_matches_postgresql(query: _Query, run: NumberRun) -> str:
    """PostgreSQL: the calls whose numbers hold `run` (pg_trgm's index finds them for
    LIKE, asked for the last NUMBER_WINDOW digits as on SQLite: 23 ms → 1.6 ms for a whole
    number at a million calls; a run is digits only, nothing in it to escape), or whose
    words hold its words."""
    from callviewer.textsearch import tsquery

    window = run.digits[-NUMBER_WINDOW:]
    sql = f"SELECT rowid FROM {_NUMBERS} WHERE digits LIKE {query.bind(f'%{window}%')}"
    if window != run.digits:
        sql += f" AND strpos(digits, {query.bind(run.digits)}) > 0"
    if (words := tsquery(run.text, prefix=False)) is not None:
        sql += f" UNION {_matches_postgresql(query, words)}"
    return sql


def _number_tests_postgresql(query: _Query, run: NumberRun) -> str:
    """PostgreSQL: whether a call (of the table or subquery named calls) matches `run`, by
    its own rows of the two indexes (see _tests_each)."""
    from callviewer.textsearch import tsquery

    test = (f"coalesce((SELECT strpos(digits, {query.bind(run.digits)}) > 0 "
            f"FROM {_NUMBERS} WHERE rowid = calls.id), false)")
    if (words := tsquery(run.text, prefix=False)) is not None:
        test = f"({test} OR coalesce({_tests_each(query, words)}, false))"
    return test


def match_expression(user_text: str, prefix: bool = True,
                     any_word: bool = False) -> str | None:
    """An FTS5 MATCH expression for what a person typed: every word must occur (with
    `any_word`, one of them).

    Each word is quoted, so FTS syntax in the input (``customer-ended``, a
    lone ``"``, a trailing ``AND``) is searched for as text; the last word
    also matches as a prefix (unless not `prefix`), so results narrow while typing.
    """
    words = _TOKEN.findall(user_text)
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    if prefix:
        quoted[-1] += "*"
    return (" OR " if any_word else " ").join(quoted)


def order_clause(spec: ListSpec, reverse: bool = False, conn=None, prefix: str = "") -> str:
    """ORDER BY for the spec's sort on `conn`'s engine (SQLite's when None), NULL the
    smallest value on both; `reverse` reads it from the other end; `prefix` before each
    key column's name."""
    descending = spec.descending != reverse
    way = "DESC" if descending else "ASC"
    if on_postgresql(conn):
        way += " NULLS LAST" if descending else " NULLS FIRST"
    return " ORDER BY " + ", ".join(f"{prefix}{key} {way}" for key in _key_columns(spec))


def page(conn, spec: ListSpec, offset: int, limit: int,
         total: int | None = None) -> list[tuple]:
    """Rows offset..offset+limit of the list (fewer at its end), each in ROW_COLUMNS order.

    With `total` known, an offset past the middle is read backwards from the end.
    """
    limit = max(0, limit if total is None else min(limit, total - offset))
    backwards = total is not None and offset > total // 2
    skip = max(0, total - offset - limit) if backwards else offset
    rows = _read(conn, spec, skip, limit, backwards)
    if backwards:
        rows.reverse()
    return rows


# The keys a merged page (_read) may read: each value's calls from the end of the list
# to the page's end, by id and sort keys (index-only: two values 40,000 rows in, 5 ms on
# PostgreSQL and 20 on SQLite in one statement; as SQLite planned them, 340-1,500 ms);
# deeper, the page is read as planned.
MERGED_KEYS = 200_000


def _read(conn, spec: ListSpec, skip: int, limit: int, reverse: bool,
          select: str | None = None) -> list[tuple]:
    """Rows skip..skip+limit of the spec's order (`reverse`: of its reverse), of `select`
    (the list's row when None): walked where it may be (_page), else as planned. Where
    the filter paired with the sort (_PAIRED) lets several values through, a page within
    MERGED_KEYS is merged from each value's calls, read from the pair's index (their id
    and keys, then the page's rows): both engines read an IN list of that index's first
    column as many ranges, none in the sort's order, and sort all they find ("busy" or
    "voicemail" by score ↓: 95,000 calls, 340-400 ms at a million; newest first, 1,000
    rows in, SQLite chose a pair's index in another order: 370 ms). Without a search, the
    merge is one statement (_merged); with one, each value's calls are a page planned on
    its own (sampled, walked or read through the matches), merged here."""
    paired = _paired(spec, _filters(spec))
    if select is None and paired is not None and len(paired[1]) > 1 \
            and (skip + limit) * len(paired[1]) <= MERGED_KEYS:
        name = dict(_FILTER_FIELDS)[paired[0]]
        if not spec.search:
            return _merged(conn, spec, name, paired[1], skip, limit, reverse)
        keys = ", ".join(["id", *_key_columns(spec)])
        heads = [_read(conn, replace(spec, **{name: frozenset([value])}), 0, skip + limit,
                       reverse, keys) for value in paired[1]]
        merged = heapq.merge(
            *heads, key=lambda row: [(value is not None, value) for value in row[1:]],
            reverse=spec.descending != reverse)  # NULL the smallest, as order_clause
        return _rows_of(conn, spec, [row[0] for row in islice(merged, skip, skip + limit)],
                        reverse)
    seen = _Seen()
    rows = _page(conn, spec, skip, limit, reverse, True, select, seen=seen)
    if rows is None:  # not to be walked, or the walk stopped at its bound
        rows = _page(conn, spec, skip, limit, reverse, False, select, seen=seen)
    return rows


def _merged(conn, spec: ListSpec, name: str, values: list, skip: int, limit: int,
            reverse: bool) -> list[tuple]:
    """Rows skip..skip+limit of the spec's order (`reverse`: of its reverse), the spec's
    filter `name` letting `values` through, in one statement: each value's first calls
    by their keys from the pair's index, under UNION ALL, which PostgreSQL merges in
    order (Merge Append) and SQLite sorts (skip + limit rows a value); the page's keys
    (named page_…) then find its rows. As three statements merged in Python, 200 rows of
    "busy" or "voicemail" newest first at a million calls took 2.2 ms on PostgreSQL (1.1
    now), 0.85 on SQLite (0.65); 40,000 rows in, 48 and 52 ms (5 and 20). The page's rows
    found by id (IN) rather than joined to its keys cost PostgreSQL 0.2 ms more: a
    hash of the ids, and a sort of the rows."""
    query = _Query(conn)
    keys = ", ".join(f"{key} AS page_{key}" for key in _key_columns(spec))
    order = order_clause(spec, reverse=reverse, conn=conn)
    merged = order_clause(spec, reverse=reverse, conn=conn, prefix="page_")
    source = _source(spec, conn)
    heads = " UNION ALL ".join(
        f"SELECT * FROM (SELECT {keys} FROM {source}"
        f"{_where(query, replace(spec, **{name: frozenset([value])}), conn)}{order} "
        f"LIMIT {query.bind(skip + limit)}) AS head{number}"
        for number, value in enumerate(values))
    return _run(conn, query, f"SELECT {_row_select(spec, conn)} FROM (SELECT * FROM ({heads}) "
                             f"AS heads{merged} LIMIT {query.bind(limit)} "
                             f"OFFSET {query.bind(skip)}) AS page, {source} "
                             f"WHERE calls.id = page.page_id{merged}").fetchall()


def _rows_of(conn, spec: ListSpec, ids: list[int], reverse: bool) -> list[tuple]:
    """The list's rows of the calls `ids`, in the spec's order (`reverse`: its reverse)."""
    if not ids:
        return []
    query = _Query(conn)
    return _run(conn, query, f"SELECT {_row_select(spec, conn)} FROM {_source(spec, conn)} "
                             f"WHERE id IN ({query.bind_all(ids)})"
                             f"{order_clause(spec, reverse=reverse, conn=conn)}").fetchall()


def _page(conn, spec: ListSpec, skip: int, limit: int, reverse: bool, may_walk: bool,
          select: str | None = None, names: bool = True,
          seen: _Seen | None = None) -> list[tuple] | None:
    """Rows skip..skip+limit of the spec's order (`reverse`: of its reverse), of `select`
    (the list's row when None). With `may_walk`, a page of a search in many calls, or of
    a filtered list in another order than time's, may be read by a bounded walk of the
    sort's index (WALK_SAMPLE, WALK_REACH); None when that walk stopped at its bound, or
    the search is not to be walked. With `names`, by the names that match where it may
    be (_by_names). `seen`: what planning this page found before (_Seen)."""
    query = _Query(conn)
    where = _where(query, spec, conn, plan=True, reverse=reverse,
                   walk=skip + limit if may_walk else None, names=names, seen=seen)
    order = order_clause(spec, reverse=reverse, conn=conn)
    select = select or _row_select(spec, conn)
    source = _source(spec, conn)
    if query.walk is None:
        if query.names:
            rows = _by_names(conn, spec, skip, limit, reverse, select)
            return rows if rows is not None else \
                _page(conn, spec, skip, limit, reverse, may_walk, select, False, seen)
        if query.head is not None and select == _row_select(spec, conn):
            rows = _by_head(conn, spec, skip, limit, reverse, *query.head)
            if rows is not None:
                return rows
        keyed = query.keyed and select == _row_select(spec, conn)
        if keyed and query.apart:  # planned alone, by the ids: then sorted
            keys = ", ".join(_key_columns(spec))
            source = f"(WITH wanted AS MATERIALIZED (SELECT {keys} FROM {source}{where}) " \
                     "SELECT * FROM wanted) AS calls"
            where = ""
        rows = _run(conn, query, f"SELECT {'id' if keyed else select} FROM {source}{where}"
                                 f"{order} LIMIT {query.bind(limit)} "
                                 f"OFFSET {query.bind(skip)}").fetchall()
        return _rows_of(conn, spec, [row[0] for row in rows], reverse) if keyed else rows
    walk = query.walk
    if walk.rows == 0:
        return None  # not to be walked (_search_sqlite)
    test = "" if walk.wanted is None else \
        f"{_and(where)} {_words_test_sqlite(query, walk.wanted)}"
    return _run_bounded(conn, query, f"SELECT {select} FROM {source}{where}{test}{order} "
                                     f"LIMIT {query.bind(limit)} OFFSET {query.bind(skip)}",
                        walk.tests, walk.rows)


# A search sorted by Who whose words are read through their matches (too few near the
# walk's start, _walk_sample, _sample_hits_postgresql) is read by the names that match
# (migration 0017): "priya" by Who ↑ is in a tenth of a million calls, 800,000 calls into
# that order, so a walk passes them all and reading the matches reads and sorts 100,000
# (77-820 ms). A call whose name matches is one of that name's group of the Who index: the
# names that match are read from the names index in the sort's order, and each one's
# calls from the Who index in order, until the page is full; the calls that match through
# another column than the name (few, for a name) are added, and the page is read from
# those calls alone. At most NAME_GROUPS names' calls are read for a page (one query a
# name) and NAME_OTHERS calls matching elsewhere; past either it is read as before.
NAME_GROUPS = 200
NAME_OTHERS = 5000
NAME_TESTS = 1024
# Where a name holds every word, the names holding some are tried first all the same, for
# NAME_TESTS_FIRST calls tested (2-3 ms): the calls matching through another column are
# read only past them, for reading them merges the calls of every word the last word
# begins ("sam k": "k" begins "kitchen", in a third of the calls; 40 ms on SQLite and 86
# on PostgreSQL before the names were read, 5 so).
NAME_TESTS_FIRST = 256


def _by_names(conn, spec: ListSpec, skip: int, limit: int, reverse: bool,
              select: str) -> list[tuple] | None:
    """Rows skip..skip+limit of a search sorted by Who (`reverse`: of its reverse), of
    `select`, read by the names that match (see NAME_GROUPS); None past its bounds."""
    if skip + limit > MERGED_KEYS:
        return None
    words = number_runs(spec.search)[0]
    way = "DESC" if spec.descending != reverse else "ASC"
    if on_postgresql(conn):
        from callviewer.textsearch import tsquery

        wanted = tsquery(words)

        def names(query: _Query) -> str:
            return (f"SELECT name FROM {_NAMES} WHERE document @@ "
                    f"CAST({query.bind(wanted)} AS tsquery)")

        def others(query: _Query) -> str:  # a word in the other columns, not all in the name
            return (f"SELECT rowid FROM {_FTS} WHERE others @@ CAST("
                    f"{query.bind(tsquery(words, any_word=True))} AS tsquery) AND "
                    f"document @@ CAST({query.bind(wanted)} AS tsquery) AND NOT "
                    "array_to_tsvector(string_to_array(coalesce(name, ''), ' ')) @@ "
                    f"CAST({query.bind(wanted)} AS tsquery)")
    else:
        match = match_expression(words)
        # A word in the other columns (FTS5 reads a word's list for a column filter: 1 ms
        # for "priya", in 100,000 names, where "... NOT name : ..." took 7).
        elsewhere = f"{_OTHER_COLUMNS} : ({match_expression(words, any_word=True)})"
        if " " in match:
            elsewhere = f"({match}) AND {elsewhere}"

        def names(query: _Query) -> str:
            return (f"SELECT name FROM {_NAMES} WHERE id IN (SELECT rowid FROM {_NAMES}_fts "
                    f"WHERE {_NAMES}_fts MATCH {query.bind(match)})")

        def others(query: _Query) -> str:
            return f"SELECT rowid FROM {_FTS} WHERE {_FTS} MATCH {query.bind(elsewhere)}"

    query = _Query(conn)
    several = len(_TOKEN.findall(words)) > 1
    some = several and _run(conn, query, f"{names(query)} LIMIT 1").fetchone() is None
    if several:
        # The calls whose name holds some of the words: all a page needs where no name
        # holds every word ("priya refund"); else first, within NAME_TESTS_FIRST tests.
        rows = _by_some_names(conn, spec, skip, limit, reverse, select,
                              None if some else NAME_TESTS_FIRST)
        if rows is not None:
            return rows
    query = _Query(conn)
    found = [row[0] for row in _run(conn, query, f"{others(query)} LIMIT {NAME_OTHERS + 1}")]
    if len(found) > NAME_OTHERS:
        # Too many match through another column ("sam k": Sam Khan is a name, and "k"
        # begins "kitchen", in a third of the calls): by the names holding some words.
        return None if some or not several else \
            _by_some_names(conn, spec, skip, limit, reverse, select)
    query = _Query(conn)
    matching = _run(conn, query, f"{names(query)} ORDER BY name {way} "
                                 f"LIMIT {NAME_GROUPS + 1}").fetchall()
    groups = _groups(conn, spec, reverse, matching, skip + limit)
    if groups is None:
        return None
    found = list({*found, *groups})  # a name's call may also match elsewhere: once
    if not found:
        return []
    return _page_of(conn, spec, found, skip, limit, reverse, select)


def _by_some_names(conn, spec: ListSpec, skip: int, limit: int, reverse: bool,
                   select: str, tests: int | None = None) -> list[tuple] | None:
    """Rows skip..skip+limit of a search of several words sorted by Who (`reverse`: of
    its reverse), of `select`, where too many calls match through another column than
    the name for _by_names ("priya refund": "priya" is in 100,000 names, "refund" in a
    third of the calls, and no name holds both: 36,700 calls, 190 ms on SQLite and 420
    on PostgreSQL by sorting them all, against 15 and 6 so); None past its bounds.

    A word but the last (a prefix) that no call holds in another column than its name is
    in the name of every call that matches: the names that hold every such word are read
    in order, and each one's calls from the Who index in order, each tested for the whole
    search, until the page is full (`tests` calls tested at most, NAME_TESTS when None).
    None when each of those words is in another column of some call."""
    words = number_runs(spec.search)[0]
    typed = _TOKEN.findall(words)
    if len(typed) < 2:
        return None
    way = "DESC" if spec.descending != reverse else "ASC"
    if on_postgresql(conn):
        from callviewer.textsearch import tsquery

        wanted = tsquery(words)

        def named(query: _Query, required: list[str]) -> str:  # names holding them all
            return (f"SELECT name FROM {_NAMES} WHERE document @@ "
                    f"CAST({query.bind(tsquery(' '.join(required), prefix=False))} AS tsquery)")

        def in_others(query: _Query, word: str) -> str:
            # Planned for all its rows, GIN answers; for the first, the planner chose to
            # read the table until it found one (230 ms for "priya", in no call's).
            return (f"WITH found AS MATERIALIZED (SELECT rowid FROM {_FTS} WHERE others @@ "
                    f"CAST({query.bind(tsquery(word, prefix=False))} AS tsquery)) "
                    "SELECT 1 FROM found")

        def test(query: _Query) -> str:
            return _tests_each(query, wanted)
    else:
        match = match_expression(words)
        columns = call_match.register(conn, _FTS)

        def named(query: _Query, required: list[str]) -> str:
            return (f"SELECT name FROM {_NAMES} WHERE id IN (SELECT rowid FROM {_NAMES}_fts "
                    f"WHERE {_NAMES}_fts MATCH "
                    f"{query.bind(match_expression(' '.join(required), prefix=False))})")

        def in_others(query: _Query, word: str) -> str:
            return (f"SELECT 1 FROM {_FTS} WHERE {_FTS} MATCH "
                    f"{query.bind(f'{_OTHER_COLUMNS} : ({match_expression(word, prefix=False)})')}")

        def test(query: _Query) -> str:
            return _words_test_sqlite(query, (match, columns))

    required = []
    for word in typed[:-1]:
        query = _Query(conn)
        if _run(conn, query, f"{in_others(query, word)} LIMIT 1").fetchone() is None:
            required.append(word)
    if not required:
        return None
    query = _Query(conn)
    matching = _run(conn, query, f"{named(query, required)} ORDER BY name {way} "
                                 f"LIMIT {NAME_GROUPS + 1}").fetchall()
    found = _groups(conn, spec, reverse, matching, skip + limit, test, tests)
    if found is None:
        return None
    return _page_of(conn, spec, found, skip, limit, reverse, select) if found else []


def _groups(conn, spec: ListSpec, reverse: bool, matching: list[tuple], needed: int,
            test=None, tests: int | None = None) -> list[int] | None:
    """The first `needed` calls of the names `matching` (rows of one name each, in the
    page's order), each name's read from the Who index in order, those the spec's filters
    select; with `test` (a term on a call, named calls), only those that pass it. None
    past NAME_GROUPS names, or `tests` calls tested (NAME_TESTS when None)."""
    tests = NAME_TESTS if tests is None else tests
    order = order_clause(spec, reverse=reverse, conn=conn)
    filters = _Query(conn)  # a group's filters, the same for each name
    where = _where(filters, replace(spec, search=""), conn)
    found: list[int] = []
    for at, (name,) in enumerate(matching):
        wanted = needed - len(found)
        if wanted <= 0:
            break
        if at == NAME_GROUPS:
            return None
        query = _Query(conn, filters.params)
        group = [row[0] for row in _run(
            conn, query, f"SELECT id FROM calls{where}{_and(where)} {_WHO} = "
                         f"{query.bind(name)}{order} "
                         f"LIMIT {wanted if test is None else tests + 1}")]
        if test is not None:
            passing = _passing(conn, group, test, wanted, tests)
            if passing is None:
                return None
            tests -= len(group)  # all of them, unless the page is full now
            group = passing
        found += group
    return found


def _page_of(conn, spec: ListSpec, found: list[int], skip: int, limit: int, reverse: bool,
             select: str) -> list[tuple]:
    """Rows skip..skip+limit of the spec's order (`reverse`: of its reverse), of `select`,
    of the calls `found` alone (those the filters select). SQLite is made to read them by
    id (it would rather walk a filter's index, "with a recording": 90 ms)."""
    plain = replace(spec, search="")
    query = _Query(conn)
    if on_postgresql(conn):
        source, where = _source(spec, conn), _where(query, plain, conn)
        where += f"{_and(where)} id = ANY({query.bind(found)})"
    else:
        source = (f"(SELECT value AS call FROM json_each({query.bind(json.dumps(found))})) "
                  "AS wanted CROSS JOIN calls ON calls.id = wanted.call")
        where = _where(query, plain, conn)
    order = order_clause(spec, reverse=reverse, conn=conn)
    return _run(conn, query, f"SELECT {select} FROM {source}{where}{order} "
                             f"LIMIT {query.bind(limit)} OFFSET {query.bind(skip)}").fetchall()


def _passing(conn, ids: list[int], test, needed: int, tests: int) -> list[int] | None:
    """The first `needed` of `ids` (in their order) for which `test(query)` holds (a term
    on a call, named calls), tested HEAD_BATCH at a time; None when more than `tests`
    would be tested to find them (the first `tests` are, at most)."""
    found: list[int] = []
    for start in range(0, min(len(ids), tests), HEAD_BATCH):
        if len(found) >= needed:
            break
        batch, query = ids[start:min(start + HEAD_BATCH, tests)], _Query(conn)
        passed = {row[0] for row in _run(conn, query, f"SELECT id FROM calls WHERE id IN "
                                                      f"({query.bind_all(batch)}) AND "
                                                      f"{test(query)}")}
        found += [call for call in batch if call in passed]
    if len(found) < needed and len(ids) > tests:
        return None  # its calls past the bound untested (_groups reads tests + 1 a name)
    return found[:needed]


def _run_bounded(conn, query: _Query, sql: str, tests: int | None,
                 rows: int | None) -> list[tuple] | None:
    """SQLite: the rows of a statement that walks with call_match's FUNCTION and STEP,
    within their bounds (call_match.bounded); None when the walk stopped at one."""
    with call_match.bounded(tests, rows) as bound:
        try:
            return _run(conn, query, sql).fetchall()
        except sqlite3.OperationalError:
            if bound.reached:
                return None
            raise


def count(conn, spec: ListSpec) -> int:
    """How many calls the spec selects."""
    query = _Query(conn)
    where = _where(query, spec, conn)
    return _run(conn, query, f"SELECT count(*) FROM calls{where}").fetchone()[0]


def position(conn, spec: ListSpec, call_id: int) -> int | None:
    """The row of a call in the list, or None when the spec does not select it.

    Counts the rows ordered before it as a sum of index range counts, each a
    row-value comparison on the sort's index. On SQLite a search is planned as for a
    page: a common one is tested on the calls counted, not read whole first (a number in
    most calls took a second to find one call's row); PostgreSQL's planner chooses.
    """
    key_columns = _key_columns(spec)
    planned = _Query(conn)
    # Planned once, for every count below.
    where = _where(planned, spec, conn, plan=not on_postgresql(conn))
    query = _Query(conn, planned.params)
    found = _run(conn, query, f"SELECT {', '.join(key_columns)} FROM {_source(spec, conn)}{where}"
                              f"{_and(where)} id = {query.bind(call_id)}").fetchone()
    if found is None:
        return None
    total = 0
    for piece in _before(key_columns, found, spec.descending):
        query = _Query(conn, planned.params)
        condition = " AND ".join(_condition(query, *term) for term in piece)
        total += _run(conn, query,
                      f"SELECT count(*) FROM {_source(spec, conn)}{where}{_and(where)} "
                      f"{condition}").fetchone()[0]
    return total


def rows_query(conn, spec: ListSpec, plan: bool = True) -> tuple[str, list]:
    """The SQL (and its values) listing all of the spec's rows in its order, as a page
    reads them (without `plan`: its search as the database plans it): for another model
    to run, or a baseline to time (tests/bench/bench_ui.py, bench_team.py)."""
    query = _Query(conn)
    where = _where(query, spec, conn, plan=plan)
    return (f"SELECT {_row_select(spec, conn)} FROM {_source(spec, conn)}{where}"
            f"{order_clause(spec, conn=conn)}", query.params)


def ids(conn, spec: ListSpec) -> list[int]:
    """Every call id the spec selects, in list order (for export)."""
    query = _Query(conn)
    where = _where(query, spec, conn)
    order = order_clause(spec, conn=conn)
    return [row[0] for row in _run(conn, query,
                                   f"SELECT id FROM {_source(spec, conn)}{where}{order}")]


def _and(where: str) -> str:
    return " AND" if where else " WHERE"


def _is_dense(conn, matches, wanted: Any, *how: str, dense: int | None = None) -> bool:
    """Whether the SQLite search `matches(query, wanted, *how)` finds `dense` calls
    (DENSE_MATCHES when None)."""
    dense = DENSE_MATCHES if dense is None else dense
    return _found(conn, matches, wanted, *how, up_to=dense) >= dense


def _found(conn, matches, wanted: Any, *how: str, up_to: int) -> int:
    """How many calls the SQLite search `matches(query, wanted, *how)` finds, counted to
    `up_to` at most."""
    query = _Query(conn)
    return _run(conn, query, f"SELECT count(*) FROM ({matches(query, wanted, *how)} "
                             f"LIMIT {up_to}) AS found").fetchone()[0]


def _tests_each(query: _Query, words: str) -> str:
    """PostgreSQL: whether a call (of the table or subquery named calls) matches the
    tsquery `words`, by its own index row. A scalar subquery, so the planner neither makes
    it a join nor hashes every match first: each call the walk reaches is tested, 1 µs
    apiece."""
    return (f"(SELECT document @@ CAST({query.bind(words)} AS tsquery) FROM {_FTS} "
            "WHERE rowid = calls.id)")


def _sampled_hits(conn, spec: ListSpec, terms: list[str], params: Sequence, tests,
                  wanted: Any, reverse: bool, sample: int = SAMPLE,
                  reach: int | None = None, up_to: int | None = None) -> int | None:
    """How many of the first `sample` calls the page's walk reaches (those `terms` select,
    in the spec's order or its reverse) pass `tests(query, wanted)` (a search's words, a
    number), counted to `up_to` at most (the sample stops there); `params` are the values
    bound in `terms`. SQLite, with `reach`: None when the walk passes more than `reach`
    calls to find them (see WALK_REACH)."""
    query = _Query(conn, params)
    if reach is not None:
        call_match.register(conn, _FTS)
        terms = [f"{call_match.STEP}()", *terms]
    passing = (f"SELECT 1 FROM ({_walk_head(spec, conn, terms, reverse, sample)}) AS calls "
               f"WHERE {tests(query, wanted)}{'' if up_to is None else f' LIMIT {up_to}'}")
    counted = _run_bounded(conn, query, f"SELECT count(*) FROM ({passing}) AS passing", None,
                           reach)
    return None if counted is None else counted[0][0]


def _walk_head(spec: ListSpec, conn, terms: list[str], reverse: bool, calls: int,
               after: int = 0) -> str:
    """The ids of the first `calls` calls a page's walk reaches (after its first `after`):
    those `terms` select, in the spec's order or its reverse (a sample's subquery)."""
    where = (" WHERE " + " AND ".join(terms)) if terms else ""
    return (f"SELECT id FROM {_source(spec, conn)}{where}{order_clause(spec, reverse, conn)} "
            f"LIMIT {calls - after} OFFSET {after}")


def _row_select(spec: ListSpec, conn=None) -> str:
    """The list's row, as a page of the spec's sort selects it from _source on `conn`'s
    engine (SQLite's when None)."""
    if spec.sort in STATS_SORTS or on_postgresql(conn):
        return ", ".join(ROW_COLUMNS)
    return _SELECT


def _source(spec: ListSpec, conn=None) -> str:
    """What a page of the spec's sort is read from on `conn`'s engine: the calls table
    (on PostgreSQL joined to call_stats, _WITH_STATS), or for a sort by a statistic the
    calls through call_stats (_BY_STATS), named calls either way."""
    if spec.sort not in STATS_SORTS:
        return _WITH_STATS if on_postgresql(conn) else "calls"
    return _BY_STATS.format(join="JOIN" if on_postgresql(conn) else "CROSS JOIN")


def _key_columns(spec: ListSpec) -> list[str]:
    column = SORTS[spec.sort]
    return ["started_at", "id"] if column == "started_at" else [column, "started_at", "id"]


# One condition on a column: (column, operator, value); "IS NULL" and "IS NOT NULL" take
# no value.
_Term = tuple[str, str, Any]


def _condition(query: _Query, column: str, operator: str, value: Any) -> str:
    if operator.startswith("IS "):
        return f"{column} {operator}"
    return f"{column} {operator} {query.bind(value)}"


def _before(columns: Sequence[str], values: Sequence, descending: bool) -> list[list[_Term]]:
    """Disjoint conditions (each a list of terms, all to hold) that together hold for the
    rows ordered before `values` (NULL first, as order_clause has it). Each is one range
    of the sort's index, so counting them one by one reads only the index."""
    column, value = columns[0], values[0]
    pieces: list[list[_Term]] = []
    if descending:  # before = larger; NULL is the smallest
        pieces.append([(column, "IS NOT NULL", None) if value is None
                       else (column, ">", value)])
    elif value is not None:  # before = smaller, NULLs included
        pieces += [[(column, "<", value)], [(column, "IS NULL", None)]]
    if len(columns) > 1:
        same = (column, "IS NULL", None) if value is None else (column, "=", value)
        pieces += [[same, *piece] for piece in _before(columns[1:], values[1:], descending)]
    return pieces
