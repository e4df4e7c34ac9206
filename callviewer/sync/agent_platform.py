"""Agent platform calls API: a call from the list (basic fields) or the detail endpoint.

Detection: the object has any of ``call_id``, ``customer_request``,
``disconnection_reason``, ``general_success``, ``call_summary``,
``audio_file_url``, ``final_score`` or ``is_purged``.

    source field                  canonical field
    ----------------------------  ----------------------------------------------------
    id (required)                 source_id
    (always)                      direction inbound
    customer_name                 customer_name
    phone_number                  customer_number, from_number
    customer_request              subject
    duration (seconds)            duration_ms; ended_at = created_at + duration
    done, general_success         done, success
    disconnection_reason          end_reason, unchanged; ended_by: user_hangup →
                                  customer, agent_hangup → agent, call_transfer → None
    duration, transcript          outcome answered; missed when duration is 0 and
                                  there is no transcript
    call_summary, employee, note  summary, employee, source_note
    agent_id, is_purged           agent_id, is_purged
    deleted_at, updated_at        deleted_at, updated_at
    created_at                    created_at, started_at
    transcript (detail): JSON     transcript (timing: start_ms/end_ms, or start/end in
    text [{"role", "text"}]       seconds); else split "AI: …" lines; else
                                  transcript_text
    audio_file_url (detail)       recording (resolve_recording), has_recording
    final_score (detail, 1–10)    score
    is_purged true                transcript, recording, numbers set to None
    call_id, unknown keys         extras, verbatim

progress: 0 from the list, 1 from the detail endpoint (it has transcript,
audio_file_url or final_score), so a list item never undoes a detail.
"""

from __future__ import annotations

import orjson

from callviewer.record import RecordError, message, split_speaker_text, validate
from callviewer.sync.base import (
    Origin,
    boolean,
    extras_of,
    integer,
    number,
    resolve_recording,
    role_for,
    role_for_word,
    signature_keys,
    take,
    text,
    time,
)

NAME = "agent-platform"
ID_KEYS = ("id",)  # the record's own id, named in a reject line

_SIGNATURE = {"call_id", "customer_request", "disconnection_reason", "general_success",
              "call_summary", "audio_file_url", "final_score", "is_purged"}
_DETAIL = ("transcript", "audio_file_url", "final_score")
_ENDED_BY = {"user_hangup": "customer", "agent_hangup": "agent", "call_transfer": None}
_PLAIN = {  # source key: (canonical field, getter)
    "customer_name": ("customer_name", text), "customer_request": ("subject", text),
    "done": ("done", boolean), "general_success": ("success", boolean),
    "disconnection_reason": ("end_reason", text), "call_summary": ("summary", text),
    "employee": ("employee", text), "note": ("source_note", text), "agent_id": ("agent_id", text),
    "is_purged": ("is_purged", boolean), "deleted_at": ("deleted_at", time),
    "created_at": ("created_at", time), "updated_at": ("updated_at", time),
}
_READ = {"id", "phone_number", "duration", *_PLAIN, *_DETAIL}


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like an agent-platform call (empty: it does not)."""
    return signature_keys(obj, _SIGNATURE)


def parse(obj: dict, origin: Origin) -> dict:
    """An agent-platform call (list item or detail) as a partial canonical record."""
    source_id = text(obj, "id")
    if not source_id or not source_id.strip():
        raise RecordError("id", "is missing; every call needs its id")
    record: dict = {"source": NAME, "source_id": source_id, "direction": "inbound"}
    take(record, obj, _PLAIN)
    if "phone_number" in obj:
        record["customer_number"] = record["from_number"] = text(obj, "phone_number")
    if record.get("end_reason") in _ENDED_BY:
        record["ended_by"] = _ENDED_BY[record["end_reason"]]
    if "created_at" in record:
        record["started_at"] = record["created_at"]
    if "duration" in obj:
        _duration(record, obj)
    if "transcript" in obj:
        record.update(_transcript(obj["transcript"]))
    if "audio_file_url" in obj:
        url = text(obj, "audio_file_url")
        record["recording"] = resolve_recording(url, origin)
        record["has_recording"] = bool(url)
    if "final_score" in obj:
        record["score"] = _score(obj)
    _outcome(record)
    if record.get("is_purged"):
        record.update(dict.fromkeys(("transcript", "transcript_text", "recording",
                                     "customer_number", "from_number")), has_recording=False)
    record["extras"] = extras_of(obj, _READ)
    record["progress"] = 1 if any(key in obj for key in _DETAIL) else 0
    return validate(record)


def _duration(record: dict, obj: dict) -> None:
    seconds = number(obj, "duration")
    if seconds is not None and seconds < 0:
        raise RecordError("duration", f"is negative ({seconds})")
    record["duration_ms"] = None if seconds is None else round(seconds * 1000)
    if seconds is not None and record.get("started_at") is not None:
        record["ended_at"] = record["started_at"] + round(seconds * 1_000_000)


def _outcome(record: dict) -> None:
    """answered when it has a duration or a transcript; missed when it has neither."""
    talked = bool(record.get("transcript") or record.get("transcript_text"))
    duration = record.get("duration_ms")
    if talked or duration:
        record["outcome"] = "answered"
    elif duration == 0:
        record["outcome"] = "missed"


def _transcript(value: object) -> dict:
    """The transcript field: a JSON text of messages, a speaker text, or plain text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {"transcript": None}
    if isinstance(value, str):
        try:
            decoded = orjson.loads(value)
        except orjson.JSONDecodeError:
            split = split_speaker_text(value)
            return {"transcript": split} if split else {"transcript_text": value}
        if isinstance(decoded, str):  # encoded twice
            return _transcript(decoded)
        value = decoded
    if not isinstance(value, list):
        raise RecordError("transcript", "expected a JSON list of messages")
    return {"transcript": _plain_messages(value)
            or [_entry(item, index) for index, item in enumerate(value)]}


def _plain_messages(value: list) -> list[dict] | None:
    """Messages of the documented shape, untimed {"role", "text"}, read fast; else None.

    One pass; each entry is record.message(role, text) written out (the same keys in the
    same order), as this is done for every message of every import."""
    messages: list[dict] = []
    append = messages.append
    try:
        for item in value:
            if len(item) != 2:
                return None
            role, said = item["role"], item["text"]
            if type(role) is not str or type(said) is not str:
                return None
            # role_for(role), for a role known to be text
            append({"role": role_for_word(role), "text": said, "start_ms": None, "end_ms": None})
    except (TypeError, KeyError):
        return None
    return messages


def _entry(item: object, index: int) -> dict:
    where = f"transcript[{index}]"
    if not isinstance(item, dict):
        raise RecordError(where, "expected a message object")
    said = text(item, "text", f"{where}.text") if "text" in item else None
    if said is None:
        said = text(item, "content", f"{where}.content")
    return message(role_for(item.get("role")), said or "",
                   _milliseconds(item, "start_ms", "start", where),
                   _milliseconds(item, "end_ms", "end", where))


def _milliseconds(item: dict, ms_key: str, seconds_key: str, where: str) -> int | None:
    """A message time from `start_ms`, else from `start` in seconds."""
    if item.get(ms_key) is not None:
        return integer(item, ms_key, f"{where}.{ms_key}")
    seconds = number(item, seconds_key, f"{where}.{seconds_key}")
    return None if seconds is None else round(seconds * 1000)


def _score(obj: dict) -> int | float | None:
    score = number(obj, "final_score")
    if score is not None and not 1 <= score <= 10:
        raise RecordError("final_score", f"must be from 1 to 10, got {score}")
    return int(score) if isinstance(score, float) and score.is_integer() else score
