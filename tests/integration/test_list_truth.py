"""The list tells the truth after every change: random sequences of writes (done flags,
notes, new calls), sorts, filters and searches go through the real list model on both
engines, and after each step its rows, row by row, and its count are those of the same
query run fresh on a connection of its own."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import wavekat, write_ndjson

from callviewer import listing
from callviewer.listing import ListSpec
from callviewer.store import Store
from callviewer.sync.importer import import_paths
from callviewer.ui.call_model import CallListModel
from callviewer.ui.list_reads import PAGE

CALLS = PAGE * 2 + 57  # three pages, the last one short
WORDS = ("kettle", "invoice", "zebra")


def seeded(store: Store, folder, first: int, count: int) -> None:
    rng = random.Random(first)
    lines = []
    for n in range(first, first + count):
        hour, minute = divmod(n * 7 % 1440, 60)
        answered = rng.random() < 0.7
        lines.append(wavekat(
            f"call-{n}", direction=rng.choice(("inbound", "outbound")),
            party=f"+1555{rng.randrange(10**7):07d}",
            ringAt=f"2026-11-{1 + n % 28:02d}T{hour:02d}:{minute:02d}:00Z",
            **({"durationMs": rng.randrange(1, 900) * 1000} if answered
               else {"answerAt": None, "durationMs": None, "disposition": "missed"})))
    path = write_ndjson(folder / f"calls-{first}.ndjson", lines)
    assert import_paths(store, [path]).rejected == 0


SPECS = st.builds(
    ListSpec,
    sort=st.sampled_from(["started", "duration", "done", "notes", "direction", "outcome"]),
    descending=st.booleans(),
    done=st.sampled_from([None, False, True]),
    outcomes=st.sampled_from([frozenset(), frozenset({"missed"})]),
    search=st.sampled_from(["", *WORDS]))
STEPS = st.lists(st.one_of(
    st.tuples(st.just("spec"), SPECS),
    st.tuples(st.just("done"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("note"), st.integers(0, 10**6), st.sampled_from(WORDS)),
    st.tuples(st.just("unnote"), st.integers(0, 10**6)),
    st.tuples(st.just("calls"), st.integers(1, 30)),
), min_size=1, max_size=7)


def settle(qtbot, tasks, model: CallListModel) -> None:
    """Wait for the model to show its spec whole: reset, counted, every page read."""
    counted = []
    qtbot.waitUntil(lambda: not model.stale, timeout=20_000)
    model.when_counted(counted.append)
    qtbot.waitUntil(lambda: bool(counted), timeout=20_000)
    for first in range(0, model.rowCount(), PAGE):
        # Its last row asks for the page, as a paint would (the first page holds only the
        # spec's first rows until a row past them is shown).
        last = min(first + PAGE, model.rowCount()) - 1
        model.data(model.index(last, 0))
        qtbot.waitUntil(lambda last=last: model.call_id(last) is not None
                        or model.stale, timeout=20_000)


def shown(model: CallListModel) -> list[int | None]:
    return [model.call_id(row) for row in range(model.rowCount())]


def fresh(database, spec: ListSpec) -> list[int]:
    conn = listing.connect(database)
    try:
        return listing.ids(conn, spec)
    finally:
        conn.close()


def test_the_list_equals_a_fresh_query_after_every_change(qtbot, tasks, store_url, tmp_path):
    with Store(store_url) as store:
        seeded(store, tmp_path, 0, CALLS)
    database = store_url if store_url.startswith("postgresql") else Path(store_url)
    added = [CALLS]

    @settings(max_examples=8, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=STEPS)
    def walk(steps) -> None:
        model = CallListModel(database, tasks)
        model.set_spec(ListSpec())  # as the window does first
        store = Store(store_url)
        try:
            settle(qtbot, tasks, model)
            for step in steps:
                ids = fresh(database, ListSpec(include_deleted=True))
                kind = step[0]
                if kind == "spec":
                    model.set_spec(step[1])
                elif kind == "calls":
                    seeded(store, tmp_path, added[0], step[1])
                    added[0] += step[1]
                    model.refresh()
                else:  # a write on one of the calls, then the list read again
                    call_id = ids[step[1] % len(ids)]
                    if kind == "done":
                        store.calls.set_done(call_id, step[2], "tester")
                    elif kind == "note":
                        store.notes.add(call_id, "tester", f"About the {step[2]}.")
                    else:
                        for note in store.notes.of(call_id)[:1]:
                            store.notes.delete(note.id, "tester")
                    model.refresh()
                settle(qtbot, tasks, model)
                expected = fresh(database, model.spec)
                assert model.total == len(expected), (step, model.spec)
                assert shown(model) == expected, (step, model.spec)
        finally:
            model.close()
            store.close()

    walk()
