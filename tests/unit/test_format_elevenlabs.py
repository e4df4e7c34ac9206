"""ElevenLabs Agents conversations: detail, list item, post-call webhooks, through the importer.

The fixtures in tests/fixtures/elevenlabs/ follow ElevenLabs' documented shapes (Get
Conversation Details, Get Conversations, Post-call webhooks); their values are invented.
"""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from callviewer.record import RecordError
from callviewer.store import Store
from callviewer.store.schema import calls
from callviewer.sync import elevenlabs, formats
from callviewer.sync.archive import audio_suffix
from callviewer.sync.base import Origin
from callviewer.sync.importer import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "elevenlabs"
NOWHERE = Origin(folder=None)
INBOUND = "conv_01jnw7k3x9f2ep8rq5t6v0h4ma"
OUTBOUND = "conv_01jnz4m6p8r0t2v4x6z8b0d2fg"
WEB = "conv_01jp0z2b4d6f8h0k2m4p6r8t0v"
AGENT = "agent_01jnq2w8b5c7d9e3f4g6h8j0k2"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(stamp: str) -> int:
    """Epoch microseconds of an ISO time (UTC), computed apart from the parser's helpers."""
    moment = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def fixture(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def data(name: str) -> dict:
    """The `data` of a webhook fixture: what the envelope reader hands the parser."""
    return fixture(name)["data"]


def parse(obj: dict) -> dict:
    return elevenlabs.parse(obj, NOWHERE)


def roles(record: dict) -> list[str]:
    return [entry["role"] for entry in record["transcript"]]


def field_of(error: pytest.ExceptionInfo) -> str:
    return error.value.field


# --- detection -------------------------------------------------------------------------


@pytest.mark.parametrize(("obj", "keys"), [
    (fixture("conversation_inbound_done.json"),
     ("agent_id", "conversation_id", "transcript", "metadata", "analysis")),
    (data("webhook_post_call_transcription.json"),
     ("agent_id", "conversation_id", "transcript", "metadata", "analysis")),
    (fixture("list_page.json")["conversations"][0], ("agent_id", "conversation_id")),
    (data("webhook_post_call_audio.json"), ("agent_id", "conversation_id", "full_audio")),
    (data("webhook_call_initiation_failure_sip.json"),
     ("agent_id", "conversation_id", "failure_reason", "metadata")),
])
def test_each_shape_is_detected_as_elevenlabs_by_its_keys(obj, keys):
    found = formats.detect(obj)
    assert found is not None and found.module is elevenlabs
    assert found.keys == keys


@pytest.mark.parametrize("obj", [
    {"conversation_id": "conv_1"},  # an id alone says nothing of the vendor
    {"type": "post_call_transcription", "event_timestamp": 1773247535,
     "data": {"conversation_id": "conv_1", "agent_id": "a"}},  # the envelope, not the call
    {"call_id": "c1", "agent_id": "agent_x", "conversation_id": "conv_1",
     "transcript": "Agent: hi"},  # Retell/Bland shape: call_id decides
    {"id": "c1", "agent_id": "agent_x", "transcript": "[]"},  # the agent platform's
])
def test_other_shapes_are_not_elevenlabs(obj):
    assert elevenlabs.matches(obj) == ()


def test_id_keys_name_the_conversation():
    assert elevenlabs.ID_KEYS == ("conversation_id",)


# --- a conversation's detail -------------------------------------------------------------


def test_inbound_detail_maps_times_numbers_outcome_and_analysis():
    record = parse(fixture("conversation_inbound_done.json"))
    start = us("2026-03-10T14:05:00")
    assert record["source"] == "elevenlabs" and record["source_id"] == INBOUND
    assert record["agent_id"] == AGENT
    assert record["direction"] == "inbound"
    # Inbound: the customer (external_number) called the business (agent_number).
    assert (record["from_number"], record["to_number"]) == ("+15551230042", "+15557650100")
    assert record["customer_number"] == "+15551230042"
    assert record["started_at"] == start
    assert record["answered_at"] == us("2026-03-10T14:05:03")
    assert record["duration_ms"] == 34_000
    assert record["ended_at"] == start + 34_000_000
    assert record["outcome"] == "answered"
    assert record["end_reason"] == "end_call tool was called."
    assert "error" not in record
    assert record["summary"].startswith("The caller asked to move Thursday's cleaning")
    assert record["subject"] == "Cleaning moved to Tuesday"
    assert record["success"] is True
    assert record["has_recording"] is True
    assert "recording" not in record  # fetched with the API key by the sync connector
    assert record["progress"] == 3
    assert record["analysis"] == [
        {"analyzer": "appointment_handled", "created_at": start + 34_000_000,
         "text": "success: The agent found the appointment and moved it to the time the "
                 "caller accepted."},
        {"analyzer": "confirmed_details", "created_at": start + 34_000_000,
         "text": "unknown: The agent stated the new time but did not ask the caller to "
                 "confirm their name."},
        {"analyzer": "data_collection", "created_at": start + 34_000_000,
         "text": "new_appointment_time: 2026-03-17T14:00:00 (The agent confirmed Tuesday the "
                 "17th at 2 PM.)\ncallback_requested: false (The caller did not ask to be "
                 "called back.)"},
    ]


def test_inbound_detail_transcript_with_tool_calls_in_place():
    record = parse(fixture("conversation_inbound_done.json"))
    assert roles(record) == ["agent", "customer", "tool", "agent", "customer", "agent", "tool",
                             "customer", "tool"]
    greeting, ask, lookup, offer, yes, done, move, bye, end = record["transcript"]
    assert (greeting["start_ms"], greeting["end_ms"]) == (0, 4000)
    assert (ask["start_ms"], ask["end_ms"]) == (4000, 9000)  # up to the tool-only turn
    # The lookup's turn has no message: it yields only its tool entry, whose result came
    # in the next turn (paired by request_id).
    assert lookup["tool"] == {"name": "find_appointment",
                              "arguments": {"phone": "+15551230042"},
                              "result": {"appointment_id": "apt_8812",
                                         "when": "2026-03-12T10:00:00"}}
    assert lookup["start_ms"] == 9000
    assert offer["text"].startswith("I found your cleaning") and offer["start_ms"] == 11_000
    assert (yes["start_ms"], yes["end_ms"]) == (18_000, 20_000)
    assert done["text"] == "Done. Your cleaning is now Tuesday, March 17th at 2 PM."
    assert move["tool"]["name"] == "reschedule" and move["tool"]["result"] == "rescheduled"
    assert move["text"] == ('reschedule({"appointment_id":"apt_8812",'
                            '"new_time":"2026-03-17T14:00:00"}) → rescheduled')
    assert (bye["start_ms"], bye["end_ms"]) == (27_000, 29_000)
    assert end["tool"]["name"] == "end_call"
    assert end["tool"]["result"] == {"status": "success", "reason": "caller said goodbye"}


def test_detail_keeps_what_it_does_not_map_in_extras():
    extras = parse(fixture("conversation_inbound_done.json"))["extras"]
    assert extras["metadata"]["cost"] == 412
    assert extras["metadata"]["phone_call"] == {
        "phone_number_id": "phnum_01jm8s2v4x6z8b0d2f4h6k8m0p", "type": "twilio",
        "stream_sid": "MZ3f1c9a7e5d3b1f9e7c5a3d1b9f7e5c3a",
        "call_sid": "CA8e6c4a2f0d8b6e4c2a0f8d6b4e2c0a8f"}
    assert "start_time_unix_secs" not in extras["metadata"]
    assert extras["agent_name"] == "Harbor Dental front desk"
    assert extras["has_user_audio"] is True
    assert extras["analysis"] == {"call_success_score": None}
    # Per turn, what the transcript does not show, null values left out, in turn order.
    assert len(extras["transcript"]) == 8
    assert extras["transcript"][6] == {"interrupted": True, "source_medium": "audio"}
    assert extras["transcript"][3]["tool_results"][0]["tool_latency_secs"] == 0.84
    assert "result_value" not in extras["transcript"][3]["tool_results"][0]
    assert extras["conversation_initiation_client_data"]["dynamic_variables"][
        "system__caller_id"] == "+15551230042"


def test_outbound_webhook_places_the_business_first():
    record = parse(data("webhook_post_call_transcription.json"))
    start = us("2026-03-11T16:45:00")
    assert record["source_id"] == OUTBOUND
    assert record["direction"] == "outbound"
    assert (record["from_number"], record["to_number"]) == ("+15557650199", "+15559870311")
    assert record["customer_number"] == "+15559870311"
    assert record["started_at"] == start and record["answered_at"] is None
    assert (record["duration_ms"], record["ended_at"]) == (19_000, start + 19_000_000)
    assert record["outcome"] == "answered"
    assert record["success"] is False
    assert record["end_reason"] == "Call ended by remote party"
    assert roles(record) == ["agent", "customer", "agent"]
    assert record["transcript"][-1]["end_ms"] is None  # the last turn's end is not known
    assert record["analysis"] == [{
        "analyzer": "appointment_confirmed", "created_at": start + 19_000_000,
        "text": "failure: The patient could not attend and asked for a call back."}]
    assert record["extras"]["metadata"]["batch_call"]["batch_call_id"] == "btcal_01jnz1a3c5e7g9"
    assert record["extras"]["user_id"] == "patient-20417"


def test_failed_web_conversation_has_its_error_and_no_numbers():
    record = parse(fixture("conversation_web_failed.json"))
    start = us("2026-03-12T08:00:00")
    assert record["direction"] == "unknown"  # no phone_call: a web session
    assert not {"from_number", "to_number", "customer_number"} & record.keys()
    assert record["outcome"] == "failed"
    assert record["error"] == "The language model did not answer in time. (code 1011)"
    assert record["end_reason"] == "Internal error"
    assert (record["started_at"], record["duration_ms"], record["ended_at"]) == (
        start, 6000, start + 6_000_000)
    assert record["has_recording"] is False
    assert "summary" not in record and "analysis" not in record  # analysis is null
    assert record["progress"] == 3


def test_error_is_kept_only_for_a_failed_conversation():
    obj = fixture("conversation_web_failed.json")
    obj["status"] = "done"
    record = parse(obj)
    assert "error" not in record and record["outcome"] == "answered"
    assert record["extras"]["metadata"]["error"]["code"] == 1011


def test_failed_call_that_never_talked_has_no_duration():
    obj = fixture("conversation_web_failed.json")
    obj["metadata"]["call_duration_secs"] = 0
    record = parse(obj)
    assert "duration_ms" not in record and "ended_at" not in record


@pytest.mark.parametrize(("status", "outcome", "progress"), [
    ("initiated", "in_progress", 1), ("in-progress", "in_progress", 1),
    ("processing", "answered", 2), ("done", "answered", 3), ("failed", "failed", 3),
    ("archived-someday", "unknown", 0),
])
def test_statuses_give_outcome_and_progress(status, outcome, progress):
    obj = fixture("conversation_inbound_done.json")
    obj["status"] = status
    record = parse(obj)
    assert (record["outcome"], record["progress"]) == (outcome, progress)


def test_a_live_conversation_has_no_duration_nor_end_yet():
    obj = fixture("conversation_inbound_done.json")
    obj["status"] = "in-progress"
    obj["metadata"]["call_duration_secs"] = 12
    record = parse(obj)
    assert record["started_at"] == us("2026-03-10T14:05:00")
    assert not {"duration_ms", "ended_at"} & record.keys()
    assert record["outcome"] == "in_progress"


@pytest.mark.parametrize(("verdict", "success"), [("success", True), ("failure", False),
                                                  ("unknown", None)])
def test_call_successful(verdict, success):
    obj = fixture("conversation_inbound_done.json")
    obj["analysis"]["call_successful"] = verdict
    assert parse(obj).get("success") is success


def test_numbers_from_dynamic_variables_when_there_is_no_phone_call():
    obj = fixture("conversation_inbound_done.json")
    obj["metadata"]["phone_call"] = None
    record = parse(obj)
    assert record["direction"] == "unknown"
    assert (record["from_number"], record["to_number"]) == ("+15551230042", "+15557650100")
    assert record["customer_number"] == "+15551230042"
    variables = record["extras"]["conversation_initiation_client_data"]["dynamic_variables"]
    assert "system__caller_id" not in variables and "system__call_sid" in variables


def test_a_result_without_its_call_is_still_shown_and_a_call_without_result_too():
    obj = fixture("conversation_inbound_done.json")
    turns = obj["transcript"]
    turns[2]["tool_calls"][0]["request_id"] = "no_result_here"
    record = parse(obj)
    tools = [entry["tool"] for entry in record["transcript"] if entry["role"] == "tool"]
    assert tools[0] == {"name": "find_appointment", "arguments": {"phone": "+15551230042"},
                        "result": None}
    assert tools[1] == {"name": "find_appointment", "arguments": None,
                        "result": {"appointment_id": "apt_8812",
                                   "when": "2026-03-12T10:00:00"}}
    assert roles(record)[2:5] == ["tool", "agent", "tool"]  # the lone result after its turn


def test_tool_arguments_that_are_not_json_stay_text():
    obj = fixture("conversation_inbound_done.json")
    obj["transcript"][2]["tool_calls"][0]["params_as_json"] = "phone=+15551230042"
    lookup = parse(obj)["transcript"][2]
    assert lookup["tool"]["arguments"] == "phone=+15551230042"


# --- list items ---------------------------------------------------------------------------


def test_list_items_rank_lowest_and_say_nothing_of_what_they_lack():
    first, live, web = (parse(item) for item in fixture("list_page.json")["conversations"])
    assert {first["progress"], live["progress"], web["progress"]} == {0}
    # A null summary, title or termination reason in a list is "not yet": absent.
    assert not {"summary", "subject", "end_reason", "success", "transcript",
                "has_recording"} & first.keys()
    assert first["outcome"] == "answered" and first["direction"] == "inbound"
    assert (first["started_at"], first["duration_ms"]) == (us("2026-03-10T14:05:00"), 34_000)
    assert first["extras"] == {"agent_name": "Harbor Dental front desk", "message_count": 8}
    assert live["outcome"] == "in_progress" and live["direction"] == "outbound"
    assert not {"duration_ms", "ended_at"} & live.keys()
    assert web["direction"] == "unknown"  # direction null: not a phone call
    assert (web["summary"], web["subject"], web["success"]) == (
        "A visitor on the website asked for the clinic's Saturday hours.",
        "Saturday opening hours", True)
    assert web["ended_at"] == us("2026-03-11T09:30:41")


# --- post_call_audio ---------------------------------------------------------------------


def test_audio_webhook_is_an_attachment_with_the_mp3_bytes(tmp_path):
    obj = data("webhook_post_call_audio.json")
    record = parse(obj)
    assert record["source_id"] == OUTBOUND and record["agent_id"] == AGENT
    assert record["attach_only"] is True and record["has_recording"] is True
    assert record["audio"] == base64.b64decode(obj["full_audio"])
    assert record["audio"][:3] == b"ID3"
    assert "progress" not in record  # a part of the call, whatever its stage
    assert "full_audio" not in record["extras"]
    assert "recording" not in record
    copy_ = tmp_path / "audio.part"
    copy_.write_bytes(record["audio"])
    assert audio_suffix(copy_) == ".mp3"  # what the archive will accept


def test_audio_without_an_id3_tag_but_with_an_mpeg_frame_is_accepted():
    obj = data("webhook_post_call_audio.json")
    frames = base64.b64decode(obj["full_audio"])[10:]  # the empty ID3 tag is 10 bytes
    obj["full_audio"] = base64.b64encode(frames).decode()
    assert parse(obj)["audio"] == frames


def test_audio_base64_broken_over_lines_is_read():
    obj = data("webhook_post_call_audio.json")
    text = obj["full_audio"]
    obj["full_audio"] = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    assert parse(obj)["audio"] == base64.b64decode(text)


@pytest.mark.parametrize(("obj", "words"), [
    (fixture("audio_not_mp3.json"), "does not hold an MP3 recording"),
    (fixture("audio_bad_base64.json"), "is not valid base64"),
    ({"agent_id": AGENT, "conversation_id": INBOUND, "full_audio": ""}, "is empty"),
    ({"agent_id": AGENT, "conversation_id": INBOUND, "full_audio": None}, "base64 text"),
])
def test_audio_that_is_not_an_mp3_is_refused_with_a_sentence(obj, words):
    with pytest.raises(RecordError) as error:
        parse(obj)
    assert field_of(error) == "full_audio"
    assert words in error.value.reason and error.value.reason.endswith(".")


# --- call_initiation_failure ---------------------------------------------------------


def test_twilio_initiation_failure_is_a_busy_outbound_call():
    record = parse(data("webhook_call_initiation_failure_twilio.json"))
    attempt = us("2026-03-12T09:00:12")
    assert record["source_id"] == "conv_01jp2b4d6f8h0k2m4p6r8t0v2x"
    assert record["direction"] == "outbound"
    assert (record["from_number"], record["to_number"]) == ("+15557650199", "+15559870456")
    assert record["customer_number"] == "+15559870456"
    assert record["outcome"] == "busy" and record["end_reason"] == "busy"
    assert record["started_at"] == record["ended_at"] == attempt
    assert "duration_ms" not in record and "error" not in record
    assert record["progress"] == 3
    body = record["extras"]["metadata"]["body"]
    assert record["extras"]["metadata"]["type"] == "twilio"
    assert body["CallSid"] == "CA1d3f5b7c9e1a3c5e7f9b1d3f5a7c9e1b" and "From" not in body


def test_sip_initiation_failure_is_a_failed_call_with_its_error():
    record = parse(data("webhook_call_initiation_failure_sip.json"))
    assert record["direction"] == "outbound" and record["outcome"] == "failed"
    assert (record["from_number"], record["to_number"]) == ("+15557650199", "+15559870777")
    assert record["error"] == "INVITE failed: sip status: 503: Service Unavailable (SIP 503)"
    assert record["end_reason"] == "unknown"
    assert "started_at" not in record  # the SIP body has no time
    assert record["extras"]["metadata"]["body"]["sip_status_code"] == 503


def test_initiation_failure_time_from_an_event_timestamp_beside_the_data():
    envelope = fixture("webhook_call_initiation_failure_sip.json")
    record = parse({**envelope["data"], "event_timestamp": envelope["event_timestamp"]})
    assert record["started_at"] == record["ended_at"] == us("2026-03-12T10:00:00")
    assert "event_timestamp" not in record["extras"]


@pytest.mark.parametrize(("reason", "outcome"), [("busy", "busy"), ("no-answer", "missed"),
                                                 ("unknown", "failed")])
def test_initiation_failure_reasons(reason, outcome):
    obj = data("webhook_call_initiation_failure_twilio.json")
    obj["failure_reason"] = reason
    record = parse(obj)
    assert record["outcome"] == outcome
    assert ("error" in record) is (outcome == "failed")
    if outcome == "failed":
        assert record["error"] == "Twilio call status busy, SIP response 486"


# --- bad input names its field --------------------------------------------------------------


def _changed(change) -> dict:
    obj = fixture("conversation_inbound_done.json")
    change(obj)
    return obj


@pytest.mark.parametrize(("obj", "field"), [
    (_changed(lambda o: o.pop("conversation_id")), "conversation_id"),
    (_changed(lambda o: o.update(conversation_id="  ")), "conversation_id"),
    (_changed(lambda o: o["metadata"].update(start_time_unix_secs="yesterday")),
     "metadata.start_time_unix_secs"),
    (_changed(lambda o: o["metadata"].update(call_duration_secs=-3)),
     "metadata.call_duration_secs"),
    (_changed(lambda o: o["metadata"]["phone_call"].update(external_number=15551230042.5)),
     "metadata.phone_call.external_number"),
    (_changed(lambda o: o.update(transcript={"role": "agent"})), "transcript"),
    (_changed(lambda o: o["transcript"].__setitem__(1, "hello")), "transcript[1]"),
    (_changed(lambda o: o["transcript"][1].update(time_in_call_secs="4s")),
     "transcript[1].time_in_call_secs"),
    (_changed(lambda o: o["transcript"][3].update(tool_results=["ok"])),
     "transcript[3].tool_results[0]"),
    (_changed(lambda o: o["analysis"].update(transcript_summary=["a", "b"])),
     "analysis.transcript_summary"),
    (_changed(lambda o: o["analysis"]["evaluation_criteria_results"].update(x="good")),
     "analysis.evaluation_criteria_results.x"),
])
def test_errors_name_the_source_field(obj, field):
    with pytest.raises(RecordError) as error:
        parse(obj)
    assert field_of(error) == field


def test_parse_leaves_its_input_alone():
    obj = fixture("conversation_inbound_done.json")
    before = copy.deepcopy(obj)
    parse(obj)
    assert obj == before


# --- through the importer into a real store ---------------------------------------------


def _store(tmp_path: Path) -> Store:
    return Store(str(tmp_path / "calls.sqlite3"))


def _calls(store: Store) -> dict[str, dict]:
    return {record["source_id"]: record for record in store.calls.export()}


def test_import_list_then_detail_then_list_again_never_undoes_the_detail(tmp_path):
    with _store(tmp_path) as store:
        page = import_paths(store, [FIXTURES / "list_page.json"])
        assert (page.counts.new, page.rejected) == (3, 0)
        detail = import_paths(store, [FIXTURES / "conversation_inbound_done.json"])
        assert (detail.counts.updated, detail.rejected) == (1, 0)
        again = import_paths(store, [FIXTURES / "list_page.json"])
        assert again.rejected == 0 and again.counts.updated == 0
        call = _calls(store)[INBOUND]
        with store.reading() as conn:  # the stored entries keep the tool's parts
            stored = orjson.loads(conn.execute(
                select(calls.c.transcript).where(calls.c.source_id == INBOUND)).scalar_one())
    assert stored[2]["tool"] == {"name": "find_appointment",
                                 "arguments": {"phone": "+15551230042"},
                                 "result": {"appointment_id": "apt_8812",
                                            "when": "2026-03-12T10:00:00"}}
    assert call["summary"].startswith("The caller asked to move")
    assert call["subject"] == "Cleaning moved to Tuesday" and call["success"] is True
    assert call["outcome"] == "answered" and call["direction"] == "inbound"
    assert call["started_at"] == "2026-03-10T14:05:00Z"
    assert call["answered_at"] == "2026-03-10T14:05:03Z"
    assert call["ended_at"] == "2026-03-10T14:05:34Z" and call["duration_ms"] == 34_000
    assert (call["from_number"], call["to_number"], call["customer_number"]) == (
        "+15551230042", "+15557650100", "+15551230042")
    assert call["has_recording"] is True and call["recording"] is None
    assert [entry["role"] for entry in call["transcript"]] == [
        "agent", "customer", "tool", "agent", "customer", "agent", "tool", "customer", "tool"]
    assert call["transcript"][2]["text"].startswith('find_appointment({"phone":"+15551230042"})')
    assert [run["analyzer"] for run in call["analysis"]] == [
        "appointment_handled", "confirmed_details", "data_collection"]
    assert call["extras"]["message_count"] == 8  # the list item's, merged before the detail


def test_import_webhooks_a_live_call_becomes_done_and_gets_its_recording(tmp_path):
    with _store(tmp_path) as store:
        import_paths(store, [FIXTURES / "list_page.json"])
        assert _calls(store)[OUTBOUND]["outcome"] == "in_progress"
        done = import_paths(store, [FIXTURES / "webhook_post_call_transcription.json"])
        assert (done.counts.updated, done.rejected) == (1, 0)
        audio = import_paths(store, [FIXTURES / "webhook_post_call_audio.json"])
        assert audio.rejected == 0 and not audio.warnings
        call = _calls(store)[OUTBOUND]
        recording = Path(call["recording"])
        assert recording.is_file() and recording.suffix == ".mp3"
        assert recording.read_bytes() == base64.b64decode(
            data("webhook_post_call_audio.json")["full_audio"])
    assert call["outcome"] == "answered" and call["direction"] == "outbound"
    assert (call["from_number"], call["to_number"], call["customer_number"]) == (
        "+15557650199", "+15559870311", "+15559870311")
    assert call["started_at"] == "2026-03-11T16:45:00Z"
    assert call["ended_at"] == "2026-03-11T16:45:19Z" and call["duration_ms"] == 19_000
    assert call["success"] is False and call["subject"] == "Patient asks for a call back"
    assert call["has_recording"] is True
    assert [entry["role"] for entry in call["transcript"]] == ["agent", "customer", "agent"]


def test_import_audio_before_its_call_waits_for_it(tmp_path):
    with _store(tmp_path) as store:
        early = import_paths(store, [FIXTURES / "webhook_post_call_audio.json"])
        assert early.rejected == 0 and early.counts.new == 0
        assert list(store.calls.export()) == []  # an attachment never makes a call
        import_paths(store, [FIXTURES / "webhook_post_call_transcription.json"])
        call = _calls(store)[OUTBOUND]
    assert call["has_recording"] is True and Path(call["recording"]).is_file()
    assert call["outcome"] == "answered"


def test_import_rejects_bad_audio_naming_the_field(tmp_path):
    with _store(tmp_path) as store:
        report = import_paths(store, [FIXTURES / "audio_not_mp3.json",
                                      FIXTURES / "audio_bad_base64.json"])
        assert list(store.calls.export()) == []
    assert report.rejected == 2
    assert {reject.field for reject in report.rejects} == {"full_audio"}
    assert {reject.source_id for reject in report.rejects} == {INBOUND}


def test_import_a_call_initiation_failure_record(tmp_path):
    # The failure's data as a record of its own (the envelope's handling is the
    # envelope reader's choice).
    path = tmp_path / "failure.json"
    path.write_bytes(orjson.dumps(data("webhook_call_initiation_failure_twilio.json")))
    with _store(tmp_path) as store:
        report = import_paths(store, [path])
        [call] = store.calls.export()
    assert (report.counts.new, report.rejected) == (1, 0)
    assert (call["direction"], call["outcome"], call["end_reason"]) == (
        "outbound", "busy", "busy")
    assert call["started_at"] == call["ended_at"] == "2026-03-12T09:00:12Z"
    assert call["duration_ms"] is None
    assert call["customer_number"] == "+15559870456"
