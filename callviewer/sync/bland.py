"""Bland AI: a call object from Call Details, List Calls or the post-call webhook.

Read from Bland's API reference, https://docs.bland.ai: "Call Details"
(GET /v1/calls/{call_id}, api-v1/get/calls-id), "List Calls" (GET /v1/calls,
api-v1/get/calls), "Get Post Call Webhook" (api-v1/get/postcall-webhooks-get) and
"Event Stream" (api-v1/get/event-stream). A list item is a short call (call_id,
created_at, call_length, to, from, completed, queue_status, error_message,
answered_by, batch_id); the detail and the webhook carry the whole call.

Detection: the object has any of ``c_id``, ``call_length``, ``concatenated_transcript``,
``corrected_duration``, ``call_ended_by``, ``queue_status``, ``pathway_id``,
``pathway_logs``, ``analysis_schema`` or ``local_dialing``: keys of Bland's call and of
no other format here (``answered_by`` is Twilio's too; ``call_id`` Retell's and the agent
platform's; Retell's own keys are ``call_status``, ``start_timestamp``…).

    source field                    canonical field
    ------------------------------  ----------------------------------------------------
    call_id, else c_id (required)   source_id
    inbound true / false            direction inbound / outbound (a list item has none)
    from, to                        from_number, to_number
    from (inbound), to (outbound)   customer_number
    created_at                      created_at
    started_at ("connected"), else  started_at; answered_at = started_at when answered
    created_at
    corrected_duration (seconds,    duration_ms, once the call is over
    text or number), else
    call_length (minutes)
    started_at + that duration,     ended_at, once the call is over. Bland documents
    else end_at                     end_at as the time a live call *will* be cut off
                                    (max_duration), so it is a fallback only
    completed, status, queue_status outcome (_outcome): failed, voicemail, missed, busy,
    answered_by, error_message,     canceled, in_progress, answered, else unknown
    transcripts
    error_message                   error when the call failed
    call_ended_by                   end_reason, unchanged; ended_by ASSISTANT → agent,
                                    USER → customer
    transcripts [{created_at, text, transcript: user → customer, assistant and robot →
    user}]                          agent, agent-action (the agent's actions: transfers,
                                    tools, notes; free text) → system; start_ms = the
                                    line's created_at less the call's start
    concatenated_transcript         transcript split from "user: … \\n assistant: …"
    (without transcripts)           lines, else transcript_text (beside transcripts it is
                                    a copy of them, not kept)
    summary                         summary
    analysis (answers to            one analysis run {"analyzer": "Bland analysis",
    analysis_schema)                "text": "key: value" lines, "created_at": ended_at}
    recording_url                   recording (resolve_recording), has_recording
    pathway_id                      agent_id
    c_id, batch_id, variables,      extras, verbatim (so are completed, status,
    metadata, request_data, price,  queue_status and answered_by; and end_at,
    analysis_schema, pathway_logs,  call_length or error_message when not the one used)
    disposition_tag, transferred_to,
    other keys

progress = 2 × stage + 1 for a whole call (detail or webhook; a List Calls item: + 0), the
stage being: new, queued 0 < allocated, started, in-progress 1 < over 2 (completed true,
or a final status: completed, failed, busy, no-answer, canceled; queue_status complete,
error). ``completed`` is the most current word, as Bland's reference says: while it is
false, a queue_status "complete" is stale. So a list page never undoes a detail.
"""

from __future__ import annotations

from typing import Any

import orjson

from callviewer.record import RecordError, message, split_speaker_text, validate
from callviewer.sync.base import (
    Origin,
    boolean,
    describe,
    items,
    number,
    resolve_recording,
    role_for,
    signature_keys,
    text,
    time,
)

NAME = "bland"
ID_KEYS: tuple[str, ...] = ("call_id", "c_id")

_SIGNATURE = {"c_id", "call_length", "concatenated_transcript", "corrected_duration",
              "call_ended_by", "queue_status", "pathway_id", "pathway_logs", "analysis_schema",
              "local_dialing"}
ANALYZER = "Bland analysis"

_ROLES = {"user": "customer", "assistant": "agent", "robot": "agent", "agent-action": "system"}
_ENDED_BY = {"ASSISTANT": "agent", "USER": "customer"}
# Stages of a call's life, from status or queue_status (lower case).
_WAITING = frozenset({"new", "queued"})
_LIVE = frozenset({"allocated", "started", "in-progress", "in_progress", "ringing", "active"})
_OVER = frozenset({"completed", "complete", "failed", "error", "busy", "no-answer",
                   "canceled", "cancelled"})
_FAILED = frozenset({"failed", "error"})
_STATUS_OUTCOMES = {"busy": "busy", "no-answer": "missed", "canceled": "canceled",
                    "cancelled": "canceled"}
# Keys of the whole call that a List Calls item lacks.
_DETAIL = ("c_id", "inbound", "started_at", "transcripts", "concatenated_transcript",
           "corrected_duration", "recording_url", "variables", "request_data")
# Keys always read (the rest, and the read ones not used, go to extras).
# completed, status, queue_status and answered_by stay in extras too: the outcome says less.
_READ = {"call_id", "inbound", "from", "to", "created_at", "started_at", "call_ended_by",
         "transcripts", "concatenated_transcript", "summary", "analysis", "recording_url",
         "pathway_id"}


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like a Bland call (empty: it does not)."""
    return signature_keys(obj, _SIGNATURE)


def parse(obj: dict, origin: Origin) -> dict:
    """A Bland call (list item, detail or post-call webhook) as a partial canonical record."""
    read = set(_READ)
    record: dict = {"source": NAME, "source_id": _id(obj, read)}
    _parties(record, obj)
    if "created_at" in obj:
        record["created_at"] = time(obj, "created_at")
    connected = time(obj, "started_at")
    started = connected if connected is not None else record.get("created_at")
    if "started_at" in obj or "created_at" in obj:
        record["started_at"] = started
    _transcript(record, obj, started)
    stage = _stage(obj)
    duration_ms = _duration(obj, read) if stage == 2 else None
    if duration_ms is not None:
        record["duration_ms"] = duration_ms
    if stage == 2:
        _ended(record, obj, connected, duration_ms, read)
    _outcome(record, obj, stage, duration_ms, read)
    if record.get("outcome") == "answered" and connected is not None:
        record["answered_at"] = connected
    _end_reason(record, obj)
    if "summary" in obj:
        record["summary"] = text(obj, "summary")
    if obj.get("analysis") is not None:
        record["analysis"] = _analysis(obj["analysis"], record.get("ended_at"))
    if "recording_url" in obj:
        url = text(obj, "recording_url")
        record["recording"] = resolve_recording(url, origin)
        record["has_recording"] = bool(url)
    if "pathway_id" in obj:
        record["agent_id"] = text(obj, "pathway_id")
    if stage is not None:
        # A detail (or webhook) outranks a list item of the same stage, so a later list
        # page never replaces what the detail said with its short, rounder values.
        record["progress"] = 2 * stage + any(key in obj for key in _DETAIL)
    record["extras"] = {key: value for key, value in obj.items() if key not in read}
    return validate(record)


def _id(obj: dict, read: set) -> str:
    """call_id, else c_id (Bland gives both, the same); text, or a number as text."""
    for key in ID_KEYS:
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        elif value is not None and not isinstance(value, str):
            raise RecordError(key, f"expected an id (text), got {describe(value)}")
        if value and value.strip():
            read.add(key)
            return value
    raise RecordError("call_id", "is missing; every call needs its id")


def _parties(record: dict, obj: dict) -> None:
    """Direction from ``inbound``; the numbers; the customer is the side that is not Bland's."""
    for key, field in (("from", "from_number"), ("to", "to_number")):
        if key in obj:
            record[field] = text(obj, key) or None
    inbound = boolean(obj, "inbound")
    if inbound is None:
        return
    record["direction"] = "inbound" if inbound else "outbound"
    side = "from" if inbound else "to"
    if side in obj:
        record["customer_number"] = record[f"{side}_number"]


def _word(obj: dict, key: str) -> str | None:
    value = text(obj, key)
    return value.strip().lower() if value and value.strip() else None


def _stage(obj: dict) -> int | None:
    """0 waiting in the queue, 1 live, 2 over; None when the call does not say.

    ``completed`` is the most current word: while it is false, a queue_status of
    "complete" is stale, though a failure still ends the call."""
    completed = boolean(obj, "completed")
    if completed:
        return 2
    words = [word for word in (_word(obj, "status"), _word(obj, "queue_status")) if word]
    final = _OVER - {"completed", "complete"} if completed is False else _OVER
    if any(word in final for word in words):
        return 2
    if any(word in _LIVE for word in words):
        return 1
    if any(word in _WAITING for word in words) or completed is False:
        return 0
    return None


def _duration(obj: dict, read: set) -> int | None:
    """corrected_duration in seconds (text or number), else call_length in minutes, as ms."""
    seconds = obj.get("corrected_duration")
    if isinstance(seconds, str):
        try:
            seconds = float(seconds) if seconds.strip() else None
        except ValueError:
            raise RecordError("corrected_duration",
                              f"expected a number of seconds, got {describe(seconds)}") from None
    if seconds is not None:
        seconds = number({"corrected_duration": seconds}, "corrected_duration")
        _not_negative("corrected_duration", seconds)
        read.add("corrected_duration")
        return round(seconds * 1000)
    minutes = number(obj, "call_length")
    if minutes is None:
        return None
    _not_negative("call_length", minutes)
    read.add("call_length")
    return round(minutes * 60_000)


def _not_negative(key: str, value: float) -> None:
    if value < 0:
        raise RecordError(key, f"is negative ({value})")


def _ended(record: dict, obj: dict, connected: int | None, duration_ms: int | None,
           read: set) -> None:
    """The end of a call that is over: connected + duration, else end_at."""
    if connected is not None and duration_ms is not None:
        record["ended_at"] = connected + duration_ms * 1000
        return
    end_at = time(obj, "end_at")
    if end_at is not None:
        record["ended_at"] = end_at
        read.add("end_at")


def _outcome(record: dict, obj: dict, stage: int | None, duration_ms: int | None,
             read: set) -> None:
    """The outcome from completed, status, queue_status, answered_by and error_message."""
    status, queue = _word(obj, "status"), _word(obj, "queue_status")
    answered_by = _word(obj, "answered_by")
    error = text(obj, "error_message")
    error = error if error and error.strip() else None
    talked = bool(record.get("transcript") or record.get("transcript_text"))
    if status in _FAILED or queue in _FAILED or (error and not talked and answered_by != "human"):
        outcome = "failed"
    elif answered_by == "voicemail":
        outcome = "voicemail"
    elif answered_by == "no-answer":
        outcome = "missed"
    elif status in _STATUS_OUTCOMES:
        outcome = _STATUS_OUTCOMES[status]
    elif stage in (0, 1):
        outcome = "in_progress"
    elif stage is None:
        return
    elif answered_by == "human" or talked or (answered_by is None and duration_ms):
        outcome = "answered"
    else:
        outcome = "unknown"
    record["outcome"] = outcome
    if "error_message" in obj and (outcome == "failed" or error is None):
        record["error"] = error if outcome == "failed" else None
        read.add("error_message")


def _end_reason(record: dict, obj: dict) -> None:
    if "call_ended_by" not in obj:
        return
    ended_by = text(obj, "call_ended_by")
    record["end_reason"] = ended_by
    record["ended_by"] = _ENDED_BY.get((ended_by or "").strip().upper())


def _transcript(record: dict, obj: dict, started: int | None) -> None:
    """transcripts when it has lines, else concatenated_transcript split by speaker."""
    lines = items(obj, "transcripts")
    if lines:
        record["transcript"] = [_line(line, index, started) for index, line in enumerate(lines)]
        return
    said = text(obj, "concatenated_transcript")
    if said and said.strip():
        split = split_speaker_text(said)
        record.update({"transcript": split} if split else {"transcript_text": said})
    elif "transcripts" in obj or "concatenated_transcript" in obj:
        record["transcript"] = None


def _line(line: Any, index: int, started: int | None) -> dict:
    where = f"transcripts[{index}]"
    if not isinstance(line, dict):
        raise RecordError(where, "expected a transcript line object")
    said = text(line, "text", f"{where}.text") or ""
    speaker = line.get("user")
    role = _ROLES.get(speaker.strip().lower()) if isinstance(speaker, str) else None
    at = time(line, "created_at", f"{where}.created_at")
    start_ms = None
    if at is not None and started is not None and at >= started:
        start_ms = (at - started) // 1000
    return message(role or role_for(speaker), said, start_ms)


def _analysis(value: Any, ended_at: int | None) -> list[dict]:
    """The answers to analysis_schema as one run of readable ``key: value`` lines."""
    if isinstance(value, str):
        shown = value
    elif isinstance(value, dict):
        shown = "\n".join(f"{key}: {_shown(answer)}" for key, answer in value.items())
    else:
        raise RecordError("analysis", f"expected an object of answers, got {describe(value)}")
    if not shown.strip():
        return []
    return [{"analyzer": ANALYZER, "text": shown, "created_at": ended_at}]


def _shown(answer: Any) -> str:
    if isinstance(answer, str):
        return answer
    try:
        return orjson.dumps(answer).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(answer)
