"""The background pass that measures the calls (issue 25) in the real window over the demo
data: it fills the statistics of every call with a recording, Cancel stops it and the next
pass does only the rest; the list sorts by talk share as stored; the detail shows the
stereo demo call's line as call_stats makes it from that call's lanes."""

from __future__ import annotations

import sqlite3

from windows import go_to, open_window

from callviewer.columns import AT
from callviewer.listing import ListSpec
from callviewer.store.records import StoredStats
from callviewer.timeline.recording import decode, peaks_file
from callviewer.timeline.silence import find_silences
from callviewer.timeline.stats import call_stats
from callviewer.ui.call_header import stats_line


def measured(path) -> dict[int, tuple]:
    conn = sqlite3.connect(path)
    try:
        return {row[0]: row[1:] for row in conn.execute(
            "SELECT call_id, origin, customer_share FROM call_stats "
            "WHERE computed_at IS NOT NULL")}
    finally:
        conn.close()


def test_the_pass_measures_the_calls_cancel_stops_it_and_the_next_does_the_rest(
        qtbot, db, tmp_path, monkeypatch):
    from callviewer.ui import timeline_pass

    monkeypatch.setattr(timeline_pass, "BATCH", 3)  # a few writes, so Cancel has some left
    window = open_window(qtbot, db, tmp_path)
    run = window.timeline_pass
    total = window.store.stats.unmeasured_count(archived_only=True)
    assert total > 10 and measured(db) == {}  # the first call shown has its recording
    qtbot.waitUntil(lambda: run.running, timeout=5000)  # started after attach
    qtbot.waitUntil(lambda: run._done >= 1, timeout=10_000)
    assert run.status.isVisible()
    assert run.status.label.text().startswith("Measuring calls · ")
    assert run.status.label.text().endswith(f" of {total}")
    with qtbot.waitSignal(run.finished, timeout=10_000) as first:
        run.status.cancel_button.click()
    assert not run.running and not run.status.isVisible()
    first_done = first.args[0]
    assert 1 <= first_done < total and len(measured(db)) == first_done

    # The next pass (View ▸ Measure calls now) does only the calls still without figures.
    with qtbot.waitSignal(run.finished, timeout=30_000) as second:
        next(a for a in window.findChildren(type(window.all_action))
             if a.text() == "M&easure calls now").trigger()
    assert second.args[0] == total - first_done
    found = measured(db)
    assert len(found) == total
    assert window.store.stats.unmeasured_count(archived_only=True) == 0
    conn = sqlite3.connect(db)
    with_recording = [row[0] for row in conn.execute(
        "SELECT id FROM calls WHERE recording_state = 'archived'")]
    with_both = [row[0] for row in conn.execute(
        "SELECT id FROM calls WHERE recording_state = 'archived' AND transcript LIKE '[{%'")]
    conn.close()
    assert len(with_both) >= 5
    assert set(with_recording) <= set(found)  # every one measured...
    for call_id in with_both:  # ...and each with a transcript has its figures
        assert found[call_id][0] in ("transcript", "channels", "estimated"), call_id
    assert {origin for origin, _ in found.values()} >= {"transcript", "estimated"}

    # The list sorts by the stored share, as a fresh query orders them.
    model = window.model
    conn = sqlite3.connect(db)
    fresh = [row[0] for row in conn.execute(
        "SELECT s.call_id FROM call_stats AS s JOIN calls AS c ON c.id = s.call_id "
        "WHERE c.deleted_at IS NULL ORDER BY s.customer_share IS NULL, "
        "s.customer_share DESC, c.started_at DESC, c.id DESC")]
    conn.close()
    with qtbot.waitSignal(model.modelReset, timeout=5000):  # the sort's first page read
        window.sort_by("talk", True)
    assert model.spec == ListSpec(sort="talk", descending=True)
    qtbot.waitUntil(lambda: [model.call_id(row) for row in range(model.rowCount())] == fresh,
                    timeout=5000)
    top = window.model.index(0, AT["talk"])
    assert window.model.data(top).endswith(" %")

    # A call without a recording, which the pass leaves out, is measured once shown.
    conn = sqlite3.connect(db)
    source, source_id = conn.execute(
        "SELECT source, source_id FROM calls WHERE recording_state != 'archived' "
        "AND transcript LIKE '[{%' AND deleted_at IS NULL ORDER BY id").fetchone()
    conn.close()
    unrecorded = go_to(qtbot, window, source_id, source=source)
    qtbot.waitUntil(lambda: unrecorded in measured(db), timeout=5000)
    qtbot.waitUntil(lambda: window.detail.fields["Talk"].text() != "", timeout=5000)


def test_the_detail_shows_the_stereo_calls_statistics(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    run = window.timeline_pass
    qtbot.waitUntil(lambda: window.store.stats.unmeasured_count(archived_only=True) == 0
                    and not run.running,
                    timeout=30_000)
    store = window.store
    call_id = store.calls.id_of("vapi", "vapi-call-5-stereo")
    window.show_in_list(call_id)
    call = store.calls.get(call_id)
    # What call_stats makes of the call's lanes, measured again here.
    source = store.archive.source(call_id)
    decoded = decode(lambda: source, peaks_file(store.archive.folder, call_id),
                     call.transcript, call.duration_ms)
    stats = call_stats(decoded.lanes, decoded.peaks.duration_ms, find_silences(decoded.peaks))
    want = stats_line(StoredStats("transcript", stats.talk_ms["agent"],
                                  stats.talk_ms["customer"], stats.silence_ms,
                                  stats.longest_monologue_ms, stats.longest_monologue_role,
                                  stats.interruptions), call.duration_ms)
    assert want.startswith("Agent ") and "interruption" in want
    field = window.detail.header.fields["Talk"]
    qtbot.waitUntil(lambda: window.detail.current_call_id == call_id
                    and field.text() == want, timeout=10_000)
    assert field.isVisible() and field.textFormat() == field.textFormat().PlainText
    window.resize(1280, 800)
    window.grab().save(str(tmp_path / "stats.png"))
