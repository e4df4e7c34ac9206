"""The five source-format parsers: detection, mapped values, extras, progress and errors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from callviewer.record import FIELDS, INTERNAL_FIELDS, RecordError
from callviewer.recording_refs import refusal
from callviewer.sync import agent_platform, formats, twilio, vapi, voipbin, wavekat
from callviewer.sync.base import Origin, extras_of, resolve_recording

NOWHERE = Origin(folder=None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(stamp: str) -> int:
    """Epoch microseconds of an ISO time, computed independently of record.parse_time."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def field_of(error: pytest.ExceptionInfo) -> str:
    return error.value.field


# --- realistic samples, one builder per shape ---------------------------------


def wavekat_answered(**changes) -> dict:
    return {"sourceId": "6f1c2a9e-5b1d-4c1e-9a59-2b7d3c4e5f60",
            "accountId": "acc-7d2e", "direction": "inbound", "party": "+15550100123",
            "ringAt": "2026-11-02T09:00:00Z", "answerAt": "2026-11-02T09:00:05.250Z",
            "endAt": "2026-11-02T09:03:05.250Z", "durationMs": 180000,
            "disposition": "answered", "endReason": "remote_hangup", "error": None,
            "schemaVersion": 1, "extras": {"codec": "opus", "jitterMs": 12}, **changes}


def wavekat_missed_snake(**changes) -> dict:
    return {"source_id": "b0a9c7d4-2222-4b44-8c8c-000000000002", "account_id": "acc-7d2e",
            "direction": "outbound", "party": '"Bob Marsh" <sip:bob@pbx.example.com>',
            "ring_at": "2026-11-02T10:00:00+01:00", "answer_at": None,
            "end_at": "2026-11-02T10:00:30+01:00", "duration_ms": 0,
            "disposition": "missed", "end_reason": "timeout", "error": "ignored",
            "schema_version": 1, **changes}


VOIPBIN_SEED = {
    "id": "d9d32881-12fd-4b19-a6b2-6d5b6b6acf76", "flow_id": "4553c074-c88d-49e5-9d47-5c01598ac099",
    "type": "flow", "master_call_id": "00000000-0000-0000-0000-000000000000",
    "chained_call_ids": [], "recording_id": "00000000-0000-0000-0000-000000000000",
    "recording_ids": [],
    "source": {"type": "tel", "target": "+821028286521", "target_name": "", "name": "",
               "detail": ""},
    "destination": {"type": "tel", "target": "+821021656521", "target_name": "", "name": "",
                    "detail": ""},
    "status": "hangup",
    "action": {"id": "0db08d32-b7d7-470d-8bda-9feff0877077",
               "next_id": "00000000-0000-0000-0000-000000000000", "type": "talk",
               "option": {"text": "Hello. This is Sungtae, nice to meet you. hahaha",
                          "gender": "female", "language": "en-US"},
               "tm_execute": "2022-05-01 15:10:38.785510878"},
    "direction": "outgoing", "hangup_by": "local", "hangup_reason": "normal",
    "tm_create": "2022-05-01 15:10:23.414798", "tm_update": "2022-05-01 15:10:44.781000",
    "tm_progressing": "2022-05-01 15:10:38.721000", "tm_ringing": "2022-05-01 15:10:26.978000",
    "tm_hangup": "2022-05-01 15:10:44.781000",
}


def voipbin_ringing(**changes) -> dict:
    """An incoming call still ringing: unset times are "" or year 9999, 9 fractional digits."""
    return {"id": "0b3b9a3c-8d1f-4e4e-9b7a-3c2d1e0f9a8b",
            "flow_id": "00000000-0000-0000-0000-000000000000", "type": "flow",
            "recording_id": "00000000-0000-0000-0000-000000000000", "recording_ids": [],
            "source": {"type": "tel", "target": "+15550100123", "target_name": "",
                       "name": "Ann Lee", "detail": ""},
            "destination": {"type": "tel", "target": "+15550199000",
                            "target_name": "Front desk", "name": "", "detail": ""},
            "status": "ringing", "direction": "incoming", "hangup_by": "", "hangup_reason": "",
            "tm_create": "2024-03-05 08:00:00.123456789", "tm_update": "2024-03-05 08:00:01.5",
            "tm_progressing": "", "tm_ringing": "2024-03-05 08:00:01.000000",
            "tm_hangup": "9999-01-01 00:00:00.000000", **changes}


VAPI_CALL = {"id": "c-4d2f9b1e", "orgId": "org-11", "type": "inboundPhoneCall",
             "status": "ringing", "createdAt": "2025-01-10T14:00:00.000Z",
             "updatedAt": "2025-01-10T14:00:00.000Z", "assistantId": "asst-77",
             "phoneNumberId": "pn-3", "customer": {"number": "+15550100123"}}


def vapi_status_update(status: str = "ringing", **changes) -> dict:
    return {"message": {"type": "status-update", "status": status,
                        "timestamp": "2025-01-10T14:00:01.000Z",
                        "call": copy.deepcopy(VAPI_CALL),
                        "customer": {"number": "+15550100123", "name": "Ann Lee"},
                        "phoneNumber": {"number": "+15550199000", "provider": "twilio"},
                        **changes}}


def vapi_report(**changes) -> dict:
    return {"message": {
        "type": "end-of-call-report", "endedReason": "customer-ended-call",
        "timestamp": "2025-01-10T14:03:01.000Z",
        "startedAt": "2025-01-10T14:00:02.000Z", "endedAt": "2025-01-10T14:02:32.500Z",
        "cost": 0.12, "durationSeconds": 150.5,
        "call": copy.deepcopy(VAPI_CALL),
        "customer": {"number": "+15550100123", "name": "Ann Lee"},
        "phoneNumber": {"number": "+15550199000"},
        "analysis": {"summary": "Booked a cleaning for Tuesday.", "successEvaluation": "true",
                     "structuredData": {"booked": True}},
        "artifact": {
            "recording": {"stereoUrl": "https://storage.vapi.ai/c-4d2f9b1e-stereo.wav",
                          "mono": {"combinedUrl": "recordings/c-4d2f9b1e.mp3",
                                   "assistantUrl": "https://storage.vapi.ai/a.wav"}},
            "messages": [
                {"role": "system", "message": "You are the front desk of a dental clinic.",
                 "time": 1736517602000, "secondsFromStart": 0},
                {"role": "bot", "message": "Hello, Smile Dental, how can I help?",
                 "time": 1736517603000, "endTime": 1736517605500, "secondsFromStart": 1.0,
                 "duration": 2500},
                {"role": "user", "message": "I'd like a cleaning <b>Tuesday</b>.",
                 "time": 1736517606000, "endTime": 1736517609000, "secondsFromStart": 4.2},
                {"role": "tool_calls", "toolCalls": [{"function": {"name": "book"}}],
                 "time": 1736517610000, "secondsFromStart": 8},
            ],
            "messagesOpenAIFormatted": [{"role": "system", "content": "…"}],
        },
        **changes}}


def twilio_call(**changes) -> dict:
    return {"id": "9a8b7c6d-0000-4111-8222-333344445555",
            "from_to_number": "+15551234567 -> +15559876543",
            "call_sid": "CA0123456789abcdef0123456789abcdef", "has_recording": True,
            "created_at": "2025-02-01T12:00:00Z", **changes}


def twilio_details(**changes) -> dict:
    return twilio_call(
        transcription="AI: Thanks for calling Ace Plumbing.\nUser: My boiler is leaking.\n"
                      "It started this morning.",
        analysis_groups=[
            {"analyzer_id": "an-1", "analyzer_name": "Sentiment Analyzer", "runs": [
                {"id": "run-1", "analysis_text": "Caller was anxious.",
                 "created_at": "2025-02-01T12:05:00Z"},
                {"id": "run-3", "analysis_text": "Caller was anxious, then relieved.",
                 "created_at": "2025-02-02T09:00:00Z"}]},
            {"analyzer_id": "an-2", "analyzer_name": "Compliance", "runs": [
                {"id": "run-2", "analysis_text": "No compliance issues found.",
                 "created_at": "2025-02-01T12:06:00Z"}]},
        ], **changes)


def agent_list_item(**changes) -> dict:
    return {"id": "5f0e8d3c-aaaa-4bbb-8ccc-123456789abc", "call_id": "lk-room-42",
            "customer_name": "José Müller", "customer_request": "Reschedule appointment",
            "phone_number": "+15550100777", "duration": 95, "done": False,
            "general_success": True, "disconnection_reason": "user_hangup",
            "call_summary": "Moved the appointment to Friday.", "employee": "Dana",
            "note": "Call back if Friday fails", "agent_id": "5b7c2a4e-0000-4000-8000-000000000001",
            "is_purged": False, "deleted_at": None, "created_at": "2025-03-01T09:30:00Z",
            "updated_at": "2025-03-01T09:35:00Z", **changes}


def agent_detail(**changes) -> dict:
    transcript = [{"role": "agent", "text": "Hi, this is the clinic assistant.", "start": 0.5,
                   "end": 2.25},
                  {"role": "user", "text": "I need to move my appointment.", "start_ms": 3000,
                   "end_ms": 5200},
                  {"role": "assistant", "text": "Friday at 10 works."}]
    return agent_list_item(**{"transcript": orjson.dumps(transcript).decode(),
                              "audio_file_url": "https://audio.example/5f0e.mp3?sig=abc&exp=3600",
                              "final_score": 8, **changes})


SAMPLES = {
    "wavekat": [wavekat_answered(), wavekat_missed_snake()],
    "voipbin": [VOIPBIN_SEED, voipbin_ringing()],
    "vapi": [vapi_status_update(), vapi_status_update()["message"], vapi_report(),
             {**VAPI_CALL, "status": "ended", "endedReason": "customer-busy"}],
    "twilio": [twilio_call(), twilio_details()],
    "agent-platform": [agent_list_item(), agent_detail()],
}
ALL_SAMPLES = [(name, sample) for name, samples in SAMPLES.items() for sample in samples]


# --- detection and lookup -----------------------------------------------------


@pytest.mark.parametrize(("name", "sample"), ALL_SAMPLES)
def test_each_sample_matches_exactly_its_own_format(name, sample):
    assert [module.NAME for module in formats.FORMATS if module.matches(sample)] == [name]
    assert name == formats.detect(sample).module.NAME


@pytest.mark.parametrize(("name", "sample"), ALL_SAMPLES)
def test_each_sample_parses_to_canonical_fields_with_extras(name, sample):
    record = formats.detect(sample).module.parse(copy.deepcopy(sample), NOWHERE)
    assert record["source"] == name
    assert set(record) <= set(FIELDS) | set(INTERNAL_FIELDS)
    assert isinstance(record["extras"], dict)
    assert isinstance(record.get("progress", 0), int)


def test_records_of_no_known_format_are_not_detected():
    assert formats.detect({"id": "x", "foo": 1}) is None
    assert formats.detect({"message": {"type": "transcript", "call": {"id": "c"}}}) is None
    assert formats.detect({}) is None


def test_by_name_finds_every_format_and_lists_the_names_otherwise():
    assert [formats.by_name(module.NAME) for module in formats.FORMATS] == list(formats.FORMATS)
    assert formats.by_name("Agent-Platform") is agent_platform
    with pytest.raises(ValueError, match="wavekat, voipbin, vapi, twilio-api, twilio, retell, "
                                         "elevenlabs, bland, agent-platform"):
        formats.by_name("zoom")


# --- base -------------------------------------------------------------------------


def test_beside_finds_plain_names_only(tmp_path):
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "CA1.mp3").write_bytes(b"ID3")
    (tmp_path / "secret.mp3").write_bytes(b"ID3")
    (tmp_path / "calls" / "folder.mp3").mkdir()
    origin = Origin(folder=tmp_path / "calls")
    assert origin.beside("CA1.mp3") == str((tmp_path / "calls" / "CA1.mp3").absolute())
    for bad in ("../secret.mp3", "..", "sub/CA1.mp3", "sub\\CA1.mp3", "", "folder.mp3",
                "missing.mp3", "a\0.mp3"):
        assert origin.beside(bad) is None, bad
    assert NOWHERE.beside("CA1.mp3") is None


def test_resolve_recording_keeps_urls_and_finds_local_files(tmp_path):
    folder = tmp_path / "export"
    (folder / "audio").mkdir(parents=True)
    mp3 = folder / "audio" / "a b.mp3"
    mp3.write_bytes(b"ID3")
    (tmp_path / "outside.mp3").write_bytes(b"ID3")
    origin = Origin(folder=folder)
    url = "https://audio.example/a.mp3?sig=1"
    assert resolve_recording(url, origin) == url
    assert resolve_recording("audio/a b.mp3", origin) == str(mp3)
    assert resolve_recording(str(mp3), origin) == str(mp3)
    assert resolve_recording(mp3.as_uri(), origin) == str(mp3)
    assert resolve_recording(None, origin) is None
    assert resolve_recording("audio/missing.mp3", origin) == str(folder / "audio" / "missing.mp3")
    # Anything else is handed on as not a recording, with the reason (issue 21).
    for value, where in ((str(mp3), NOWHERE), ("audio/a b.mp3", NOWHERE),
                         ("../outside.mp3", origin),
                         (str(tmp_path / "outside.mp3"), origin)):
        assert refusal(resolve_recording(value, where)), value


def test_extras_of_keeps_unmapped_keys_and_the_rest_of_partly_mapped_objects():
    obj = {"a": 1, "b": {"x": 1, "y": [2]}, "c": {"x": 1}, "d": "not an object"}
    spec = {"a": None, "b": {"x": None}, "c": {"x": None}, "d": {"x": None}}
    assert extras_of(obj, spec) == {"b": {"y": [2]}, "d": "not an object"}
    assert extras_of(obj, {"a", "b"}) == {"c": {"x": 1}, "d": "not an object"}


# --- wavekat --------------------------------------------------------------------


def test_wavekat_answered_inbound_call():
    record = wavekat.parse(wavekat_answered(), NOWHERE)
    assert record == {
        "source": "wavekat", "source_id": "6f1c2a9e-5b1d-4c1e-9a59-2b7d3c4e5f60",
        "direction": "inbound", "customer_number": "+15550100123",
        "from_number": "+15550100123", "started_at": us("2026-11-02T09:00:00Z"),
        "answered_at": us("2026-11-02T09:00:05.250Z"), "ended_at": us("2026-11-02T09:03:05.250Z"),
        "outcome": "answered", "end_reason": "remote_hangup", "ended_by": "remote",
        "duration_ms": 180000, "schema_version": 1, "progress": 2,
        "extras": {"accountId": "acc-7d2e", "disposition": "answered", "error": None,
                   "extras": {"codec": "opus", "jitterMs": 12}},
    }


def test_wavekat_snake_case_missed_outbound_with_display_name():
    record = wavekat.parse(wavekat_missed_snake(), NOWHERE)
    assert record["source_id"] == "b0a9c7d4-2222-4b44-8c8c-000000000002"
    assert record["direction"] == "outbound"
    assert record["customer_name"] == "Bob Marsh"
    # A SIP URI whose user is no phone number: no number; the URI is kept in extras.
    assert record["customer_number"] is None and record["to_number"] is None
    assert "from_number" not in record
    assert record["started_at"] == us("2026-11-02T09:00:00Z")
    assert record["answered_at"] is None
    assert record["outcome"] == "missed" and record["end_reason"] == "timeout"
    assert "duration_ms" not in record and "error" not in record and "ended_by" not in record
    assert record["extras"] == {"account_id": "acc-7d2e", "duration_ms": 0, "error": "ignored",
                                "disposition": "missed", "party_uri": "sip:bob@pbx.example.com"}
    assert record["progress"] == 2


@pytest.mark.parametrize(("party", "name", "number", "uri"), [
    ("Bob <+15550100999>", "Bob", "+15550100999", None),
    ('"Alice" <sip:+15551230001@pbx>', "Alice", "+15551230001", "sip:+15551230001@pbx"),
    ("<sip:+15551230001@pbx;user=phone>", None, "+15551230001",
     "sip:+15551230001@pbx;user=phone"),
    ("<tel:+15551230001>", None, "+15551230001", "tel:+15551230001"),
    ('"Smith, Ann" <sip:ann@example.com>', "Smith, Ann", None, "sip:ann@example.com"),
    ("<sip:anon@example.com>", None, None, "sip:anon@example.com"),
    ("anonymous", None, None, None),
    ('"Anonymous" <sip:anonymous@anonymous.invalid>', "Anonymous", None,
     "sip:anonymous@anonymous.invalid"),
    ("  +15550100999 ", None, "+15550100999", None),
])
def test_wavekat_party_forms(party, name, number, uri):
    record = wavekat.parse(wavekat_answered(party=party), NOWHERE)
    assert record.get("customer_name") == name
    assert record["customer_number"] == record["from_number"] == number
    assert record["extras"].get("party_uri") == uri


@pytest.mark.parametrize(("disposition", "outcome"), [
    ("completed", "answered"), ("no_answer", "missed"), ("unanswered", "missed"),
    ("busy", "busy"), ("error", "failed"), ("cancelled", "canceled"), ("rejected", "canceled"),
    ("voicemail", "voicemail"), ("teleported", "unknown"),
])
def test_wavekat_disposition_vocabulary(disposition, outcome):
    obj = wavekat_missed_snake(disposition=disposition)
    del obj["end_reason"]
    record = wavekat.parse(obj, NOWHERE)
    assert record["outcome"] == outcome
    assert record["end_reason"] == disposition
    assert "disposition" not in record["extras"]


def test_wavekat_failed_call_keeps_its_error_and_local_hangup_is_local():
    record = wavekat.parse(wavekat_answered(disposition="failed", endReason="local_hangup",
                                            answerAt=None, durationMs=None,
                                            error="SIP 503 Service Unavailable"), NOWHERE)
    assert record["outcome"] == "failed"
    assert record["error"] == "SIP 503 Service Unavailable"
    assert record["ended_by"] == "local"
    assert record["extras"]["durationMs"] is None and "duration_ms" not in record


def test_wavekat_newer_schema_imports_what_it_can():
    record = wavekat.parse(wavekat_answered(schemaVersion=3, transferTarget="+15550100888",
                                            extras={"new": {"deep": [1, 2]}}), NOWHERE)
    assert record["schema_version"] == 3
    assert record["outcome"] == "answered"
    assert record["extras"]["transferTarget"] == "+15550100888"
    assert record["extras"]["extras"] == {"new": {"deep": [1, 2]}}


@pytest.mark.parametrize(("changes", "field"), [
    ({"sourceId": None}, "sourceId"), ({"sourceId": "  "}, "sourceId"),
    ({"durationMs": "180000"}, "durationMs"), ({"durationMs": -5}, "durationMs"),
    ({"endAt": "yesterday"}, "endAt"), ({"party": 15550100123}, "party"),
    ({"schemaVersion": "one"}, "schemaVersion"),
])
def test_wavekat_errors_name_the_source_field(changes, field):
    with pytest.raises(RecordError) as error:
        wavekat.parse(wavekat_answered(**changes), NOWHERE)
    assert field_of(error) == field


def test_wavekat_missing_snake_case_id_is_named_in_snake_case():
    obj = wavekat_missed_snake()
    del obj["source_id"]
    with pytest.raises(RecordError) as error:
        wavekat.parse(obj, NOWHERE)
    assert field_of(error) == "source_id"


# --- voipbin ----------------------------------------------------------------------


def test_voipbin_seed_example():
    record = voipbin.parse(copy.deepcopy(VOIPBIN_SEED), NOWHERE)
    extras = record.pop("extras")
    assert record == {
        "source": "voipbin", "source_id": "d9d32881-12fd-4b19-a6b2-6d5b6b6acf76",
        "created_at": us("2022-05-01T15:10:23.414798"),
        "updated_at": us("2022-05-01T15:10:44.781"),
        "started_at": us("2022-05-01T15:10:26.978"),
        "answered_at": us("2022-05-01T15:10:38.721"), "ended_at": us("2022-05-01T15:10:44.781"),
        "duration_ms": 6060, "direction": "outbound",
        "from_number": "+821028286521", "to_number": "+821021656521",
        "customer_number": "+821021656521", "outcome": "answered", "end_reason": "normal",
        "ended_by": "local", "progress": 4, "has_recording": False,
    }
    assert extras["flow_id"] == "4553c074-c88d-49e5-9d47-5c01598ac099"
    assert extras["action"] == VOIPBIN_SEED["action"]
    assert extras["recording_id"] == "00000000-0000-0000-0000-000000000000"
    assert extras["destination"] == {"type": "tel", "detail": ""}
    assert extras["source"] == {"type": "tel", "target_name": "", "name": "", "detail": ""}


def test_voipbin_incoming_call_still_ringing():
    record = voipbin.parse(voipbin_ringing(), NOWHERE)
    assert record["direction"] == "inbound"
    assert record["customer_number"] == record["from_number"] == "+15550100123"
    assert record["customer_name"] == "Ann Lee"
    assert record["to_number"] == "+15550199000"
    assert record["created_at"] == us("2024-03-05T08:00:00.123456")  # 9 digits: µs kept
    assert record["updated_at"] == us("2024-03-05T08:00:01.5")
    assert record["started_at"] == us("2024-03-05T08:00:01")
    assert record["answered_at"] is None and record["ended_at"] is None  # "" and year 9999
    assert "duration_ms" not in record
    assert record["outcome"] == "in_progress"
    assert record["end_reason"] is None and record["ended_by"] is None
    assert record["progress"] == 1
    assert record["extras"]["destination"]["target_name"] == "Front desk"


def test_voipbin_customer_name_falls_back_to_target_name_and_start_to_tm_create():
    obj = voipbin_ringing(status="dialing", tm_ringing="")
    obj["source"] = {"type": "sip", "target": "alice@example.com", "target_name": "Alice",
                     "name": ""}
    record = voipbin.parse(obj, NOWHERE)
    assert record["customer_name"] == "Alice"
    assert record["started_at"] == us("2024-03-05T08:00:00.123456")
    assert record["progress"] == 0


@pytest.mark.parametrize(("reason", "outcome"), [
    ("normal", "answered"), ("timeout", "answered"), ("failed", "failed"), ("busy", "busy"),
    ("cancel", "canceled"), ("noanswer", "missed"), ("dialout", "missed"),
    ("amd", "voicemail"), ("unheard-of", "unknown"),
])
def test_voipbin_hangup_reasons(reason, outcome):
    record = voipbin.parse({**VOIPBIN_SEED, "hangup_reason": reason}, NOWHERE)
    assert record["outcome"] == outcome and record["end_reason"] == reason


@pytest.mark.parametrize(("status", "progress"), [
    ("dialing", 0), ("ringing", 1), ("progressing", 2), ("terminating", 3), ("canceling", 3),
    ("hangup", 4),
])
def test_voipbin_status_ranks(status, progress):
    record = voipbin.parse(voipbin_ringing(status=status), NOWHERE)
    assert record["progress"] == progress
    assert record["outcome"] == ("in_progress" if status != "hangup" else "unknown")


def test_voipbin_recordings_by_id_beside_the_import(tmp_path):
    (tmp_path / "rec-2.mp3").write_bytes(b"ID3")
    obj = voipbin_ringing(recording_id="00000000-0000-0000-0000-000000000000",
                          recording_ids=["rec-1", "rec-2"])
    record = voipbin.parse(obj, Origin(folder=tmp_path))
    assert record["has_recording"] is True
    assert record["recording"] == str(tmp_path / "rec-2.mp3")
    assert record["extras"]["recording_ids"] == ["rec-1", "rec-2"]
    (tmp_path / f"{VOIPBIN_SEED['id']}.mp3").write_bytes(b"ID3")
    by_call_id = voipbin.parse(copy.deepcopy(VOIPBIN_SEED), Origin(folder=tmp_path))
    assert by_call_id["recording"] == str(tmp_path / f"{VOIPBIN_SEED['id']}.mp3")
    assert by_call_id["has_recording"] is True
    without_file = voipbin.parse(voipbin_ringing(recording_ids=["rec-9"]), NOWHERE)
    assert without_file["has_recording"] is True and "recording" not in without_file


@pytest.mark.parametrize(("changes", "field"), [
    ({"id": "00000000-0000-0000-0000-000000000000"}, "id"), ({"id": 42}, "id"),
    ({"tm_hangup": "2022-13-45 99:00:00"}, "tm_hangup"), ({"tm_create": 1651417823}, "tm_create"),
    ({"source": "+821028286521"}, "source"), ({"recording_ids": "rec-1"}, "recording_ids"),
    ({"recording_ids": [None]}, "recording_ids[0]"), ({"hangup_reason": 3}, "hangup_reason"),
])
def test_voipbin_errors_name_the_source_field(changes, field):
    with pytest.raises(RecordError) as error:
        voipbin.parse({**VOIPBIN_SEED, **changes}, NOWHERE)
    assert field_of(error) == field


# --- vapi ---------------------------------------------------------------------------


def test_vapi_status_update_while_ringing():
    record = vapi.parse(vapi_status_update(), NOWHERE)
    assert record["source_id"] == "c-4d2f9b1e"
    assert record["direction"] == "inbound"
    assert record["customer_number"] == record["from_number"] == "+15550100123"
    assert record["customer_name"] == "Ann Lee"
    assert record["to_number"] == "+15550199000"
    assert record["outcome"] == "in_progress" and record["progress"] == 2
    assert record["created_at"] == us("2025-01-10T14:00:00Z")
    assert record["agent_id"] == "asst-77"
    assert "updated_at" not in record  # the embedded call may be stale
    assert record["extras"] == {
        "timestamp": "2025-01-10T14:00:01.000Z", "phoneNumber": {"provider": "twilio"},
        "call": {"orgId": "org-11", "phoneNumberId": "pn-3",
                 "updatedAt": "2025-01-10T14:00:00.000Z"}}


def test_vapi_bare_message_is_read_like_a_wrapped_one():
    assert (vapi.parse(vapi_status_update()["message"], NOWHERE)
            == vapi.parse(vapi_status_update(), NOWHERE))


@pytest.mark.parametrize(("status", "progress"), [
    ("scheduled", 0), ("queued", 1), ("ringing", 2), ("in-progress", 3), ("forwarding", 4),
])
def test_vapi_live_statuses_rank_and_are_in_progress(status, progress):
    record = vapi.parse(vapi_status_update(status), NOWHERE)
    assert record["outcome"] == "in_progress" and record["progress"] == progress


def test_vapi_end_of_call_report(tmp_path):
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "c-4d2f9b1e.mp3").write_bytes(b"ID3")
    record = vapi.parse(vapi_report(), Origin(folder=tmp_path))
    assert record["outcome"] == "answered" and record["progress"] == 6
    assert record["end_reason"] == "customer-ended-call" and record["ended_by"] == "customer"
    assert record["started_at"] == us("2025-01-10T14:00:02Z")
    assert record["ended_at"] == us("2025-01-10T14:02:32.500Z")
    assert record["duration_ms"] == 150_500
    assert record["summary"] == "Booked a cleaning for Tuesday."
    assert record["success"] is True
    assert record["recording"] == str(tmp_path / "recordings" / "c-4d2f9b1e.mp3")
    assert record["has_recording"] is True
    # The first system message is the assistant's prompt (kept in extras, not a line);
    # a tool call is a tool entry with its name (tests/unit/test_format_vapi_real.py).
    assert record["transcript"] == [
        {"role": "agent", "text": "Hello, Smile Dental, how can I help?",
         "start_ms": 1000, "end_ms": 3500},
        {"role": "customer", "text": "I'd like a cleaning <b>Tuesday</b>.",
         "start_ms": 4200, "end_ms": 7200},
        {"role": "tool", "text": "book()", "start_ms": 8000, "end_ms": None,
         "tool": {"name": "book", "arguments": None, "result": None}},
    ]
    extras = record["extras"]
    assert extras["system_prompt"] == "You are the front desk of a dental clinic."
    assert extras["cost"] == 0.12 and "durationSeconds" not in extras  # read: duration_ms
    assert extras["analysis"] == {"successEvaluation": "true",
                                  "structuredData": {"booked": True}}
    assert extras["artifact"] == {
        "recording": {"stereoUrl": "https://storage.vapi.ai/c-4d2f9b1e-stereo.wav",
                      "mono": {"assistantUrl": "https://storage.vapi.ai/a.wav"}},
        "messagesOpenAIFormatted": [{"role": "system", "content": "…"}]}
    assert extras["call"]["orgId"] == "org-11"


def test_vapi_message_times_fall_back_to_epoch_ms_against_the_call_start():
    report = vapi_report()
    report["message"]["artifact"]["messages"] = [
        {"role": "assistant", "content": "Hi!", "time": 1736517603000, "endTime": 1736517604250}]
    [entry] = vapi.parse(report, NOWHERE)["transcript"]
    assert entry == {"role": "agent", "text": "Hi!", "start_ms": 1000, "end_ms": 2250}


def test_vapi_text_transcript_when_there_are_no_messages():
    report = vapi_report(transcript="AI: Hello.\nUser: Hi, I need help.\n")
    del report["message"]["artifact"]["messages"]
    record = vapi.parse(report, NOWHERE)
    assert [(m["role"], m["text"]) for m in record["transcript"]] == [
        ("agent", "Hello."), ("customer", "Hi, I need help.")]
    report = vapi_report(transcript="the caller hung up quickly", messages=[])
    del report["message"]["artifact"]["messages"]
    record = vapi.parse(report, NOWHERE)
    assert record["transcript_text"] == "the caller hung up quickly"
    assert "transcript" not in record


def test_vapi_bare_call_object():
    call = {**VAPI_CALL, "type": "outboundPhoneCall", "status": "ended",
            "endedReason": "customer-busy", "updatedAt": "2025-01-10T14:00:40Z",
            "recordingUrl": "https://storage.vapi.ai/c.mp3", "summary": "Line busy.",
            "phoneNumber": {"number": "+15550199000"}, "cost": 0.01}
    record = vapi.parse(call, NOWHERE)
    assert record["direction"] == "outbound"
    assert record["from_number"] == "+15550199000"
    assert record["to_number"] == record["customer_number"] == "+15550100123"
    assert record["outcome"] == "busy" and record["end_reason"] == "customer-busy"
    assert "ended_by" not in record
    assert record["updated_at"] == us("2025-01-10T14:00:40Z")
    assert record["recording"] == "https://storage.vapi.ai/c.mp3"
    assert record["summary"] == "Line busy."
    assert record["progress"] == 6
    assert record["extras"] == {"orgId": "org-11", "phoneNumberId": "pn-3", "cost": 0.01}


def test_vapi_web_call_has_unknown_direction_and_no_from_to():
    record = vapi.parse({**VAPI_CALL, "type": "webCall", "status": "in-progress"}, NOWHERE)
    assert record["direction"] == "unknown"
    assert "from_number" not in record and "to_number" not in record
    assert record["customer_number"] == "+15550100123"


@pytest.mark.parametrize(("reason", "outcome", "ended_by"), [
    ("customer-ended-call", "answered", "customer"),
    ("assistant-ended-call", "answered", "agent"),
    ("assistant-said-end-call-phrase", "answered", "agent"),
    ("exceeded-max-duration", "answered", None),
    ("customer-did-not-answer", "missed", None),
    ("customer-did-not-give-microphone-permission", "missed", None),
    ("customer-busy", "busy", None), ("voicemail", "voicemail", None),
    ("pipeline-error-openai-llm-failed", "failed", None),
    ("twilio-failed-to-connect-call", "failed", None),
    ("assistant-request-returned-error", "failed", None),
    ("something-new", "unknown", None),
])
def test_vapi_ended_reasons(reason, outcome, ended_by):
    record = vapi.parse(vapi_status_update("ended", endedReason=reason), NOWHERE)
    assert record["outcome"] == outcome and record["end_reason"] == reason
    assert record.get("ended_by") == ended_by
    assert record["progress"] == 5


@pytest.mark.parametrize(("verdict", "success"), [
    (True, True), ("false", False), (" TRUE ", True), (8, None), ("Pass", None)])
def test_vapi_success_evaluation(verdict, success):
    report = vapi_report()
    report["message"]["analysis"]["successEvaluation"] = verdict
    record = vapi.parse(report, NOWHERE)
    assert record.get("success") == success
    assert record["extras"]["analysis"]["successEvaluation"] == verdict


def test_vapi_errors_name_the_source_field():
    message = vapi_status_update()
    del message["message"]["call"]["id"]
    with pytest.raises(RecordError) as error:
        vapi.parse(message, NOWHERE)
    assert field_of(error) == "call.id"
    with pytest.raises(RecordError) as error:
        vapi.parse({"message": {"type": "status-update", "status": "ringing"}}, NOWHERE)
    assert field_of(error) == "call.id"
    with pytest.raises(RecordError) as error:
        vapi.parse(vapi_status_update(status=3), NOWHERE)
    assert field_of(error) == "status"
    with pytest.raises(RecordError) as error:
        vapi.parse({"message": {"type": "transcript", "call": VAPI_CALL}}, NOWHERE)
    assert field_of(error) == "message.type"
    report = vapi_report()
    report["message"]["artifact"]["messages"][1]["secondsFromStart"] = "1s"
    with pytest.raises(RecordError) as error:
        vapi.parse(report, NOWHERE)
    assert field_of(error) == "artifact.messages[1].secondsFromStart"
    with pytest.raises(RecordError) as error:
        vapi.parse({**VAPI_CALL, "customer": "+1555"}, NOWHERE)
    assert field_of(error) == "customer"


# --- twilio -------------------------------------------------------------------------


def test_twilio_basic_call_without_its_recording_file():
    record = twilio.parse(twilio_call(), NOWHERE)
    assert record == {
        "source": "twilio", "source_id": "9a8b7c6d-0000-4111-8222-333344445555",
        "direction": "inbound", "from_number": "+15551234567", "to_number": "+15559876543",
        "customer_number": "+15551234567", "has_recording": True,
        "created_at": us("2025-02-01T12:00:00Z"), "started_at": us("2025-02-01T12:00:00Z"),
        "extras": {"call_sid": "CA0123456789abcdef0123456789abcdef"}, "progress": 1,
    }


def test_twilio_recording_is_the_call_sid_mp3_beside_the_import(tmp_path):
    mp3 = tmp_path / "CA0123456789abcdef0123456789abcdef.mp3"
    mp3.write_bytes(b"ID3")
    record = twilio.parse(twilio_call(), Origin(folder=tmp_path))
    assert record["recording"] == str(mp3)
    none_yet = twilio.parse(twilio_call(has_recording=False), NOWHERE)
    assert none_yet["has_recording"] is False and none_yet["progress"] == 0


def test_twilio_details_with_transcription_and_analysis_runs():
    record = twilio.parse(twilio_details(), NOWHERE)
    assert [(m["role"], m["text"]) for m in record["transcript"]] == [
        ("agent", "Thanks for calling Ace Plumbing."),
        ("customer", "My boiler is leaking.\nIt started this morning.")]
    assert record["analysis"] == [
        {"analyzer": "Sentiment Analyzer", "text": "Caller was anxious, then relieved.",
         "created_at": us("2025-02-02T09:00:00Z")},
        {"analyzer": "Compliance", "text": "No compliance issues found.",
         "created_at": us("2025-02-01T12:06:00Z")},
        {"analyzer": "Sentiment Analyzer", "text": "Caller was anxious.",
         "created_at": us("2025-02-01T12:05:00Z")},
    ]
    assert record["extras"]["analysis_groups"] == [
        {"analyzer_id": "an-1", "runs": [{"id": "run-1"}, {"id": "run-3"}]},
        {"analyzer_id": "an-2", "runs": [{"id": "run-2"}]}]
    assert record["progress"] == 3


def test_twilio_progress_and_plain_transcription():
    with_text = twilio.parse(twilio_call(transcription="hello? is anyone there",
                                         has_recording=False, analysis_groups=[]), NOWHERE)
    assert with_text["transcript_text"] == "hello? is anyone there"
    assert with_text["analysis"] == [] and with_text["progress"] == 2
    pending = twilio.parse(twilio_call(transcription=None, has_recording=False), NOWHERE)
    assert pending["transcript"] is None and pending["progress"] == 0


@pytest.mark.parametrize(("value", "caller", "called"), [
    ("+15551234567->+15559876543", "+15551234567", "+15559876543"),
    ("  +15551234567   ->   +15559876543 ", "+15551234567", "+15559876543"),
    ("+15551234567 -> ", "+15551234567", None),
    (" -> +15559876543", None, "+15559876543"),
])
def test_twilio_from_to_number_forms(value, caller, called):
    record = twilio.parse(twilio_call(from_to_number=value), NOWHERE)
    assert (record["from_number"], record["to_number"]) == (caller, called)
    assert record["customer_number"] == caller


@pytest.mark.parametrize(("changes", "field"), [
    ({"from_to_number": "+15551234567 to +15559876543"}, "from_to_number"),
    ({"from_to_number": ["+1555", "+1666"]}, "from_to_number"),
    ({"id": None}, "id"), ({"has_recording": "yes"}, "has_recording"),
    ({"created_at": "01/02/2025"}, "created_at"),
    ({"analysis_groups": [{"analyzer_name": "X", "runs": [{"analysis_text": 1}]}]},
     "analysis_groups[0].runs[0].analysis_text"),
])
def test_twilio_errors_name_the_source_field(changes, field):
    with pytest.raises(RecordError) as error:
        twilio.parse(twilio_call(**changes), NOWHERE)
    assert field_of(error) == field


# --- agent platform -------------------------------------------------------------------


def test_agent_platform_list_item():
    record = agent_platform.parse(agent_list_item(), NOWHERE)
    assert record == {
        "source": "agent-platform", "source_id": "5f0e8d3c-aaaa-4bbb-8ccc-123456789abc",
        "direction": "inbound", "customer_name": "José Müller",
        "subject": "Reschedule appointment", "customer_number": "+15550100777",
        "from_number": "+15550100777", "duration_ms": 95_000, "done": False, "success": True,
        "end_reason": "user_hangup", "ended_by": "customer",
        "summary": "Moved the appointment to Friday.", "employee": "Dana",
        "source_note": "Call back if Friday fails",
        "agent_id": "5b7c2a4e-0000-4000-8000-000000000001", "is_purged": False,
        "deleted_at": None, "created_at": us("2025-03-01T09:30:00Z"),
        "started_at": us("2025-03-01T09:30:00Z"), "ended_at": us("2025-03-01T09:31:35Z"),
        "updated_at": us("2025-03-01T09:35:00Z"), "outcome": "answered",
        "extras": {"call_id": "lk-room-42"}, "progress": 0,
    }


def test_agent_platform_detail():
    record = agent_platform.parse(agent_detail(), NOWHERE)
    assert record["transcript"] == [
        {"role": "agent", "text": "Hi, this is the clinic assistant.", "start_ms": 500,
         "end_ms": 2250},
        {"role": "customer", "text": "I need to move my appointment.", "start_ms": 3000,
         "end_ms": 5200},
        {"role": "agent", "text": "Friday at 10 works.", "start_ms": None, "end_ms": None},
    ]
    assert record["recording"] == "https://audio.example/5f0e.mp3?sig=abc&exp=3600"
    assert record["has_recording"] is True
    assert record["score"] == 8
    assert record["progress"] == 1


def test_agent_platform_transcript_that_is_not_json():
    spoken = agent_platform.parse(agent_detail(transcript="Agent: Hello.\nCustomer: Hi."),
                                  NOWHERE)
    assert [m["role"] for m in spoken["transcript"]] == ["agent", "customer"]
    plain = agent_platform.parse(agent_detail(transcript="[garbled"), NOWHERE)
    assert plain["transcript_text"] == "[garbled" and "transcript" not in plain


def test_agent_platform_call_never_answered_is_missed():
    record = agent_platform.parse(agent_detail(duration=0, transcript=None, final_score=None,
                                               disconnection_reason="call_transfer"), NOWHERE)
    assert record["outcome"] == "missed"
    assert record["transcript"] is None and record["score"] is None
    assert record["ended_by"] is None and record["end_reason"] == "call_transfer"


def test_agent_platform_purged_call_clears_sensitive_fields(tmp_path):
    record = agent_platform.parse(agent_detail(is_purged=True, transcript=None,
                                               audio_file_url=None, phone_number=None), NOWHERE)
    for field in ("transcript", "recording", "customer_number", "from_number"):
        assert field in record and record[field] is None
    assert record["is_purged"] is True and record["has_recording"] is False
    listed = agent_platform.parse(agent_list_item(is_purged=True, phone_number=None), NOWHERE)
    assert listed["transcript"] is None and listed["recording"] is None


def test_agent_platform_relative_audio_path_resolves_beside_the_import(tmp_path):
    (tmp_path / "5f0e.mp3").write_bytes(b"ID3")
    record = agent_platform.parse(agent_detail(audio_file_url="5f0e.mp3"),
                                  Origin(folder=tmp_path))
    assert record["recording"] == str(tmp_path / "5f0e.mp3")


@pytest.mark.parametrize(("changes", "field"), [
    ({"final_score": 11}, "final_score"), ({"final_score": 0}, "final_score"),
    ({"final_score": "8"}, "final_score"), ({"done": "yes"}, "done"),
    ({"duration": "95"}, "duration"), ({"duration": -1}, "duration"),
    ({"transcript": '{"role": "agent"}'}, "transcript"),
    ({"transcript": '[{"role": "agent", "text": 5}]'}, "transcript[0].text"),
    ({"transcript": '["hello"]'}, "transcript[0]"),
    ({"deleted_at": "soon"}, "deleted_at"), ({"id": ""}, "id"),
])
def test_agent_platform_errors_name_the_source_field(changes, field):
    with pytest.raises(RecordError) as error:
        agent_platform.parse(agent_detail(**changes), NOWHERE)
    assert field_of(error) == field


def test_demo_style_relative_paths_do_not_escape(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (tmp_path / "private.mp3").write_bytes(b"ID3")
    record = agent_platform.parse(agent_detail(audio_file_url="../private.mp3"),
                                  Origin(folder=Path(folder)))
    assert refusal(record["recording"]).endswith("is outside the folder of the imported file")
