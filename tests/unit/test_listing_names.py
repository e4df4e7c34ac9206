"""A search sorted by Who, read by the names that match (listing._by_names, migration
0017): the same rows as through its matches, from either end, on SQLite and PostgreSQL;
read through the matches past its bounds; and the names index, kept by every write of a
call and made by the migration for the calls already there."""

from __future__ import annotations

import random

import pytest
from alembic import command
from list_database import list_connection
from migrated import migrated
from pg_server import ENGINES

from callviewer import listing
from callviewer.listing import ListSpec
from callviewer.record import message
from callviewer.store import Store

NAMES = ("Ann Lee", "Ann Leeds", "Omar Haddad", "Priya Natarajan", "Priya Patel",
         "Zoë Brandt", "王小明", None)
# What a transcript may say: a name among them (the call matches by another column).
SAID = ("", "", "Omar asked", "Priya called back", "ask Patel", "Leeds office")
WORDS = ("boiler", "leak", "invoice", "refund")


def make_calls(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    return [{
        "source": "wavekat", "source_id": f"c{i}",
        "customer_name": rng.choice(NAMES),
        "started_at": None if i % 19 == 0 else 1_700_000_000_000_000 + rng.randint(0, 10**6),
        "outcome": rng.choice(("answered", "missed", "busy")),
        "has_recording": rng.random() < 0.5,
        "deleted_at": 1 if rng.random() < 0.1 else None,
        "summary": rng.choice(WORDS),
        "transcript": [message("customer", f"{rng.choice(SAID)} about the {rng.choice(WORDS)}")],
    } for i in range(count)]


@pytest.fixture(scope="module", params=ENGINES)
def db(request, tmp_path_factory):
    """The list's read connection to 500 calls, on each engine."""
    with list_connection(request, tmp_path_factory,
                         lambda store: store.calls.write_records(make_calls(500))) as conn:
        yield conn


def by_names(db, spec: ListSpec, skip: int, limit: int, reverse: bool = False) -> list[int]:
    rows = listing._by_names(db, spec, skip, limit, reverse, "id")
    assert rows is not None  # within its bounds
    return [row[0] for row in rows]


SPECS = [
    ListSpec(search="priya", sort="who", descending=False),
    ListSpec(search="priya", sort="who"),
    ListSpec(search="patel", sort="who", descending=False, has_recording=True),
    ListSpec(search="ann lee", sort="who", descending=False),  # "lee…": Lee and Leeds
    ListSpec(search="omar boiler", sort="who"),  # the name in one column, the word in another
    ListSpec(search="leeds", sort="who", include_deleted=True,
             outcomes=frozenset({"missed", "busy"})),
    ListSpec(search="zoe", sort="who", descending=False),
    ListSpec(search="王小", sort="who"),
]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_a_page_read_by_the_names_that_match_is_the_page_of_its_matches(db, spec):
    want = listing.ids(db, spec)  # through the matches, as the planner has it
    assert len(want) >= 40
    for skip in (0, 13, len(want) - 20):
        assert by_names(db, spec, skip, 20) == want[skip:skip + 20]
    assert by_names(db, spec, 0, 20, reverse=True) == want[::-1][:20]
    assert by_names(db, spec, 0, 10_000) == want


def planned_by_matches(monkeypatch) -> None:
    """Have every search read through its matches (not walked): the way to _by_names."""
    monkeypatch.setattr(listing, "DENSE_MATCHES", 10**9)
    monkeypatch.setattr(listing, "DENSE_SAMPLE_HITS", 10**9)
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 10**9)
    monkeypatch.setattr(listing, "HEAD_CALLS", 0)  # a name's words: never few (a million)


@pytest.mark.parametrize("spec", SPECS[:5], ids=repr)
def test_the_list_reads_a_search_by_who_by_its_names_from_either_end(db, spec, monkeypatch):
    want = listing.ids(db, spec)
    planned_by_matches(monkeypatch)
    statements: list[str] = []
    if hasattr(db, "set_trace_callback"):  # SQLite: the statements the page ran
        db.set_trace_callback(statements.append)
    try:
        first = [row[0] for row in listing.page(db, spec, 0, 20)]
        last = [row[0] for row in listing.page(db, spec, len(want) - 20, 20, len(want))]
    finally:
        if hasattr(db, "set_trace_callback"):
            db.set_trace_callback(None)
    assert first == want[:20]
    assert last == want[-20:]
    if hasattr(db, "set_trace_callback"):
        assert any("FROM call_names" in statement for statement in statements)


def test_by_who_a_name_in_few_calls_is_read_by_the_names_not_by_its_calls(db, monkeypatch):
    """A search's first words in few calls are read by those calls (listing._by_head), but
    by Who the names that match come first when a name holds one of them: "kenji smith
    refund" at a million calls, 7 ms by the names, 28 by Kenji Smith's 11,000 calls."""
    spec = ListSpec(search="omar boiler", sort="who")  # Omar: in no more than 500 calls
    want = listing.ids(db, spec)
    monkeypatch.setattr(listing, "DENSE_SAMPLE_HITS", 10**9)  # not walked
    monkeypatch.setattr(listing, "WALK_SAMPLE_HITS", 10**9)
    statements: list[str] = []
    if hasattr(db, "set_trace_callback"):  # SQLite: the statements the page ran
        db.set_trace_callback(statements.append)
    try:
        assert [row[0] for row in listing.page(db, spec, 0, 20)] == want[:20]
    finally:
        if hasattr(db, "set_trace_callback"):
            db.set_trace_callback(None)
    if hasattr(db, "set_trace_callback"):
        assert any("FROM call_names" in statement for statement in statements)


def test_past_its_bounds_a_page_is_read_through_the_matches(db, monkeypatch):
    spec = ListSpec(search="priya", sort="who", descending=False)
    want = listing.ids(db, spec)
    planned_by_matches(monkeypatch)
    # Transcripts say "Priya": more calls matching elsewhere than NAME_OTHERS.
    monkeypatch.setattr(listing, "NAME_OTHERS", 1)
    assert listing._by_names(db, spec, 0, 20, False, "id") is None
    assert [row[0] for row in listing.page(db, spec, 0, 20)] == want[:20]
    # Two names match; a page reaching into the second reads two names' calls.
    monkeypatch.setattr(listing, "NAME_OTHERS", 5000)
    monkeypatch.setattr(listing, "NAME_GROUPS", 1)
    assert listing._by_names(db, spec, 0, 5, False, "id") is not None
    assert listing._by_names(db, spec, len(want) - 5, 5, False, "id") is None
    assert [row[0] for row in listing.page(db, spec, len(want) - 5, 5)] == want[-5:]


# No name holds every word, and the words but the last are in no call's other columns:
# every call that matches has them in its name, and is read from those names' calls, each
# tested for the whole search (listing._by_some_names).
SOME = [
    ListSpec(search="haddad refund", sort="who", descending=False),
    ListSpec(search="ann boil", sort="who"),
    ListSpec(search="natarajan le", sort="who", descending=False, has_recording=True),
    ListSpec(search="zoe brandt leak", sort="who", include_deleted=True),
]


@pytest.mark.parametrize("spec", SOME, ids=repr)
def test_a_search_whose_names_hold_some_of_its_words_is_read_by_those(db, spec,
                                                                       monkeypatch):
    want = listing.ids(db, spec)
    assert len(want) > 10
    planned_by_matches(monkeypatch)
    for skip, limit in ((0, 7), (0, len(want)), (len(want) - 7, 7)):
        some = listing._by_some_names(db, spec, skip, limit, False, "id")
        assert some is not None  # within its bounds
        assert [row[0] for row in some] == want[skip:skip + limit]
        assert [row[0] for row in listing.page(db, spec, skip, limit, len(want))] \
            == want[skip:skip + limit]
    # Past its bounds (a name's calls tested, two at most), as _by_names reads it.
    monkeypatch.setattr(listing, "NAME_TESTS", 2)
    monkeypatch.setattr(listing, "HEAD_BATCH", 1)
    assert listing._by_some_names(db, spec, 0, 7, False, "id") is None
    assert [row[0] for row in listing.page(db, spec, 0, 7)] == want[:7]


def test_a_word_said_elsewhere_leaves_it_to_the_names_that_hold_every_word(db):
    """"Priya called back": a call whose name is not Priya's may match "priya refund"."""
    spec = ListSpec(search="priya refund", sort="who")
    assert listing._by_some_names(db, spec, 0, 7, False, "id") is None
    assert [row[0] for row in listing.page(db, spec, 0, 7)] == listing.ids(db, spec)[:7]


def test_a_name_holding_every_word_is_read_after_the_names_holding_some(db, monkeypatch):
    """"sam k" at a million calls: Sam Khan holds both words, and "k" begins "kitchen",
    in a third of the calls, so many calls match through another column, and reading
    them merges the calls of every word "k" begins (40-86 ms). The names holding the words
    but the last are read first, their calls tested (NAME_TESTS_FIRST at most); past
    that, as before; and past NAME_OTHERS, by those names again (NAME_TESTS)."""
    # Ann Leeds, and Ann Lee when the transcript says "Leeds office".
    spec = ListSpec(search="ann leeds", sort="who", descending=False)
    want = listing.ids(db, spec)
    assert len(want) > 20
    monkeypatch.setattr(listing, "NAME_OTHERS", 0)  # the calls matching elsewhere: too many
    assert by_names(db, spec, 0, 20) == want[:20]
    assert by_names(db, spec, len(want) - 20, 20) == want[-20:]
    monkeypatch.setattr(listing, "NAME_TESTS_FIRST", 1)
    assert by_names(db, spec, 0, 20) == want[:20]
    monkeypatch.setattr(listing, "NAME_TESTS", 1)
    assert listing._by_names(db, spec, 0, 20, False, "id") is None
    assert [row[0] for row in listing.page(db, spec, 0, 20)] == want[:20]


def names_held(store: Store) -> list[str]:
    with store.reading() as conn:
        return conn.exec_driver_sql("SELECT name FROM call_names ORDER BY name").scalars().all()


def test_each_name_written_is_held_once_and_a_renamed_call_is_found_by_its_new_name(
        store_url):
    def call(source_id: str, name: str | None, updated: int = 1) -> dict:
        return {"source": "vapi", "source_id": source_id, "customer_name": name,
                "updated_at": updated}

    with Store(store_url) as store:
        store.calls.write_records([call("a", "Priya Shah"), call("b", "Priya Shah"),
                                   call("c", None)])
        store.calls.write_records([call("d", "Omar Haddad"), call("e", "Priya Shah")])
        store.calls.write_records([call("b", "Priya Natarajan", updated=2)])
        assert names_held(store) == ["Omar Haddad", "Priya Natarajan", "Priya Shah"]
        where = store.path or store.url
    conn = listing.connect(where)
    try:
        source_ids = dict(conn.execute("SELECT id, source_id FROM calls").fetchall())

        def found(search: str) -> list[str]:
            spec = ListSpec(search=search, sort="who", descending=False)
            return [source_ids[row[0]] for row in listing._by_names(conn, spec, 0, 10, False,
                                                                     "id")]

        assert found("natarajan") == ["b"]
        assert found("shah") == ["a", "e"]
        assert found("priya") == ["b", "a", "e"]
    finally:
        conn.close()


def test_0017_indexes_the_names_already_there_and_takes_them_back(store_url):
    with Store(store_url) as store:
        store.calls.write_records([{"source": "vapi", "source_id": f"v{n}",
                                    "customer_name": name} for n, name in
                                   enumerate(("José Müller", "Ann Lee", "Ann Lee", None))])

    def tables(conn) -> set[str]:
        if conn.dialect.name == "postgresql":
            query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return set(conn.exec_driver_sql(query).scalars())

    with migrated(store_url, "0016", command.downgrade) as conn:
        assert "call_names" not in tables(conn)
    with migrated(store_url, "0017") as conn:
        assert "call_names" in tables(conn)
    with Store(store_url) as store:
        assert names_held(store) == ["Ann Lee", "José Müller"]
        where = store.path or store.url
    conn = listing.connect(where)
    try:
        spec = ListSpec(search="muller", sort="who")  # its words, as the calls' index has them
        assert len(listing._by_names(conn, spec, 0, 10, False, "id")) == 1
    finally:
        conn.close()
