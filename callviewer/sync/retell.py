"""Retell AI: a call object, from get-call, list-calls or a call webhook.

Read from Retell's API reference: "Get Call" (GET /v2/get-call/{call_id}) and
"List Calls" (POST /v2/list-calls, now POST /v3/list-calls), as typed in Retell's
generated SDK (github.com/RetellAI/retell-python-sdk, src/retell/types/
phone_call_response.py, web_call_response.py, call_list_response.py); the
webhook guide (docs.retellai.com/features/webhook-overview: call_started,
call_ended "all fields except call_analysis", call_analyzed); and "Debug call
disconnection" (docs.retellai.com/reliability/debug-call-disconnect) for what
each ``disconnection_reason`` means.

Detection: the object has a key only Retell writes: ``call_status``,
``start_timestamp``, ``end_timestamp``, ``transcript_object``,
``transcript_with_tool_calls``, ``call_analysis``, ``retell_llm_dynamic_variables``,
``agent_version``, ``public_log_url``, ``recording_multi_channel_url``…, or a
``call_type`` of ``phone_call`` / ``web_call``. (``call_id`` and
``disconnection_reason`` alone are not enough: Bland and the agent platform
write them too.)

Times: ``start_timestamp`` / ``end_timestamp`` are epoch MILLISECONDS; word
times in transcripts are seconds from the start of the call's audio.

    source field                    canonical field
    ------------------------------  ---------------------------------------------------
    call_id (required)              source_id
    direction inbound / outbound    direction; a web_call (no direction) is inbound:
                                    the person on the web page calls the agent
    from_number, to_number          from_number, to_number; customer_number = from
                                    (inbound), to (outbound)
    start_timestamp, end_timestamp  started_at, ended_at
    duration_ms                     duration_ms; else end − start
    call_status, disconnection_     outcome (_outcome); registered / ongoing:
    reason, call_analysis.          in_progress; error: failed; voicemail_reached or
    in_voicemail                    in_voicemail: voicemail
    disconnection_reason            end_reason, unchanged; ended_by user_hangup →
                                    customer, agent_hangup → agent; error: a sentence
                                    for a failed call
    transcript_with_tool_calls,     transcript: utterances (agent; user → customer;
    else transcript_object, else    transfer_target → agent) timed by their first and
    transcript ("Agent: …")         last words; tool_call_invocation + tool_call_result
                                    (paired by tool_call_id) as tool messages; dtmf, sms,
                                    injected, node_transition as system lines. The
                                    scrubbed_ (PII-free) version when it is the only one
    call_analysis.call_summary      summary
    call_analysis.call_successful   success
    call_analysis (whole)           analysis: one run "Retell call analysis" (sentiment,
                                    success, voicemail, custom_analysis_data as text),
                                    created_at = ended_at; kept verbatim in extras too
    recording_url (else scrubbed_   recording (resolve_recording), has_recording
    recording_url)
    agent_id                        agent_id
    call_type, agent_version,       extras, verbatim
    agent_name, call_cost, latency,
    metadata, …, other keys

progress: registered 0 < ongoing 1 < ended / not_connected / error 2 (call_ended)
< the same with call_analysis 3 (call_analyzed), so a call_ended sent again after
call_analyzed never takes the analysis away.
"""

from __future__ import annotations

from typing import Any

import orjson

from callviewer.record import RecordError, message, split_speaker_text, tool_message, validate
from callviewer.sync.base import (
    Origin,
    boolean,
    epoch_time,
    extras_of,
    integer,
    items,
    mapping,
    number,
    resolve_recording,
    signature_keys,
    text,
)

NAME = "retell"
ID_KEYS: tuple[str, ...] = ("call_id",)

_SIGNATURE = {
    "call_status", "start_timestamp", "end_timestamp", "transcript_object",
    "transcript_with_tool_calls", "scrubbed_transcript_with_tool_calls", "call_analysis",
    "retell_llm_dynamic_variables", "collected_dynamic_variables", "agent_version",
    "public_log_url", "recording_multi_channel_url", "opt_out_sensitive_data_storage",
    "llm_token_usage",
}
_CALL_TYPES = ("phone_call", "web_call")
_DIRECTIONS = ("inbound", "outbound")

_ANSWERED = ("user_hangup", "agent_hangup", "call_transfer", "inactivity",
             "max_duration_reached", "transfer_bridged", "transfer_cancelled",
             "call_take_over", "manual_stopped")
# The outcome of each documented disconnection_reason (machine_detected, error_inbound_webhook,
# error_frontend_corrupted_payload and error_twilio: earlier versions of the API).
_OUTCOMES: dict[str, str] = {
    **dict.fromkeys(_ANSWERED, "answered"),
    "voicemail_reached": "voicemail", "machine_detected": "voicemail",
    "dial_busy": "busy",
    # The callee declined, did not answer, or an IVR answered: no one was reached.
    "dial_no_answer": "missed", "user_declined": "missed", "ivr_reached": "missed",
}
# Why a failed call failed, for staff (from Retell's "Debug call disconnection").
_FAILURES: dict[str, str] = {
    "dial_failed": "Dialing failed (the number may not exist, or ours may be blocked as spam).",
    "invalid_destination": "The number dialed is not valid.",
    "telephony_provider_permission_denied":
        "The telephony provider refused the call (SIP trunk credentials not accepted).",
    "telephony_provider_unavailable": "The telephony provider was unavailable.",
    "sip_routing_error": "The call could not be routed (too many SIP hops, or a loop).",
    "marked_as_spam": "The number dialed is marked as spam.",
    "concurrency_limit_reached": "Retell's limit of calls at once was reached.",
    "no_concurrency_fallback": "Retell's limit of calls at once was reached, with no fallback.",
    "no_valid_payment": "Retell has no valid payment for the account.",
    "scam_detected": "Retell detected a scam for this agent.",
    "registered_call_timeout": "The call did not start in time after it was registered.",
    "error_llm_websocket_open": "The agent's LLM connection did not open.",
    "error_llm_websocket_lost_connection": "The agent's LLM connection broke during the call.",
    "error_llm_websocket_runtime": "The agent's LLM connection was closed with an error.",
    "error_llm_websocket_corrupt_payload": "The agent's LLM sent something Retell could not read.",
    "error_no_audio_received": "No audio was received.",
    "error_asr": "Retell's speech recognition failed.",
    "error_retell": "Retell had a problem of its own.",
    "error_unknown": "An unknown error.",
    "error_user_not_joined": "The user did not join the web call.",
    "error_inbound_webhook": "The inbound call webhook failed.",
    "error_frontend_corrupted_payload": "The web page sent audio Retell could not read.",
    "error_twilio": "The connection to Twilio failed.",
}
_OUTCOMES.update(dict.fromkeys(_FAILURES, "failed"))
_ENDED_BY = {"user_hangup": "customer", "agent_hangup": "agent"}
_LIVE = ("registered", "ongoing")
_PROGRESS = {"registered": 0, "ongoing": 1, "ended": 2, "not_connected": 2, "error": 2}

# Transcript sources, best first; a scrubbed one only when it is all there is.
_TRANSCRIPTS = ("transcript_with_tool_calls", "transcript_object", "transcript",
                "scrubbed_transcript_with_tool_calls")
_SPEAKERS = {"agent": "agent", "user": "customer", "transfer_target": "agent"}
_SENTIMENT = "user_sentiment"


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like a Retell call (empty: it does not)."""
    if obj.get("call_type") in _CALL_TYPES:
        return signature_keys(obj, {*_SIGNATURE, "call_type"})
    return signature_keys(obj, _SIGNATURE)


def parse(obj: dict, origin: Origin) -> dict:
    """A Retell call object as a partial canonical record."""
    source_id = text(obj, "call_id")
    if not source_id or not source_id.strip():
        raise RecordError("call_id", "is missing; every call needs its id")
    record: dict = {"source": NAME, "source_id": source_id}
    mapped: set[str] = {"call_id", "call_status", "disconnection_reason"}
    _parties(record, obj, mapped)
    _times(record, obj, mapped)
    analysis = mapping(obj, "call_analysis") or {}
    _end(record, obj, analysis)
    _transcript(record, obj, mapped)
    _analysis(record, analysis)
    _recording(record, obj, origin, mapped)
    if "agent_id" in obj:
        record["agent_id"] = text(obj, "agent_id")
        mapped.add("agent_id")
    record["extras"] = extras_of(obj, mapped)  # call_analysis stays whole in extras
    record["progress"] = _progress(obj, analysis)
    return validate(record)


def _parties(record: dict, obj: dict, mapped: set[str]) -> None:
    """direction, the two numbers, and the customer's: the caller of an inbound call."""
    direction = text(obj, "direction")
    if direction is not None:
        record["direction"] = direction if direction in _DIRECTIONS else "unknown"
        mapped.add("direction")
    elif obj.get("call_type") == "web_call":
        record["direction"] = "inbound"
    for key in ("from_number", "to_number"):
        if key in obj:
            record[key] = text(obj, key) or None
            mapped.add(key)
    customer = {"inbound": "from_number", "outbound": "to_number"}.get(record.get("direction"))
    if customer in record:
        record["customer_number"] = record[customer]


def _times(record: dict, obj: dict, mapped: set[str]) -> None:
    """started_at, ended_at (epoch ms) and duration_ms, given or end − start."""
    for key, field in (("start_timestamp", "started_at"), ("end_timestamp", "ended_at")):
        if key in obj:
            record[field] = epoch_time(obj, key, "ms")
            mapped.add(key)
    if "duration_ms" in obj:
        duration = integer(obj, "duration_ms")
        if duration is not None and duration < 0:
            raise RecordError("duration_ms", f"is negative ({duration})")
        mapped.add("duration_ms")
        if duration is not None:
            record["duration_ms"] = duration
            return
    start, end = record.get("started_at"), record.get("ended_at")
    if start is not None and end is not None and end >= start:
        record["duration_ms"] = (end - start) // 1000


def outcome_of(status: str | None, reason: str | None, in_voicemail: bool | None) -> str | None:
    """The canonical outcome of a call_status and disconnection_reason (None: nothing said)."""
    if status in _LIVE:
        return "in_progress"
    if status == "error":
        return "failed"
    if reason is not None:
        outcome = _OUTCOMES.get(reason)
        if outcome is None:  # a reason newer than this program
            outcome = ("failed" if reason.startswith("error") or status == "error" else
                       "missed" if status == "not_connected" else
                       "answered" if status == "ended" else "unknown")
    elif status == "not_connected":
        outcome = "missed"
    elif status == "ended":
        outcome = "answered"
    else:
        return None
    if outcome == "answered" and status == "not_connected":
        return "canceled" if reason == "manual_stopped" else "missed"
    if outcome == "answered" and in_voicemail:
        return "voicemail"
    return outcome


def _end(record: dict, obj: dict, analysis: dict) -> None:
    """outcome, end_reason, ended_by and, for a failed call, error."""
    status = text(obj, "call_status")
    reason = text(obj, "disconnection_reason") or None
    if "disconnection_reason" in obj:
        record["end_reason"] = reason
    if reason in _ENDED_BY:
        record["ended_by"] = _ENDED_BY[reason]
    outcome = outcome_of(status, reason,
                         boolean(analysis, "in_voicemail", "call_analysis.in_voicemail"))
    if outcome is None:
        return
    record["outcome"] = outcome
    if outcome == "failed":
        record["error"] = _FAILURES.get(reason or "") or (
            f"Retell ended the call: {reason.replace('_', ' ')}." if reason
            else "Retell reported an error.")


def _transcript(record: dict, obj: dict, mapped: set[str]) -> None:
    """transcript (or transcript_text) from the best transcript the call has."""
    present = [key for key in _TRANSCRIPTS if key in obj]
    if not present:
        return
    mapped.update(present)
    for key in present:
        value = obj[key]
        if key == "transcript":
            said = text(obj, key)
            if said and said.strip():
                split = split_speaker_text(said)
                record.update({"transcript": split} if split else {"transcript_text": said})
                return
        elif items(obj, key):
            record["transcript"] = _messages(value, key)
            return
    record["transcript"] = None  # every transcript there is, is empty


def _messages(entries: list, key: str) -> list[dict]:
    """Utterances, tool calls (each invocation with its result) and events, in order."""
    messages: list[dict] = []
    calls: dict[str, dict] = {}  # tool_call_id: its message, awaiting the result
    for index, entry in enumerate(entries):
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            raise RecordError(where, "expected a transcript entry object")
        role = entry.get("role")
        if role == "tool_call_invocation":
            invoked = tool_message(text(entry, "name", f"{where}.name"),
                                   _json_text(entry, "arguments", where))
            messages.append(invoked)
            call_id = text(entry, "tool_call_id", f"{where}.tool_call_id")
            if call_id:
                calls[call_id] = invoked
        elif role == "tool_call_result":
            result = _json_text(entry, "content", where)
            invoked = calls.pop(text(entry, "tool_call_id", f"{where}.tool_call_id") or "", None)
            if invoked is None:
                messages.append(tool_message(None, None, result))
            else:
                tool = invoked["tool"]
                invoked.update(tool_message(tool["name"], tool["arguments"], result))
        else:
            messages.append(_entry(entry, where))
    return messages


def _entry(entry: dict, where: str) -> dict:
    """An utterance, timed by its words, or an event of the call as a system line."""
    role = entry.get("role")
    if role in _SPEAKERS:
        start, end = _word_times(entry, where)
        return message(_SPEAKERS[role], text(entry, "content", f"{where}.content") or "",
                       start, end)
    if role == "dtmf":
        return message("system", f"Caller pressed {text(entry, 'digit', f'{where}.digit') or '?'}")
    if role == "node_transition":
        return message("system", "Moved to: " + (
            text(entry, "new_node_name", f"{where}.new_node_name") or ""))
    at = number(entry, "time_sec", f"{where}.time_sec")
    said = text(entry, "content", f"{where}.content") or ""
    if role == "sms":
        said = f"Text message from the caller: {said}"
    elif role == "injected":
        said = f"Context added: {said}"
    return message("system", said, None if at is None else round(at * 1000))


def _word_times(entry: dict, where: str) -> tuple[int | None, int | None]:
    """(start, end) in ms of an utterance: its first word's start and last word's end."""
    words = items(entry, "words", f"{where}.words") or []
    times = []
    for w, word in enumerate(words):
        if not isinstance(word, dict):
            raise RecordError(f"{where}.words[{w}]", "expected a word object")
        times.append((number(word, "start", f"{where}.words[{w}].start"),
                      number(word, "end", f"{where}.words[{w}].end")))
    starts = [start for start, _ in times if start is not None]
    ends = [end for _, end in times if end is not None]
    return (round(starts[0] * 1000) if starts else None,
            round(ends[-1] * 1000) if ends else None)


def _json_text(entry: dict, key: str, where: str) -> Any:
    """A tool's arguments or result: the JSON object or list its text holds, else the text."""
    value = text(entry, key, f"{where}.{key}")
    if value and value.lstrip()[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            pass
    return value


def _analysis(record: dict, analysis: dict) -> None:
    """summary, success, and the analysis as one readable run."""
    if not analysis:
        return
    if "call_summary" in analysis:
        record["summary"] = text(analysis, "call_summary", "call_analysis.call_summary")
    if "call_successful" in analysis:
        record["success"] = boolean(analysis, "call_successful", "call_analysis.call_successful")
    record["analysis"] = [{"analyzer": "Retell call analysis",
                           "text": analysis_text(analysis) or record.get("summary") or "",
                           "created_at": record.get("ended_at")}]


def analysis_text(analysis: dict) -> str:
    """Sentiment, success, voicemail and the custom data of a call_analysis, one per line."""
    lines = []
    sentiment = text(analysis, _SENTIMENT, f"call_analysis.{_SENTIMENT}")
    if sentiment:
        lines.append(f"User sentiment: {sentiment}")
    for key, label in (("call_successful", "Call successful"), ("in_voicemail", "In voicemail")):
        said = boolean(analysis, key, f"call_analysis.{key}")
        if said is not None:
            lines.append(f"{label}: {'yes' if said else 'no'}")
    custom = analysis.get("custom_analysis_data")
    if isinstance(custom, dict):
        lines.extend(f"{name}: {_shown(value)}" for name, value in custom.items())
    elif custom not in (None, "", []):
        lines.append(f"Custom analysis: {_shown(custom)}")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _recording(record: dict, obj: dict, origin: Origin, mapped: set[str]) -> None:
    """recording and has_recording from recording_url (else the scrubbed recording)."""
    key = "recording_url" if obj.get("recording_url") or "scrubbed_recording_url" not in obj \
        else "scrubbed_recording_url"
    if key not in obj:
        return
    url = text(obj, key) or None
    record["recording"] = resolve_recording(url, origin)
    record["has_recording"] = bool(url)
    mapped.add(key)


def _progress(obj: dict, analysis: dict) -> int:
    """The life-cycle rank (see the module's docstring)."""
    status = text(obj, "call_status")
    if status in _PROGRESS:
        rank = _PROGRESS[status]
    elif obj.get("end_timestamp") or obj.get("disconnection_reason"):
        rank = 2
    else:
        rank = 1 if obj.get("start_timestamp") else 0
    return rank + (1 if analysis else 0)
