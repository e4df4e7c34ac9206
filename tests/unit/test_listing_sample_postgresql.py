"""On PostgreSQL, a search's page is planned by testing the first calls of its walk
(listing.SAMPLE_POSTGRESQL): that sample stops as soon as it has seen enough matches to
call the search dense, so a word in most calls costs a few dozen tests, not the whole
sample; and a word in 1 % of the calls is read through its matches, not walked, as one in
1.4 % is for a page of 200 rows, but not for the first 64 a new spec reads.

Counted by the server itself: the index scans of the word index (one per call tested)
in the reading transaction, from pg_stat_xact_user_tables."""

from __future__ import annotations

import psycopg
import pytest

from callviewer import listing
from callviewer.listing import ListSpec
from callviewer.store import Store

CALLS = listing.SAMPLE + 600
START = 1_700_000_000_000_000


@pytest.fixture(scope="module")
def database(postgres):
    """A team database whose every call's summary holds "refund", one call in 70 "boiler",
    one in 100 "appointment", and one in 300 "zebra"; the oldest 500 "early" too."""
    name = postgres.database()
    url = postgres.url(name)
    with Store(url) as store:
        store.calls.write_records([
            {"source": "wavekat", "source_id": f"c{i}", "direction": "inbound",
             "outcome": "answered", "started_at": START + i * 1_000_000,
             "summary": "refund asked" + (" zebra" if i % 300 == 0 else "")
             + (" appointment" if i % 100 == 0 else "") + (" boiler" if i % 70 == 0 else "")
             + (" early" if i < 500 else "")}
            for i in range(CALLS)])
    yield url
    postgres.drop(name)


def word_index_scans(conn) -> int:
    row = conn.execute("SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_xact_user_tables "
                       "WHERE relname = 'calls_fts'").fetchone()
    return int(row[0])


def read_page(url: str, spec: ListSpec, limit: int,
              rows: int | None = None) -> tuple[list[tuple], str, int]:
    """The spec's first page, its WHERE clause planned (for a page of `rows`, when given),
    and the word index's scans that planning it took (the sample; in one transaction,
    counted by the server)."""
    with psycopg.connect(url.replace("+psycopg", "", 1)) as conn:
        before = word_index_scans(conn)
        where, _params = listing.where_clause(spec, conn, plan=True, rows=rows)
        scans = word_index_scans(conn) - before
        return listing.page(conn, spec, 0, limit), where, scans


def test_a_word_in_every_call_is_found_dense_after_a_few_tests(database):
    rows, where, scans = read_page(database, ListSpec(search="refund"), 50)
    newest = list(range(CALLS, CALLS - 50, -1))  # ids follow started_at here
    assert [row[0] for row in rows] == newest
    assert "ANY(" not in where  # tested on the walk, not read through its matches
    assert scans == listing.DENSE_SAMPLE_HITS  # was SAMPLE: every call of the sample


@pytest.mark.parametrize(("sort", "sample"), [("started", listing.SAMPLE),
                                              ("duration", listing.SAMPLE_POSTGRESQL)])
def test_a_rare_word_is_still_sampled_whole_and_read_through_its_matches(database, sort,
                                                                          sample):
    rows, where, scans = read_page(database, ListSpec(search="zebra", sort=sort), 50)
    want = sorted((i + 1 for i in range(0, CALLS, 300)), reverse=True)
    assert [row[0] for row in rows] == want  # no duration: in time order, as started
    assert "ANY(" in where
    assert scans == sample  # every call of the sample tested: too few matched


def test_a_word_in_one_call_of_a_hundred_is_read_through_its_matches_out_of_time_order(
        database):
    """Out of time order a walk costs PostgreSQL a row read at random a call and its test,
    more than reading a match, so a page of 200 is cheaper read through the matches below
    ~2 % of a million calls (at 1 %: 10,000 matches against 20,000 calls walked); in time
    order the walk reads the rows about as they are stored, and is kept."""
    want = sorted((i + 1 for i in range(0, CALLS, 100)), reverse=True)
    rows, where, _scans = read_page(database, ListSpec(search="appointment",
                                                       sort="duration"), 20)
    assert [row[0] for row in rows] == want[:20]  # no duration: in time order
    assert "ANY(" in where  # was walked: 20 of the first 2,000 calls matched
    rows, where, _scans = read_page(database, ListSpec(search="appointment"), 20)
    assert [row[0] for row in rows] == want[:20]
    assert "ANY(" not in where


def test_a_first_read_of_fewer_rows_walks_what_a_page_reads_through_its_matches(database):
    """A walk costs in proportion to the rows it must find, reading the matches does not:
    for a new spec's first 64 rows (list_reads.FIRST) the sample is larger (by the square
    root of 200 / 64), and "boiler" (1.4 %: 8 of its 550 calls, 14 of 972) is walked out
    of time order, where a page of 200 reads it through its matches. A word the first,
    smaller sample never meets is known sparse by it alone, as before."""
    spec = ListSpec(search="boiler", sort="duration")
    _rows, where, _scans = read_page(database, spec, 20, rows=listing.SAMPLED_ROWS)
    assert "ANY(" in where
    _rows, where, scans = read_page(database, spec, 20, rows=64)
    assert "ANY(" not in where
    assert scans > listing.SAMPLE_POSTGRESQL  # the second, larger sample
    _rows, where, scans = read_page(database, ListSpec(search="kettle", sort="duration"),
                                    20, rows=64)
    assert "ANY(" in where
    assert scans == listing.SAMPLE_POSTGRESQL  # no hit in the first: no second sample


def test_a_word_among_a_common_words_calls_is_walked_where_reading_those_costs_more(
        database, monkeypatch):
    """A search whose words but the last are in many calls ("priya refund": Priya in a
    tenth of a million calls, reading them took 420 ms) is walked when the walk's sample
    found some of its matches and the walk is expected to pass fewer calls than those
    words are in; else read through its matches, and through those words' calls when
    they are few (listing._with_head)."""
    with psycopg.connect(database.replace("+psycopg", "", 1), autocommit=True) as conn:
        conn.execute("ANALYZE calls_fts")  # as autovacuum does soon after an import
    spec = ListSpec(search="refund zeb", sort="duration")
    want = sorted((i + 1 for i in range(0, CALLS, 300)), reverse=True)
    monkeypatch.setattr(listing, "HEAD_CALLS_POSTGRESQL", 1000)  # "refund": in all 2,600
    # One row needed: the sample (1,100 calls) holds 4 matches, so about 275 calls walked.
    rows, where, _scans = read_page(database, spec, 5, rows=1)
    assert [row[0] for row in rows] == want[:5]
    assert "ANY(" not in where
    # 200 rows: about 55,000 calls, more than "refund" is in.
    rows, where, _scans = read_page(database, spec, 5, rows=200)
    assert [row[0] for row in rows] == want[:5]
    assert "ANY(" in where
    monkeypatch.setattr(listing, "HEAD_CALLS_POSTGRESQL", 10_000)  # "refund": in few
    rows, where, _scans = read_page(database, spec, 5, rows=1)
    assert [row[0] for row in rows] == want[:5]
    assert "ANY(" in where


@pytest.mark.parametrize(("reach", "walked_to"), [(2200, True), (2000, False)])
def test_matches_none_of_the_sample_holds_are_sorted_only_where_the_walk_soon_meets_none(
        database, reach, walked_to, monkeypatch):
    """Where none of the walk's sample matches, its calls after the sample, to
    listing.APART_WALK, are looked up among the matches' ids (read already) before those
    are sorted rather than walked to: "kenji smith refund" by notes ↓ at a million calls
    (4,000 matches, one call in 250 of the walk, none of its first 550) took 60-67 ms
    sorted, and is walked to in 22-24. Newest first here, "early" (the oldest 500 calls)
    begins after 2,100 calls of the walk. The same page either way."""
    from callviewer.textsearch import tsquery

    monkeypatch.setattr(listing, "APART_WALK", reach)
    spec = ListSpec(search="early", sort="duration")  # no durations: newest first
    rows, where, _scans = read_page(database, spec, 20, rows=64)
    assert [row[0] for row in rows] == list(range(500, 480, -1))
    assert "ANY(" in where  # read through its matches, sorted or walked to
    with psycopg.connect(database.replace("+psycopg", "", 1)) as conn:
        walk = ["deleted_at IS NULL"]
        hits, sampled = listing._sample_hits_postgresql(
            conn, spec, walk, [], listing._tests_each, tsquery("early"), False, 64)
        assert hits == 0  # none in the sample
        ids = "{" + ",".join(str(i + 1) for i in range(500)) + "}"
        assert listing._walk_meets(conn, spec, walk, [], ids, False, sampled) == walked_to
