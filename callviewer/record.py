"""The canonical call record: the one shape every importer produces and `export` prints.

A parser turns one source object into a *partial* canonical dict: it sets only
the fields its source provided. A key that is absent means "this source
record says nothing about it" (a list item without a transcript), which is
not the same as ``None`` ("the source says there is none"). The store merges
partial records into what it already holds on exactly that distinction.

Times inside the program are integers: microseconds since the Unix epoch,
UTC. They are printed as RFC 3339 with a ``Z``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

# "twilio" is the Twilio-based call module of the seed (its name is in stored records);
# "twilio-api" is Twilio's own REST API.
SOURCES = ("wavekat", "voipbin", "vapi", "twilio", "agent-platform", "twilio-api", "retell",
           "elevenlabs", "bland")
DIRECTIONS = ("inbound", "outbound", "unknown")
OUTCOMES = (
    "answered", "missed", "busy", "failed", "canceled", "voicemail", "in_progress", "unknown",
)
ENDED_BY = ("local", "remote", "agent", "customer")
ROLES = ("agent", "customer", "system", "tool")

# The canonical keys, in the order `export --format json` prints them.
FIELDS = (
    "source", "source_id", "direction", "from_number", "to_number", "customer_name",
    "customer_number", "started_at", "answered_at", "ended_at", "duration_ms", "outcome",
    "end_reason", "ended_by", "error", "summary", "subject", "score", "success", "done",
    "employee", "agent_id", "has_recording", "recording", "transcript", "transcript_text",
    "analysis", "source_note", "notes", "is_purged", "deleted_at", "created_at", "updated_at",
    "schema_version", "extras",
)
TIME_FIELDS = ("started_at", "answered_at", "ended_at", "deleted_at", "created_at", "updated_at")
TEXT_FIELDS = (
    "from_number", "to_number", "customer_name", "customer_number", "end_reason", "error",
    "summary", "subject", "employee", "agent_id", "recording", "transcript_text", "source_note",
)
# Removed from a record when the source purges it.
PURGED_FIELDS = (
    "from_number", "to_number", "customer_number", "transcript", "transcript_text", "recording",
)

# The newest `schemaVersion` of the wavekat envelope this program knows.
KNOWN_SCHEMA_VERSION = 1

# Fields a parser may set besides the canonical ones: `progress` orders two
# versions of a record that carry no update time (a higher rank is a later
# stage of the call's life cycle).
# `attach_only` marks a record that only adds to a call (a Twilio Recording resource, an
# ElevenLabs audio webhook): it never makes a call of its own, and waits in the store for
# its call when that has not arrived yet. `audio` is a recording's bytes delivered in the
# payload, for the importer to archive. `warnings` are sentences for the import's report
# about what a record lost on the way in.
INTERNAL_FIELDS = ("progress", "attach_only", "audio", "warnings")
_KNOWN_KEYS = frozenset(FIELDS) | frozenset(INTERNAL_FIELDS)


class RecordError(ValueError):
    """A source record that cannot be read, naming the field at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field '{field}': {reason}")
        self.field = field
        self.reason = reason


_FRACTION = re.compile(r"(\.\d{6})\d+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: Any, field: str) -> int | None:
    """Read an RFC 3339 / ISO 8601 time (a naive one is UTC) into epoch microseconds.

    ``None``, ``""`` and the far-future placeholders some systems use for
    "not yet" (year 9999) read as ``None``.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(field, f"expected a date-time text, got {_describe(value)}")
    text = value.strip()
    if "." in text:
        text = _FRACTION.sub(r"\1", text)  # nanoseconds: keep microseconds
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(field, f"not a date-time: {value!r}") from None
    if moment.year >= 9999:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_time(micros: int | None) -> str | None:
    """Print epoch microseconds as RFC 3339 UTC: ``2022-05-01T15:10:23.414798Z``."""
    if micros is None:
        return None
    seconds, fraction = divmod(micros, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction == 0:
        return stamp + "Z"
    if fraction % 1000 == 0:
        return f"{stamp}.{fraction // 1000:03d}Z"
    return f"{stamp}.{fraction:06d}Z"


def message(role: str, text: str, start_ms: int | None = None, end_ms: int | None = None) -> dict:
    """One canonical transcript entry."""
    return {"role": role, "text": text, "start_ms": start_ms, "end_ms": end_ms}


def tool_message(name: str | None, arguments: Any = None, result: Any = None,
                 start_ms: int | None = None, end_ms: int | None = None) -> dict:
    """A tool call (with its result, when known) as a transcript entry of role "tool".

    ``text`` reads as one line, ``name(arguments) → result``, so that search finds it
    and a view without the structure still shows it; ``tool`` keeps the three parts
    (arguments and result as the source gave them: text or JSON values) for the bubble.
    """
    shown = f"{name or 'tool'}({_compact(arguments)})"
    if result is not None:
        shown += f" → {_compact(result)}"
    entry = message("tool", shown, start_ms, end_ms)
    entry["tool"] = {"name": name, "arguments": arguments, "result": result}
    return entry


def _compact(value: Any) -> str:
    """A JSON value as short text for a tool line: text as it is, the rest as JSON."""
    import orjson

    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)


_SPEAKER_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z _-]{0,30}?)\s*:\s?(.*)$")
_SPEAKER_ROLES = {
    "ai": "agent", "agent": "agent", "assistant": "agent", "bot": "agent", "bot_agent": "agent",
    "user": "customer", "customer": "customer", "caller": "customer", "human": "customer",
    "system": "system", "tool": "tool", "function": "tool",
}


def role_of(speaker: Any) -> str | None:
    """Map a source's speaker word (``AI``, ``user``, ``assistant``…) to a canonical role."""
    if not isinstance(speaker, str):
        return None
    return _SPEAKER_ROLES.get(speaker.strip().lower().replace(" ", "_"))


def split_speaker_text(text: str) -> list[dict] | None:
    """Split an ``AI: …`` / ``User: …`` text transcript into messages.

    Lines without a speaker prefix continue the previous message. Returns
    ``None`` when the text does not start with a known speaker, so the caller
    can keep it as plain text instead.
    """
    messages: list[dict] = []
    for line in text.splitlines():
        match = _SPEAKER_LINE.match(line)
        role = role_of(match.group(1)) if match else None
        if role is not None:
            messages.append(message(role, match.group(2).strip()))
        elif messages:
            if line.strip():
                messages[-1]["text"] = f"{messages[-1]['text']}\n{line.strip()}".strip()
        elif line.strip():
            return None
    return messages or None


def validate(record: dict) -> dict:
    """Check a partial canonical record's types and vocabularies; return it.

    Raises RecordError naming the first field at fault.
    """
    import orjson  # here: the window's filter bar loads this module for its vocabularies

    from callviewer.jsontext import dumps  # integers past 64 bits kept exact

    for key in record.keys() - _KNOWN_KEYS:
        raise RecordError(key, "is not a canonical field (a parser bug)")
    for key in ("source", "source_id"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise RecordError(key, "is missing or empty")
    _choice(record, "source", SOURCES)
    _choice(record, "direction", DIRECTIONS)
    _choice(record, "outcome", OUTCOMES)
    if record.get("ended_by") is not None:
        _choice(record, "ended_by", ENDED_BY)
    for key in TEXT_FIELDS:
        value = record.get(key)
        if value is not None and type(value) is not str:
            raise RecordError(key, f"expected text, got {_describe(value)}")
    # PostgreSQL's text cannot hold U+0000: an id with one is refused (it would no longer
    # be the source's), any other text loses it and the import's report says so.
    # (Transcripts, analysis and extras are JSON text, where it is escaped.)
    if "\x00" in record["source_id"]:
        raise RecordError("source_id", "contains a NUL character (\\u0000), which cannot be "
                                       "stored")
    for key in TEXT_FIELDS:
        if "\x00" in (record.get(key) or ""):
            record[key] = record[key].replace("\x00", "")
            record.setdefault("warnings", []).append(
                f"field '{key}': a NUL character (\\u0000) was removed")
    for key in TIME_FIELDS:
        value = record.get(key)
        if value is not None and type(value) is not int:
            raise RecordError(key, "is not a time (a parser bug)")
    _non_negative_int(record, "duration_ms")
    _non_negative_int(record, "schema_version")
    score = record.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))
                              or score != score or abs(score) > 1e9):
        raise RecordError("score", f"expected a number, got {_describe(score)}")
    for key in ("success", "done", "has_recording", "is_purged"):
        if record.get(key) is not None and not isinstance(record[key], bool):
            raise RecordError(key, f"expected true or false, got {_describe(record[key])}")
    for key in ("done", "has_recording", "is_purged"):
        # These are stored as true or false: a source's null means "not said", as absent.
        if key in record and record[key] is None:
            del record[key]
    for entry in record.get("transcript") or ():
        if entry.get("role") not in ROLES or not isinstance(entry.get("text"), str):
            raise RecordError("transcript", "has an entry without a known role and text")
    if "extras" in record and not isinstance(record["extras"], dict):
        raise RecordError("extras", "is not an object (a parser bug)")
    if record.get("extras"):
        record["extras"] = without_credentials(record["extras"])
    if record.get("audio") is not None and type(record["audio"]) is not bytes:
        raise RecordError("audio", "is not the recording's bytes (a parser bug)")
    for key in ("transcript", "analysis", "extras"):
        try:
            dumps(record.get(key))
        except orjson.JSONEncodeError as exc:
            raise RecordError(key, f"holds a value that cannot be stored ({exc})") from None
    return record


REMOVED = "[removed]"
_CREDENTIAL_WORDS = frozenset((
    "token", "secret", "password", "passwd", "pwd", "passphrase", "credential", "credentials",
    "auth", "authorization", "apikey", "cookie", "privatekey", "signature", "bearer",
))
_KEY_PAIRS = frozenset((("api", "key"), ("private", "key"), ("access", "key"),
                        ("secret", "key"), ("client", "secret")))
_NOT_CREDENTIAL_AFTER = frozenset(("count", "counts", "usage", "limit", "limits", "length",
                                   "cost", "costs", "type", "id", "ids", "sid"))
_KEY_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def is_credential_key(key: str) -> bool:
    """Whether a key names a credential: twilioAuthToken, api_key, X-Api-Key, password…

    Counts of tokens (``promptTokens``, ``token_usage``) and ids of keys are not.
    """
    words = [word.lower() for word in _KEY_WORD.findall(key)]
    for index, word in enumerate(words):
        pair = tuple(words[index:index + 2])
        following = words[index + 1] if index + 1 < len(words) else ""
        named = word.rstrip("s") in _CREDENTIAL_WORDS or word in _CREDENTIAL_WORDS
        if (named or pair in _KEY_PAIRS) and following not in _NOT_CREDENTIAL_AFTER \
                and not (pair in _KEY_PAIRS and words[index + 2:index + 3] in (["id"],)):
            return True
    return False


def without_credentials(value: Any) -> Any:
    """A JSON value with the text under every credential-named key replaced by REMOVED, at
    any depth; numbers and true/false stay (token counts, flags), and so does the shape."""
    if isinstance(value, dict):
        return {key: _removed(item) if isinstance(key, str) and is_credential_key(key)
                else without_credentials(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_credentials(item) for item in value]
    return value


def _removed(value: Any) -> Any:
    """Everything textual under a credential's key, removed."""
    if isinstance(value, str):
        return REMOVED if value else value
    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        cleaned = {key: _removed(item) for key, item in items}
        return cleaned if isinstance(value, dict) else list(cleaned.values())
    return value


def _choice(record: dict, key: str, allowed: tuple[str, ...]) -> None:
    if key in record and record[key] not in allowed:
        raise RecordError(key, f"{record[key]!r} is not one of {', '.join(allowed)}")


def _non_negative_int(record: dict, key: str) -> None:
    value = record.get(key)
    if value is not None and (not _is_int(value) or value < 0 or value > 2**62):
        raise RecordError(key, f"expected a whole number of 0 or more, got {_describe(value)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    """A short, safe description of a bad value for an error sentence."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
