"""What vendors wrap call records in, opened before a record is read.

A file or an API answer may hold a call inside an envelope: a list page, a
webhook event, an automation tool's request. Each shape below is opened
wherever it appears (a file's top level, a page's item), at most `MAX_DEPTH`
wrappers deep, and what is inside is read as records. An event that is not a
call (a Vapi ``speech-update``) is skipped and counted, not rejected.

    shape                                           vendor                 inside
    ----------------------------------------------  ---------------------  ---------------
    {"calls" | "results" | "result" | "data" |      Twilio, Bland, Vapi,   each item
     "items" | "records" | "conversations" |        VoIPBIN, ElevenLabs,
     "recordings": [...], paging keys}              the agent platform
    {"type": T, "data": {...}, ...}                 VoIPBIN, ElevenLabs    data
    {"event": E, "call": {...}}                     Retell                 call
    {"message": {"type": T, ...}}, T not a call     Vapi                   skipped
    {"body": ... , "headers"?: ...}                 automation tools       body
    {"data": {...}, "errors": [...]}                Bland's answers        data
    {"payload": {...}, "url", "metadata", ...}      Bland's sent webhooks  payload
    {"level", "category", "message", "call_id"}     Bland's event stream   skipped

A list page at a file's top level is opened by the file reader itself
(containers.PAGE_KEYS), which streams files too big to hold; this module
opens the pages it meets inside records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from callviewer.sync import formats
from callviewer.sync.containers import PAGE_KEYS

MAX_DEPTH = 3  # wrappers opened around one record: a body around an event around a call

# Vapi server messages that are about a call but are not its record.
_VAPI_CALL_MESSAGES = ("status-update", "end-of-call-report")
# An API answer's wrapper around one object: {"data": {...}, "errors": [...]} (Bland).
_ANSWER_KEYS = {"data", "errors", "status", "message", "success", "ok"}
# Bland's event stream: a log line about a call, not the call.
_EVENT_LINE = {"level", "category", "message"}
# Keys an automation tool puts beside the body of a request it forwards.
_REQUEST_KEYS = {"body", "headers", "params", "query", "method", "url", "path", "webhookUrl",
                 "executionMode", "cookies", "rawBody", "request_id", "timestamp"}


class Opened(NamedTuple):
    """A value to read as a record, where it was, and the format `open_value` found for it
    while opening (None: not asked, or none found; the reader asks again)."""

    locator: str
    value: Any
    found: formats.Detection | None = None


@dataclass(frozen=True)
class Skipped:
    """A value that holds no call: an event of another kind. Counted, not rejected."""

    locator: str
    reason: str


def open_value(locator: str, value: Any, depth: int = 0) -> Iterator[Opened | Skipped]:
    """The records inside `value` with their locators (and the format that decided a
    record is not an envelope), or Skipped; a plain record as it is."""
    if depth > MAX_DEPTH:
        yield Opened(locator, value)
        return
    if isinstance(value, list) and depth > 0:  # a page's list, or a body's
        for number, item in enumerate(value, 1):
            yield from open_value(_join(locator, f"item {number}"), item, depth + 1)
        return
    if isinstance(value, dict) and value.keys() >= _EVENT_LINE \
            and not isinstance(value["message"], dict):  # it names a call: asked before detect
        yield Skipped(locator, f"a {value['level']!r} line of an event stream, not a call")
        return
    if not isinstance(value, dict):
        yield Opened(locator, value)
        return
    found = formats.detect(value)
    if found is not None:
        yield Opened(locator, value, found)  # passed on: the reader need not detect again
        return
    opened = _open(value)
    if opened is None:
        yield Opened(locator, value)  # not an envelope: the reader says why it is not a record
    elif isinstance(opened, str):
        yield Skipped(locator, opened)
    else:
        where, inner = opened
        yield from open_value(_join(locator, where), inner, depth + 1)


def _open(obj: dict) -> tuple[str, Any] | str | None:
    """(where, what is inside) for an envelope, a reason for an event to skip, or None."""
    inner = obj.get("message")
    if isinstance(inner, dict) and isinstance(inner.get("type"), str):
        kind = inner["type"]  # a Vapi server message the Vapi reader does not take
        if kind not in _VAPI_CALL_MESSAGES:
            return f"a Vapi {kind!r} message, not a call record"
    kind = obj.get("type") if isinstance(obj.get("type"), str) else obj.get("event")
    for key in ("data", "call"):
        if isinstance(kind, str) and isinstance(obj.get(key), dict):
            found = formats.detect(obj[key])
            if found is None and not _is_envelope(obj[key]):
                return f"a {kind!r} event, not a call record"
            if found is not None and found.module.NAME == "vapi" and key == "call":
                # A Vapi message carries a copy of its call; only the two above are records.
                return f"a Vapi {kind!r} message, not a call record"
            return key, obj[key]
    for key in PAGE_KEYS:
        if isinstance(obj.get(key), list):
            return key, obj[key]
    body = obj.get("body")
    if isinstance(body, (dict, list)) and obj.keys() <= _REQUEST_KEYS:
        return "body", body
    if isinstance(obj.get("data"), dict) and obj.keys() <= _ANSWER_KEYS:
        return "data", obj["data"]
    payload = obj.get("payload")
    if isinstance(payload, dict) and formats.detect(payload) is not None:
        return "payload", payload  # Bland's record of a post-call webhook it sent
    return None


def _is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and _open(value) is not None


def _join(locator: str, where: str) -> str:
    return f"{locator} {where}".strip()
