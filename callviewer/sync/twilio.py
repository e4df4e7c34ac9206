"""Twilio call module: `Call` (list) and `CallDetails` (with transcription and analysis).

Detection: the object has ``from_to_number`` or ``call_sid``.

Calls are made during an incoming call, so they are inbound and the caller
is the customer. Recordings are stored as ``{call_sid}.mp3``.

    source field                        canonical field
    ----------------------------------  ----------------------------------------------
    id (required)                       source_id
    from_to_number "+1555… -> +1555…"   from_number, to_number; customer_number = from
    (always)                            direction inbound
    call_sid (kept in extras)           recording: {call_sid}.mp3 beside the import
    has_recording                       has_recording, as given
    created_at                          created_at, started_at
    transcription ("AI: …\nUser: …")    transcript, else transcript_text
    analysis_groups[].analyzer_name,    analysis: {analyzer, text, created_at} per run,
    runs[].analysis_text, created_at    newest first
    analysis_groups[].analyzer_id,      extras.analysis_groups, in the same shape
    runs[].id, other keys

progress: 0 basic, 1 with a recording, 2 with a transcription, 3 with analysis.
"""

from __future__ import annotations

from callviewer.record import RecordError, split_speaker_text, validate
from callviewer.sync.base import Origin, boolean, extras_of, items, signature_keys, text, time

NAME = "twilio"
ID_KEYS = ("id",)  # the record's own id, named in a reject line

_GROUP_READ = {"analyzer_name": None, "runs": None}
_RUN_READ = {"analysis_text": None, "created_at": None}


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like a call-module Call or CallDetails (empty: not)."""
    return signature_keys(obj, ("from_to_number", "call_sid"))


def parse(obj: dict, origin: Origin) -> dict:
    """A Twilio call-module Call or CallDetails as a partial canonical record."""
    source_id = text(obj, "id")
    if not source_id or not source_id.strip():
        raise RecordError("id", "is missing; every call needs its id")
    record: dict = {"source": NAME, "source_id": source_id, "direction": "inbound"}
    read = {"id", "from_to_number", "has_recording", "created_at", "transcription",
            "analysis_groups"}
    if "from_to_number" in obj:
        caller, called = split_numbers(text(obj, "from_to_number"))
        record.update(from_number=caller, to_number=called, customer_number=caller)
    if "has_recording" in obj:
        record["has_recording"] = boolean(obj, "has_recording")
    sid = text(obj, "call_sid")
    found = origin.beside(f"{sid}.mp3") if sid else None
    if found:
        record["recording"] = found
    if "created_at" in obj:
        record["created_at"] = record["started_at"] = time(obj, "created_at")
    if "transcription" in obj:
        record.update(_transcription(text(obj, "transcription")))
    extras = extras_of(obj, read)
    if "analysis_groups" in obj:
        record["analysis"], leftovers = _analysis(items(obj, "analysis_groups") or [])
        if leftovers:
            extras["analysis_groups"] = leftovers
    record["extras"] = extras
    record["progress"] = max(
        (rank for rank, reached in ((1, record.get("has_recording") or found),
                                    (2, record.get("transcript") or record.get("transcript_text")),
                                    (3, record.get("analysis"))) if reached), default=0)
    return validate(record)


def split_numbers(value: str | None) -> tuple[str | None, str | None]:
    """``"+15551234567 -> +15559876543"`` as (from, to); a missing side is None."""
    if value is None:
        return None, None
    if value.count("->") != 1:
        raise RecordError("from_to_number", f"expected 'FROM -> TO', got {value[:60]!r}")
    caller, called = (side.strip() or None for side in value.split("->"))
    return caller, called


def _transcription(said: str | None) -> dict:
    if not said or not said.strip():
        return {"transcript": None, "transcript_text": None}
    split = split_speaker_text(said)
    return {"transcript": split} if split else {"transcript_text": said}


def _analysis(groups: list) -> tuple[list[dict], list[dict]]:
    """The runs of every group, newest first, and what of each group was not mapped."""
    runs: list[dict] = []
    leftovers: list[dict] = []
    for g, group in enumerate(groups):
        where = f"analysis_groups[{g}]"
        if not isinstance(group, dict):
            raise RecordError(where, "expected an analysis group object")
        analyzer = text(group, "analyzer_name", f"{where}.analyzer_name")
        rest = extras_of(group, _GROUP_READ)
        run_rests = []
        for r, run in enumerate(items(group, "runs", f"{where}.runs") or []):
            if not isinstance(run, dict):
                raise RecordError(f"{where}.runs[{r}]", "expected an analysis run object")
            runs.append({"analyzer": analyzer,
                         "text": text(run, "analysis_text", f"{where}.runs[{r}].analysis_text"),
                         "created_at": time(run, "created_at", f"{where}.runs[{r}].created_at")})
            run_rests.append(extras_of(run, _RUN_READ))
        if any(run_rests):
            rest["runs"] = run_rests
        leftovers.append(rest)
    runs.sort(key=lambda run: run["created_at"] or 0, reverse=True)
    return runs, leftovers if any(leftovers) else []
