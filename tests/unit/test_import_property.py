"""Property: any JSON, and any mutation of a real record, is imported or rejected with a reason."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callviewer.paths import demo_dir
from callviewer.store import Store
from callviewer.sync.containers import find_files, read_items
from callviewer.sync.envelopes import open_value
from callviewer.sync.importer import import_paths

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=6),
    max_leaves=30,
)

# The demo's records as the importer reads them: envelopes (webhooks, pages) opened.
REAL_RECORDS = [opened[1] for path in find_files([demo_dir()]) for item in read_items(path)
                for opened in open_value(item.locator, item.value) if isinstance(opened, tuple)]
# Keys that steer format detection and parsing, to mutate often.
INTERESTING_KEYS = sorted({key for record in REAL_RECORDS for key in record})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with Store(str(tmp_path_factory.mktemp("property") / "calls.sqlite3")) as store:
        yield store


def import_values(store, folder, values) -> None:
    path = folder / "batch.json"
    path.write_bytes(orjson.dumps(values))
    report = import_paths(store, [path])
    counts = report.counts
    assert report.unreadable == []
    # Every record a value holds (an envelope may hold several, an event none) is counted
    # once: written, unchanged, waiting for its call, rejected or skipped.
    opened = sum(len(list(open_value(f"item {n}", value))) for n, value in enumerate(values))
    assert counts.new + counts.updated + counts.unchanged + counts.waiting + report.rejected \
        + report.skipped == opened
    for reject in report.rejects:
        assert reject.reason and str(reject).startswith(str(path))
    with store.reading() as conn:
        calls = conn.exec_driver_sql("SELECT count(*) FROM calls").scalar()
        indexed = conn.exec_driver_sql("SELECT count(*) FROM calls_fts").scalar()
    assert calls == indexed  # the index is in step: nothing half-written


def mutate(record: dict, data) -> dict:
    mutated = dict(record)
    for _ in range(data.draw(st.integers(1, 4))):
        key = data.draw(st.sampled_from(INTERESTING_KEYS + list(mutated)))
        if data.draw(st.booleans()):
            mutated.pop(key, None)
        else:
            mutated[key] = data.draw(json_values)
    return mutated


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.data_too_large])
@given(values=st.lists(json_values, min_size=1, max_size=8))
def test_arbitrary_json_is_imported_or_rejected(store, tmp_path_factory, values):
    import_values(store, tmp_path_factory.mktemp("arbitrary"), values)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_real_records_are_imported_or_rejected(store, tmp_path_factory, data):
    originals = data.draw(st.lists(st.sampled_from(REAL_RECORDS), min_size=1, max_size=4))
    import_values(store, tmp_path_factory.mktemp("mutated"),
                  [mutate(record, data) for record in originals])


def test_there_are_real_records_of_every_format_to_mutate():
    from callviewer.sync.formats import detect

    assert {detect(record).module.NAME for record in REAL_RECORDS} == {
        "wavekat", "voipbin", "vapi", "twilio", "agent-platform", "twilio-api", "retell",
        "elevenlabs", "bland"}
