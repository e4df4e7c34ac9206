"""Numbers found as people write them (issue 24), on SQLite and PostgreSQL: a run of four
digits or more anywhere in a call's numbers, whatever the spacing, dashes, dots,
brackets, leading + or 00, or a national form's 0; the index kept in step with writes
and purges, and filled for the calls of an older database by migration 0012."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from migrated import migrated

from callviewer import cli, listing
from callviewer.listing import ListSpec
from callviewer.record import message
from callviewer.store import Store
from callviewer.textsearch import NUMBERS_TABLE, number_digits, number_runs

NUMBER = "+14155550101"
TYPED = ("5550101", "0101", "555-0101", "(415) 555-0101", "415 555 0101", "0415 555 0101",
         "+1 415.555.0101", "00 1 415 555 0101", "4155550101")


ORDER = ("ann", "bob", "cy")  # oldest first


def call(source_id: str, **fields) -> dict:
    return {"source": "agent-platform", "source_id": source_id,
            "started_at": 1_700_000_000_000_000 + ORDER.index(source_id), **fields}


CALLS = [
    call("ann", customer_name="Ann Lee", customer_number=NUMBER, from_number=NUMBER,
         to_number="+442071838750", summary="Boiler leak, refund asked",
         transcript=[message("customer", "my order is 48213")]),
    call("bob", customer_name="Bob Stone", customer_number="+14155559999",
         from_number="+14155559999", to_number="+442071838750", summary="Invoice"),
    call("cy", customer_name="Cy", customer_number="sip:7001@pbx.example.com",
         summary="Internal transfer 555"),
]


def found(store: Store, text: str) -> list[str]:
    """The calls the window's list shows for a search, by source id (listing's SQL, both
    as a page is read and as all of them are)."""
    conn = listing.connect(store.path or store.url)
    try:
        spec = ListSpec(search=text)
        paged = [row[0] for row in listing.page(conn, spec, 0, 100)]
        assert paged == listing.ids(conn, spec)
        assert listing.count(conn, spec) == len(paged)
        names = dict(conn.execute("SELECT id, source_id FROM calls").fetchall())
    finally:
        conn.close()
    return sorted(names[i] for i in paged)


@pytest.fixture
def store(store_url):
    with Store(store_url) as store:
        store.calls.write_records(CALLS)
        yield store


def test_a_number_is_found_however_it_is_written(store):
    for typed in TYPED:
        assert found(store, typed) == ["ann"], typed
    # Three digits are too few to look for inside numbers: a word, found as a word only.
    assert found(store, "555") == ["cy"]
    assert found(store, "010") == []
    assert found(store, "9999") == ["bob"]
    assert found(store, "2071 838") == ["ann", "bob"]  # the other end of the calls
    assert found(store, "020 7183 8750") == ["ann", "bob"]  # UK national form
    assert found(store, "7001") == ["cy"]  # the number inside a SIP address


def test_words_and_numbers_are_both_required(store):
    assert found(store, "refund 0101") == ["ann"]
    assert found(store, "555-0101 boiler") == ["ann"]
    assert found(store, "invoice 0101") == []
    assert found(store, "(415) 555") == ["ann", "bob"]
    assert found(store, "Lee (415) 555") == ["ann"]
    # A run of digits is still a word elsewhere in the call: an order number said.
    assert found(store, "48213") == ["ann"]
    assert found(store, "4821") == []  # a whole word: a prefix is for inside numbers


def test_a_purge_takes_the_numbers_out_of_the_index(store):
    store.calls.write_records([call("ann", is_purged=True, updated_at=5)])
    assert found(store, "555-0101") == []
    assert found(store, "Ann") == ["ann"]
    with store.reading() as conn:
        held = conn.exec_driver_sql(f"SELECT digits FROM {NUMBERS_TABLE}").scalars().all()
    assert not any("4155550101" in digits for digits in held)


def test_a_changed_number_moves_in_the_index(store):
    store.calls.write_records([call("bob", customer_number="+12125550123",
                                    from_number="+12125550123", updated_at=5)])
    assert found(store, "5559999") == []
    assert found(store, "(212) 555-0123") == ["bob"]


def test_the_list_reads_a_dense_number_by_walking_and_a_rare_one_by_its_matches(
        store, monkeypatch):
    # Both plans give the same calls: forced each way by the thresholds.
    for threshold in (1, 10**9):
        monkeypatch.setattr(listing, "DENSE_MATCHES", threshold)
        monkeypatch.setattr(listing, "DENSE_SAMPLE_HITS", threshold)
        assert found(store, "0101") == ["ann"]
        assert found(store, "2071838750") == ["ann", "bob"]
        assert found(store, "boiler 555 0101") == ["ann"]
        assert found(store, "48213") == ["ann"]


def test_number_runs_are_cut_from_what_was_typed():
    assert number_runs("Ann (415) 555-0101 refund") == (
        "Ann   refund", number_runs("(415) 555-0101")[1])
    assert [run.digits for run in number_runs("0415 555 0101, 00441234 567")[1]] == [
        "4155550101", "441234567"]
    assert number_runs("555 ab1234 1234th") == ("555 ab1234 1234th", [])
    assert [run.digits for run in number_runs("0101")[1]] == ["0101"]  # not "101"
    assert number_digits(["+1 415 555-0101", "+14155550101", None, "anonymous"]) \
        == "14155550101"


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from("0123456789 +-.()/\"*:{}ab"), max_size=24))
def test_any_typed_number_is_a_valid_search(store, typed):
    assert set(found(store, typed)) <= {"ann", "bob", "cy"}


# --- the migration ----------------------------------------------------------------------




def test_upgrading_to_0012_indexes_the_numbers_of_the_calls_already_there(store_url):
    with migrated(store_url, "0011") as conn:
        for n in range(5):
            conn.exec_driver_sql(
                "INSERT INTO calls (source, source_id, customer_number, from_number, "
                f"imported_at) VALUES ('vapi', 'v{n}', '+1 415 555-010{n}', "
                f"'+1415555010{n}', 0)")
        conn.exec_driver_sql("INSERT INTO calls (source, source_id, imported_at) "
                             "VALUES ('vapi', 'none', 0)")
    with Store(store_url) as store:  # opening it migrates it
        assert found(store, "(415) 555-0103") == ["v3"]
        assert found(store, "5550100") == ["v0"]
        assert len(found(store, "415 555")) == 5
        with store.reading() as conn:
            rows = conn.exec_driver_sql(f"SELECT count(*) FROM {NUMBERS_TABLE}").scalar()
        assert rows == 5  # the call without a number has no row


# --- export --search / --review-queue ---------------------------------------------------


def exported(db: str, *options: str, capsys) -> list[str]:
    assert cli.main(["export", "--db", db, "--format", "ndjson", *options]) == 0
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line)["source_id"] for line in lines]


@pytest.mark.parametrize("typed", ["(415) 555-0101", "0101 refund", "2071838750", "Stone",
                                   "555"])
def test_export_search_exports_what_the_list_shows(store, store_url, typed, capsys):
    db = store_url
    conn = listing.connect(store.path or store.url)
    try:
        names = dict(conn.execute("SELECT id, source_id FROM calls").fetchall())
        shown = [names[i] for i in listing.ids(conn, ListSpec(search=typed))]
    finally:
        conn.close()
    assert exported(db, "--search", typed, capsys=capsys) == shown


def test_export_review_queue_exports_the_calls_not_done(store, store_url, capsys):
    bob = store.calls.id_of("agent-platform", "bob")
    store.calls.set_done(bob, True, "maria")
    assert exported(store_url, "--review-queue", capsys=capsys) == ["cy", "ann"]
    assert exported(store_url, "--review-queue", "--search", "415 555", capsys=capsys) == [
        "ann"]
    assert exported(store_url, capsys=capsys) == ["cy", "bob", "ann"]


def test_export_search_with_no_match_exports_nothing(store, store_url, tmp_path: Path,
                                                      capsys):
    target = tmp_path / "none.ndjson"
    assert cli.main(["export", "--db", store_url, "--format", "ndjson", "--search", "9876",
                     "-o", str(target)]) == 0
    assert target.read_text() == ""
