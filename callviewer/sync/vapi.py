"""Vapi: a server message (status-update, end-of-call-report) or a Call object.

Read from Vapi's API reference (the OpenAPI spec, https://api.vapi.ai/api-json, as of
June 2026: components.schemas Call, Artifact, ServerMessageEndOfCallReport,
ServerMessageStatusUpdate, BotMessage, UserMessage, SystemMessage, ToolCallMessage,
ToolCall, ToolCallFunction, ToolCallResultMessage, FunctionCall) and the "End-of-call
report" page (https://docs.vapi.ai/server-url/end-of-call-report). Reports also carry
``durationMs``, ``durationSeconds`` and ``durationMinutes``, which the spec omits
(VapiAI/server-sdk-typescript issue #26 "ServerMessageEndOfCallReport is not exposing
duration fields"); message ``duration`` is in milliseconds in real reports (it equals
``endTime - time``), though the spec says seconds.

Detection: ``{"message": {"type": T, ...}}`` or a bare message with ``type`` T,
T being "status-update" or "end-of-call-report"; or a Call: it has ``orgId``,
or ``type`` inboundPhoneCall / outboundPhoneCall / webCall / vapi.websocketCall.

A message's own fields win over its embedded ``call`` (a copy that may be
stale). Errors name a field as the message holds it (``call.id``, ``status``).

    source field                        canonical field
    ----------------------------------  ---------------------------------------------
    message.call.id, or the Call's id   source_id (required)
    call.type inboundPhoneCall /        direction inbound / outbound (else unknown)
    outboundPhoneCall
    customer.number, customer.name      customer_number, customer_name
    customer.number, phoneNumber.number from_number, to_number: customer → business
                                        when inbound, business → customer when outbound
    status, endedReason                 outcome: in_progress until ended (a report is
                                        ended), then by endedReason (ENDED, then
                                        ENDED_RULES; "unknown" only if none applies)
    endedReason                         end_reason, unchanged; ended_by (_ENDED_BY)
    messages, else artifact.messages    transcript; secondsFromStart, duration (ms),
                                        time and endTime (epoch ms) → ms from start:
      role bot / user / system …          agent / customer / system lines
      the first message, role system      not a line: extras["system_prompt"] (the
                                          assistant's prompt; later system lines stay)
      tool_calls: toolCalls[].id,         one tool entry per call: name, arguments (JSON
      .function.name, .arguments          text decoded when it decodes, else the text)
      tool_call_result: toolCallId,       joins the call of that id (its time ends the
      name, result                        call's entry); unmatched: a tool entry of its own
      function_call: name, args           (older reports) a tool entry, args as arguments
      function_result: name, result       joins the oldest open function_call of that name
    transcript, else artifact.          transcript split from "AI: …" lines, else
    transcript                          transcript_text
    summary, else analysis.summary      summary
    analysis.successEvaluation          success when true/false (also kept in extras)
    artifact.recordingUrl, artifact.    recording (resolve_recording), has_recording
    recording.mono.combinedUrl,
    recordingUrl
    startedAt, endedAt, createdAt       started_at, ended_at, created_at
    without startedAt / endedAt         started_at = the first message's time, ended_at =
                                        the latest endTime (or time) of the messages;
                                        without either, started_at = createdAt
    durationMs, else durationSeconds    duration_ms; else ended_at - started_at (a real
                                        start, not createdAt), whatever the outcome: a
                                        voicemail or a failed call that connected has one
    updatedAt of a bare Call            updated_at (a message's call.updatedAt may be
                                        stale: extras)
    assistantId                         agent_id
    cost, durationMinutes, assistant,   extras, verbatim (the call's rest under "call")
    timestamp, …

progress: scheduled 0 < queued 1 < ringing 2 < in-progress 3 < forwarding 4 <
ended 5 < end-of-call-report 6; a bare Call that has ended is final too (6).
"""

from __future__ import annotations

from typing import Any

import orjson

from callviewer.record import RecordError, message, split_speaker_text, tool_message, validate
from callviewer.sync.base import (
    Origin,
    describe,
    epoch_time,
    extras_of,
    items,
    mapping,
    number,
    resolve_recording,
    role_for,
    text,
    time,
)

NAME = "vapi"
ID_KEYS = ("id",)  # the record's own id, named in a reject line

# --- endedReason → outcome ------------------------------------------------------------
# The plain values of the spec's endedReason (June 2026), each by name. Checked against
# every value: tests/fixtures/vapi/ended_reasons.txt.
ENDED = {
    # The call was connected and ended by one side, a limit, or a hand-over.
    "customer-ended-call": "answered",
    "customer-ended-call-during-transfer": "answered",
    "customer-ended-call-before-warm-transfer": "answered",
    "customer-ended-call-after-warm-transfer-attempt": "answered",
    "assistant-ended-call": "answered",
    "assistant-ended-call-after-message-spoken": "answered",
    "assistant-ended-call-with-hangup-task": "answered",
    "assistant-said-end-call-phrase": "answered",
    "assistant-forwarded-call": "answered",
    "assistant-request-returned-forwarding-phone-number": "answered",  # forwarded at once
    "exceeded-max-duration": "answered",
    "silence-timed-out": "answered",  # the caller went quiet mid-call: not a fault
    "call.in-progress.twilio-completed-call": "answered",
    "call.in-progress.sip-completed-call": "answered",
    "vonage-completed": "answered",
    "call.ending.hook-executed-say": "answered",
    "call.ending.hook-executed-transfer": "answered",
    "call.ringing.hook-executed-say": "answered",  # the caller heard the hook's message
    "call.ringing.hook-executed-transfer": "answered",  # …or was transferred by it
    # Nobody took the call.
    "customer-did-not-answer": "missed",
    "customer-did-not-give-microphone-permission": "missed",  # a web call never joined
    "call.ringing.sip-inbound-caller-hungup-before-call-connect": "missed",
    "twilio-reported-customer-misdialed": "missed",
    "customer-busy": "busy",
    "call.forwarding.operator-busy": "busy",
    "voicemail": "voicemail",
    "manually-canceled": "canceled",
    "call-deleted": "canceled",
    "scheduled-call-deleted": "canceled",
    # Vapi, the assistant's server or the carrier failed.
    "assistant-join-timed-out": "failed",
    "assistant-not-found": "failed",
    "assistant-not-valid": "failed",
    "assistant-request-failed": "failed",
    "assistant-request-returned-error": "failed",
    "assistant-request-returned-invalid-assistant": "failed",
    "assistant-request-returned-no-assistant": "failed",
    "assistant-request-returned-unspeakable-error": "failed",
    "call-start-error-neither-assistant-nor-server-set": "failed",
    "call.ringing.error-sip-inbound-call-failed-to-connect": "failed",
    "phone-call-provider-bypass-enabled-but-no-call-received": "failed",
    "phone-call-provider-closed-websocket": "failed",
    "twilio-failed-to-connect-call": "failed",
    "vonage-disconnected": "failed",  # listed among the error reasons in Vapi's reference
    "vonage-failed-to-connect-call": "failed",
    "vonage-rejected": "failed",
    "worker-shutdown": "failed",
}
# Then, for the hundreds of structured values (call.in-progress.error-…, pipeline-error-…,
# call.start.error-…) and any value added later: the first rule one of whose words the
# value contains. Errors come first: "…-eleven-labs-system-busy-…" is a fault, not a busy
# line, and "…-warm-transfer-assistant-cancelled" a failed transfer, not a cancellation.
ENDED_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("failed", ("error", "fault", "failed", "not-found", "not-valid", "invalid", "timed-out",
                "shutdown", "rejected", "not-provided", "no-available", "no-server")),
    ("answered", ("completed",)),
    ("missed", ("no-answer", "did-not-answer", "hungup-before-call-connect", "misdialed")),
    ("busy", ("busy",)),
    ("voicemail", ("voicemail",)),
    ("canceled", ("deleted", "canceled", "cancelled")),
    ("answered", ("ended-call", "end-call", "transfer", "forward", "hook-executed")),
)


def ended_outcome(reason: str) -> str:
    """The outcome of an ended call by its endedReason: ENDED, else the first of ENDED_RULES
    that applies, else "unknown"."""
    key = reason.strip().lower()
    if key in ENDED:
        return ENDED[key]
    return next((outcome for outcome, words in ENDED_RULES
                 if any(word in key for word in words)), "unknown")


# --- the rest ---------------------------------------------------------------------------
MESSAGE_TYPES = ("status-update", "end-of-call-report")
CALL_TYPES = {"inboundPhoneCall": "inbound", "outboundPhoneCall": "outbound",
              "webCall": "unknown", "vapi.websocketCall": "unknown"}
_PROGRESS = {"scheduled": 0, "queued": 1, "ringing": 2, "in-progress": 3, "forwarding": 4,
             "ended": 5}
FINAL = 6
_ENDED_BY = (("customer-ended-call", "customer"), ("assistant-ended-call", "agent"),
             ("assistant-said-end-call-phrase", "agent"), ("assistant-forwarded-call", "agent"))
# What the parser reads, for extras: a nested spec maps only those sub-keys.
_READ = {
    "id": None, "type": None, "status": None, "endedReason": None, "messages": None,
    "transcript": None, "summary": None, "startedAt": None, "endedAt": None, "createdAt": None,
    "updatedAt": None, "recordingUrl": None, "assistantId": None, "durationMs": None,
    "durationSeconds": None,
    "customer": {"number": None, "name": None},
    "phoneNumber": {"number": None}, "analysis": {"summary": None},
    "artifact": {"messages": None, "transcript": None, "recordingUrl": None,
                 "recording": {"mono": {"combinedUrl": None}}},
}
_READ_IN_MESSAGE = {key: spec for key, spec in _READ.items() if key != "updatedAt"}
_TOOL_CALLS, _TOOL_RESULT = "tool_calls", "tool_call_result"
_FUNCTION_CALL, _FUNCTION_RESULT = "function_call", "function_result"  # older reports


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like a Vapi server message or Call (empty: not)."""
    inner = obj.get("message")
    wrapped = isinstance(inner, dict)
    kind = inner.get("type") if wrapped else obj.get("type")
    if kind in MESSAGE_TYPES:
        return ("message.type",) if wrapped else ("type",)
    if "orgId" in obj:
        return ("orgId",)
    return ("type",) if isinstance(kind, str) and kind in CALL_TYPES else ()


def parse(obj: dict, origin: Origin) -> dict:
    """A Vapi server message or Call as a partial canonical record."""
    fields, names, extras, kind = _unwrap(obj)
    call = fields["call"]
    source_id = text(call, "id", names["id"])
    if not source_id or not source_id.strip():
        raise RecordError(names["id"], "is missing; every call needs its id")
    record: dict = {"source": NAME, "source_id": source_id, "extras": extras}
    if "type" in call:
        record["direction"] = CALL_TYPES.get(text(call, "type", names["type"]) or "", "unknown")
    _parties(record, fields, names)
    _status(record, fields, names, kind)
    listed, where = _messages(fields, names)
    _times(record, fields, names, listed, where)
    if listed:
        _transcript(record, listed, where)
    else:
        _text_transcript(record, fields, names)
    _analysis(record, fields, names)
    _recording(record, fields, names, origin)
    return validate(record)


def _unwrap(obj: dict) -> tuple[dict, dict[str, str], dict, str | None]:
    """The fields to read (a message's over its call's), their names for errors, the extras,
    and the message type (None for a bare Call). ``fields["call"]`` is the call object."""
    wrapped = isinstance(obj.get("message"), dict)
    inner = obj["message"] if wrapped else obj
    kind = inner.get("type")
    if kind not in MESSAGE_TYPES:
        if wrapped:
            raise RecordError("message.type", f"{describe(kind)} is not a status-update or "
                                              "end-of-call-report")
        names = {key: key for key in [*obj, "id", "type"]}
        return {**obj, "call": obj}, names, extras_of(obj, _READ), None
    call = mapping(inner, "call") or {}
    # The embedded call's updatedAt is a copy that may be stale: it stays in extras.
    fields = {key: value for key, value in call.items() if key not in ("type", "updatedAt")}
    names = {key: f"call.{key}" for key in [*call, "id", "type"]}
    for key, value in inner.items():
        if key not in ("call", "type"):
            fields[key], names[key] = value, key
    fields["call"] = call
    extras = extras_of(obj, {"message": None}) if wrapped else {}
    extras.update(extras_of(inner, {**_READ, "call": _READ_IN_MESSAGE}))
    return fields, names, extras, kind


def _parties(record: dict, fields: dict, names: dict[str, str]) -> None:
    """Customer and business numbers, placed as from/to by direction."""
    customer = mapping(fields, "customer", names.get("customer"))
    business = mapping(fields, "phoneNumber", names.get("phoneNumber"))
    theirs = ours = None
    if customer is not None:
        theirs = text(customer, "number", f"{names['customer']}.number")
        record["customer_number"] = theirs
        if "name" in customer:
            record["customer_name"] = text(customer, "name", f"{names['customer']}.name")
    if business is not None:
        ours = text(business, "number", f"{names['phoneNumber']}.number")
    direction = record.get("direction")
    if direction in ("inbound", "outbound"):
        caller, called = (theirs, ours) if direction == "inbound" else (ours, theirs)
        if caller is not None:
            record["from_number"] = caller
        if called is not None:
            record["to_number"] = called


def _status(record: dict, fields: dict, names: dict[str, str], kind: str | None) -> None:
    """outcome, end_reason, ended_by and progress."""
    status = text(fields, "status", names.get("status"))
    if kind == "end-of-call-report":
        status = "ended"
    reason = text(fields, "endedReason", names.get("endedReason"))
    if "endedReason" in fields:
        record["end_reason"] = reason
        ended_by = next((who for prefix, who in _ENDED_BY if (reason or "").startswith(prefix)),
                        None)
        if ended_by:
            record["ended_by"] = ended_by
    if status == "ended":
        record["outcome"] = ended_outcome(reason) if reason else "unknown"
    elif status is not None:
        record["outcome"] = "in_progress"
    if kind == "end-of-call-report" or (kind is None and status == "ended"):
        record["progress"] = FINAL
    elif status in _PROGRESS:
        record["progress"] = _PROGRESS[status]


def _messages(fields: dict, names: dict[str, str]) -> tuple[list[dict], str]:
    """The call's messages (``messages``, else ``artifact.messages``) and their field name."""
    listed = items(fields, "messages", names.get("messages"))
    where = names.get("messages", "messages")
    if not listed:
        artifact = mapping(fields, "artifact", names.get("artifact")) or {}
        where = f"{names.get('artifact', 'artifact')}.messages"
        listed = items(artifact, "messages", where)
    for index, item in enumerate(listed or ()):
        if not isinstance(item, dict):
            raise RecordError(f"{where}[{index}]", "expected a message object")
    return listed or [], where


def _times(record: dict, fields: dict, names: dict[str, str], listed: list[dict],
           where: str) -> None:
    """started_at, ended_at, created_at, updated_at, agent_id and duration_ms."""
    for key, field in (("startedAt", "started_at"), ("endedAt", "ended_at"),
                       ("createdAt", "created_at"), ("updatedAt", "updated_at"),
                       ("assistantId", "agent_id")):
        if key in fields:
            getter = time if field.endswith("_at") else text
            record[field] = getter(fields, key, names[key])
    first, last = _message_span(listed, where)
    if record.get("started_at") is None and first is not None:
        record["started_at"] = first
    if record.get("ended_at") is None and last is not None:
        record["ended_at"] = last
    started, ended = record.get("started_at"), record.get("ended_at")
    duration = _reported_duration(fields, names)
    if duration is not None:
        record["duration_ms"] = duration
    elif started is not None and ended is not None and ended >= started:
        record["duration_ms"] = (ended - started) // 1000
    if started is None and record.get("created_at") is not None:
        record["started_at"] = record["created_at"]  # a date for a call that never started


def _message_span(listed: list[dict], where: str) -> tuple[int | None, int | None]:
    """(the first message's time, the latest endTime or time), epoch microseconds."""
    first = last = None
    for index, item in enumerate(listed):
        name = f"{where}[{index}]"
        at = epoch_time(item, "time", "ms", f"{name}.time")
        until = epoch_time(item, "endTime", "ms", f"{name}.endTime")
        if first is None and at is not None:
            first = at
        for moment in (at, until):
            if moment is not None and (last is None or moment > last):
                last = moment
    return first, last


def _reported_duration(fields: dict, names: dict[str, str]) -> int | None:
    """The report's durationMs, else its durationSeconds, in ms; None when it has neither."""
    for key, scale in (("durationMs", 1), ("durationSeconds", 1000)):
        value = number(fields, key, names.get(key))
        if value is not None:
            if value < 0:
                raise RecordError(names[key], f"{describe(value)} is not a duration")
            return round(value * scale)
    return None


def _transcript(record: dict, listed: list[dict], where: str) -> None:
    """The messages as transcript entries; the assistant's prompt to extras."""
    prompt = listed[0] if listed[0].get("role") == "system" else None
    if prompt is not None:
        said = _said(prompt, f"{where}[0]")
        if said:
            record["extras"]["system_prompt"] = said
    start_ms = record["started_at"] // 1000 if record.get("started_at") else None
    entries: list[dict] = []
    by_id: dict[str, dict] = {}  # tool call id: its entry, awaiting the result
    by_name: dict[str, list[dict]] = {}  # older function calls awaiting a result, by name
    for index, item in enumerate(listed):
        if item is prompt:
            continue
        name = f"{where}[{index}]"
        role = item.get("role")
        start, end = _span(item, name, start_ms)
        if role == _TOOL_CALLS:
            for n, call in enumerate(items(item, "toolCalls", f"{name}.toolCalls") or ()):
                entry, call_id = _tool_call(call, f"{name}.toolCalls[{n}]", start, end)
                entries.append(entry)
                if call_id:
                    by_id[call_id] = entry
        elif role == _FUNCTION_CALL:
            called = text(item, "name", f"{name}.name")
            entry = tool_message(called, _arguments(item.get("args")), None, start, end)
            entries.append(entry)
            by_name.setdefault(called or "", []).append(entry)
        elif role in (_TOOL_RESULT, _FUNCTION_RESULT):
            called = text(item, "name", f"{name}.name")
            if role == _TOOL_RESULT:
                call = by_id.pop(text(item, "toolCallId", f"{name}.toolCallId") or "", None)
            else:
                waiting = by_name.get(called or "")
                call = waiting.pop(0) if waiting else None
            if call is None:
                entries.append(tool_message(called, None, item.get("result"), start, end))
            else:
                _answer(call, item.get("result"), start)
        else:
            entries.append(message(role_for(role), _said(item, name) or "", start, end))
    record["transcript"] = entries


def _said(item: dict, name: str) -> str | None:
    return text(item, "message", f"{name}.message") or text(item, "content", f"{name}.content")


def _tool_call(call: object, name: str, start: int | None,
               end: int | None) -> tuple[dict, str | None]:
    """A tool call's entry (its result to come) and its id."""
    if not isinstance(call, dict):
        raise RecordError(name, "expected a tool call object")
    function = mapping(call, "function", f"{name}.function") or {}
    called = text(function, "name", f"{name}.function.name")
    entry = tool_message(called, _arguments(function.get("arguments")), None, start, end)
    return entry, text(call, "id", f"{name}.id")


def _answer(entry: dict, result: Any, at: int | None) -> None:
    """Join a result to its call's entry; the result's time ends the call."""
    tool = entry["tool"]
    start, end = entry["start_ms"], entry["end_ms"]
    if at is not None and (start is None or at >= start):
        end = at
    entry.update(tool_message(tool["name"], tool["arguments"], result, start, end))


def _arguments(value: Any) -> Any:
    """A call's arguments: JSON text decoded when it decodes, else as given."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _span(item: dict, name: str, call_start_ms: int | None) -> tuple[int | None, int | None]:
    """(start, end) of one message in ms from the call's start."""
    seconds = number(item, "secondsFromStart", f"{name}.secondsFromStart")
    at, until = number(item, "time", f"{name}.time"), number(item, "endTime", f"{name}.endTime")
    start = round(seconds * 1000) if seconds is not None else None
    if start is None and at is not None and call_start_ms is not None:
        start = round(at - call_start_ms)
    duration = number(item, "duration", f"{name}.duration")
    end = None
    if until is not None and start is not None and at is not None:
        end = start + round(until - at)
    elif start is not None and duration is not None:
        end = start + round(duration)
    elif until is not None and call_start_ms is not None:
        end = round(until - call_start_ms)
    return start, end


def _text_transcript(record: dict, fields: dict, names: dict[str, str]) -> None:
    """A transcript from the ``transcript`` text, when there are no messages."""
    artifact = mapping(fields, "artifact", names.get("artifact")) or {}
    where = names.get("artifact", "artifact")
    said = (text(fields, "transcript", names.get("transcript"))
            or text(artifact, "transcript", f"{where}.transcript"))
    if said:
        split = split_speaker_text(said)
        record["transcript" if split else "transcript_text"] = split or said


def _analysis(record: dict, fields: dict, names: dict[str, str]) -> None:
    analysis = mapping(fields, "analysis", names.get("analysis")) or {}
    summary = text(fields, "summary", names.get("summary"))
    if summary is None:
        summary = text(analysis, "summary", f"{names.get('analysis')}.summary")
    if summary is not None or "summary" in fields or "summary" in analysis:
        record["summary"] = summary
    verdict = analysis.get("successEvaluation")
    if isinstance(verdict, str) and verdict.strip().lower() in ("true", "false"):
        verdict = verdict.strip().lower() == "true"
    if isinstance(verdict, bool):
        record["success"] = verdict


def _recording(record: dict, fields: dict, names: dict[str, str], origin: Origin) -> None:
    artifact = mapping(fields, "artifact", names.get("artifact")) or {}
    where = names.get("artifact", "artifact")
    recording = artifact.get("recording")
    mono = recording.get("mono") if isinstance(recording, dict) else None
    candidates = [text(artifact, "recordingUrl", f"{where}.recordingUrl"),
                  text(mono, "combinedUrl", f"{where}.recording.mono.combinedUrl")
                  if isinstance(mono, dict) else None,
                  text(fields, "recordingUrl", names.get("recordingUrl"))]
    url = next((candidate for candidate in candidates if candidate), None)
    if url:
        record["recording"] = resolve_recording(url, origin)
        record["has_recording"] = True
