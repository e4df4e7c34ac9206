"""What vendors really send, imported by the `callviewer` command: envelopes, detection that
says what it decided, credentials never stored, warnings instead of rejects.

The payloads are written here from the vendors' documented shapes (VoIPBIN's list answer
and webhooks, ElevenLabs' webhooks, Vapi's server messages and end-of-call report).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

AUTH_TOKEN = "f3c1e0b7a9d24c6e8b5a7d9c1e3f5a7b"  # a Twilio auth token's shape: 32 hex digits
SIGNATURE = "X-Goog-Signature=5b1d0c9e7a"

VOIPBIN_CALL = {
    "id": "4d4f1e3a-9c2b-4a8e-b0f1-2c3d4e5f6a7b", "type": "flow", "status": "hangup",
    "direction": "incoming",
    "source": {"type": "tel", "target": "+15550100777", "target_name": "", "name": ""},
    "destination": {"type": "tel", "target": "+15550100001", "target_name": "", "name": ""},
    "hangup_by": "remote", "hangup_reason": "normal",
    "recording_id": "00000000-0000-0000-0000-000000000000", "recording_ids": [],
    "tm_create": "2026-11-03 10:00:00.000000", "tm_ringing": "2026-11-03 10:00:01.000000",
    "tm_progressing": "2026-11-03 10:00:04.500000", "tm_hangup": "2026-11-03 10:02:04.500000",
    "tm_update": "2026-11-03 10:02:05.000000",
}

VAPI_REPORT = {"message": {
    "type": "end-of-call-report", "endedReason": "customer-ended-call",
    "startedAt": "2026-11-03T11:00:00.000Z", "endedAt": "2026-11-03T11:01:30.000Z",
    "summary": "Asked about opening hours.",
    "artifact": {
        "messages": [
            {"role": "bot", "message": "Hello, Harbour Clinic.", "secondsFromStart": 0.5},
            {"role": "user", "message": "When are you open on Saturday?",
             "secondsFromStart": 3.1},
        ],
        "recordingUrl": f"https://storage.example.com/rec/abc.wav?{SIGNATURE}",
        "stereoRecordingUrl": f"https://storage.example.com/rec/abc-stereo.wav?{SIGNATURE}",
    },
    "call": {"id": "8b1f6c2e-1111-4a2b-9c3d-4e5f6a7b8c9d", "orgId": "org-1",
             "type": "inboundPhoneCall", "customer": {"number": "+15550100888"}},
    # A captured report carries the business number's provider credentials.
    "phoneNumber": {"id": "pn-1", "number": "+15550100002", "provider": "twilio",
                    "twilioAccountSid": "AC0123456789abcdef0123456789abcdef",
                    "twilioAuthToken": AUTH_TOKEN,
                    "credentials": {"apiKey": "sk_live_abcdef123456", "region": "us1"}},
}}


def run(*args: str, db: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "callviewer", *args, "--db", str(db)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def write(path: Path, value) -> Path:
    path.write_bytes(orjson.dumps(value))
    return path


def everything_stored(db: Path) -> str:
    """Every value of every table of the database (WAL included), as text."""
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())


def test_envelopes_of_every_kind_are_opened_and_events_that_are_no_calls_are_counted(
        tmp_path):
    db = tmp_path / "calls.sqlite3"
    second = {**VOIPBIN_CALL, "id": "4d4f1e3a-9c2b-4a8e-b0f1-000000000002"}
    third = {**VOIPBIN_CALL, "id": "4d4f1e3a-9c2b-4a8e-b0f1-000000000003"}
    files = [
        # VoIPBIN's list answer, and its webhook.
        write(tmp_path / "voipbin-page.json", {"result": [VOIPBIN_CALL, second],
                                               "next_page_token": "2026-11-03 10:00:00"}),
        write(tmp_path / "voipbin-hook.json", {"type": "call_hangup", "data": third}),
        # An automation tool's request around a Vapi webhook; a speech-update beside it.
        write(tmp_path / "n8n.json", [
            {"headers": {"content-type": "application/json"}, "body": VAPI_REPORT,
             "query": {}},
            {"message": {"type": "speech-update", "status": "started", "role": "assistant",
                         "call": VAPI_REPORT["message"]["call"]}},
        ]),
    ]
    done = run("import", *map(str, files), db=db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4 new, 0 updated, 0 unchanged, 0 rejected, " \
                                  "1 skipped (not calls)"
    exported = orjson.loads(run("export", db=db).stdout)
    assert sorted((r["source"], r["source_id"]) for r in exported) == sorted([
        ("voipbin", VOIPBIN_CALL["id"]), ("voipbin", second["id"]), ("voipbin", third["id"]),
        ("vapi", VAPI_REPORT["message"]["call"]["id"])])
    answered = next(r for r in exported if r["source_id"] == third["id"])
    assert (answered["outcome"], answered["duration_ms"], answered["from_number"]) == (
        "answered", 120_000, "+15550100777")
    # The same files again change nothing.
    again = run("import", *map(str, files), db=db)
    assert again.stdout.strip() == "0 new, 0 updated, 4 unchanged, 0 rejected, " \
                                   "1 skipped (not calls)"


def test_a_refusal_names_the_format_it_was_read_as_the_keys_and_the_records_own_id(tmp_path):
    db = tmp_path / "calls.sqlite3"
    retell_without_id = {"call_id": "", "call_status": "ended", "agent_id": "agent_1",
                         "start_timestamp": 1762167600000}
    twilio_bad_time = {"sid": "CA0123456789abcdef0123456789abcdef",
                       "account_sid": "AC0123456789abcdef0123456789abcdef",
                       "status": "completed", "start_time": "yesterday afternoon",
                       "api_version": "2010-04-01"}
    nothing = {"caller": "+15550100999", "length": 42}
    path = write(tmp_path / "mixed.json", [retell_without_id, twilio_bad_time, nothing])
    done = run("import", str(path), db=db)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("rejected:")]
    assert len(lines) == 3
    assert "item 1: field 'call_id': is missing" in lines[0]
    assert "read as retell (for its keys call_status, start_timestamp)" in lines[0]
    assert "item 2 (source_id CA0123456789abcdef0123456789abcdef)" in lines[1]
    assert "field 'start_time'" in lines[1] and "read as twilio-api" in lines[1]
    assert "item 3: field 'record': is not a call record of any known format (tried " \
           "wavekat, voipbin, vapi, twilio-api, twilio, retell, elevenlabs, bland, " \
           "agent-platform; its keys: caller, length)" in lines[2]


def test_no_credential_from_a_payload_is_stored_or_exported_and_no_url_keeps_its_query(
        tmp_path):
    db = tmp_path / "calls.sqlite3"
    done = run("import", str(write(tmp_path / "report.json", VAPI_REPORT)), db=db)
    assert done.returncode == 0, done.stderr
    stored = everything_stored(db)
    assert AUTH_TOKEN not in stored and "sk_live_abcdef123456" not in stored
    # What is not a credential stays, so that the record keeps its meaning; all text under
    # a credential's key goes.
    assert "AC0123456789abcdef0123456789abcdef" in stored and "us1" not in stored
    for kind in ("json", "ndjson", "csv"):
        exported = run("export", "--format", kind, db=db).stdout
        assert AUTH_TOKEN not in exported and "sk_live" not in exported
        assert SIGNATURE not in exported and "X-Goog" not in exported, kind
    record = orjson.loads(run("export", db=db).stdout)[0]
    assert record["extras"]["phoneNumber"]["twilioAuthToken"] == "[removed]"
    assert record["extras"]["artifact"]["stereoRecordingUrl"] == \
        "https://storage.example.com/rec/abc-stereo.wav"
    assert record["recording"] == "https://storage.example.com/rec/abc.wav"


@pytest.mark.parametrize("field", ["customer_name", "summary"])
def test_a_nul_character_costs_the_character_not_the_call_and_is_reported(tmp_path, field):
    db = tmp_path / "calls.sqlite3"
    record = {"id": "ap-nul", "created_at": "2026-11-03T09:00:00Z", "duration": 60,
              "customer_name": "Ann", "call_summary": "fine"}
    record[{"customer_name": "customer_name", "summary": "call_summary"}[field]] = "Ann\x00 B"
    done = run("import", str(write(tmp_path / "nul.json", [record])), db=db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1 new, 0 updated, 0 unchanged, 0 rejected, 1 with warnings"
    assert f"warning: {tmp_path / 'nul.json'} item 1 (source_id ap-nul): field '{field}': " \
           "a NUL character (\\u0000) was removed" in done.stderr
    exported = orjson.loads(run("export", db=db).stdout)[0]
    assert exported[field] == "Ann B"
