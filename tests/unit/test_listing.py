"""The list's SQL: every sort, filter and search against the same answer computed in Python,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from list_database import list_connection
from pg_server import ENGINES

from callviewer import call_match, listing
from callviewer.listing import ROW_COLUMNS, SORTS, ListSpec
from callviewer.record import message
from callviewer.store import Store
from callviewer.store.records import StoredStats
from callviewer.store.schema import SORTED_MEASURES

OUTCOMES = ("answered", "missed", "busy", "failed", "voicemail")
WORDS = ("boiler", "leak", "invoice", "refund", "dentist", "zebra")


def make_calls(count: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    calls = []
    for i in range(count):
        started = None if i % 17 == 0 else 1_700_000_000_000_000 + rng.randint(0, 10**12)
        calls.append({
            "source": "wavekat", "source_id": f"c{i}",
            "direction": rng.choice(("inbound", "outbound")),
            "customer_name": rng.choice((None, "Ann Lee", "Omar Haddad", "王小明", "Zoë")),
            "customer_number": f"+1555010{i:04d}",
            "started_at": started,
            "duration_ms": rng.choice((None, rng.randint(0, 600_000))),
            "outcome": rng.choice(OUTCOMES),
            "score": rng.choice((None, rng.randint(1, 10))),
            "done": rng.random() < 0.3,
            "has_recording": rng.random() < 0.5,
            "deleted_at": 1 if rng.random() < 0.1 else None,
            "summary": " ".join(rng.choices(WORDS, k=3)),
            "transcript": [message("agent", "Hello")],
        })
    return calls


def measured_calls(count: int, seed: int = 5) -> list[tuple[int, StoredStats]]:
    """Statistics for most of the calls (the rest not measured: NULL, as no talk), with
    equal shares among them, so that the sort's ties go by started_at and id."""
    rng = random.Random(seed)
    return [(call_id, StoredStats("transcript", rng.choice((0, 1000, 3000)),
                                  rng.choice((0, 1000, 2000, 3000)), 0, 0, None, 0))
            for call_id in range(1, count + 1) if rng.random() < 0.8]


@pytest.fixture(scope="module", params=ENGINES)
def db(request, tmp_path_factory):
    """The list's read connection to 400 calls, on each engine."""
    def fill(store: Store) -> None:
        store.calls.write_records(make_calls(400))
        store.stats.write_many(measured_calls(400))

    with list_connection(request, tmp_path_factory, fill) as conn:
        yield conn


def everything(conn) -> list[dict]:
    rows = conn.execute("SELECT * FROM calls").fetchall()
    names = [d[0] for d in conn.execute("SELECT * FROM calls").description]
    summaries = dict(conn.execute("SELECT rowid, summary FROM calls_fts").fetchall())
    measures = ", ".join(SORTED_MEASURES)
    stats = {row[0]: dict(zip(SORTED_MEASURES, row[1:], strict=True)) for row in conn.execute(
        f"SELECT call_id, {measures} FROM call_stats").fetchall()}
    return [{**dict(zip(names, row, strict=True)), "indexed": summaries[row[0]],
             **stats[row[0]]} for row in rows]


def traced_page(db, spec: ListSpec, offset: int, limit: int,
                total: int | None = None) -> tuple[list[int], list[str]]:
    """SQLite: the ids of a page of the spec (listing.page), and the statements it ran."""
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    try:
        return [row[0] for row in listing.page(db, spec, offset, limit, total)], statements
    finally:
        db.set_trace_callback(None)


def expected(conn, spec: ListSpec) -> list[int]:
    """The spec's ids computed in Python, NULL the smallest value (on both engines)."""
    rows = [r for r in everything(conn)
            if (spec.include_deleted or r["deleted_at"] is None)
            and (not spec.outcomes or r["outcome"] in spec.outcomes)
            and (not spec.directions or r["direction"] in spec.directions)
            and (spec.done is None or bool(r["done"]) == spec.done)
            and (spec.has_recording is None or bool(r["has_recording"]) == spec.has_recording)
            and (spec.since is None or (r["started_at"] or -1) >= spec.since)
            and (not spec.search or spec.search in (r["indexed"] or "").split())]

    def key(row):
        column = SORTS[spec.sort]
        parts = [row[column]] if column == "started_at" else [row[column], row["started_at"]]
        return (*((value is not None, value or 0) for value in parts), row["id"])

    rows.sort(key=key, reverse=spec.descending)
    return [r["id"] for r in rows]


SPECS = [
    *(ListSpec(sort=sort, descending=d) for sort in SORTS for d in (True, False)),
    ListSpec(outcomes=frozenset({"missed", "busy"})),
    ListSpec(directions=frozenset({"outbound"}), done=False, sort="duration"),
    ListSpec(has_recording=True, include_deleted=True, sort="who", descending=False),
    ListSpec(since=1_700_000_500_000_000),
    ListSpec(search="zebra"),
    ListSpec(search="boiler", sort="score"),
    # By a statistic (call_stats): read through that table, filtered and searched alike.
    ListSpec(search="leak", sort="talk", descending=False),
    ListSpec(has_recording=True, outcomes=frozenset({"missed", "busy"}), sort="talk"),
    # A filter with an index of its own in the sort's order (columns.py `paired`): one
    # value read from it, several a page per value merged, a few matches driving the page.
    ListSpec(has_recording=True, sort="score", descending=False),
    ListSpec(outcomes=frozenset({"missed", "busy", "voicemail"}), sort="score"),
    ListSpec(outcomes=frozenset({"answered", "failed"}), done=False, sort="duration",
             descending=False),
    ListSpec(search="zebra", has_recording=False, sort="duration"),
    ListSpec(search="refund", outcomes=frozenset({"answered", "busy"}), sort="score",
             descending=False),
]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_pages_from_either_end_match_the_python_answer(db, spec):
    want = expected(db, spec)
    total = listing.count(db, spec)
    assert total == len(want)
    pages = [row[0] for offset in range(0, total, 37)
             for row in listing.page(db, spec, offset, 37, total)]
    assert pages == want
    assert [row[0] for row in listing.page(db, spec, 0, 10_000)] == want
    assert listing.ids(db, spec) == want


@pytest.mark.parametrize("spec", SPECS[:6] + SPECS[-3:], ids=repr)
def test_position_finds_every_call_where_the_list_shows_it(db, spec):
    want = expected(db, spec)
    for at in (0, 1, len(want) // 2, len(want) - 1):
        assert listing.position(db, spec, want[at]) == at
    hidden = next(r["id"] for r in everything(db) if r["deleted_at"] is not None)
    if not spec.include_deleted:
        assert listing.position(db, spec, hidden) is None


def pages_each_way(db, spec: ListSpec, monkeypatch, total: int, first: int = 50,
                   last: int = 30) -> list[list[int]]:
    """The ids of the spec's `first` rows and of its `last`, read each way the list reads
    a search (the same whichever): through its matches; walking the sort's index (on
    SQLite: through the matches all the same, then by testing each call with call_match,
    its filters tested on the walk); and, on SQLite, by a walk that stops early, its page
    then read as the first way."""
    pages = {}
    for way in ("matches", "walk", "stopped walk"):
        dense = way != "matches"
        monkeypatch.setattr(listing, "DENSE_MATCHES", 1 if dense else 10**9)
        monkeypatch.setattr(listing, "DENSE_SAMPLE_HITS", 0 if dense else 10**9)
        monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 0 if dense else 10**9)
        monkeypatch.setattr(listing, "WALK_SLACK", 0 if way == "stopped walk" else 2)
        pages[way] = [[row[0] for row in listing.page(db, spec, 0, first)],
                      [row[0] for row in listing.page(db, spec, max(0, total - last), first,
                                                      total)]]
    assert pages["matches"] == pages["walk"] == pages["stopped walk"]
    return pages["walk"]


@pytest.mark.parametrize("spec", [ListSpec(search="leak"), ListSpec(search="zebra"),
                                  ListSpec(search="leak", outcomes=frozenset({"busy"}),
                                           sort="who", descending=False)], ids=repr)
def test_a_search_read_through_its_matches_or_by_walking_gives_the_same_rows(
        db, spec, monkeypatch):
    want = expected(db, spec)
    first, last = pages_each_way(db, spec, monkeypatch, len(want))
    assert first == want[:50]
    assert last == want[-30:]


# A prefix (the last word typed) and names that are not ASCII ("王小明", "Zoë" found as
# "zoe"): call_match reads these by FTS5 itself, the ASCII ones by its own test.
@pytest.mark.parametrize("spec", [ListSpec(search="le"), ListSpec(search="zoe", sort="who"),
                                  ListSpec(search="refund an", sort="talk", descending=False),
                                  ListSpec(search="王小", done=False)], ids=repr)
def test_a_prefix_or_a_name_not_in_ascii_is_read_alike_each_way(db, spec, monkeypatch):
    want = listing.ids(db, spec)  # through the matches
    assert len(want) > 30  # more than the two pages, so that each is read on its own
    first, last = pages_each_way(db, spec, monkeypatch, len(want), 20, 10)
    assert first == want[:20]
    assert last == want[-10:]


# The words before the last, in few calls: a page not walked reads their calls in its
# order and tests the whole search on each until it is full (listing._by_head), never
# asking FTS5 for the last word's prefix, whose calls it merges from every word the
# prefix begins; past HEAD_TESTS calls tested, through the whole search's matches. On
# PostgreSQL the matches are read from those calls, each tested by its row.
@pytest.mark.parametrize("spec", [ListSpec(search="zebra le"),
                                  ListSpec(search="boiler in", sort="who"),
                                  ListSpec(search="dentist re", sort="duration",
                                           descending=False, has_recording=True),
                                  ListSpec(search="nobody le")], ids=repr)
def test_a_search_whose_first_words_are_in_few_calls_is_read_through_those(
        db, spec, monkeypatch):
    want = listing.ids(db, spec)  # the whole search through its matches, as planned
    # Not walked: a page of so few calls would be (their words are in most of them).
    monkeypatch.setattr(listing, "DENSE_SAMPLE_HITS", 10**9)
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 10**9)

    def pages() -> list[list[int]]:
        return [[row[0] for row in listing.page(db, spec, 0, 10_000)],
                [row[0] for row in listing.page(db, spec, 0, 7)],
                [row[0] for row in listing.page(db, spec, max(0, len(want) - 7), 7,
                                                len(want))]]

    statements: list[str] = []
    if hasattr(db, "set_trace_callback"):  # SQLite: the statements the pages ran
        db.set_trace_callback(statements.append)
    try:
        assert pages() == [want, want[:7], want[-7:]]
    finally:
        if hasattr(db, "set_trace_callback"):
            db.set_trace_callback(None)
    assert (len(want) > 7) == (spec.search != "nobody le")
    if hasattr(db, "set_trace_callback"):
        last = spec.search.split()[-1]
        assert not any(f'"{last}"*' in statement and "MATCH" in statement
                       and call_match.FUNCTION not in statement for statement in statements)
    monkeypatch.setattr(listing, "HEAD_BATCH", 1)
    monkeypatch.setattr(listing, "HEAD_TESTS", 3)  # given up after three calls tested
    assert pages() == [want, want[:7], want[-7:]]


@pytest.mark.parametrize("spec", [spec for spec in SPECS if spec.filtered and not spec.search
                                  and SORTS[spec.sort] != "started_at"], ids=repr)
def test_a_filter_tested_on_the_sorts_walk_or_read_from_its_index_gives_the_same_rows(
        db, spec, monkeypatch):
    """SQLite walks the sort's index for a page of a filtered list in another order than
    time's, and reads it as the planner has it when that walk stops at its bound (here
    after as many calls as rows asked, before the page is full)."""
    want = expected(db, spec)
    for reach in (50, 1):
        monkeypatch.setattr(listing, "WALK_REACH", reach)
        assert [row[0] for row in listing.page(db, spec, 0, 37)] == want[:37]
        assert [row[0] for row in listing.page(db, spec, len(want) - 20, 37, len(want))] \
            == want[-20:]


def test_a_search_whose_calls_do_not_begin_the_walk_is_read_by_sorting_them(db, monkeypatch):
    """Where the walk's sample finds none of the search's calls, its matches are read and
    sorted, not walked to (PostgreSQL: `apart`; SQLite: APART_MATCHES); the same page."""
    walk = expected(db, ListSpec(sort="score", descending=False))  # the calls walked
    # A word the first call walked does not hold: a sample of the calls before its first.
    spec = next(spec for spec in (ListSpec(search=word, sort="score", descending=False)
                                  for word in WORDS) if expected(db, spec)[0] != walk[0])
    want = expected(db, spec)
    first = walk.index(want[0])
    assert len(want) > 50
    monkeypatch.setattr(listing, "SAMPLE", first)
    monkeypatch.setattr(listing, "SAMPLE_POSTGRESQL", first)
    # SQLite: as many matches as would be walked to, and fewer than APART_MATCHES.
    monkeypatch.setattr(listing, "DENSE_MATCHES", 1)
    monkeypatch.setattr(listing, "WALK_SAMPLE", first)
    monkeypatch.setattr(listing, "APART_SAMPLE", first)
    assert [row[0] for row in listing.page(db, spec, 0, 20)] == want[:20]
    assert [row[0] for row in listing.page(db, spec, 30, 20)] == want[30:50]


def test_a_search_apart_from_the_walks_start_is_sorted_only_past_a_sample_holding_none(
        db, monkeypatch):
    """SQLite: a search's matches are read and sorted, not walked to, only when none of the
    first APART_SAMPLE calls of the walk hold one (the sample stops at the first that
    does). Of 200, none held "ann lee" newest first at a million calls, one call in 90 of
    that walk: sorted in 44 ms, where it is walked to in 10."""
    if not hasattr(db, "set_trace_callback"):
        pytest.skip("SQLite's plan")
    walk = expected(db, ListSpec(sort="score", descending=False))
    spec = next(spec for spec in (ListSpec(search=word, sort="score", descending=False)
                                  for word in WORDS) if expected(db, spec)[0] != walk[0])
    want = expected(db, spec)
    first = walk.index(want[0])  # the walk's calls before the search's first
    monkeypatch.setattr(listing, "DENSE_MATCHES", 1)
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 10**9)  # not walked by the page itself
    monkeypatch.setattr(listing, "WALK_SAMPLE", first)  # nor probing (none in its sample)
    for sample, walked in ((first + 1, True), (first, False)):
        monkeypatch.setattr(listing, "APART_SAMPLE", sample)
        ids, statements = traced_page(db, spec, 0, 20)
        assert ids == want[:20]
        assert walked == any("+id IN" in statement for statement in statements)


def test_a_search_none_of_whose_walk_sample_holds_is_sampled_further_then_probed(
        db, monkeypatch):
    """SQLite (listing.PROBE_SLACK): where none of the walk's WALK_SAMPLE calls hold a
    search's, its first APART_SAMPLE are tested: where one in WALK_SAMPLE of those match,
    the walk probes the search's matches, not counting them first ("invoice tues" by
    score ↑ at a million calls, none in 200, 6 in 1,000: 51 → 46 ms); with fewer, the page
    is read as planned, which does not take that sample again (with none: the matches
    sorted apart)."""
    if not hasattr(db, "set_trace_callback"):
        pytest.skip("SQLite's walk")
    walk = expected(db, ListSpec(sort="score", descending=False))
    spec, first = max(((spec, walk.index(expected(db, spec)[0])) for spec in (
        ListSpec(search=word, sort="score", descending=False) for word in WORDS)),
        key=lambda pair: pair[1])  # the word whose first call comes latest in the walk
    want = expected(db, spec)
    assert first >= 2 and len(want) > 20

    def hits(sample: int) -> int:
        return len(set(walk[:sample]) & set(want))

    enough = next(sample for sample in range(first + 1, len(walk))
                  if hits(sample) * first >= sample)
    monkeypatch.setattr(listing, "DENSE_MATCHES", 1)  # then sorted apart or walked to
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 10**9)  # not walked testing each call
    # The first sample holds none; the longer one enough, one, none.
    for first_sample, sample, probed in ((first, enough, True), (1, first + 1, False),
                                         (first - 1, first, False)):
        monkeypatch.setattr(listing, "WALK_SAMPLE", first_sample)
        monkeypatch.setattr(listing, "APART_SAMPLE", sample)
        ids, statements = traced_page(db, spec, 0, 20)
        assert ids == want[:20]
        counted = any(f"LIMIT {listing.APART_MATCHES}" in statement for statement in statements)
        assert probed != counted
        assert probed == any("+id IN" in statement and call_match.STEP in statement
                             for statement in statements)
        assert sum(f"LIMIT {sample} OFFSET 0" in statement for statement in statements) == 1


def test_a_search_whose_walk_begins_without_it_is_walked_when_its_sample_holds_it(
        db, monkeypatch):
    """SQLite: the walk's whole sample decides (listing._walk_sample). Its first eighth
    alone, holding none, held none of "priya cal" by duration ↓ at a million calls, where
    one call in 13 of the walk matched: read through its matches (FTS5 merging every word
    "cal" begins), 220 ms, against 7 walked."""
    if not hasattr(db, "set_trace_callback"):
        pytest.skip("SQLite's walk")
    monkeypatch.setattr(listing, "WALK_SAMPLE", 40)
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 3)
    # A word none of the walk's first 5 calls hold, one of its next 5 does, and 3 of 40.
    holding = {word: set(expected(db, ListSpec(search=word))) for word in WORDS}
    found = []
    for sort in SORTS:
        for descending in (True, False):
            walk = expected(db, ListSpec(sort=sort, descending=descending))
            for word in WORDS:
                hits = [call in holding[word] for call in walk[:40]]
                if not any(hits[:5]) and any(hits[5:10]) and sum(hits) >= 3:
                    found.append(ListSpec(search=word, sort=sort, descending=descending))
    assert found
    for spec in found[:4]:
        ids, statements = traced_page(db, spec, 0, 10)
        assert ids == expected(db, spec)[:10]
        assert not any(" MATCH " in statement for statement in statements)  # walked


def test_a_page_of_fewer_rows_is_walked_where_its_search_is_sparser(db, monkeypatch):
    """SQLite: the walk's sample asks for matches in proportion to the rows a page needs
    (listing.WALK_SAMPLE_HITS for SAMPLED_ROWS rows, fewer for fewer): a walk costs in
    proportion to them, reading the matches does not. A new spec's first 64 rows of
    "priya refund" newest first (3.5 % of the walk) took 31 ms read, 11 walked."""
    if not hasattr(db, "set_trace_callback"):
        pytest.skip("SQLite's walk")
    spec = ListSpec(search="leak", sort="duration")
    want = expected(db, spec)
    # "leak" is in about 40 % of the calls: walked for 10 rows, not for 200.
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", int(0.8 * listing.WALK_SAMPLE))
    for rows, walked in ((10, True), (listing.SAMPLED_ROWS, False)):
        ids, statements = traced_page(db, spec, 0, rows)
        assert ids == want[:rows]
        assert walked != any(" MATCH " in statement for statement in statements)


def test_a_search_too_sparse_to_test_on_the_walk_is_walked_probing_its_matches(
        db, monkeypatch):
    """SQLite (listing.PROBE_SLACK): where the walk's sample holds some of a search's calls
    but too few to test each call walked, the walk probes its matches, not counting them
    first (FTS5 reading them twice: "sam k" by score ↑ at a million calls, 59 → 37 ms);
    past its bound (here at once), the page is read as planned. The same rows either way,
    from either end."""
    if not hasattr(db, "set_trace_callback"):
        pytest.skip("SQLite's walk")
    spec = ListSpec(search="leak", sort="score", descending=False)
    want = expected(db, spec)
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 10**9)  # too few to test each call
    for slack, probed in ((2, True), (0, False)):
        monkeypatch.setattr(listing, "PROBE_SLACK", slack)
        first, statements = traced_page(db, spec, 0, 20)
        last, more = traced_page(db, spec, len(want) - 20, 20, len(want))
        assert (first, last) == (want[:20], want[-20:])
        statements += more
        counted = any(f"LIMIT {listing.APART_MATCHES}" in statement for statement in statements)
        assert probed != counted
        assert probed == any("+id IN" in statement and call_match.STEP in statement
                             for statement in statements)


@pytest.mark.parametrize(("spec", "ranged"), [
    (ListSpec(search="leak inv", sort="score", descending=False), True),
    (ListSpec(search="boiler ref", sort="duration", done=False), False),  # under a filter
    (ListSpec(search="leak boiler d", sort="talk", descending=False, include_deleted=True),
     True),
], ids=repr)
def test_a_probed_search_of_several_words_probes_its_first_words_within_the_walks_ids(
        db, spec, ranged, monkeypatch):
    """SQLite (listing.RANGE_SPAN): a search of several words that the walk probes probes
    the calls of its words but the last whose ids lie within those of the calls the walk
    may pass, each tested for the whole search ("invoice tues" by score ↑ at a million
    calls: 47 → 27 ms); not where those ids lie too far apart, nor under a filter, nor
    past RANGE_TESTS tests. The same rows either way, from either end."""
    if not hasattr(db, "set_trace_callback"):
        pytest.skip("SQLite's walk")
    found = {row[0] for row in db.execute("SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?",
                                          (listing.match_expression(spec.search),))}
    want = [call for call in expected(db, replace(spec, search="")) if call in found]
    assert len(want) > 10
    monkeypatch.setattr(listing, "HEAD_CALLS", 1)  # its first words in many calls
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 10**9)  # too few to test each call
    monkeypatch.setattr(listing, "PROBE_SLACK", 10)  # the probe fills the page
    for span, tests, in_range in ((10**6, 4096, ranged), (0, 4096, False),
                                  (10**6, 0, ranged)):
        monkeypatch.setattr(listing, "RANGE_SPAN", span)
        monkeypatch.setattr(listing, "RANGE_TESTS", tests)
        first, statements = traced_page(db, spec, 0, 10)
        last, more = traced_page(db, spec, len(want) - 10, 10, len(want))
        assert (first, last) == (want[:10], want[-10:])
        probes = [statement for statement in statements + more
                  if "+id IN" in statement and call_match.STEP in statement]
        assert probes
        assert all(("rowid BETWEEN (SELECT min(id)" in statement) == in_range
                   for statement in probes)
        # Past RANGE_TESTS, read as planned (the matches counted) after the probing walk.
        assert (tests == 0 and in_range) == any(f"LIMIT {listing.APART_MATCHES}" in statement
                                                for statement in statements)


MERGED = [
    ListSpec(outcomes=frozenset({"missed", "busy"})),
    ListSpec(outcomes=frozenset({"missed", "busy", "voicemail"}), sort="score"),
    ListSpec(directions=frozenset({"inbound", "outbound"}), include_deleted=True,
             descending=False),
]


@pytest.mark.parametrize("spec", MERGED, ids=repr)
def test_a_filter_of_several_values_is_one_statement_a_page_within_its_bound(
        db, spec, monkeypatch):
    """Each value's calls from the pair's index, merged by the database in one statement
    (listing._merged); past MERGED_KEYS, the page as planned: the same rows either way,
    from either end and deep."""
    want = expected(db, spec)
    values = len(listing._paired(spec, listing._filters(spec))[1])

    def pages() -> list[list[int]]:
        return [[row[0] for row in listing.page(db, spec, offset, 37, len(want))]
                for offset in (0, 101, len(want) - 37)]

    wanted = [want[:37], want[101:138], want[-37:]]
    statements: list[str] = []
    if hasattr(db, "set_trace_callback"):  # SQLite: the statements the pages ran
        db.set_trace_callback(statements.append)
    try:
        assert pages() == wanted
    finally:
        if hasattr(db, "set_trace_callback"):
            db.set_trace_callback(None)
    if hasattr(db, "set_trace_callback"):
        assert len(statements) == 3 and all("UNION ALL" in sql for sql in statements)
    monkeypatch.setattr(listing, "MERGED_KEYS", 37 * values - 1)  # each page past it
    assert pages() == wanted


def test_rows_carry_the_list_columns(db):
    row = listing.page(db, ListSpec(), 0, 1)[0]
    assert len(row) == len(ROW_COLUMNS)


def test_filtered_says_whether_anything_narrows_the_list():
    assert not ListSpec(sort="who", descending=False).filtered
    assert ListSpec(search="x").filtered
    assert ListSpec(done=False).filtered
    assert ListSpec(search="x", done=True).unfiltered() == ListSpec()


def test_an_unknown_sort_is_refused():
    with pytest.raises(ValueError, match="Unknown sort"):
        ListSpec(sort="colour")
