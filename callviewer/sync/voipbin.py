"""VoIPBIN `Call`: a CPaaS call object, at any stage of its life cycle.

Detection: the object has a ``tm_create``, ``tm_update``, ``tm_ringing``,
``tm_progressing`` or ``tm_hangup`` key, or ``hangup_reason`` / ``hangup_by``.

Times are ``"2022-05-01 15:10:23.414798"`` (UTC, up to 9 fractional digits);
``""`` and year 9999 mean unset. The all-zero UUID means "none" for any id.

    source field                    canonical field
    ------------------------------  ---------------------------------------------------
    id (required)                   source_id
    tm_create, tm_update            created_at, updated_at
    tm_ringing, else tm_create      started_at
    tm_progressing, tm_hangup       answered_at, ended_at; duration_ms = the difference
    direction incoming / outgoing   direction inbound / outbound (else unknown)
    source.target                   from_number
    destination.target              to_number
    the customer's address: source  customer_number = its target; customer_name = its
    (incoming), destination         name, else target_name, when not empty
    (outgoing)
    hangup_reason                   end_reason, unchanged; outcome (_OUTCOMES)
    status dialing … canceling,     outcome in_progress
    no hangup_reason yet
    status                          progress: dialing 0 < ringing 1 < progressing 2 <
                                    terminating = canceling 3 < hangup 4
    hangup_by local / remote        ended_by local / remote
    recording_id, recording_ids     has_recording: any non-zero id (the ids stay in extras)
    {recording_id}.mp3 or {id}.mp3  recording, when that file is beside the import
    address type, detail…; flow_id, extras, verbatim
    action, other keys
"""

from __future__ import annotations

from callviewer.record import RecordError, validate
from callviewer.sync.base import Origin, extras_of, items, mapping, signature_keys, text, time

NAME = "voipbin"
ID_KEYS = ("id",)  # the record's own id, named in a reject line

NO_ID = "00000000-0000-0000-0000-000000000000"
_TIMES = ("tm_create", "tm_update", "tm_ringing", "tm_progressing", "tm_hangup")
_SIGNATURE = {*_TIMES, "hangup_reason", "hangup_by"}
_OUTCOMES = {
    "normal": "answered", "timeout": "answered",  # timeout: answered, then hit max duration
    "failed": "failed", "busy": "busy", "cancel": "canceled", "noanswer": "missed",
    "dialout": "missed", "amd": "voicemail",  # amd: an answering machine took it
}
_PROGRESS = {"dialing": 0, "ringing": 1, "progressing": 2, "terminating": 3, "canceling": 3,
             "hangup": 4}
_LIVE = ("dialing", "ringing", "progressing", "terminating", "canceling")
_DIRECTIONS = {"incoming": "inbound", "outgoing": "outbound"}
_ADDRESS_NAMES = ("name", "target_name")


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like a VoIPBIN Call (empty: it does not)."""
    return signature_keys(obj, _SIGNATURE)


def parse(obj: dict, origin: Origin) -> dict:
    """A VoIPBIN Call as a partial canonical record."""
    source_id = _id(text(obj, "id"))
    if source_id is None:
        raise RecordError("id", "is missing; every call needs its id")
    record: dict = {"source": NAME, "source_id": source_id}
    mapped: dict = {"id": None}
    _times(record, obj, mapped)
    if "direction" in obj:
        record["direction"] = _DIRECTIONS.get(text(obj, "direction") or "", "unknown")
        mapped["direction"] = None
    _addresses(record, obj, mapped)
    _end(record, obj, mapped)
    _recording(record, obj, origin)
    record["extras"] = extras_of(obj, mapped)
    return validate(record)


def _id(value: str | None) -> str | None:
    return None if value is None or value.strip() in ("", NO_ID) else value


def _times(record: dict, obj: dict, mapped: dict) -> None:
    stamps = {key: time(obj, key) for key in _TIMES if key in obj}
    mapped.update(dict.fromkeys(stamps))
    for key, field in (("tm_create", "created_at"), ("tm_update", "updated_at"),
                       ("tm_progressing", "answered_at"), ("tm_hangup", "ended_at")):
        if key in stamps:
            record[field] = stamps[key]
    if "tm_ringing" in stamps or "tm_create" in stamps:
        record["started_at"] = stamps.get("tm_ringing") or stamps.get("tm_create")
    answered, ended = stamps.get("tm_progressing"), stamps.get("tm_hangup")
    if answered is not None and ended is not None and ended >= answered:
        record["duration_ms"] = (ended - answered) // 1000


def _addresses(record: dict, obj: dict, mapped: dict) -> None:
    """from/to numbers from the addresses; the customer is the party outside VoIPBIN."""
    customer_side = {"inbound": "source", "outbound": "destination"}.get(record.get("direction"))
    for key, field in (("source", "from_number"), ("destination", "to_number")):
        address = mapping(obj, key)
        if address is None:
            continue
        target = text(address, "target", f"{key}.target")
        record[field] = target or None
        mapped[key] = {"target"}
        if key == customer_side:
            record["customer_number"] = target or None
            names = [text(address, name, f"{key}.{name}") for name in _ADDRESS_NAMES]
            name = next((name for name in names if name and name.strip()), None)
            if name:
                record["customer_name"] = name
            mapped[key] = {"target", *_ADDRESS_NAMES}


def _end(record: dict, obj: dict, mapped: dict) -> None:
    """outcome, end_reason, ended_by and progress from hangup_reason, hangup_by and status."""
    reason = text(obj, "hangup_reason") or None
    status = text(obj, "status")
    if "hangup_reason" in obj:
        record["end_reason"] = reason
        mapped["hangup_reason"] = None
    if reason is not None:
        record["outcome"] = _OUTCOMES.get(reason, "unknown")
    elif status in _LIVE:
        record["outcome"] = "in_progress"
    elif status == "hangup":
        record["outcome"] = "unknown"
    if "hangup_by" in obj:
        hangup_by = text(obj, "hangup_by")
        record["ended_by"] = hangup_by if hangup_by in ("local", "remote") else None
        mapped["hangup_by"] = None
    if status in _PROGRESS:
        record["progress"] = _PROGRESS[status]
        mapped["status"] = None


def _recording(record: dict, obj: dict, origin: Origin) -> None:
    """has_recording from the recording ids; recording from an MP3 named after one."""
    ids = [_id(text(obj, "recording_id"))]
    for index, value in enumerate(items(obj, "recording_ids") or []):
        if not isinstance(value, str):
            raise RecordError(f"recording_ids[{index}]", "expected an id (text)")
        ids.append(_id(value))
    ids = [value for value in ids if value]
    if "recording_id" in obj or "recording_ids" in obj:
        record["has_recording"] = bool(ids)
    for name in [*ids, record["source_id"]]:
        found = origin.beside(f"{name}.mp3")
        if found:
            record["recording"] = found
            record["has_recording"] = True
            return
