"""Whether one call's indexed text matches a search, answered as SQLite's index would.

FTS5 finds a search's calls by reading each word's list of calls. For a word in most calls
that list is long, and for a prefix (the last word typed, so that results narrow while
typing) FTS5 first merges the lists of every word the prefix begins: at a million calls
``"refund"*`` reads 370,000 entries (25 ms, and 100 ms more to hold them for a sort),
``"c"*`` three million (260 ms). Asked about one call (``MATCH`` with ``rowid =``), it
merges them all again, 20-260 ms a call.

So a page of a search that matches most of the calls it walks is read by walking the
sort's index and testing each call (callviewer/listing.py) on its text, the index's own
copy of it. The test gives FTS5's answer:

- each word must occur, each in one column (FTS5's phrases, joined by AND);
- when the index's tokenizer is unicode61 with its own token characters and a word is
  ASCII, it is looked for in the call's ASCII columns by a regular expression: unicode61
  reads ASCII as runs of letters and digits, folded to lower case, so a quoted word is
  those runs one after another with anything else between, and the last may be a prefix.
  About 5 µs a call;
- otherwise, and in the columns that are not ASCII, by FTS5 itself: those texts are put
  in a one-row FTS5 table in memory declared as the file's index is (the same tokenizer
  and options), and the word is asked of that row. About 30 µs.

tests/unit/test_call_match.py holds both to the file's own index on generated texts.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FUNCTION = "callviewer_matches"  # FUNCTION(match, column, ...) in a statement: 1 or 0
STEP = "callviewer_step"  # STEP() in a walk's WHERE: 1, counting the calls walked
_HEAD = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE\s+\S+\s+USING\s+fts5\s*\(", re.IGNORECASE)
# The tokenizers the ASCII test stands for: unicode61 and its diacritics option, no other.
_UNICODE61 = re.compile(r"tokenize\s*=\s*'unicode61(\s+remove_diacritics\s+[012])?'\s*\)\s*$",
                        re.IGNORECASE)
_PHRASE = re.compile(r'"([^"]*)"(\*?)')  # one quoted word of a match expression
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+")
# FTS5's answers kept for one search: 10,000 at most, each for texts of 512 characters
# at most (a name, a short summary: a few MB in all, where a long transcript comes once).
ANSWERS_KEPT = 10_000
ANSWER_TEXT_KEPT = 512
_local = threading.local()  # this thread's one-row tables, by the index's declaration


def register(conn: sqlite3.Connection, table: str) -> list[str]:
    """Make FUNCTION and STEP callable in `conn`'s statements, FUNCTION for the FTS5 index
    `table` of its file, and return that index's columns in the order FUNCTION takes them
    after the match expression: ``FUNCTION(match, c1, c2, …)`` is 1 when a row whose
    columns hold those texts matches, as the file's index would match it. `match` is a
    search as callviewer/listing.py writes it: quoted words, each of which must occur, the
    last perhaps a prefix (``"refund" "tues"*``)."""
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    try:  # registered already? (doing it again would make SQLite prepare every statement anew)
        conn.execute(f"SELECT {STEP}()").fetchall()
        return columns
    except sqlite3.OperationalError:
        pass
    declaration = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' "
                               "AND name = ?", (table,)).fetchone()[0]
    ascii_test = _UNICODE61.search(declaration) is not None

    def matches(match: str, *texts: str | None) -> int:
        bound = getattr(_local, "bound", None)
        if bound is not None and bound.tests is not None:
            if bound.tests <= 0:
                bound.reached = True
                raise BoundReached  # the statement ends with sqlite3.OperationalError
            bound.tests -= 1
        words, answers = _words(match) if ascii_test else (None, None)
        if words is None:
            return _one_row(declaration, len(columns)).matches(match, texts)
        others: tuple | None = None  # the texts that are not ASCII, the others None
        for phrase, pattern in words:
            if pattern is None:  # FTS5 reads this word in every column
                if not _one_row(declaration, len(columns)).matches(phrase, texts):
                    return 0
                continue
            if any(text and text.isascii() and pattern.search(text) for text in texts):
                continue
            if others is None:
                others = tuple(None if text is None or text.isascii() else text
                               for text in texts)
            if not any(others):
                return 0
            found = answers.get(key := (declaration, phrase, others))
            if found is None:
                found = _one_row(declaration, len(columns)).matches(phrase, others)
                if len(answers) < ANSWERS_KEPT and \
                        sum(len(text) for text in others if text) <= ANSWER_TEXT_KEPT:
                    answers[key] = found
            if not found:
                return 0
        return 1

    conn.create_function(FUNCTION, 1 + len(columns), matches)
    conn.create_function(STEP, 0, _step)
    return columns


def _step() -> int:
    bound = getattr(_local, "bound", None)
    if bound is not None and bound.rows is not None:
        if bound.rows <= 0:
            bound.reached = True
            raise BoundReached
        bound.rows -= 1
    return 1


class BoundReached(Exception):
    """FUNCTION or STEP was asked more often than `bounded` allows."""


class Bound:
    """How many more calls FUNCTION tests and STEP counts on this thread (`bounded`; None:
    no limit), and whether one of them was asked once more."""

    def __init__(self, tests: int | None, rows: int | None) -> None:
        self.tests = tests
        self.rows = rows
        self.reached = False


@contextmanager
def bounded(tests: int | None = None, rows: int | None = None) -> Iterator[Bound]:
    """Within: FUNCTION tests at most `tests` calls, and STEP counts at most `rows`, on this
    thread; asked once more, it raises, which ends the statement with
    sqlite3.OperationalError, and the Bound yielded says so (a walk stops there)."""
    _local.bound = bound = Bound(tests, rows)
    try:
        yield bound
    finally:
        _local.bound = None


def _words(match: str) -> tuple[list[tuple[str, re.Pattern | None]] | None, dict]:
    """Each quoted word of `match` (each must occur), as an FTS5 expression of its own and
    a regular expression finding it in an ASCII text as unicode61 would (None for a word
    that is not ASCII); None when `match` is not quoted words alone. And FTS5's answers
    so far for this `match`, by index declaration, word and texts that are not ASCII (a
    customer's name comes back call after call). The last `match` asked is kept: a walk asks one."""
    cached = getattr(_local, "words", None)
    if cached is not None and cached[0] == match:
        return cached[1], cached[2]
    words: list[tuple[str, re.Pattern | None]] | None = []
    for found in _PHRASE.finditer(match):
        word, prefix = found.groups()
        tokens = _ASCII_TOKEN.findall(word)
        pattern = None
        if word.isascii() and tokens:
            body = "[^A-Za-z0-9]+".join(re.escape(token) for token in tokens)
            end = "" if prefix else "(?![A-Za-z0-9])"
            pattern = re.compile(f"(?<![A-Za-z0-9]){body}{end}", re.IGNORECASE | re.ASCII)
        words.append((found.group(0), pattern))
    if _PHRASE.sub("", match).strip():
        words = None  # something besides quoted words: FTS5 reads it whole
    _local.words = (match, words, {})
    return words, _local.words[2]


class _OneRow:
    """A contentless FTS5 table in memory, declared as a file's index, holding one row at
    a time, in a transaction never committed (a commit per call doubled its cost). Used by
    one thread: each thread has its own."""

    def __init__(self, declaration: str, width: int) -> None:
        self._conn = sqlite3.connect(":memory:", isolation_level=None)
        self._conn.execute(_HEAD.sub("CREATE VIRTUAL TABLE one USING fts5(content='', ",
                                     declaration, count=1))
        self._conn.execute("BEGIN")
        self._insert = f"INSERT INTO one VALUES ({', '.join('?' * width)})"

    def matches(self, match: str, texts: tuple) -> int:
        conn = self._conn
        conn.execute(self._insert, texts)
        try:
            return int(conn.execute("SELECT 1 FROM one WHERE one MATCH ?",
                                    (match,)).fetchone() is not None)
        finally:
            conn.execute("INSERT INTO one(one) VALUES ('delete-all')")


def _one_row(declaration: str, width: int) -> _OneRow:
    tables = getattr(_local, "tables", None)
    if tables is None:
        tables = _local.tables = {}
    table = tables.get(declaration)
    if table is None:
        table = tables[declaration] = _OneRow(declaration, width)
    return table
