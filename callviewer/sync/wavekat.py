"""wavekat `VoiceCallRecord`: one finished call synced up from a voice daemon.

Detection: the object has ``sourceId``/``source_id``, ``party`` or
``ringAt``/``ring_at`` (no other format uses these keys). Keys may be camelCase
or snake_case; below in camelCase.

    source field                  canonical field
    ----------------------------  ------------------------------------------------------
    sourceId (required)           source_id
    direction inbound / outbound  direction (anything else: unknown)
    party                         customer_number, and from_number (inbound) or
                                  to_number (outbound); the name of "Bob" <sip:bob@x>
                                  or Bob <+1555…> → customer_name; the number inside a
                                  sip:/tel: URI is the number (the URI → extras.party_uri);
                                  "anonymous" and other withheld callers: no number
    ringAt, answerAt, endAt       started_at, answered_at, ended_at
    durationMs                    duration_ms when answered (answerAt set or outcome
                                  answered); else extras
    disposition, endReason        outcome: the first known word of the two (_OUTCOMES)
    endReason, else disposition   end_reason, unchanged (disposition → extras if both)
    endReason local / remote_…    ended_by local / remote
    error                         error when the outcome is failed; else extras
    schemaVersion                 schema_version
    accountId, the envelope's     extras, verbatim (the envelope's own under "extras")
    extras, unknown keys

progress: 0 ringing, 1 answered, 2 ended. A schemaVersion above
record.KNOWN_SCHEMA_VERSION still imports; its new keys land in extras.
"""

from __future__ import annotations

import re

from callviewer.record import RecordError, validate
from callviewer.sync.base import (
    Origin,
    extras_of,
    integer,
    number_in_address,
    signature_keys,
    text,
    time,
)

NAME = "wavekat"
ID_KEYS = ("sourceId", "source_id")  # the record's own id, named in a reject line

_KEYS = ("source_id", "account_id", "direction", "party", "ring_at", "answer_at", "end_at",
         "duration_ms", "disposition", "end_reason", "error", "schema_version")
_CAMEL = {"".join(w if i == 0 else w.title() for i, w in enumerate(k.split("_"))): k
          for k in _KEYS if "_" in k}
_ALIASES = {**{key: key for key in _KEYS}, **_CAMEL}
_SIGNATURE = {"sourceId", "source_id", "party", "ringAt", "ring_at"}

_OUTCOMES = {
    "answered": "answered", "completed": "answered", "connected": "answered",
    "missed": "missed", "no_answer": "missed", "noanswer": "missed", "unanswered": "missed",
    "busy": "busy", "failed": "failed", "failure": "failed", "error": "failed",
    "cancelled": "canceled", "canceled": "canceled", "cancel": "canceled",
    "rejected": "canceled", "declined": "canceled", "voicemail": "voicemail",
}
_DIRECTIONS = {"inbound": "inbound", "incoming": "inbound",
               "outbound": "outbound", "outgoing": "outbound"}
# `"Bob" <sip:bob@x>`, `Bob <+15550100>`, `<sip:bob@x>`
_NAMED_ADDRESS = re.compile(
    r'^\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^<"]*?))\s*<(?P<address>[^<>]*)>\s*$')
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like a wavekat VoiceCallRecord (empty: it does not)."""
    return signature_keys(obj, _SIGNATURE)


def parse(obj: dict, origin: Origin) -> dict:
    """A wavekat VoiceCallRecord as a partial canonical record."""
    fields, names = _by_snake_name(obj)
    source_id = text(fields, "source_id", names["source_id"])
    if not source_id or not source_id.strip():
        raise RecordError(names["source_id"], "is missing; every call needs its id")
    record: dict = {"source": NAME, "source_id": source_id}
    kept_in_extras = {"account_id"}
    if "direction" in fields:
        direction = text(fields, "direction", names["direction"]) or ""
        record["direction"] = _DIRECTIONS.get(_word(direction), "unknown")
    party_uri = None
    if "party" in fields:
        party = _party(text(fields, "party", names["party"]), record.get("direction"))
        party_uri = party.pop("extras", None)
        record.update(party)
    for key, field in (("ring_at", "started_at"), ("answer_at", "answered_at"),
                       ("end_at", "ended_at")):
        if key in fields:
            record[field] = time(fields, key, names[key])
    kept_in_extras |= _end(record, fields, names)
    answered = record.get("answered_at") is not None or record.get("outcome") == "answered"
    if "duration_ms" in fields and answered:
        record["duration_ms"] = _duration(fields, names["duration_ms"])
    elif "duration_ms" in fields:
        kept_in_extras.add("duration_ms")
    if "error" in fields and record.get("outcome") == "failed":
        record["error"] = text(fields, "error", names["error"])
    elif "error" in fields:
        kept_in_extras.add("error")
    if "schema_version" in fields:
        record["schema_version"] = integer(fields, "schema_version", names["schema_version"])
    mapped = {names[key] for key in fields if key not in kept_in_extras}
    record["extras"] = {**extras_of(obj, mapped), **(party_uri or {})}
    record["progress"] = (2 if record.get("ended_at") is not None
                          else 1 if record.get("answered_at") is not None else 0)
    return validate(record)


def _by_snake_name(obj: dict) -> tuple[dict, dict[str, str]]:
    """The known fields by snake_case name, and the key each had in `obj` (for errors)."""
    fields: dict = {}
    names = {"source_id": "sourceId" if not _CAMEL.keys().isdisjoint(obj) else "source_id"}
    for key, value in obj.items():
        snake = _ALIASES.get(key)
        if snake is not None and snake not in fields:  # a second spelling stays in extras
            fields[snake] = value
            names[snake] = key
    return fields, names


def _party(party: str | None, direction: str | None) -> dict:
    """The customer's number (and name) fields for the party text."""
    name, address = None, (party or "").strip() or None
    match = _NAMED_ADDRESS.match(party or "")
    if match:
        name = (match.group("quoted") or match.group("bare") or "").strip() or None
        address = match.group("address").strip() or None
    number, uri = number_in_address(address)
    fields: dict = {"customer_number": number}
    if name:
        fields["customer_name"] = name
    if direction in ("inbound", "outbound"):
        fields["from_number" if direction == "inbound" else "to_number"] = number
    if uri is not None:
        fields["extras"] = {"party_uri": uri}
    return fields


def _end(record: dict, fields: dict, names: dict[str, str]) -> set[str]:
    """Set outcome, end_reason and ended_by; return the keys left for extras."""
    disposition = text(fields, "disposition", names.get("disposition"))
    end_reason = text(fields, "end_reason", names.get("end_reason"))
    if "disposition" not in fields and "end_reason" not in fields:
        return set()
    answered = record.get("answered_at") is not None
    record["outcome"] = (_OUTCOMES.get(_word(disposition or ""))
                         or _OUTCOMES.get(_word(end_reason or ""))
                         or ("answered" if answered else "unknown"))
    record["end_reason"] = end_reason if "end_reason" in fields else disposition
    words = set(_word(end_reason or "").split("_"))
    if "local" in words or "remote" in words:
        record["ended_by"] = "local" if "local" in words else "remote"
    return {"disposition"} if "disposition" in fields and "end_reason" in fields else set()


def _duration(fields: dict, name: str) -> int | None:
    duration = integer(fields, "duration_ms", name)
    if duration is not None and duration < 0:
        raise RecordError(name, f"is negative ({duration})")
    return duration


def _word(value: str) -> str:
    """`remoteHangup`, `Remote-Hangup`, `remote hangup` → `remote_hangup`."""
    return re.sub(r"[\s-]+", "_", _CAMEL_HUMP.sub("_", value.strip())).lower()
