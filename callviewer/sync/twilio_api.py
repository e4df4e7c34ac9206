"""Twilio's own REST API (2010-04-01): the Call resource, and the Recording resource.

Read from Twilio's API reference, "Call resource" (docs/voice/api/call-resource:
Call properties, Fetch a Call resource) and "Recording" (docs/voice/api/recording:
Recording properties, Fetch a Recording's media file), and the models of the
twilio-go helper library (rest/api/v2010/docs/ApiV2010Call.md, ApiV2010Recording.md).

Detection: ``sid`` starts with ``CA`` (a Call) together with ``account_sid``,
``api_version`` or ``subresource_uris``; or ``sid`` starts with ``RE`` (a
Recording) together with ``call_sid`` or ``account_sid``. The call module of the
seed (twilio.py) writes ``id``, ``call_sid`` and ``from_to_number``, never ``sid``.

Times are RFC 2822 in GMT (``Fri, 18 Oct 2019 17:02:00 +0000``); numbers are
E.164, SIP addresses (``name@company.com``) or ``client:name``, kept as given.

A Call:

    source field                    canonical field
    ------------------------------  ---------------------------------------------------
    sid (required, "CA…")           source_id
    direction inbound,              direction inbound; outbound-api, outbound-dial,
    trunking-originating            trunking-terminating: outbound; else unknown. Any
                                    value but "inbound" also stays in extras, verbatim
                                    (it tells a <Dial> leg from a REST API call)
    from, to                        from_number, to_number ("" reads as none)
    the party outside the business: customer_number; caller_name (inbound only: it is
    from (inbound), to (outbound)   the Caller ID Lookup name of the caller), when not
                                    empty: customer_name
    start_time, end_time            started_at, ended_at
    date_created, date_updated      created_at, updated_at
    duration (text, seconds)        duration_ms
    status completed                outcome answered; voicemail when answered_by is
                                    "machine" or "machine_*" (answering machine
                                    detection); answered_by stays in extras
    status busy, failed, no-answer, outcome busy, failed, missed, canceled; end_reason
    canceled, completed             = status, unchanged
    status queued, ringing,         outcome in_progress; end_reason None (not ended)
    in-progress
    status                          progress: queued 0 < ringing 1 < in-progress 2 <
                                    completed = busy = failed = no-answer = canceled 3;
                                    another status: outcome unknown, end_reason = it;
                                    null: nothing of these
    {sid}.mp3 beside the import     recording, has_recording
    account_sid, parent_call_sid,   extras, verbatim
    from_formatted, to_formatted,
    price, price_unit, queue_time,
    uri, subresource_uris, …

A Recording is never a call of its own: it adds its recording to its call
(``attach_only``), whether the call was imported before it or arrives later.

    source field                    canonical field
    ------------------------------  ---------------------------------------------------
    call_sid (required)             source_id (the CALL's id); attach_only True
    {sid}.mp3 or {call_sid}.mp3     recording (the local file), has_recording True,
    beside the import               whatever the status
    status completed                has_recording True; recording = media_url when
                                    given, else "https://api.twilio.com" + uri with
                                    ".json" replaced by ".mp3" (the documented MP3
                                    representation), else the same built from
                                    account_sid and sid
    status absent, deleted, failed  has_recording False, recording None
    status processing, in-progress, nothing about the recording yet
    paused, stopped
    every key but call_sid          extras["recording_resource"], verbatim (one key:
                                    the store merges extras shallowly)

A Recording's times are the recording's, not the call's: they are not mapped
(an update time there would order the call's own versions wrongly).
"""

from __future__ import annotations

from callviewer.record import RecordError, validate
from callviewer.sync.base import (
    Origin,
    describe,
    extras_of,
    resolve_recording,
    rfc2822_time,
    signature_keys,
    text,
)

NAME = "twilio-api"
ID_KEYS: tuple[str, ...] = ("sid",)

API_ROOT = "https://api.twilio.com"
RECORDING_EXTRAS = "recording_resource"  # the extras key holding a Recording's fields

_CALL_SIGNATURE = ("sid", "account_sid", "api_version", "subresource_uris")
_RECORDING_SIGNATURE = ("sid", "call_sid", "account_sid")
_DIRECTIONS = {
    "inbound": "inbound", "trunking-originating": "inbound",  # origination: from the PSTN in
    "outbound-api": "outbound", "outbound-dial": "outbound",
    "trunking-terminating": "outbound",  # termination: out to the PSTN
}
_OUTCOMES = {"completed": "answered", "busy": "busy", "failed": "failed", "no-answer": "missed",
             "canceled": "canceled"}
_LIVE = {"queued": 0, "ringing": 1, "in-progress": 2}
_ENDED = 3
_TIMES = {"start_time": "started_at", "end_time": "ended_at", "date_created": "created_at",
          "date_updated": "updated_at"}
_RECORDING_GONE = ("absent", "deleted", "failed")


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like a Twilio Call or Recording resource (empty: not)."""
    sid = obj.get("sid")
    if not isinstance(sid, str):
        return ()
    if sid.startswith("CA"):
        keys = signature_keys(obj, _CALL_SIGNATURE)
    elif sid.startswith("RE"):
        keys = signature_keys(obj, _RECORDING_SIGNATURE)
    else:
        return ()
    return keys if len(keys) > 1 else ()  # "sid" alone is too common a key to decide


def parse(obj: dict, origin: Origin) -> dict:
    """A Twilio Call resource, or a Recording resource to attach to its call."""
    sid = text(obj, "sid")
    if sid is not None and sid.startswith("RE"):
        return _recording(obj, sid, origin)
    return _call(obj, sid, origin)


# --- Call ---------------------------------------------------------------------


def _call(obj: dict, sid: str | None, origin: Origin) -> dict:
    if not sid or not sid.strip():
        raise RecordError("sid", "is missing; every call needs its sid")
    record: dict = {"source": NAME, "source_id": sid}
    mapped: set[str] = {"sid"}
    for key, field in _TIMES.items():
        if key in obj:
            record[field] = rfc2822_time(obj, key)
            mapped.add(key)
    if "direction" in obj:
        direction = text(obj, "direction")
        record["direction"] = _DIRECTIONS.get(direction or "", "unknown")
        if direction == "inbound":
            mapped.add("direction")
    _parties(record, obj, mapped)
    if "duration" in obj:
        seconds = _seconds(obj, "duration")
        record["duration_ms"] = None if seconds is None else seconds * 1000
        mapped.add("duration")
    _status(record, obj, mapped)
    found = origin.beside(f"{sid}.mp3")
    if found:
        record["recording"] = found
        record["has_recording"] = True
    record["extras"] = extras_of(obj, mapped)
    return validate(record)


def _parties(record: dict, obj: dict, mapped: set[str]) -> None:
    """from/to numbers; the customer is the party outside the business."""
    for key, field in (("from", "from_number"), ("to", "to_number")):
        if key in obj:
            record[field] = text(obj, key) or None
            mapped.add(key)
    side = {"inbound": "from", "outbound": "to"}.get(record.get("direction", ""))
    if side is not None and side in obj:
        record["customer_number"] = record[f"{side}_number"]
    if record.get("direction") == "inbound" and "caller_name" in obj:
        name = text(obj, "caller_name")
        if name and name.strip():
            record["customer_name"] = name.strip()
            mapped.add("caller_name")


def _seconds(obj: dict, key: str) -> int | None:
    """A count of seconds, written as text ("42") as Twilio does, or as a number."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    raise RecordError(key, f"expected a whole number of seconds, got {describe(value)}")


def _status(record: dict, obj: dict, mapped: set[str]) -> None:
    """outcome, end_reason and progress from status (and answered_by, for a machine)."""
    if "status" not in obj:
        return
    status = text(obj, "status")
    mapped.add("status")
    if status is None:
        return  # null: the resource says nothing of its stage
    if status in _LIVE:
        record.update(outcome="in_progress", end_reason=None, progress=_LIVE[status])
        return
    record["end_reason"] = status or None
    record["outcome"] = _OUTCOMES.get(status, "unknown")
    if status in _OUTCOMES:
        record["progress"] = _ENDED
    answered_by = obj.get("answered_by")
    if status == "completed" and isinstance(answered_by, str) \
            and (answered_by == "machine" or answered_by.startswith("machine_")):
        record["outcome"] = "voicemail"


# --- Recording ----------------------------------------------------------------


def _recording(obj: dict, sid: str, origin: Origin) -> dict:
    call_sid = text(obj, "call_sid")
    if not call_sid or not call_sid.strip():
        raise RecordError("call_sid", "is missing; a recording is attached to its call by it")
    record: dict = {"source": NAME, "source_id": call_sid, "attach_only": True}
    status = text(obj, "status")
    found = origin.beside(f"{sid}.mp3") or origin.beside(f"{call_sid}.mp3")
    if found:
        record.update(recording=found, has_recording=True)
    elif status == "completed":
        # Through resolve_recording: an address from the API is a recording only if http(s).
        record.update(recording=resolve_recording(_media_url(obj, sid), Origin()),
                      has_recording=True)
    elif status in _RECORDING_GONE:
        record.update(recording=None, has_recording=False)
    record["extras"] = {RECORDING_EXTRAS: extras_of(obj, {"call_sid"})}
    return validate(record)


def _media_url(obj: dict, sid: str) -> str:
    """Where Twilio serves the recording as MP3."""
    media_url = text(obj, "media_url")
    if media_url and media_url.strip():
        return media_url.strip()
    uri = (text(obj, "uri") or "").strip()
    if not uri:
        account = text(obj, "account_sid")
        if not account or not account.strip():
            raise RecordError("uri", "is missing, and so is account_sid: the recording "
                                     "cannot be located")
        uri = f"/2010-04-01/Accounts/{account.strip()}/Recordings/{sid}.json"
    if uri.endswith(".json"):
        uri = uri[:-len(".json")]
    if not uri.endswith(".mp3"):
        uri += ".mp3"
    return uri if "://" in uri else API_ROOT + ("" if uri.startswith("/") else "/") + uri
