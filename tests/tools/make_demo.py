"""Generate resources/demo/: calls in every format read, with real spoken MP3 recordings.

    python tests/tools/make_demo.py [OUTPUT_FOLDER]

Needs espeak-ng, sox and lame (apt). Deterministic: the same files on every
run (times are fixed relative to 2026-11-20, speech is synthesised, lame
writes no date). Recordings: agent and customer in two espeak-ng voices,
each message's start and end measured from the synthesised audio, encoded
mono at 32 kbit/s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

ANCHOR = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
VOICES = {"agent": ["-v", "en-us+f3", "-s", "165"], "customer": ["-v", "en-gb+m3", "-s", "150"]}
GAP_S = 0.35
OUT = Path(__file__).resolve().parents[2] / "resources" / "demo"

CONVERSATIONS = {
    "dentist": [
        ("agent", "Good morning, Riverside Dental, this is Ava. How can I help?"),
        ("customer", "Hi, I would like to book a cleaning, please."),
        ("agent", "Of course. Is Tuesday at ten in the morning good for you?"),
        ("customer", "Tuesday at ten works. Thank you."),
        ("agent", "You are booked. We will send a reminder the day before."),
    ],
    "plumber": [
        ("agent", "Hello, Swift Plumbing. What seems to be the problem?"),
        ("customer", "There is a leak under my kitchen sink."),
        ("agent", "I am sorry to hear that. What is the address?"),
        ("customer", "Twelve Elm Street, the blue house."),
        ("agent", "A plumber can be there this afternoon between two and four."),
        ("customer", "Perfect, see you then."),
    ],
    "restaurant": [
        ("agent", "Thanks for calling Luna Bistro. Would you like a table?"),
        ("customer", "Yes, dinner for four on Friday at seven."),
        ("agent", "Friday at seven for four people. May I have a name?"),
        ("customer", "Under Haddad, please."),
        ("agent", "All set. See you on Friday."),
    ],
    "invoice": [
        ("agent", "Accounts desk, how can I help you today?"),
        ("customer", "I was charged twice on my last invoice."),
        ("agent", "Let me check. Yes, I see the double payment. I will refund it."),
        ("customer", "Great, how long will that take?"),
        ("agent", "Three to five business days."),
    ],
    "html": [
        ("agent", "Hello, web support. What do you see on the screen?"),
        ("customer", "It shows <b>bold</b> and <img src=x onerror=alert(1)> text."),
        ("agent", "Thanks, I have noted the tags exactly as you read them."),
    ],
    "reschedule": [
        ("agent", "Riverside Dental, Ava speaking."),
        ("customer", "I need to move my appointment to next week."),
        ("agent", "Next Wednesday at three is free. Shall I take it?"),
        ("customer", "Yes please, Wednesday at three."),
    ],
}


def at(days: float, hours: float = 0) -> datetime:
    return ANCHOR - timedelta(days=days, hours=hours)


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def voipbin_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def speak(lines: list[tuple[str, str]], target: Path, work: Path) -> list[dict]:
    """Synthesise a conversation to `target` (MP3); returns messages with start/end seconds."""
    parts, messages, clock = [], [], 0.0
    silence = work / "gap.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(silence), "trim", "0",
                    str(GAP_S)], check=True)
    for n, (role, text) in enumerate(lines):
        raw, part = work / f"raw{n}.wav", work / f"part{n}.wav"
        subprocess.run(["espeak-ng", *VOICES[role], "-w", str(raw), text], check=True)
        subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", str(part)], check=True)
        with wave.open(str(part)) as audio:
            length = audio.getnframes() / audio.getframerate()
        messages.append({"role": role, "text": text, "start": round(clock, 2),
                         "end": round(clock + length, 2)})
        parts += [str(part), str(silence)]
        clock += length + GAP_S
    joined = work / "joined.wav"
    subprocess.run(["sox", "-D", *parts, str(joined)], check=True)
    subprocess.run(["lame", "--quiet", "-m", "m", "-b", "32", "--resample", "16",
                    "--noreplaygain", str(joined), str(target)], check=True)
    return messages


def long_transcript() -> str:
    lines = []
    for n in range(160):
        lines.append({"role": "agent", "text": f"Step {n + 1}: please read me the next "
                      "line of the meter display."})
        lines.append({"role": "user", "text": f"It says {n * 7 % 100:02d} and then a dash."})
    return json.dumps(lines)


def agent_platform(out: Path, work: Path) -> None:
    recorded = [("ap-1001", "Maya Cohen", "+14155550101", "dentist", 0.1),
                ("ap-1002", "ليلى حداد", "+97145550102", "restaurant", 0.4),
                ("ap-1003", "王小明", "+8613800138000", "invoice", 1.2),
                ("ap-1004", "Sam 🚀 Rivera", "+14155550104", "html", 2.5),
                ("ap-1005", "Zoë Müller", "+4930555010", "reschedule", 3.5),
                ("ap-1010", "Grace O'Neill", "+35315550110", "plumber", 4.2),
                ("ap-1011", "Hiroshi Sato", "+81355501111", "dentist", 7.3),
                ("ap-1012", "Amara Okafor", "+2348055501120", "invoice", 12.6),
                ("ap-1013", "Lucas Silva", "+5511955501130", "restaurant", 15.1)]
    data = []
    for call_id, name, number, talk, days in recorded:
        messages = speak(CONVERSATIONS[talk], out / f"{call_id}.mp3", work)
        data.append(_ap_call(call_id, name, number, at(days), messages[-1]["end"],
                             json.dumps([{"role": m["role"], "text": m["text"],
                                          "start": m["start"], "end": m["end"]}
                                         for m in messages]),
                             f"{call_id}.mp3", "Booked a follow-up." if talk == "dentist"
                             else None))
    data.append(_ap_call("ap-1006", "José Álvarez", "+34915550106", at(5), 1260,
                         long_transcript(), None, None, score=6))
    data.append(_ap_call("ap-1007", "Priya Natarajan", "+14155550107", at(6), 0, None,
                         None, None, score=None, reason="user_hangup"))
    purged = _ap_call("ap-1008", "Erik Lund", None, at(20), 95, None, None, None)
    purged.update(is_purged=True, audio_file_url=None)
    deleted = _ap_call("ap-1009", "Test Caller", "+14155550109", at(9), 30,
                       json.dumps([{"role": "agent", "text": "This was a test call."}]), None,
                       None)
    deleted["deleted_at"] = rfc3339(at(8))
    data += [purged, deleted]
    _write(out / "agent-platform.json", {"data": data, "has_more": False})


def _ap_call(call_id, name, number, started, seconds, transcript, audio, note, score=8,
             reason="agent_hangup") -> dict:
    return {
        "id": call_id, "call_id": f"lk-{call_id}", "customer_name": name,
        "customer_request": "Appointment" if score else "Call back",
        "phone_number": number, "duration": round(seconds), "done": call_id in ("ap-1001",),
        "general_success": bool(score), "disconnection_reason": reason,
        "call_summary": f"{name} called; the agent handled the request." if transcript
        else None, "employee": "Ava", "note": note,
        "agent_id": "5b7c2a4e-0000-4000-8000-000000000001", "is_purged": False,
        "deleted_at": None, "created_at": rfc3339(started), "updated_at": rfc3339(started),
        "transcript": transcript, "audio_file_url": audio, "final_score": score,
    }


def twilio(out: Path, work: Path) -> None:
    data = []
    for n, (talk, days) in enumerate((("plumber", 0.2),
                                       ("dentist", 1.5),
                                       ("reschedule", 2.2))):
        sid = f"CA{n + 1:032x}"
        messages = speak(CONVERSATIONS[talk], out / f"{sid}.mp3", work)
        data.append({
            "id": f"tw-{n + 1}", "call_sid": sid,
            "from_to_number": f"+1415555020{n} -> +14155550000", "has_recording": True,
            "created_at": rfc3339(at(days)),
            "transcription": "\n".join(f"{'AI' if m['role'] == 'agent' else 'User'}: "
                                       f"{m['text']}" for m in messages),
            "analysis_groups": [{"analyzer_id": "a1", "analyzer_name": "Sentiment", "runs": [
                {"id": "r1", "analysis_text": "Neutral, then relieved.",
                 "created_at": rfc3339(at(days - 0.01))},
                {"id": "r2", "analysis_text": "Positive overall.",
                 "created_at": rfc3339(at(days - 0.02))}]}],
        })
    data.append({"id": "tw-4", "call_sid": "CA" + "f" * 32,
                 "from_to_number": "+14155550299 -> +14155550000", "has_recording": False,
                 "created_at": rfc3339(at(11))})
    _write(out / "twilio.json", {"data": data})


def vapi(out: Path, work: Path) -> None:
    folder = out / "vapi"
    folder.mkdir()
    messages = speak(CONVERSATIONS["invoice"], folder / "vapi-call-1.mp3", work)
    start = at(0.6)
    report = {"message": {
        "type": "end-of-call-report", "endedReason": "customer-ended-call",
        "summary": "Customer was charged twice; refund promised in 3–5 days.",
        "artifact": {"recordingUrl": "vapi-call-1.mp3", "messages": [
            {"role": "bot" if m["role"] == "agent" else "user", "message": m["text"],
             "secondsFromStart": m["start"], "duration": round((m["end"] - m["start"]) * 1000)}
            for m in messages]},
        "call": {"id": "vapi-call-1", "type": "inboundPhoneCall", "orgId": "org-1",
                 "customer": {"number": "+14155550301", "name": "Olivia Brown"},
                 "phoneNumber": {"number": "+14155550000"},
                 "startedAt": rfc3339(start),
                 "endedAt": rfc3339(start + timedelta(seconds=messages[-1]["end"]))},
    }}
    _write(folder / "end-of-call-report.json", report)
    _write(folder / "status-update.json", {"message": {
        "type": "status-update", "status": "in-progress",
        "call": {"id": "vapi-call-2", "type": "outboundPhoneCall", "orgId": "org-1",
                 "customer": {"number": "+14155550302", "name": "Noah Kim"},
                 "phoneNumber": {"number": "+14155550000"}, "startedAt": rfc3339(at(0.01))}}})
    _write(folder / "calls.json", [
        {"id": "vapi-call-3", "orgId": "org-1", "type": "outboundPhoneCall",
         "status": "ended", "endedReason": "voicemail",
         "customer": {"number": "+14155550303", "name": "Grace Lee"},
         "phoneNumber": {"number": "+14155550000"}, "createdAt": rfc3339(at(2)),
         "startedAt": rfc3339(at(2)), "endedAt": rfc3339(at(2) + timedelta(seconds=25)),
         "transcript": "AI: Hi Grace, this is Luna Bistro confirming Friday.\n"
                       "User: Hi, you have reached Grace, leave a message."},
        {"id": "vapi-call-4", "orgId": "org-1", "type": "inboundPhoneCall",
         "status": "ended", "endedReason": "silence-timed-out",
         "customer": {"number": "+14155550304"}, "phoneNumber": {"number": "+14155550000"},
         "createdAt": rfc3339(at(4)), "startedAt": rfc3339(at(4)),
         "endedAt": rfc3339(at(4) + timedelta(seconds=31)),
         "transcript": "AI: Hello, how can I help?\nAI: Are you still there?"},
    ])


def voipbin(out: Path, work: Path) -> None:
    reasons = [("normal", "hangup"), ("busy", "hangup"), ("noanswer", "hangup"),
               ("failed", "hangup"), ("cancel", "hangup"), ("amd", "hangup"),
               ("", "progressing")]
    calls = []
    for n, (reason, status) in enumerate(reasons):
        call_id = f"5e2c0000-0000-4000-8000-{n + 1:012d}"
        started = at(n * 2 + 0.3)
        answered = reason in ("normal", "amd", "") and started + timedelta(seconds=4)
        ended = None if status != "hangup" else started + timedelta(
            seconds=64 if reason == "normal" else 20)
        recording = "00000000-0000-0000-0000-000000000000"
        if reason == "normal":
            recording = call_id
            speak(CONVERSATIONS["restaurant"], out / f"{call_id}.mp3", work)
        calls.append({
            "id": call_id, "customer_id": "00000000-0000-0000-0000-000000000000",
            "direction": "incoming" if n % 2 == 0 else "outgoing", "status": status,
            "source": {"type": "tel", "target": f"+1415555040{n}",
                       "name": "Chen Wei" if n == 0 else ""},
            "destination": {"type": "tel", "target": "+14155550000", "name": ""},
            "hangup_reason": reason, "hangup_by": "remote" if n % 2 else "local",
            "recording_id": recording,
            "tm_create": voipbin_time(started), "tm_update": voipbin_time(ended or started),
            "tm_ringing": voipbin_time(started),
            "tm_progressing": voipbin_time(answered) if answered else "9999-01-01 00:00:00.000000",
            "tm_hangup": voipbin_time(ended) if ended else "9999-01-01 00:00:00.000000",
        })
    _write(out / "voipbin.json", calls)


def wavekat(out: Path) -> None:
    lines = []
    for n, (disposition, direction, name) in enumerate((
            ("answered", "inbound", "Aiko Tanaka"), ("missed", "inbound", "Liam O'Brien"),
            ("voicemail", "inbound", "Fatima Khan"), ("failed", "outbound", "Ben Carter"),
            ("busy", "outbound", "Chloé Martin"), ("canceled", "outbound", None),
            ("answered", "outbound", "Mateo Rossi"))):
        ring = at(n * 3 + 0.5)
        answered = disposition == "answered"
        record = {
            "sourceId": f"wk-{n + 1}", "accountId": "acct-1", "direction": direction,
            "party": f'"{name}" <+1415555050{n}>' if name else "+14155550599",
            "ringAt": rfc3339(ring),
            "answerAt": rfc3339(ring + timedelta(seconds=5)) if answered else None,
            "endAt": rfc3339(ring + timedelta(seconds=95 if answered else 25)),
            "durationMs": 90_000 if answered else None, "disposition": disposition,
            "endReason": "remote_hangup" if answered else disposition,
            "schemaVersion": 1, "extras": {"line": "front desk"},
        }
        if disposition == "failed":
            record["error"] = "SIP 503 Service Unavailable"
        if n % 2:  # the same record shape with snake_case keys
            record = {_snake(key): value for key, value in record.items()}
        lines.append(json.dumps({k: v for k, v in record.items() if v is not None},
                                ensure_ascii=False))
    (out / "wavekat.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")


def rfc2822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def twilio_api(out: Path, work: Path) -> None:
    """A page of Twilio REST Call resources, and the Recording of one of them beside it."""
    folder = out / "twilio-api"
    folder.mkdir()
    account = "AC" + "0" * 31 + "1"
    call_sid, recording_sid = "CA" + "a" * 31 + "1", "RE" + "a" * 31 + "1"
    messages = speak(CONVERSATIONS["plumber"], folder / f"{recording_sid}.mp3", work)
    start, seconds = at(0.6), round(messages[-1]["end"])
    call = {
        "sid": call_sid, "account_sid": account, "parent_call_sid": None,
        "from": "+14155550601", "from_formatted": "(415) 555-0601", "to": "+14155550000",
        "to_formatted": "(415) 555-0000", "status": "completed", "direction": "inbound",
        "caller_name": "Ethan Brooks", "answered_by": None, "api_version": "2010-04-01",
        "start_time": rfc2822(start), "end_time": rfc2822(start + timedelta(seconds=seconds)),
        "date_created": rfc2822(start), "date_updated": rfc2822(start + timedelta(
            seconds=seconds + 1)), "duration": str(seconds), "price": "-0.01700",
        "price_unit": "USD", "uri": f"/2010-04-01/Accounts/{account}/Calls/{call_sid}.json",
        "subresource_uris": {"recordings": f"/2010-04-01/Accounts/{account}/Calls/"
                                           f"{call_sid}/Recordings.json"},
    }
    missed = {**call, "sid": "CA" + "a" * 31 + "2", "from": "+14155550602",
              "from_formatted": "(415) 555-0602", "caller_name": None, "status": "no-answer",
              "duration": "0", "start_time": rfc2822(at(5.2)), "end_time": rfc2822(at(5.2)),
              "date_created": rfc2822(at(5.2)), "date_updated": rfc2822(at(5.2))}
    _write(folder / "calls.json", {"calls": [call, missed], "next_page_uri": None, "page": 0,
                                   "page_size": 50, "start": 0, "end": 1})
    _write(folder / "recordings.json", {"recordings": [{
        "sid": recording_sid, "account_sid": account, "call_sid": call_sid,
        "status": "completed", "channels": 1, "source": "RecordVerb",
        "duration": str(seconds), "date_created": rfc2822(start),
        "uri": f"/2010-04-01/Accounts/{account}/Recordings/{recording_sid}.json"}],
        "next_page_uri": None, "page": 0, "page_size": 50})


def retell(out: Path, work: Path) -> None:
    """A Retell call_analyzed webhook: word-timed transcript, a tool call, call analysis."""
    folder = out / "retell"
    folder.mkdir()
    call_id = "call_5d2f0b7c9e1a4c3b8d6e"
    messages = speak(CONVERSATIONS["reschedule"], folder / f"{call_id}.mp3", work)
    start = int(at(0.9).timestamp() * 1000)
    utterances = [{"role": "agent" if m["role"] == "agent" else "user", "content": m["text"],
                   "words": _words(m)} for m in messages]
    with_tools = [*utterances[:2],
                  {"role": "tool_call_invocation", "tool_call_id": "tc_1",
                   "name": "find_free_slot", "arguments": '{"week": "next"}'},
                  {"role": "tool_call_result", "tool_call_id": "tc_1",
                   "content": '{"slot": "Wednesday 15:00"}'}, *utterances[2:]]
    end = start + round(messages[-1]["end"] * 1000)
    _write(folder / "call_analyzed.json", {"event": "call_analyzed", "call": {
        "call_id": call_id, "call_type": "phone_call", "agent_id": "agent_riverside",
        "call_status": "ended", "direction": "inbound", "from_number": "+14155550701",
        "to_number": "+14155550000", "start_timestamp": start, "end_timestamp": end,
        "duration_ms": end - start, "disconnection_reason": "user_hangup",
        "transcript": "\n".join(f"{'Agent' if m['role'] == 'agent' else 'User'}: {m['text']}"
                                for m in messages),
        "transcript_object": utterances, "transcript_with_tool_calls": with_tools,
        "recording_url": f"{call_id}.mp3",
        "call_analysis": {"call_summary": "The caller moved a dental appointment to "
                                          "Wednesday at three.",
                          "user_sentiment": "Positive", "call_successful": True,
                          "in_voicemail": False},
    }})


def _words(message: dict) -> list[dict]:
    """Word times spread evenly over a synthesised message (seconds from the call's start)."""
    words = message["text"].split()
    step = (message["end"] - message["start"]) / len(words)
    return [{"word": word, "start": round(message["start"] + n * step, 2),
             "end": round(message["start"] + (n + 1) * step, 2)} for n, word in enumerate(words)]


def elevenlabs(out: Path) -> None:
    """An ElevenLabs post_call_transcription webhook with a tool call and evaluations."""
    folder = out / "elevenlabs"
    folder.mkdir()
    start = int(at(1.6).timestamp())
    turns = [("agent", "Hi, this is Nova from Swift Plumbing. How can I help?", 0),
             ("user", "Can someone look at my boiler tomorrow morning?", 4),
             ("agent", None, 9), ("agent", "Tomorrow at nine works. You are booked.", 11),
             ("user", "Thank you, bye.", 16)]
    transcript = []
    for role, said, second in turns:
        turn = {"role": role, "message": said, "time_in_call_secs": second,
                "tool_calls": [], "tool_results": []}
        if said is None:
            turn["tool_calls"] = [{"request_id": "req_1", "tool_name": "check_calendar",
                                   "params_as_json": '{"date": "tomorrow"}',
                                   "tool_has_been_called": True, "type": "webhook"}]
            turn["tool_results"] = [{"request_id": "req_1", "tool_name": "check_calendar",
                                     "result_value": '{"free": ["09:00", "11:30"]}',
                                     "is_error": False}]
        transcript.append(turn)
    _write(folder / "post_call_transcription.json", {
        "type": "post_call_transcription", "event_timestamp": start + 30, "data": {
            "agent_id": "agent_swift", "conversation_id": "conv_7a1b2c3d4e5f",
            "status": "done", "transcript": transcript, "has_audio": False,
            "metadata": {"start_time_unix_secs": start, "call_duration_secs": 19,
                         "termination_reason": "Client disconnected",
                         "phone_call": {"direction": "inbound", "type": "twilio",
                                        "external_number": "+14155550801",
                                        "agent_number": "+14155550000"}},
            "analysis": {"call_successful": "success",
                         "transcript_summary": "Booked a boiler check for 9 am tomorrow.",
                         "call_summary_title": "Boiler check booked",
                         "evaluation_criteria_results": {"booked": {
                             "criteria_id": "booked", "result": "success",
                             "rationale": "A time was agreed."}}}}})


def bland(out: Path) -> None:
    """A Bland call's details: an outbound call with transcripts and analysis."""
    folder = out / "bland"
    folder.mkdir()
    start = at(2.4)
    lines = [("assistant", "Hello, this is Luna Bistro confirming your table for tonight.", 1),
             ("user", "Yes, we will be there at eight.", 5),
             ("assistant", "Wonderful, see you at eight.", 8)]
    _write(folder / "call.json", {
        "call_id": "9f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "c_id": "9f1c2e3d-4b5a-4c6d-8e7f-"
        "0a1b2c3d4e5f", "to": "+14155550901", "from": "+14155550000", "inbound": False,
        "created_at": rfc3339(start), "started_at": rfc3339(start), "call_length": 0.2,
        "corrected_duration": "12", "completed": True, "queue_status": "complete",
        "status": "completed", "answered_by": "human", "call_ended_by": "ASSISTANT",
        "summary": "The guest confirmed the table for eight.",
        "transcripts": [{"id": n, "user": user, "text": said, "c_id": "9f1c2e3d",
                         "created_at": rfc3339(start + timedelta(seconds=second))}
                        for n, (user, said, second) in enumerate(lines, 1)],
        "concatenated_transcript": "\n".join(f"{user}: {said}" for user, said, _ in lines),
        "analysis": {"confirmed": True, "party_size": 4}, "recording_url": None,
        "variables": {"restaurant": "Luna Bistro"}})


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _write(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


README = """# Demo calls

Loaded by `callviewer demo` and by "Load demo calls" in the window. Made by
`python tests/tools/make_demo.py` (espeak-ng voices for the agent and the
customer, sox, lame mono 32 kbit/s); the transcripts' message times are
measured from the synthesised audio, so following the transcript while
playing is exact.

- `agent-platform.json`: a calls-API page of detail records: nine with
  recordings beside them (names in Arabic, Chinese, with an emoji, with
  accents), a 320-message transcript, a missed call, a purged call and a
  deleted one. One transcript line looks like HTML and must show as text.
- `twilio.json`: call-module records, three with `{call_sid}.mp3` beside them;
  analysis runs; one call without a recording.
- `vapi/`: an end-of-call report with a recording and timed messages, a
  status update of a call in progress, and Call objects with `AI:`/`User:`
  text transcripts (voicemail, silence timeout).
- `voipbin.json`: Call objects over every hangup reason; one recording as
  `{recording_id}.mp3`.
- `wavekat.ndjson`: VoiceCallRecords in camelCase and snake_case, every
  disposition.
- `twilio-api/`: a page of Twilio REST Call resources (answered, not answered)
  and a page of Recording resources; the recording as `{RecordingSid}.mp3`.
- `retell/`: a Retell `call_analyzed` webhook: word-timed transcript, a tool
  call and its result, call analysis, a recording beside it.
- `elevenlabs/`: an ElevenLabs `post_call_transcription` webhook: turns timed
  in the call, a tool call, an evaluation criterion.
- `bland/`: a Bland call's details: an outbound call, its transcript lines and
  analysis.
"""


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as work:
        agent_platform(out, Path(work))
        twilio(out, Path(work))
        vapi(out, Path(work))
        voipbin(out, Path(work))
        twilio_api(out, Path(work))
        retell(out, Path(work))
    wavekat(out)
    elevenlabs(out)
    bland(out)
    (out / "README.md").write_text(README, encoding="utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
