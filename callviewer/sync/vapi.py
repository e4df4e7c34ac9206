"""Vapi: a server message (status-update, end-of-call-report) or a Call object.

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
                                        ended), then by endedReason (_ENDED)
    endedReason                         end_reason, unchanged; ended_by (_ENDED_BY)
    messages, else artifact.messages    transcript; secondsFromStart, duration (ms),
                                        time and endTime (epoch ms) → ms from start
    transcript, else artifact.          transcript split from "AI: …" lines, else
    transcript                          transcript_text
    summary, else analysis.summary      summary
    analysis.successEvaluation          success when true/false (also kept in extras)
    artifact.recordingUrl, artifact.    recording (resolve_recording), has_recording
    recording.mono.combinedUrl,
    recordingUrl
    startedAt, endedAt, createdAt       started_at, ended_at, created_at; duration_ms =
                                        endedAt - startedAt when answered
    updatedAt of a bare Call            updated_at (a message's call.updatedAt may be
                                        stale: extras)
    assistantId                         agent_id
    cost, assistant, timestamp, …       extras, verbatim (the call's rest under "call")

progress: scheduled 0 < queued 1 < ringing 2 < in-progress 3 < forwarding 4 <
ended 5 < end-of-call-report 6; a bare Call that has ended is final too (6).
"""

from __future__ import annotations

from callviewer.record import RecordError, message, split_speaker_text, validate
from callviewer.sync.base import (
    Origin,
    describe,
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

MESSAGE_TYPES = ("status-update", "end-of-call-report")
CALL_TYPES = {"inboundPhoneCall": "inbound", "outboundPhoneCall": "outbound",
              "webCall": "unknown", "vapi.websocketCall": "unknown"}
_PROGRESS = {"scheduled": 0, "queued": 1, "ringing": 2, "in-progress": 3, "forwarding": 4,
             "ended": 5}
FINAL = 6
_ENDED = {
    "customer-ended-call": "answered", "assistant-ended-call": "answered",
    "assistant-said-end-call-phrase": "answered", "exceeded-max-duration": "answered",
    "assistant-ended-call-after-message-spoken": "answered",
    "assistant-ended-call-with-hangup-task": "answered", "assistant-forwarded-call": "answered",
    "silence-timed-out": "answered",
    "customer-did-not-answer": "missed", "customer-did-not-give-microphone-permission": "missed",
    "customer-busy": "busy", "voicemail": "voicemail", "manually-canceled": "canceled",
}
_ENDED_BY = (("customer-ended-call", "customer"), ("assistant-ended-call", "agent"),
             ("assistant-said-end-call-phrase", "agent"), ("assistant-forwarded-call", "agent"))
# What the parser reads, for extras: a nested spec maps only those sub-keys.
_READ = {
    "id": None, "type": None, "status": None, "endedReason": None, "messages": None,
    "transcript": None, "summary": None, "startedAt": None, "endedAt": None, "createdAt": None,
    "updatedAt": None, "recordingUrl": None, "assistantId": None,
    "customer": {"number": None, "name": None},
    "phoneNumber": {"number": None}, "analysis": {"summary": None},
    "artifact": {"messages": None, "transcript": None, "recordingUrl": None,
                 "recording": {"mono": {"combinedUrl": None}}},
}
_READ_IN_MESSAGE = {key: spec for key, spec in _READ.items() if key != "updatedAt"}


def matches(obj: dict) -> bool:
    """Whether `obj` looks like a Vapi server message or Call."""
    inner = obj.get("message")
    kind = inner.get("type") if isinstance(inner, dict) else obj.get("type")
    return kind in MESSAGE_TYPES or "orgId" in obj or (
        isinstance(kind, str) and kind in CALL_TYPES)


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
    for key, field in (("startedAt", "started_at"), ("endedAt", "ended_at"),
                       ("createdAt", "created_at"), ("updatedAt", "updated_at"),
                       ("assistantId", "agent_id")):
        if key in fields:
            getter = time if field.endswith("_at") else text
            record[field] = getter(fields, key, names[key])
    started, ended = record.get("started_at"), record.get("ended_at")
    if record.get("outcome") == "answered" and started is not None and ended is not None \
            and ended >= started:
        record["duration_ms"] = (ended - started) // 1000
    _transcript(record, fields, names)
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
        record["outcome"] = _ended_outcome(reason) if reason else "unknown"
    elif status is not None:
        record["outcome"] = "in_progress"
    if kind == "end-of-call-report" or (kind is None and status == "ended"):
        record["progress"] = FINAL
    elif status in _PROGRESS:
        record["progress"] = _PROGRESS[status]


def _ended_outcome(reason: str) -> str:
    if reason in _ENDED:
        return _ENDED[reason]
    if "error" in reason or "failed" in reason:  # pipeline-error-*, twilio-failed-to-connect-call
        return "failed"
    return "unknown"


def _transcript(record: dict, fields: dict, names: dict[str, str]) -> None:
    artifact = mapping(fields, "artifact", names.get("artifact")) or {}
    where = names.get("artifact", "artifact")
    listed = items(fields, "messages", names.get("messages"))
    name = names.get("messages")
    if not listed:
        listed, name = items(artifact, "messages", f"{where}.messages"), f"{where}.messages"
    if listed:
        start_ms = record["started_at"] // 1000 if record.get("started_at") else None
        record["transcript"] = [_entry(item, f"{name}[{index}]", start_ms)
                                for index, item in enumerate(listed)]
        return
    said = (text(fields, "transcript", names.get("transcript"))
            or text(artifact, "transcript", f"{where}.transcript"))
    if said:
        split = split_speaker_text(said)
        record["transcript" if split else "transcript_text"] = split or said


def _entry(item: object, name: str, call_start_ms: int | None) -> dict:
    """One Vapi message as a transcript entry, its times in ms from the call's start."""
    if not isinstance(item, dict):
        raise RecordError(name, "expected a message object")
    said = text(item, "message", f"{name}.message") or text(item, "content", f"{name}.content")
    seconds = number(item, "secondsFromStart", f"{name}.secondsFromStart")
    at, until = number(item, "time", f"{name}.time"), number(item, "endTime", f"{name}.endTime")
    start = round(seconds * 1000) if seconds is not None else None
    if start is None and at is not None and call_start_ms is not None:
        start = round(at - call_start_ms)
    duration = number(item, "duration", f"{name}.duration")
    end = None
    if start is not None and duration is not None:
        end = start + round(duration)
    elif until is not None and start is not None and at is not None:
        end = start + round(until - at)
    elif until is not None and call_start_ms is not None:
        end = round(until - call_start_ms)
    return message(role_for(item.get("role")), said or "", start, end)


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
