"""call_match's test of one call against a search gives the file's own index's answer, on
texts and searches made to find where they could part: ASCII and not, letters next to
digits, underscores and accents, prefixes, words that are several tokens."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callviewer import call_match, listing
from callviewer.store import Store

# Pieces texts and searches are made of: near misses of each other on purpose.
PIECES = ["refund", "Refund", "REFUNDS", "refunded", "pre", "prerefund", "re", "fund",
          "réfund", "refünd", "José", "jose", "Müller", "muller", "王小明", "小明", "a_b", "a",
          "b", "x1", "1x", "555", "5550123", "ß", "İstanbul", "istanbul", "Œuvre", "oeuvre"]
SEPARATORS = [" ", "-", "_", ".", ", ", "'", "\n", "", "\u00a0", "—"]

texts = st.one_of(st.none(), st.lists(st.tuples(st.sampled_from(PIECES),
                                                st.sampled_from(SEPARATORS)),
                                      max_size=6).map(lambda pairs: "".join(map("".join, pairs))))
searches = st.lists(st.sampled_from([*PIECES, "re fund", "a b", "x", "5", "jo", "mü"]),
                    min_size=1, max_size=3).map(" ".join)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """A migrated file's read connection (its calls_fts as the app declares it), FUNCTION
    registered on it, and the index's columns."""
    path = tmp_path_factory.mktemp("match") / "calls.sqlite3"
    Store(str(path)).close()
    conn = sqlite3.connect(path)
    columns = call_match.register(conn, "calls_fts")
    yield conn, columns
    conn.close()


def test_the_index_columns_are_the_functions_arguments(index):
    _, columns = index
    assert columns == ["name", "numbers", "summary", "transcript", "notes"]


def _agrees(conn, columns, row, typed) -> None:
    match = listing.match_expression(typed)
    conn.execute("DELETE FROM calls_fts")
    conn.execute(f"INSERT INTO calls_fts (rowid, {', '.join(columns)}) VALUES (1, ?, ?, ?, ?, ?)",
                 row)
    want = conn.execute("SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?",
                        (match,)).fetchone()[0]
    got = conn.execute(f"SELECT {call_match.FUNCTION}(?, ?, ?, ?, ?, ?)",
                       (match, *row)).fetchone()[0]
    assert got == want, (match, row)


# Where a test of ASCII text could part from unicode61: a word inside a longer one, a
# word of several tokens (joined by "_" or "-"), letters against digits, a phrase across
# two columns, case, and text that is not ASCII.
CASES = [
    (("prerefund", None, None, None, None), "refund"),
    (("a_b", None, None, None, None), "a b"),
    (("a-b", None, None, None, None), "a_b"),
    (("a", None, "b", None, None), "a_b"),
    (("ab", None, None, None, None), "a_b"),
    (("x1", None, None, None, None), "x"),
    (("1x", None, None, None, None), "x"),
    (("x1", None, None, None, None), "x 1"),
    (("REFUNDED", None, None, None, None), "Refund"),
    (("refund", None, None, None, None), "refunded"),
    (("refunded x", None, None, None, None), "refund x"),
    (("réfund", None, None, None, None), "refund"),
    (("prérefund", None, None, None, None), "refund"),
    ((None, None, None, "José paid", None), "jose"),
    ((None, "5550123", None, None, None), "555"),
    (("refund", None, None, "José", None), "José refund"),
    (("refund Jose", None, None, None, None), "José refund"),
    (("refund", None, "é", None, None), "é"),
    (("Müller", None, "muller x", None, None), "x müller"),
]


@pytest.mark.parametrize(("row", "typed"), CASES, ids=[typed for _, typed in CASES])
def test_each_near_miss_is_answered_as_the_index_answers_it(index, row, typed):
    _agrees(*index, row, typed)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.tuples(texts, texts, texts, texts, texts), typed=searches)
def test_one_call_is_matched_as_the_files_index_matches_it(index, row, typed):
    _agrees(*index, row, typed)


def test_a_bounded_walk_stops_at_its_bound_and_says_so(index):
    conn, _ = index
    ask = (f"SELECT count(*) FROM (SELECT value FROM json_each(?)) "
           f"WHERE {call_match.FUNCTION}('\"refund\"', value, NULL, NULL, NULL, NULL)")
    with call_match.bounded(3) as bound:
        assert conn.execute(ask, ('["refund", "no", "refund"]',)).fetchone()[0] == 2
    assert not bound.reached
    with call_match.bounded(3) as bound, pytest.raises(sqlite3.OperationalError):
        conn.execute(ask, ('["refund", "no", "refund", "refund"]',)).fetchone()
    assert bound.reached
    # Outside `bounded`, no bound.
    assert conn.execute(ask, ('["refund", "refund", "refund", "refund"]',)).fetchone()[0] == 4
