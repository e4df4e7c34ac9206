"""Bland AI calls: detection, the mapped values, life-cycle order and errors, through the
real importer into a real SQLite store (fixtures in tests/fixtures/bland/)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from callviewer.record import RecordError
from callviewer.store import Store
from callviewer.sync import agent_platform, bland, formats
from callviewer.sync.base import Origin
from callviewer.sync.importer import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bland"
NOWHERE = Origin(folder=None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DETAIL_ID = "7f3e2c1a-5b8d-4e91-a0c4-2d6f9b1e3a57"
INBOUND_ID = "5a7c3e90-8b1f-4d26-9c4e-0f2a6b8d1e35"
VOICEMAIL_ID = "b52d0e77-1c3a-4f60-9e2b-8a4c7d1f0e93"
NO_ANSWER_ID = "0c9a4e21-7d3b-4b8f-a6e1-5f2d9c8b7a10"
FAILED_ID = "e4f1a8b3-2c6d-4a97-b0e5-9d3c1f7a2b64"


def us(stamp: str) -> int:
    """Epoch microseconds of an ISO time, computed independently of record.parse_time."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def fixture(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def page_item(call_id: str) -> dict:
    return next(item for item in fixture("calls_page.json")["calls"] if item["call_id"] == call_id)


@pytest.fixture
def store(tmp_path):
    with Store(str(tmp_path / "calls.sqlite3")) as store:
        yield store


def imported(store: Store, *names: str) -> dict[str, dict]:
    """Import fixture files in order (each must import cleanly); the stored calls by id."""
    for name in names:
        report = import_paths(store, [FIXTURES / name])
        assert report.unreadable == [] and report.rejects == [], report.rejects
    return {record["source_id"]: record for record in store.calls.export(include_deleted=True)}


# --- detection ----------------------------------------------------------------


@pytest.mark.parametrize("value", [fixture("call_detail.json"), fixture("webhook_inbound.json"),
                                   fixture("queued.json"), *fixture("calls_page.json")["calls"]])
def test_every_bland_shape_is_read_as_bland_not_as_the_agent_platform(value):
    assert "call_id" in value and agent_platform.matches(value)  # it would claim it if asked
    detection = formats.detect(value)
    assert detection is not None and detection.module is bland
    assert "call_length" in detection.keys or "c_id" in detection.keys


def test_a_list_item_is_known_by_call_length_and_queue_status():
    assert bland.matches(page_item(VOICEMAIL_ID)) == ("call_length", "queue_status")


@pytest.mark.parametrize("value", [
    # A Retell call: call_id too, but none of Bland's own keys.
    {"call_id": "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6", "call_type": "phone_call",
     "agent_id": "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD", "call_status": "ended",
     "start_timestamp": 1703302407333, "end_timestamp": 1703302428855,
     "transcript_object": [], "recording_url": "https://retellai.example/a.wav",
     "from_number": "+12137771234", "to_number": "+12137771235", "direction": "inbound",
     "disconnection_reason": "user_hangup"},
    # A Twilio REST Call: answered_by, price, to, from and status are not Bland's alone.
    {"sid": "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "to": "+15558675310", "from": "+15017122661",
     "status": "completed", "answered_by": "human", "price": "-0.03000", "duration": "15",
     "direction": "outbound-api", "queue_time": "0"},
    # A Bland event-stream event (a non-call event).
    {"level": "call", "message": "Call started", "category": "info",
     "call_id": DETAIL_ID, "timestamp": "2026-03-04T15:20:07Z"},
])
def test_other_vendors_records_and_bland_events_are_not_bland_calls(value):
    assert bland.matches(value) == ()


# --- one whole call: Call Details ---------------------------------------------


def test_a_call_detail_maps_every_documented_field():
    record = bland.parse(fixture("call_detail.json"), NOWHERE)
    assert record["source"] == "bland" and record["source_id"] == DETAIL_ID
    assert record["direction"] == "outbound"
    assert (record["from_number"], record["to_number"]) == ("+14155550142", "+16505550199")
    assert record["customer_number"] == "+16505550199"  # outbound: the number called
    assert record["created_at"] == us("2026-03-04T15:20:01.482913+00:00")
    assert record["started_at"] == record["answered_at"] == us("2026-03-04T15:20:07+00:00")
    # corrected_duration is seconds (as text); call_length (minutes) is the fallback only.
    assert record["duration_ms"] == 94_000
    # end_at is the max_duration cut-off: the end is the connection plus the duration.
    assert record["ended_at"] == us("2026-03-04T15:21:41+00:00")
    assert record["outcome"] == "answered" and record["error"] is None
    assert (record["end_reason"], record["ended_by"]) == ("USER", "customer")
    assert record["summary"].startswith("Jordan from Northwind Dental")
    assert record["agent_id"] == "3c1d6b0e-9a52-4f7e-8d1b-2f6c0e4a9b71"
    assert record["has_recording"] is True
    assert record["recording"] == ("https://recordings.example-bland-cdn.com/calls/"
                                   f"{DETAIL_ID}.mp3")
    assert record["progress"] == 5


def test_transcript_lines_keep_their_speakers_in_order_and_times_from_the_start():
    transcript = bland.parse(fixture("call_detail.json"), NOWHERE)["transcript"]
    assert [entry["role"] for entry in transcript] == [
        "customer", "agent", "customer", "system", "agent", "customer", "agent", "customer"]
    assert [entry["start_ms"] for entry in transcript] == [
        1250, 2900, 7100, 13000, 14500, 19700, 21050, 93000]
    assert transcript[3]["text"] == "Checked the calendar: Thursday 10:00 and 14:30 are free."
    assert transcript[6]["text"] == "Your appointment is confirmed for Thursday at 2:30 PM."
    assert all(entry["end_ms"] is None for entry in transcript)


def test_the_analysis_answers_are_one_readable_run_at_the_end_of_the_call():
    record = bland.parse(fixture("call_detail.json"), NOWHERE)
    assert record["analysis"] == [{
        "analyzer": "Bland analysis",
        "text": "appointment_confirmed: true\nchosen_time: Thursday 2:30 PM",
        "created_at": us("2026-03-04T15:21:41+00:00"),
    }]


def test_unmapped_keys_are_kept_verbatim_and_the_copy_of_the_transcript_is_not():
    extras = bland.parse(fixture("call_detail.json"), NOWHERE)["extras"]
    assert extras["c_id"] == DETAIL_ID
    assert extras["disposition_tag"] == "APPOINTMENT_BOOKED"
    assert extras["end_at"] == "2026-03-04T15:50:07.000Z"
    assert extras["call_length"] == 1.5833333
    assert extras["analysis_schema"] == {"appointment_confirmed": "boolean",
                                         "chosen_time": "string"}
    assert extras["variables"]["city"] == "PALO ALTO"
    assert extras["metadata"] == {"crm_contact_id": "C-20931"}
    assert extras["price"] == 0.14
    assert (extras["answered_by"], extras["status"], extras["queue_status"]) == (
        "human", "completed", "complete")
    for mapped in ("call_id", "transcripts", "concatenated_transcript", "analysis", "summary",
                   "recording_url", "pathway_id", "corrected_duration", "from", "to"):
        assert mapped not in extras


# --- the post-call webhook: the call object itself ------------------------------


def test_an_inbound_webhook_call_with_only_a_concatenated_transcript():
    record = bland.parse(fixture("webhook_inbound.json"), NOWHERE)
    assert record["source_id"] == INBOUND_ID and record["direction"] == "inbound"
    assert record["customer_number"] == record["from_number"] == "+13125550177"
    assert record["to_number"] == "+18885550123"
    assert record["duration_ms"] == 38_000  # corrected_duration as a number
    assert record["ended_at"] == us("2026-03-05T09:15:34+00:00")
    assert record["outcome"] == "answered"  # answered_by null (inbound), but they talked
    assert (record["end_reason"], record["ended_by"]) == ("ASSISTANT", "agent")
    assert [(entry["role"], entry["text"]) for entry in record["transcript"]] == [
        ("customer", "Hi, I'd like to check my order status."),
        ("agent", "Sure, can I have your order number?"),
        ("customer", "It's 55812."),
        ("agent", "Thanks! Order 55812 shipped yesterday and arrives Friday."),
    ]
    assert all(entry["start_ms"] is None for entry in record["transcript"])
    assert "analysis" not in record  # null: no run
    assert record["recording"] is None and record["has_recording"] is False
    assert record["agent_id"] is None


def test_a_concatenated_transcript_without_speakers_is_kept_as_text():
    call = fixture("webhook_inbound.json") | {"concatenated_transcript": "(silence)"}
    record = bland.parse(call, NOWHERE)
    assert record["transcript_text"] == "(silence)" and "transcript" not in record


# --- outcomes and the life cycle --------------------------------------------------


@pytest.mark.parametrize(("call_id", "outcome", "duration_ms", "error"), [
    (DETAIL_ID, "answered", 95_000, None),  # 1.5833333 minutes
    (VOICEMAIL_ID, "voicemail", 27_000, None),
    (NO_ANSWER_ID, "missed", 0, None),
    (FAILED_ID, "failed", 0, "Invalid phone number: +1707555"),
])
def test_list_items_outcomes_and_minutes(call_id, outcome, duration_ms, error):
    record = bland.parse(page_item(call_id), NOWHERE)
    assert record["outcome"] == outcome
    assert record["duration_ms"] == duration_ms
    assert record["error"] == error
    assert "direction" not in record and "customer_number" not in record  # no `inbound`
    assert record["started_at"] == record["created_at"]  # no started_at in a list item
    assert "ended_at" not in record
    assert record["progress"] == 4  # over, a list item


def test_a_queued_call_is_in_progress_without_duration_or_end():
    record = bland.parse(fixture("queued.json"), NOWHERE)
    assert record["outcome"] == "in_progress" and record["progress"] == 1
    assert "duration_ms" not in record and "ended_at" not in record
    assert record["started_at"] == us("2026-03-04T15:20:01.482913+00:00")


@pytest.mark.parametrize(("changes", "outcome", "progress"), [
    ({"status": "in-progress", "queue_status": "started"}, "in_progress", 3),
    # completed is Bland's most current word: a "complete" queue_status is then stale.
    ({"status": None, "queue_status": "complete"}, "in_progress", 1),
    ({"status": "failed", "error_message": "Carrier rejected the call"}, "failed", 5),
    ({"status": "busy"}, "busy", 5),
])
def test_a_call_not_completed(changes, outcome, progress):
    call = fixture("queued.json") | {"completed": False} | changes
    record = bland.parse(call, NOWHERE)
    assert (record["outcome"], record["progress"]) == (outcome, progress)
    if outcome == "failed":
        assert record["error"] == "Carrier rejected the call"


def test_a_completed_call_nobody_spoke_on_with_unknown_answerer_is_unknown():
    call = fixture("call_detail.json") | {"answered_by": "unknown", "transcripts": [],
                                          "concatenated_transcript": ""}
    record = bland.parse(call, NOWHERE)
    assert record["outcome"] == "unknown" and record["transcript"] is None
    assert "answered_at" not in record


def test_an_error_message_on_a_call_that_went_well_is_kept_but_not_a_failure():
    call = fixture("call_detail.json") | {"error_message": "Webhook delivery retried"}
    record = bland.parse(call, NOWHERE)
    assert record["outcome"] == "answered" and "error" not in record
    assert record["extras"]["error_message"] == "Webhook delivery retried"


def test_without_corrected_duration_call_length_minutes_give_the_duration():
    call = fixture("call_detail.json") | {"call_length": 0.75}
    del call["corrected_duration"]
    record = bland.parse(call, NOWHERE)
    assert record["duration_ms"] == 45_000
    assert record["ended_at"] == us("2026-03-04T15:20:52+00:00")
    assert "call_length" not in record["extras"]


def test_without_started_at_a_finished_call_ends_at_end_at():
    call = fixture("call_detail.json") | {"started_at": None}
    record = bland.parse(call, NOWHERE)
    assert record["started_at"] == us("2026-03-04T15:20:01.482913+00:00")
    assert record["ended_at"] == us("2026-03-04T15:50:07Z")
    assert "end_at" not in record["extras"] and "answered_at" not in record
    # transcript times count from the call's start, here its creation
    assert record["transcript"][0]["start_ms"] == 6767


def test_a_line_before_the_start_or_without_a_time_has_no_start_and_unknown_speakers_are_system():
    call = fixture("call_detail.json")
    call["transcripts"] = [
        {"id": 1, "created_at": "2026-03-04T15:20:05+00:00", "text": "Ringing", "user": "robot"},
        {"id": 2, "created_at": None, "text": "Hi", "user": "assistant"},
        {"id": 3, "created_at": "2026-03-04T15:20:09+00:00", "text": "<b>hold</b>",
         "user": "sound-effect"},
    ]
    transcript = bland.parse(call, NOWHERE)["transcript"]
    assert [(e["role"], e["start_ms"]) for e in transcript] == [
        ("agent", None), ("agent", None), ("system", 2000)]
    assert transcript[2]["text"] == "<b>hold</b>"  # text stays text


def test_a_recording_beside_the_file_is_found(tmp_path):
    (tmp_path / "call.mp3").write_bytes(b"ID3")
    call = fixture("call_detail.json") | {"recording_url": "call.mp3"}
    record = bland.parse(call, Origin(folder=tmp_path))
    assert record["recording"] == str(tmp_path / "call.mp3") and record["has_recording"]


def test_c_id_names_the_call_when_call_id_is_missing():
    call = fixture("call_detail.json")
    del call["call_id"]
    record = bland.parse(call, NOWHERE)
    assert record["source_id"] == DETAIL_ID and "c_id" not in record["extras"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"call_id": None, "c_id": ""}, "call_id"),
    ({"call_id": ["x"]}, "call_id"),
    ({"corrected_duration": "ninety"}, "corrected_duration"),
    ({"corrected_duration": "-3"}, "corrected_duration"),
    ({"corrected_duration": None, "call_length": -1}, "call_length"),
    ({"inbound": "no"}, "inbound"),
    ({"started_at": "yesterday"}, "started_at"),
    ({"transcripts": [{"text": "hi", "user": "user"}, "hello"]}, "transcripts[1]"),
    ({"transcripts": [{"text": 5, "user": "user"}]}, "transcripts[0].text"),
    ({"transcripts": [{"text": "hi", "created_at": "soon"}]}, "transcripts[0].created_at"),
    ({"analysis": ["yes"]}, "analysis"),
    ({"recording_url": 7}, "recording_url"),
])
def test_bad_values_name_the_field(changes, field):
    call = copy.deepcopy(fixture("call_detail.json")) | changes
    with pytest.raises(RecordError) as error:
        bland.parse(call, NOWHERE)
    assert error.value.field == field


# --- through the importer into the store --------------------------------------------


def test_a_list_page_imports_every_call(store):
    calls = imported(store, "calls_page.json")
    assert sorted(calls) == sorted([DETAIL_ID, VOICEMAIL_ID, NO_ANSWER_ID, FAILED_ID])
    assert {call_id: record["outcome"] for call_id, record in calls.items()} == {
        DETAIL_ID: "answered", VOICEMAIL_ID: "voicemail", NO_ANSWER_ID: "missed",
        FAILED_ID: "failed"}
    assert calls[VOICEMAIL_ID]["duration_ms"] == 27_000
    assert calls[VOICEMAIL_ID]["extras"]["batch_id"] == "a1e4c9d2-6b7f-4c3e-9a05-batch-0304"
    assert calls[FAILED_ID]["error"] == "Invalid phone number: +1707555"
    assert all(record["source"] == "bland" for record in calls.values())


def test_a_detail_and_a_webhook_are_stored_whole(store):
    calls = imported(store, "call_detail.json", "webhook_inbound.json")
    detail, inbound = calls[DETAIL_ID], calls[INBOUND_ID]
    assert detail["started_at"] == "2026-03-04T15:20:07Z"
    assert detail["ended_at"] == "2026-03-04T15:21:41Z"
    assert detail["duration_ms"] == 94_000 and detail["outcome"] == "answered"
    assert detail["direction"] == "outbound" and detail["customer_number"] == "+16505550199"
    assert [entry["role"] for entry in detail["transcript"]] == [
        "customer", "agent", "customer", "system", "agent", "customer", "agent", "customer"]
    assert detail["transcript"][1]["start_ms"] == 2900
    assert detail["analysis"] == [{"analyzer": "Bland analysis",
                                   "text": "appointment_confirmed: true\n"
                                           "chosen_time: Thursday 2:30 PM",
                                   "created_at": "2026-03-04T15:21:41Z"}]
    assert detail["has_recording"] is True and detail["recording"].endswith(f"{DETAIL_ID}.mp3")
    assert detail["extras"]["disposition_tag"] == "APPOINTMENT_BOOKED"
    assert inbound["direction"] == "inbound" and inbound["customer_number"] == "+13125550177"
    assert inbound["ended_by"] == "agent" and inbound["has_recording"] is False
    assert [entry["role"] for entry in inbound["transcript"]] == [
        "customer", "agent", "customer", "agent"]


def test_importing_the_same_call_again_changes_nothing(store):
    imported(store, "call_detail.json")
    report = import_paths(store, [FIXTURES / "call_detail.json"])
    assert (report.counts.new, report.counts.updated, report.counts.unchanged) == (0, 0, 1)
    [record] = [r for r in store.calls.export() if r["source_id"] == DETAIL_ID]
    assert len(record["analysis"]) == 1


def test_a_later_list_page_never_undoes_the_detail(store):
    calls = imported(store, "call_detail.json", "calls_page.json")
    detail = calls[DETAIL_ID]
    assert detail["started_at"] == "2026-03-04T15:20:07Z"  # not the list's created_at
    assert detail["duration_ms"] == 94_000  # not the list's rounder minutes
    assert detail["direction"] == "outbound" and len(detail["transcript"]) == 8


def test_a_queued_version_never_undoes_the_finished_call_and_is_replaced_by_it(store):
    calls = imported(store, "call_detail.json", "queued.json")
    assert calls[DETAIL_ID]["outcome"] == "answered"
    assert calls[DETAIL_ID]["duration_ms"] == 94_000


def test_the_finished_call_replaces_its_queued_version(store):
    queued = imported(store, "queued.json")[DETAIL_ID]
    assert queued["outcome"] == "in_progress" and queued["duration_ms"] is None
    done = imported(store, "call_detail.json")[DETAIL_ID]
    assert done["outcome"] == "answered" and done["duration_ms"] == 94_000
    assert done["ended_at"] == "2026-03-04T15:21:41Z" and len(done["transcript"]) == 8


def test_a_bad_call_in_a_page_is_rejected_with_its_field_and_the_rest_imported(store, tmp_path):
    page = fixture("calls_page.json")
    page["calls"][1]["call_length"] = "long"
    path = tmp_path / "page.json"
    path.write_bytes(orjson.dumps(page))
    report = import_paths(store, [path])
    assert report.counts.new == 3 and report.rejected == 1
    [reject] = report.rejects
    assert reject.field == "call_length" and str(reject).startswith(str(path))
