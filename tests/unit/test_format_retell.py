"""Retell AI call objects: detection, mapping, outcomes, transcripts, and the real importer."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import records
from records import exported
from sqlalchemy import select

from callviewer.record import RecordError
from callviewer.store import Store
from callviewer.store.schema import calls
from callviewer.sync import agent_platform, formats, retell
from callviewer.sync.base import Origin
from callviewer.sync.importer import import_paths

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "retell"
NOWHERE = Origin(folder=None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CALL_IN = "call_5d0e2b7f9a1c4e63b8d4f07a21c9e3b6"  # get-call: inbound, tool calls, analysed
CALL_OUT = "call_b81c6e0a4f2d49d7a35e9c12f07b8d44"  # webhooks: outbound, voicemail after all
NO_ANSWER = "call_0a9f3c71e5b24d8e9c6b1f2a7d4e8c03"
BUSY = "call_1b8e2d60f4a34c7d8b5a0e1f6c3d7b12"
WEB = "call_2c7d1e5f03b94a6c7a4f9d0e5b2c6a21"
ERROR = "call_3d6c0f4e12a84b5d6f3e8c9d4a1b5f30"
DECLINED = "call_4e5b9a3d21f74c4e5e2d7b8c3f0a4e4f"
TRANSFERRED = "call_5f4a8b2c30e64d3f4d1c6a7b2e9f3d5e"
REGISTERED = "call_6a3b7c1d4fe54e2a3c0b5f6a1d8e2c6f"
LEGACY = "call_7b2c6d0e5af46f1b2b9a4e5f0c7d1b7a"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def us(stamp: str) -> int:
    """Epoch microseconds of an ISO time, computed independently of the parsers."""
    return (datetime.fromisoformat(stamp.replace("Z", "+00:00")) - _EPOCH) \
        // timedelta(microseconds=1)


def get_call(**changes) -> dict:
    return {**load("get_call_inbound.json"), **changes}


def minimal(**changes) -> dict:
    """The smallest Retell call: what call_started might carry."""
    return {"call_id": "call_min", "call_type": "phone_call", "agent_id": "agent_x",
            "call_status": "ended", **changes}


# --- detection --------------------------------------------------------------------------


def every_fixture_call() -> list[dict]:
    calls = [load("get_call_inbound.json"), *load("list_calls_v2.json"),
             *load("list_calls_v3.json")["items"], load("webhook_legacy_data.json")["data"]]
    calls += [load(f"webhook_call_{event}.json")["call"]
              for event in ("started", "ended", "analyzed")]
    return calls


@pytest.mark.parametrize("call", every_fixture_call(), ids=lambda call: call["call_id"][-6:])
def test_every_fixture_call_is_read_as_retell_before_the_agent_platform(call):
    found = formats.detect(call)
    assert found.module is retell
    assert "call_id" not in found.keys and "disconnection_reason" not in found.keys
    others = [module.NAME for module in formats.FORMATS
              if module.matches(call) and module not in (retell, agent_platform)]
    assert others == []


@pytest.mark.parametrize("call_type", ["phone_call", "web_call"])
def test_call_type_alone_is_a_retell_signature(call_type):
    assert retell.matches({"call_id": "call_1", "call_type": call_type}) == ("call_type",)
    assert retell.matches({"call_id": "call_1", "call_type": "sms"}) == ()


BLAND_CALL = {  # Bland's call details: call_id too, but none of Retell's keys
    "call_id": "9d404c1b-6a23-4426-953a-a52c392ff8f1",
    "c_id": "9d404c1b-6a23-4426-953a-a52c392ff8f1",
    "call_length": 1.27, "to": "+12223334444", "from": "+17163511654", "completed": True,
    "created_at": "2026-03-10T14:02:05.250+00:00", "inbound": False, "queue_status": "complete",
    "answered_by": "human", "record": True, "recording_url": "https://bland.example/r.mp3",
    "metadata": {}, "summary": "Booked.", "status": "completed", "call_ended_by": "USER",
    "concatenated_transcript": "user: hi \n assistant: hello", "disposition_tag": None,
    "transcripts": [{"id": 1, "created_at": "2026-03-10T14:02:06+00:00", "text": "hi",
                     "user": "user", "c_id": "9d404c1b-6a23-4426-953a-a52c392ff8f1"}],
    "error_message": None, "variables": {}, "price": 0.11, "started_at": None, "end_at": None,
}
AGENT_PLATFORM_CALL = {
    "id": "5f0e8d3c-aaaa-4bbb-8ccc-123456789abc", "call_id": "lk-room-42",
    "customer_request": "Reschedule", "phone_number": "+15550100777", "duration": 95,
    "disconnection_reason": "user_hangup", "call_summary": "Moved it.", "agent_id": "a-1",
    "created_at": "2025-03-01T09:30:00Z",
}


@pytest.mark.parametrize("other", [BLAND_CALL, AGENT_PLATFORM_CALL], ids=["bland", "agent"])
def test_other_vendors_calls_with_call_id_are_not_retell(other):
    assert retell.matches(other) == ()
    assert formats.detect(other).module is not retell


def test_the_webhook_envelope_itself_is_not_a_call():
    assert retell.matches(load("webhook_call_ended.json")) == ()
    assert retell.matches(load("list_calls_v3.json")) == ()


# --- the mapped values ----------------------------------------------------------------


def test_a_get_call_answer_maps_every_field():
    record = retell.parse(load("get_call_inbound.json"), NOWHERE)
    assert (record["source"], record["source_id"]) == ("retell", CALL_IN)
    assert (record["direction"], record["from_number"], record["to_number"],
            record["customer_number"]) == ("inbound", "+14155550142", "+14155550199",
                                           "+14155550142")
    assert record["started_at"] == us("2026-03-10T14:02:05.250Z")
    assert record["ended_at"] == us("2026-03-10T14:04:21.750Z")
    assert record["duration_ms"] == 136_500
    assert (record["outcome"], record["end_reason"], record["ended_by"]) == (
        "answered", "user_hangup", "customer")
    assert "error" not in record
    assert record["agent_id"] == "agent_3f9c1d27b6e84a0c95d2e1f4a7b8c6d0"
    assert record["recording"] == (
        f"https://retell-recordings.example.com/{CALL_IN}/recording.wav")
    assert record["has_recording"] is True
    assert record["summary"] == "The caller booked a cleaning for Tuesday, March 17 at 2:30 PM."
    assert record["success"] is True
    assert record["progress"] == 3


def test_tool_calls_are_paired_with_their_results_in_transcript_order():
    transcript = retell.parse(load("get_call_inbound.json"), NOWHERE)["transcript"]
    assert [entry["role"] for entry in transcript] == [
        "agent", "customer", "tool", "agent", "customer", "tool", "agent", "customer"]
    first, second = transcript[2]["tool"], transcript[5]["tool"]
    assert first == {"name": "check_availability",
                     "arguments": {"date": "2026-03-17", "service": "cleaning"},
                     "result": {"slots": ["09:00", "14:30"]}}
    assert second["name"] == "book_appointment"
    assert second["arguments"]["time"] == "14:30"
    assert second["result"] == "Booked, confirmation BSD-4471"  # plain text stays text
    assert transcript[5]["text"].startswith("book_appointment({")
    assert transcript[5]["text"].endswith("→ Booked, confirmation BSD-4471")


def test_utterances_are_timed_by_their_first_and_last_words_in_ms():
    transcript = retell.parse(load("get_call_inbound.json"), NOWHERE)["transcript"]
    assert [(entry["start_ms"], entry["end_ms"]) for entry in transcript] == [
        (620, 3900), (4800, 7350), (None, None), (9100, 12400), (13000, 13900), (None, None),
        (16200, 19050), (19800, 21100)]
    assert transcript[1]["text"] == "Hi, I'd like to book a cleaning <b>next Tuesday</b>."


def test_the_analysis_is_one_readable_run_at_the_end_time_and_kept_raw_in_extras():
    record = retell.parse(load("get_call_inbound.json"), NOWHERE)
    [run] = record["analysis"]
    assert run["analyzer"] == "Retell call analysis"
    assert run["created_at"] == us("2026-03-10T14:04:21.750Z")
    assert run["text"].splitlines() == [
        "User sentiment: Positive", "Call successful: yes", "In voicemail: no",
        "appointment_booked: yes", "service: cleaning", "appointment_time: 2026-03-17T14:30"]
    assert record["extras"]["call_analysis"] == load("get_call_inbound.json")["call_analysis"]


def test_unmapped_keys_are_kept_verbatim_and_mapped_ones_are_not():
    source = load("get_call_inbound.json")
    extras = retell.parse(source, NOWHERE)["extras"]
    for key in ("call_type", "agent_version", "agent_name", "call_cost", "latency",
                "llm_token_usage", "metadata", "retell_llm_dynamic_variables",
                "collected_dynamic_variables", "public_log_url", "recording_multi_channel_url",
                "telephony_identifier", "opt_out_sensitive_data_storage"):
        assert extras[key] == source[key]
    for key in ("call_id", "transcript", "transcript_object", "transcript_with_tool_calls",
                "start_timestamp", "end_timestamp", "duration_ms", "recording_url",
                "from_number", "to_number", "direction", "call_status", "disconnection_reason"):
        assert key not in extras


def test_duration_is_end_minus_start_when_not_given():
    call = get_call()
    del call["duration_ms"]
    assert retell.parse(call, NOWHERE)["duration_ms"] == 136_500
    assert retell.parse(get_call(duration_ms=None), NOWHERE)["duration_ms"] == 136_500


def test_the_customer_of_an_outbound_call_is_the_number_called():
    record = retell.parse(load("webhook_call_ended.json")["call"], NOWHERE)
    assert (record["direction"], record["customer_number"]) == ("outbound", "+16505550123")
    assert record["ended_by"] == "agent"


def test_a_web_call_is_inbound_without_numbers():
    [web] = [call for call in load("list_calls_v2.json") if call["call_id"] == WEB]
    record = retell.parse(web, NOWHERE)
    assert record["direction"] == "inbound"
    assert not {"from_number", "to_number", "customer_number"} & record.keys()
    assert record["duration_ms"] == 42_250  # end − start
    assert [entry["role"] for entry in record["transcript"]] == ["agent", "customer", "agent"]


def test_a_recording_file_beside_the_import_is_resolved(tmp_path):
    (tmp_path / "rec.wav").write_bytes(b"RIFF")
    record = retell.parse(get_call(recording_url="rec.wav"), Origin(folder=tmp_path))
    assert record["recording"] == str(tmp_path / "rec.wav")
    record = retell.parse(get_call(recording_url=None), NOWHERE)
    assert (record["recording"], record["has_recording"]) == (None, False)


def test_the_scrubbed_recording_and_transcript_serve_when_they_are_all_there_is():
    call = get_call(scrubbed_recording_url="https://r.example/scrubbed.wav",
                    scrubbed_transcript_with_tool_calls=[
                        {"role": "user", "content": "My number is [PII].", "words": []}])
    for key in ("recording_url", "transcript", "transcript_object", "transcript_with_tool_calls"):
        del call[key]
    record = retell.parse(call, NOWHERE)
    assert record["recording"] == "https://r.example/scrubbed.wav"
    assert record["transcript"] == [{"role": "customer", "text": "My number is [PII].",
                                     "start_ms": None, "end_ms": None}]


# --- outcomes: every disconnection_reason ------------------------------------------------

# Every value of Retell's disconnection_reason (the SDK's current list, then values of
# earlier API versions), with the call_status Retell's disconnection guide gives it.
REASONS = [
    ("user_hangup", "ended", "answered"),
    ("agent_hangup", "ended", "answered"),
    ("call_transfer", "ended", "answered"),
    ("voicemail_reached", "ended", "voicemail"),
    ("ivr_reached", "ended", "missed"),
    ("inactivity", "ended", "answered"),
    ("max_duration_reached", "ended", "answered"),
    ("concurrency_limit_reached", "error", "failed"),
    ("no_concurrency_fallback", "ended", "failed"),
    ("no_valid_payment", "error", "failed"),
    ("scam_detected", "error", "failed"),
    ("dial_busy", "not_connected", "busy"),
    ("dial_failed", "not_connected", "failed"),
    ("dial_no_answer", "not_connected", "missed"),
    ("invalid_destination", "not_connected", "failed"),
    ("telephony_provider_permission_denied", "not_connected", "failed"),
    ("telephony_provider_unavailable", "not_connected", "failed"),
    ("sip_routing_error", "not_connected", "failed"),
    ("marked_as_spam", "not_connected", "failed"),
    ("user_declined", "not_connected", "missed"),
    ("error_llm_websocket_open", "error", "failed"),
    ("error_llm_websocket_lost_connection", "error", "failed"),
    ("error_llm_websocket_runtime", "error", "failed"),
    ("error_llm_websocket_corrupt_payload", "error", "failed"),
    ("error_no_audio_received", "error", "failed"),
    ("error_asr", "error", "failed"),
    ("error_retell", "error", "failed"),
    ("error_unknown", "error", "failed"),
    ("error_user_not_joined", "error", "failed"),
    ("registered_call_timeout", "error", "failed"),
    ("transfer_bridged", "ended", "answered"),
    ("transfer_cancelled", "ended", "answered"),
    ("manual_stopped", "ended", "answered"),
    ("call_take_over", "ended", "answered"),
    # earlier versions of the API
    ("machine_detected", "ended", "voicemail"),
    ("error_inbound_webhook", "error", "failed"),
    ("error_frontend_corrupted_payload", "error", "failed"),
    ("error_twilio", "error", "failed"),
]


@pytest.mark.parametrize(("reason", "status", "outcome"), REASONS)
def test_every_disconnection_reason_has_its_outcome(reason, status, outcome):
    record = retell.parse(minimal(call_status=status, disconnection_reason=reason), NOWHERE)
    assert (record["outcome"], record["end_reason"]) == (outcome, reason)
    assert ("error" in record) == (outcome == "failed")
    if outcome == "failed":
        assert record["error"].endswith(".") and "_" not in record["error"]
    # Without a call_status (an older export), the reason alone decides.
    bare = minimal(disconnection_reason=reason)
    del bare["call_status"]
    assert retell.parse(bare, NOWHERE)["outcome"] == outcome


def test_the_table_covers_every_reason_the_module_knows():
    assert {reason for reason, _, _ in REASONS} == set(retell._OUTCOMES)


@pytest.mark.parametrize(("status", "reason", "in_voicemail", "outcome"), [
    ("registered", None, None, "in_progress"),
    ("ongoing", None, None, "in_progress"),
    ("ended", None, None, "answered"),
    ("not_connected", None, None, "missed"),
    ("error", None, None, "failed"),
    ("error", "user_hangup", None, "failed"),  # a call with call_status error is failed
    ("ended", "agent_hangup", True, "voicemail"),  # the analysis found a voicemail
    ("ended", "agent_hangup", False, "answered"),
    ("ended", "dial_busy", True, "busy"),  # voicemail only replaces answered
    ("not_connected", "manual_stopped", None, "canceled"),  # stopped before it connected
    ("not_connected", "user_hangup", None, "missed"),
    ("not_connected", "a_reason_added_later", None, "missed"),
    ("ended", "a_reason_added_later", None, "answered"),
    ("ended", "error_added_later", None, "failed"),
    (None, None, None, None),
])
def test_outcome_from_status_reason_and_voicemail(status, reason, in_voicemail, outcome):
    assert retell.outcome_of(status, reason, in_voicemail) == outcome


def test_an_error_call_says_why_in_a_sentence():
    record = retell.parse(minimal(call_status="error", disconnection_reason="error_asr"),
                          NOWHERE)
    assert record["error"] == "Retell's speech recognition failed."
    record = retell.parse(minimal(call_status="error"), NOWHERE)
    assert (record["outcome"], record["error"]) == ("failed", "Retell reported an error.")
    record = retell.parse(minimal(call_status="error", disconnection_reason="error_new_thing"),
                          NOWHERE)
    assert record["error"] == "Retell ended the call: error new thing."


@pytest.mark.parametrize(("reason", "ended_by"), [
    ("user_hangup", "customer"), ("agent_hangup", "agent"), ("call_transfer", None),
    ("inactivity", None)])
def test_ended_by_is_said_only_for_a_hangup(reason, ended_by):
    record = retell.parse(minimal(disconnection_reason=reason), NOWHERE)
    assert record.get("ended_by", None) == ended_by


# --- progress ---------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "progress"), [
    ({"call_status": "registered"}, 0),
    ({"call_status": "ongoing"}, 1),
    ({"call_status": "not_connected"}, 2),
    ({"call_status": "error"}, 2),
    ({"call_status": "ended"}, 2),
    ({"call_status": "ended", "call_analysis": None}, 2),
    ({"call_status": "ended", "call_analysis": {"call_summary": "Hi."}}, 3),
])
def test_progress_orders_the_life_cycle(changes, progress):
    assert retell.parse(minimal(**changes), NOWHERE)["progress"] == progress


# --- transcripts --------------------------------------------------------------------------


def test_tool_results_find_their_call_wherever_they_come():
    entries = [
        {"role": "tool_call_invocation", "tool_call_id": "a", "name": "lookup",
         "arguments": "{\"q\": 1}"},
        {"role": "tool_call_invocation", "tool_call_id": "b", "name": "notify",
         "arguments": "not json {"},
        {"role": "tool_call_result", "tool_call_id": "b", "content": "[1, 2]"},
        {"role": "tool_call_result", "tool_call_id": "a", "content": "found"},
        {"role": "tool_call_result", "tool_call_id": "zzz", "content": "orphan"},
        {"role": "tool_call_invocation", "tool_call_id": "c", "name": "never_answered",
         "arguments": "{}"},
    ]
    transcript = retell.parse(minimal(transcript_with_tool_calls=entries), NOWHERE)["transcript"]
    assert [entry["tool"] for entry in transcript] == [
        {"name": "lookup", "arguments": {"q": 1}, "result": "found"},
        {"name": "notify", "arguments": "not json {", "result": [1, 2]},
        {"name": None, "arguments": None, "result": "orphan"},
        {"name": "never_answered", "arguments": {}, "result": None},
    ]
    assert all(entry["role"] == "tool" for entry in transcript)


def test_call_events_in_the_transcript_are_system_lines():
    entries = [
        {"role": "agent", "content": "Press 1 for billing.",
         "words": [{"word": "Press", "start": 0.5, "end": 0.8}, {"word": "billing.", "start": None,
                                                                 "end": None}]},
        {"role": "dtmf", "digit": "1"},
        {"role": "node_transition", "former_node_id": "n1", "former_node_name": "Greeting",
         "new_node_id": "n2", "new_node_name": "Billing", "transition_type": "normal"},
        {"role": "sms", "content": "my email is a@b.example", "time_sec": 12.5},
        {"role": "injected", "content": "VIP customer", "time_sec": 3},
        {"role": "transfer_target", "content": "Billing, this is Sam.", "words": [
            {"word": "Billing,", "start": 20.0, "end": 20.4}]},
    ]
    transcript = retell.parse(minimal(transcript_with_tool_calls=entries), NOWHERE)["transcript"]
    assert [(entry["role"], entry["text"], entry["start_ms"], entry["end_ms"])
            for entry in transcript] == [
        ("agent", "Press 1 for billing.", 500, 800),
        ("system", "Caller pressed 1", None, None),
        ("system", "Moved to: Billing", None, None),
        ("system", "Text message from the caller: my email is a@b.example", 12500, None),
        ("system", "Context added: VIP customer", 3000, None),
        ("agent", "Billing, this is Sam.", 20000, 20400),
    ]


def test_the_plain_transcript_is_split_by_speaker_when_it_is_the_only_one():
    [transferred, _] = load("list_calls_v3.json")["items"]
    record = retell.parse(transferred, NOWHERE)
    assert [(entry["role"], entry["text"]) for entry in record["transcript"]] == [
        ("agent", "Bright Smile Dental, how can I help?"),
        ("customer", "I need to talk to billing."),
        ("agent", "Transferring you to billing now.")]


def test_a_transcript_without_speakers_is_kept_as_text():
    record = retell.parse(minimal(transcript="(silence)"), NOWHERE)
    assert record["transcript_text"] == "(silence)"
    assert "transcript" not in record


def test_empty_transcripts_say_there_is_none_and_absent_ones_say_nothing():
    record = retell.parse(minimal(transcript="", transcript_object=[],
                                  transcript_with_tool_calls=None), NOWHERE)
    assert record["transcript"] is None
    assert "transcript" not in retell.parse(minimal(), NOWHERE)


def test_an_empty_best_transcript_gives_way_to_the_next():
    record = retell.parse(minimal(transcript_with_tool_calls=[], transcript_object=[
        {"role": "user", "content": "Hello?", "words": []}]), NOWHERE)
    assert record["transcript"] == [{"role": "customer", "text": "Hello?", "start_ms": None,
                                     "end_ms": None}]


# --- refusals name the field -------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"call_id": None}, "call_id"),
    ({"call_id": "  "}, "call_id"),
    ({"call_id": 17}, "call_id"),
    ({"start_timestamp": "yesterday"}, "start_timestamp"),
    ({"end_timestamp": -5}, "end_timestamp"),
    ({"duration_ms": -1}, "duration_ms"),
    ({"duration_ms": 1.5}, "duration_ms"),
    ({"from_number": 14155550142}, "from_number"),
    ({"transcript_object": "Agent: hi"}, "transcript_object"),
    ({"transcript_object": ["hi"]}, "transcript_object[0]"),
    ({"transcript_object": [{"role": "user", "content": "hi", "words": [{"start": "0.5"}]}]},
     "transcript_object[0].words[0].start"),
    ({"transcript_with_tool_calls": [{"role": "tool_call_invocation", "name": 3}]},
     "transcript_with_tool_calls[0].name"),
    ({"call_analysis": "good"}, "call_analysis"),
    ({"call_analysis": {"call_successful": "yes"}}, "call_analysis.call_successful"),
    ({"recording_url": ["a"]}, "recording_url"),
])
def test_a_bad_value_is_refused_naming_its_field(changes, field):
    with pytest.raises(RecordError) as error:
        retell.parse(minimal(**changes), NOWHERE)
    assert error.value.field == field


def test_a_call_without_call_id_is_refused():
    call = minimal()
    del call["call_id"]
    with pytest.raises(RecordError) as error:
        retell.parse(call, NOWHERE)
    assert error.value.field == "call_id"


# --- through the importer into a real store -------------------------------------------


@pytest.fixture
def store(tmp_path):
    with Store(str(tmp_path / "calls.sqlite3")) as store:
        yield store


def copy_fixtures(folder: Path, *names: str) -> list[Path]:
    return records.copy_fixtures(FIXTURES, folder, *names)


def imported(store: Store, *paths: Path):
    report = import_paths(store, list(paths))
    assert report.unreadable == []
    assert report.rejects == []
    return report


def stored_transcript(store: Store, source_id: str) -> list[dict]:
    with store.reading() as conn:
        stored = conn.execute(select(calls.c.transcript).where(
            calls.c.source == "retell", calls.c.source_id == source_id)).scalar_one()
    return json.loads(stored)


def test_importing_a_get_call_answer(store, tmp_path):
    report = imported(store, *copy_fixtures(tmp_path, "get_call_inbound.json"))
    assert report.counts.new == 1
    call = exported(store)[CALL_IN]
    assert call["source"] == "retell"
    assert (call["started_at"], call["ended_at"], call["duration_ms"]) == (
        "2026-03-10T14:02:05.250Z", "2026-03-10T14:04:21.750Z", 136_500)
    assert (call["direction"], call["from_number"], call["to_number"],
            call["customer_number"]) == ("inbound", "+14155550142", "+14155550199",
                                         "+14155550142")
    assert (call["outcome"], call["end_reason"], call["ended_by"]) == (
        "answered", "user_hangup", "customer")
    assert call["recording"].endswith(f"/{CALL_IN}/recording.wav")
    assert call["has_recording"] is True
    assert [entry["role"] for entry in call["transcript"]] == [
        "agent", "customer", "tool", "agent", "customer", "tool", "agent", "customer"]
    assert call["transcript"][2]["text"] == (
        'check_availability({"date":"2026-03-17","service":"cleaning"})'
        ' → {"slots":["09:00","14:30"]}')
    # The export prints role/text/times; the stored transcript keeps each tool's parts.
    assert stored_transcript(store, CALL_IN)[5]["tool"] == {
        "name": "book_appointment",
        "arguments": {"date": "2026-03-17", "time": "14:30", "patient_phone": "+14155550142"},
        "result": "Booked, confirmation BSD-4471"}
    assert (call["summary"], call["success"]) == (
        "The caller booked a cleaning for Tuesday, March 17 at 2:30 PM.", True)
    [run] = call["analysis"]
    assert run["analyzer"] == "Retell call analysis"
    assert run["text"].startswith("User sentiment: Positive\n")
    assert call["extras"]["call_cost"]["combined_cost"] == 17.06
    # The same answer again changes nothing.
    again = imported(store, *copy_fixtures(tmp_path / "again", "get_call_inbound.json"))
    assert (again.counts.new, again.counts.updated, again.counts.unchanged) == (0, 0, 1)


def test_importing_list_calls_pages_v2_array_and_v3_items(store, tmp_path):
    report = imported(store, *copy_fixtures(tmp_path, "list_calls_v2.json",
                                            "list_calls_v3.json"))
    assert report.counts.new == 7
    found = exported(store)
    assert {source_id: found[source_id]["outcome"] for source_id in found} == {
        NO_ANSWER: "missed", BUSY: "busy", WEB: "answered", ERROR: "failed",
        DECLINED: "missed", TRANSFERRED: "answered", REGISTERED: "in_progress"}
    assert found[NO_ANSWER]["duration_ms"] == 0
    assert found[BUSY]["duration_ms"] == 4_500
    assert found[NO_ANSWER]["customer_number"] == "+16505550177"
    assert found[ERROR]["error"] == "The agent's LLM connection did not open."
    assert found[ERROR]["customer_number"] == "+14155550111"
    assert found[WEB]["direction"] == "inbound"
    assert found[WEB]["started_at"] == "2026-03-12T16:00:00Z"
    assert [entry["start_ms"] for entry in found[WEB]["transcript"]] == [400, 3000, 5500]
    assert found[TRANSFERRED]["extras"]["transfer_destination"] == "+14155550100"
    assert found[REGISTERED]["started_at"] is None


def test_webhooks_follow_the_call_and_a_late_call_ended_keeps_the_analysis(store, tmp_path):
    def deliver(event: str, folder: str):
        return imported(store, *copy_fixtures(tmp_path / folder, f"webhook_call_{event}.json"))

    assert deliver("started", "1").counts.new == 1
    call = exported(store)[CALL_OUT]
    assert (call["outcome"], call["direction"], call["started_at"], call["ended_at"]) == (
        "in_progress", "outbound", "2026-03-11T09:15:02Z", None)
    assert call["customer_number"] == "+16505550123"

    assert deliver("ended", "2").counts.updated == 1
    call = exported(store)[CALL_OUT]
    assert (call["outcome"], call["ended_by"], call["duration_ms"]) == (
        "answered", "agent", 39_480)
    assert call["ended_at"] == "2026-03-11T09:15:41.480Z"
    assert [entry["role"] for entry in call["transcript"]] == ["agent"]
    assert call["analysis"] in (None, [])

    assert deliver("analyzed", "3").counts.updated == 1
    call = exported(store)[CALL_OUT]
    assert call["outcome"] == "voicemail"  # call_analysis.in_voicemail
    assert (call["summary"], call["success"]) == (
        "The agent reached voicemail and left a recall message.", False)
    assert [run["text"] for run in call["analysis"]] == [
        "User sentiment: Unknown\nCall successful: no\nIn voicemail: yes"]

    # Retell sends call_ended again: it is older than the analysis and changes nothing.
    late = deliver("ended", "4")
    assert (late.counts.updated, late.counts.unchanged) == (0, 1)
    call = exported(store)[CALL_OUT]
    assert call["outcome"] == "voicemail"
    assert len(call["analysis"]) == 1 and call["summary"] is not None


def test_call_started_after_call_ended_does_not_undo_the_end(store, tmp_path):
    imported(store, *copy_fixtures(tmp_path / "1", "webhook_call_ended.json"))
    imported(store, *copy_fixtures(tmp_path / "2", "webhook_call_started.json"))
    call = exported(store)[CALL_OUT]
    assert (call["outcome"], call["ended_at"]) == ("answered", "2026-03-11T09:15:41.480Z")


def test_the_deprecated_data_webhook_is_read_too(store, tmp_path):
    imported(store, *copy_fixtures(tmp_path, "webhook_legacy_data.json"))
    call = exported(store)[LEGACY]
    assert (call["outcome"], call["end_reason"], call["duration_ms"]) == (
        "answered", "inactivity", 15_000)
    assert call["transcript"] == []  # the export prints "none" as an empty list
    with store.reading() as conn:
        assert conn.execute(select(calls.c.transcript)
                            .where(calls.c.source_id == LEGACY)).scalar_one() is None


def test_a_bad_call_in_a_page_is_listed_and_the_others_imported(store, tmp_path):
    page = load("list_calls_v2.json")
    page[1] = copy.deepcopy(page[1]) | {"start_timestamp": "soon"}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    report = import_paths(store, [path])
    assert (report.counts.new, report.rejected) == (4, 1)
    [reject] = report.rejects
    assert (reject.field, reject.source_id) == ("start_timestamp", BUSY)
    assert "read as retell" in reject.reason
    assert BUSY not in exported(store)
