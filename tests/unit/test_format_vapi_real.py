"""Vapi reports as they really come: the assistant's prompt, tool calls and their results,
older function calls, times from the messages, and every endedReason of the current API.

Fixtures (tests/fixtures/vapi/) are written from Vapi's OpenAPI spec (Call, Artifact,
ServerMessageEndOfCallReport, BotMessage, UserMessage, SystemMessage, ToolCallMessage,
ToolCallResultMessage); ended_reasons.txt is the spec's endedReason enum of June 2026.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from callviewer import listing
from callviewer.listing import ListSpec
from callviewer.record import OUTCOMES
from callviewer.store import Store
from callviewer.sync import vapi
from callviewer.sync.base import Origin
from callviewer.sync.importer import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vapi"
NOWHERE = Origin(folder=None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

REPORT = "end_of_call_report.json"
OLDER = "older_function_call_report.json"
BARE = "only_call_id_and_created_at.json"
VOICEMAIL = "voicemail_51s.json"
JSON_FIXTURES = (REPORT, OLDER, BARE, VOICEMAIL)


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def us(stamp: str) -> int:
    """Epoch microseconds of an ISO time, computed independently of record.parse_time."""
    return (datetime.fromisoformat(stamp.replace("Z", "+00:00")) - _EPOCH) \
        // timedelta(microseconds=1)


def shape(transcript: list[dict]) -> list[tuple]:
    """(role, the first 24 characters of the text, start_ms, end_ms) of each entry."""
    return [(entry["role"], entry["text"][:24], entry["start_ms"], entry["end_ms"])
            for entry in transcript]


# --- a current end-of-call report ------------------------------------------------------


def test_report_with_prompt_and_tool_calls():
    source = load(REPORT)
    prompt = source["message"]["artifact"]["messages"][0]["message"]
    record = vapi.parse(source, NOWHERE)
    assert record["source_id"] == "4e1c9d7a-2b53-4f0e-9a1d-6c8b2f3e7a10"
    assert record["direction"] == "inbound"
    assert record["customer_name"] == "Priya Raman"
    assert record["customer_number"] == record["from_number"] == "+15085550147"
    assert record["to_number"] == "+15085550100"
    assert record["outcome"] == "answered" and record["progress"] == 6
    assert record["end_reason"] == "customer-ended-call" and record["ended_by"] == "customer"
    assert record["started_at"] == us("2025-03-10T15:04:12.318Z")
    assert record["ended_at"] == us("2025-03-10T15:04:45.412Z")
    assert record["created_at"] == us("2025-03-10T15:04:10.902Z")
    assert record["duration_ms"] == 33_094
    assert record["agent_id"] == "7d2a9c1e-5f40-4b8e-a3c6-1e9f0b2d4c58"
    assert record["summary"].startswith("Priya Raman lost a filling")
    assert record["success"] is True
    assert record["has_recording"] is True
    assert record["recording"] == ("https://storage.vapi.ai/4e1c9d7a-2b53-4f0e-9a1d-6c8b2f3e7a10"
                                   "-1741619087-mono.wav")
    # The prompt is no line of the transcript: it is kept whole in extras.
    assert len(prompt) > 1000
    assert record["extras"]["system_prompt"] == prompt
    assert all(entry["role"] != "system" for entry in record["transcript"])
    assert shape(record["transcript"]) == [
        ("agent", "Thank you for calling Br", 1200, 5400),
        ("customer", "Hi, I lost a filling yes", 6100, 9800),
        ("tool", "check_availability({\"dat", 10_400, 11_150),
        ("agent", "I have Wednesday at nine", 11_900, 16_200),
        ("customer", "Wednesday morning, pleas", 17_000, 19_600),
        ("tool", "book_appointment({\"slot\"", 20_300, 21_050),
        ("tool", "notify_staff(urgency: no", 20_300, None),
        ("tool", "send_sms_confirmation() ", 21_400, None),
        ("agent", "You're booked for Wednes", 22_000, 28_300),
        ("customer", "No, that's all. Thanks, ", 29_100, 31_000),
        ("agent", "Goodbye, Priya!", 31_400, 32_600),
    ]
    tools = [entry["tool"] for entry in record["transcript"] if entry["role"] == "tool"]
    assert tools == [
        {"name": "check_availability",
         "arguments": {"date_from": "2025-03-11", "date_to": "2025-03-14",
                       "reason": "lost filling"},
         "result": "{\"slots\":[\"2025-03-12T09:30:00-04:00\",\"2025-03-13T15:00:00-04:00\"]}"},
        {"name": "book_appointment",
         "arguments": {"slot": "2025-03-12T09:30:00-04:00", "name": "Priya Raman",
                       "phone": "+15085550147"},
         "result": "Booked: Wednesday March 12 at 9:30 AM with Dr. Okafor."},
        # Arguments that are not JSON stay the text they were; no result came for this call.
        {"name": "notify_staff", "arguments": "urgency: normal; lost filling", "result": None},
        # A result whose call is not in the report: a tool entry of its own.
        {"name": "send_sms_confirmation", "arguments": None, "result": "SMS queued."},
    ]
    book = record["transcript"][5]
    assert book["text"] == ('book_appointment({"slot":"2025-03-12T09:30:00-04:00",'
                            '"name":"Priya Raman","phone":"+15085550147"}) → Booked: Wednesday '
                            'March 12 at 9:30 AM with Dr. Okafor.')
    extras = record["extras"]
    assert extras["cost"] == 0.0871 and extras["durationMinutes"] == 0.5516
    assert "durationMs" not in extras and "durationSeconds" not in extras
    assert extras["artifact"]["stereoRecordingUrl"].endswith("-stereo.wav")
    assert extras["call"]["orgId"] == "b2f7e0c4-91d3-4a6e-8f25-0d4c7b1a9e63"


def test_the_reported_duration_wins_over_the_times():
    source = load(REPORT)
    source["message"]["durationMs"] = 32_950
    assert vapi.parse(source, NOWHERE)["duration_ms"] == 32_950
    del source["message"]["durationMs"]
    source["message"]["durationSeconds"] = 32.5
    assert vapi.parse(source, NOWHERE)["duration_ms"] == 32_500
    del source["message"]["durationSeconds"]
    assert vapi.parse(source, NOWHERE)["duration_ms"] == 33_094  # endedAt - startedAt


def test_a_negative_reported_duration_is_an_error_naming_it():
    source = load(REPORT)
    source["message"]["durationSeconds"] = -3
    del source["message"]["durationMs"]
    with pytest.raises(vapi.RecordError) as error:
        vapi.parse(source, NOWHERE)
    assert error.value.field == "durationSeconds"


def test_only_the_first_system_message_is_the_prompt():
    source = load(REPORT)
    messages = source["message"]["artifact"]["messages"]
    messages.insert(3, {"role": "system", "message": "Caller put on hold.", "time": 0,
                        "secondsFromStart": 10.0})
    record = vapi.parse(source, NOWHERE)
    assert record["extras"]["system_prompt"] == messages[0]["message"]
    assert ("system", "Caller put on hold.", 10_000, None) in shape(record["transcript"])
    # A report that starts with the assistant speaking has no prompt.
    del messages[0]
    record = vapi.parse(source, NOWHERE)
    assert "system_prompt" not in record["extras"]
    assert record["transcript"][0]["role"] == "agent"


def test_tool_arguments_given_as_an_object_are_kept_as_they_are():
    source = load(REPORT)
    call = source["message"]["artifact"]["messages"][3]["toolCalls"][0]
    call["function"]["arguments"] = {"date_from": "2025-03-11"}
    record = vapi.parse(source, NOWHERE)
    assert record["transcript"][2]["tool"]["arguments"] == {"date_from": "2025-03-11"}


def test_a_bad_tool_call_names_its_field():
    source = load(REPORT)
    source["message"]["artifact"]["messages"][3]["toolCalls"][0] = "check_availability"
    with pytest.raises(vapi.RecordError) as error:
        vapi.parse(source, NOWHERE)
    assert error.value.field == "artifact.messages[3].toolCalls[0]"


# --- an older report: function calls, times only in the messages ------------------------


def test_older_report_with_function_calls_and_times_from_the_messages():
    record = vapi.parse(load(OLDER), NOWHERE)
    first = us("2024-06-18T13:22:05.640Z")
    assert record["direction"] == "outbound"
    assert record["from_number"] == "+14135550100"
    assert record["to_number"] == record["customer_number"] == "+14135550182"
    assert record["outcome"] == "answered" and record["ended_by"] == "agent"
    # No startedAt/endedAt: the first message's time and the last one's endTime.
    assert record["started_at"] == first
    assert record["ended_at"] == first + 17_250_000
    assert record["duration_ms"] == 17_250
    assert record["created_at"] == us("2024-06-18T13:21:58.210Z")
    assert record["summary"].startswith("The customer's boots")
    assert record["recording"].endswith("/9b3f6e21-mono.wav")
    assert record["extras"]["system_prompt"].startswith("You are Juniper")
    assert shape(record["transcript"]) == [
        ("agent", "Hi, this is Juniper from", 900, 4700),
        ("customer", "Oh right, the hiking boo", 5500, 8200),
        ("tool", "lookupOrder({\"orderNumbe", 8900, 9600),
        ("agent", "Your boots shipped with ", 10_200, 13_400),
        ("customer", "Great, thanks.", 14_000, 15_100),
        ("agent", "You're welcome. Have a g", 15_500, 17_250),
    ]
    assert record["transcript"][2]["tool"] == {
        "name": "lookupOrder", "arguments": {"orderNumber": "A-20931"},
        "result": "{\"status\":\"shipped\",\"carrier\":\"UPS\",\"eta\":\"2024-06-20\"}"}


def test_older_function_results_pair_with_calls_of_their_name_in_order():
    source = load(OLDER)
    messages = source["message"]["messages"]
    call, result = messages[3], messages[4]
    messages[3:5] = [call, {**call, "args": "{\"orderNumber\":\"A-20932\"}"},
                     result, {**result, "result": "second"},
                     {**result, "name": "refundOrder", "result": "no call"}]
    tools = [entry["tool"] for entry in vapi.parse(source, NOWHERE)["transcript"]
             if entry["role"] == "tool"]
    assert [(tool["name"], tool["arguments"], tool["result"]) for tool in tools] == [
        ("lookupOrder", {"orderNumber": "A-20931"}, result["result"]),
        ("lookupOrder", {"orderNumber": "A-20932"}, "second"),
        ("refundOrder", None, "no call"),
    ]


# --- a report with nothing but the call's id and creation ------------------------------


def test_report_with_only_call_id_and_created_at_has_a_date():
    record = vapi.parse(load(BARE), NOWHERE)
    created = us("2025-04-02T09:15:50.118Z")
    assert record["source_id"] == "2d7e9a40-b1c3-4f56-8e2d-9a0b4c6f1e73"
    assert record["created_at"] == record["started_at"] == created
    assert "ended_at" not in record and "duration_ms" not in record
    assert record["outcome"] == "missed" and record["end_reason"] == "customer-did-not-answer"
    assert record["progress"] == 6
    assert "transcript" not in record and "system_prompt" not in record["extras"]


def test_a_call_created_then_ended_without_starting_gets_no_duration():
    source = load(BARE)
    source["message"]["endedAt"] = "2025-04-02T09:16:40.000Z"
    record = vapi.parse(source, NOWHERE)
    assert record["started_at"] == us("2025-04-02T09:15:50.118Z")  # a date, not a start
    assert "duration_ms" not in record


# --- a voicemail: not answered, yet billed and timed -----------------------------------


def test_voicemail_of_51_seconds_keeps_its_duration():
    source = load(VOICEMAIL)
    record = vapi.parse(source, NOWHERE)
    assert record["outcome"] == "voicemail" and record["end_reason"] == "voicemail"
    assert record["direction"] == "outbound"
    assert record["to_number"] == record["customer_number"] == "+15085550163"
    assert record["customer_name"] == "Tom Becker"
    assert record["duration_ms"] == 51_400
    assert record["success"] is False
    assert record["recording"] == "https://storage.vapi.ai/61f0c2b8-mono.wav"
    assert [entry["role"] for entry in record["transcript"]] == ["customer", "agent"]
    # Without the report's duration keys, the times still give it (not only for "answered").
    for key in ("durationMs", "durationSeconds"):
        del source["message"][key]
    assert vapi.parse(source, NOWHERE)["duration_ms"] == 51_400


@pytest.mark.parametrize("reason", ["customer-did-not-answer", "pipeline-error-openai-llm-failed",
                                    "call.in-progress.error-vapifault-transport-never-connected"])
def test_a_call_that_ended_unanswered_keeps_the_time_it_took(reason):
    source = load(VOICEMAIL)
    source["message"]["endedReason"] = reason
    for key in ("durationMs", "durationSeconds"):
        del source["message"][key]
    record = vapi.parse(source, NOWHERE)
    assert record["outcome"] in ("missed", "failed")
    assert record["duration_ms"] == 51_400


# --- every endedReason ------------------------------------------------------------------


def ended_reasons() -> list[str]:
    return [line.strip() for line in (FIXTURES / "ended_reasons.txt").read_text().splitlines()
            if line.strip()]


def test_every_ended_reason_of_the_api_maps_to_a_known_outcome():
    reasons = ended_reasons()
    assert len(reasons) == len(set(reasons)) == 583
    report = load(BARE)
    unmapped = []
    for reason in reasons:
        report["message"]["endedReason"] = reason
        record = vapi.parse(copy.deepcopy(report), NOWHERE)
        assert record["outcome"] in OUTCOMES and record["end_reason"] == reason
        if record["outcome"] in ("unknown", "in_progress"):
            unmapped.append(reason)
    assert unmapped == []


def test_the_table_names_only_values_of_the_api():
    assert set(vapi.ENDED) <= set(ended_reasons())


@pytest.mark.parametrize(("reason", "outcome"), [
    ("customer-ended-call", "answered"),
    ("assistant-said-end-call-phrase", "answered"),
    ("silence-timed-out", "answered"),
    ("exceeded-max-duration", "answered"),
    ("call.in-progress.twilio-completed-call", "answered"),
    ("call.in-progress.sip-completed-call", "answered"),
    ("vonage-completed", "answered"),
    ("customer-ended-call-during-transfer", "answered"),
    ("customer-ended-call-after-warm-transfer-attempt", "answered"),
    ("call.ringing.sip-inbound-caller-hungup-before-call-connect", "missed"),
    ("twilio-reported-customer-misdialed", "missed"),
    ("customer-did-not-answer", "missed"),
    ("customer-busy", "busy"),
    ("call.forwarding.operator-busy", "busy"),
    ("voicemail", "voicemail"),
    ("scheduled-call-deleted", "canceled"),
    ("manually-canceled", "canceled"),
    ("assistant-join-timed-out", "failed"),
    ("vonage-rejected", "failed"),
    ("worker-shutdown", "failed"),
    ("call.start.error-subscription-insufficient-credits", "failed"),
    # A fault that says "busy" or "cancelled" is still a fault.
    ("pipeline-error-eleven-labs-system-busy-and-requested-upgrade", "failed"),
    ("call.in-progress.error-warm-transfer-assistant-cancelled", "failed"),
])
def test_ended_reasons_spot_checks(reason, outcome):
    assert reason in ended_reasons()
    assert vapi.ended_outcome(reason) == outcome


@pytest.mark.parametrize(("reason", "outcome"), [
    ("call.forwarding.no-answer", "missed"),  # values the table has never seen
    ("telnyx-completed-call", "answered"),
    ("call.in-progress.error-vapifault-new-voice-failed", "failed"),
    ("customer-ended-call-after-hold", "answered"),
    ("server-shutdown", "failed"),  # values of older reports
    ("unknown-error", "failed"),
    ("something-new", "unknown"),  # nothing applies
])
def test_values_not_in_the_table_map_by_the_rules(reason, outcome):
    assert reason not in vapi.ENDED
    assert vapi.ended_outcome(reason) == outcome


# --- through the importer into a real store ---------------------------------------------


def test_import_into_a_store_and_search_skips_the_prompt(tmp_path):
    database = tmp_path / "calls.sqlite3"
    for name in JSON_FIXTURES:
        assert vapi.matches(load(name)) == ("message.type",)
    with Store(str(database)) as store:
        report = import_paths(store, [FIXTURES / name for name in JSON_FIXTURES])
        assert report.rejects == [] and report.unreadable == []
        assert report.counts.new == 4
        again = import_paths(store, [FIXTURES / name for name in JSON_FIXTURES])
        assert again.counts.new == 0 and again.counts.unchanged == 4
        ids = {name: store.calls.id_of("vapi", vapi.parse(load(name), NOWHERE)["source_id"])
               for name in JSON_FIXTURES}
        stored = store.calls.get(ids[REPORT])
        assert stored.outcome == "answered" and stored.duration_ms == 33_094
        assert stored.started_at == us("2025-03-10T15:04:12.318Z")
        assert [entry["role"] for entry in stored.transcript] == [
            "agent", "customer", "tool", "agent", "customer", "tool", "tool", "tool", "agent",
            "customer", "agent"]
        assert stored.transcript[2]["tool"]["name"] == "check_availability"
        assert "periwinkle" in stored.extras["system_prompt"]
        voicemail = store.calls.get(ids[VOICEMAIL])
        assert voicemail.outcome == "voicemail" and voicemail.duration_ms == 51_400
        older = store.calls.get(ids[OLDER])
        assert older.started_at == us("2024-06-18T13:22:05.640Z")
        assert older.duration_ms == 17_250
        assert store.calls.get(ids[BARE]).started_at == us("2025-04-02T09:15:50.118Z")
    # The list's own search, as the window runs it.
    conn = listing.connect(database)
    try:
        def found(words: str) -> list[int]:
            return listing.ids(conn, ListSpec(search=words))

        assert found("periwinkle") == []  # a word of the prompt only
        assert found("orthodontic") == []
        assert found("goodbye") == [ids[REPORT]]  # a word of the conversation only
        assert found("filling") == [ids[REPORT]]
        assert found("queued") == [ids[REPORT]]  # a tool's result
        assert found("check_availability") == [ids[REPORT]]  # a tool's name
        assert found("Juniper") == [ids[OLDER]]  # …and not the older report's prompt:
        assert found("card numbers") == []
        # Every dated call is in the list's date range of its day.
        day = us("2025-04-02T00:00:00Z")
        assert listing.ids(conn, ListSpec(since=day, until=day + 86_400_000_000)) == [
            ids[BARE]]
    finally:
        conn.close()
