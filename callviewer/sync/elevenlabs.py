"""ElevenLabs Agents (Conversational AI): conversations, from the API and post-call webhooks.

Read from ElevenLabs' API reference: "Get Conversation Details"
(GET /v1/convai/conversations/{conversation_id}, GetConversationResponseModel), "Get
Conversations" (GET /v1/convai/conversations, ConversationSummaryResponseModel) and
"Post-call webhooks" (https://elevenlabs.io/docs/eleven-agents/workflows/post-call-webhooks),
with the field types of the elevenlabs-python SDK (ConversationHistoryTranscript*,
ConversationHistoryMetadataCommonModel, ConversationHistoryAnalysisCommonModel).

Four shapes, each told by its keys (an envelope's ``type`` is not needed):

- a conversation (the detail, and ``data`` of a ``post_call_transcription`` webhook):
  ``transcript``, ``metadata``, ``analysis``…;
- a list item (``conversations`` of a list page): ``start_time_unix_secs``,
  ``call_duration_secs``, ``message_count``… at the top level;
- a recording (``data`` of a ``post_call_audio`` webhook): ``full_audio``, base64 MP3;
- a call that never connected (``data`` of a ``call_initiation_failure`` webhook):
  ``failure_reason`` and the telephony provider's ``metadata`` {type, body}.

Detection: ``conversation_id`` with ``agent_id``, ``transcript``, ``metadata``,
``analysis``, ``full_audio`` or ``failure_reason``, and no ``call_id`` (Retell's, Bland's).

    source field                      canonical field
    --------------------------------  ----------------------------------------------------
    conversation_id (required)        source_id
    agent_id                          agent_id
    status initiated, in-progress /   outcome in_progress / answered / failed (else
    processing, done / failed         unknown); progress below
    metadata.phone_call.direction     direction inbound / outbound; a conversation without
    (list item: direction)            phone_call (a web or app session) is unknown
    metadata.phone_call               the customer is external_number, the business
    .external_number, .agent_number   agent_number: from/to placed by the direction;
                                      customer_number = external_number (without
                                      phone_call: dynamic variables system__caller_id,
                                      system__called_number)
    metadata.start_time_unix_secs     started_at (epoch seconds; a list item has it at the
                                      top level, as it has call_duration_secs)
    metadata.accepted_time_unix_secs  answered_at
    metadata.call_duration_secs       duration_ms, once the call is over (not while live,
                                      nor 0 for a failed call); ended_at = start + duration
    metadata.termination_reason       end_reason ("" is none)
    metadata.error {code, reason}     error, when the status is failed ("reason (code N)")
    transcript[] role user / agent,   transcript: customer / agent messages, start_ms from
    message, time_in_call_secs        time_in_call_secs, end_ms = the next turn's start; a
                                      turn whose message is null yields no message
    transcript[].tool_calls[]         a tool entry after the turn that made the call, with
    .tool_results[] by request_id     its result (the result may come in a later turn);
                                      params_as_json and result_value decoded when they
                                      are JSON objects or lists
    transcript[] other keys           extras.transcript: per turn, what was not read (null
                                      values left out), in the turns' order
    analysis.transcript_summary       summary (a list item has these three at the top
    analysis.call_summary_title       subject  level; its nulls, and its "" termination
                                      reason, are "not yet": absent)
    analysis.call_successful          success: success True, failure False (unknown: absent)
    evaluation_criteria_results       analysis: one run per criterion {criteria_id,
                                      "result: rationale", created_at = ended_at or None}
    data_collection_results           analysis: one "data_collection" run, a line per item
                                      "id: value (rationale)" (the …_list forms are read
                                      when the objects are absent or empty)
    has_audio                         has_recording (the audio is at …/{id}/audio, fetched
                                      with the API key by the sync connector: no recording)
    user_id, cost, phone_call.type,   extras, verbatim
    call_sid, agent_name…, unknown

    post_call_audio data              attach_only record: agent_id, has_recording True and
    {agent_id, conversation_id,       `audio`, the decoded MP3 bytes (the importer archives
     full_audio}                      them); RecordError("full_audio") when they are not

    call_initiation_failure data      direction outbound (only outbound calls are placed);
    failure_reason busy / no-answer / outcome busy / missed / failed; end_reason as given;
    unknown                           error when failed: SIP error_reason, else Twilio's
                                      CallStatus and SipResponseCode
    metadata.body (sip) from_number,  from_number (the business), to_number =
    to_number; (twilio) From, To      customer_number
    metadata.body.Timestamp (Twilio,  started_at = ended_at: when the attempt ended; else
    RFC 2822); else event_timestamp   event_timestamp (epoch seconds) if the envelope's
                                      reader put it beside the data

progress: list item 0 < initiated, in-progress 1 < processing 2 < done, failed, a call
initiation failure 3. A list item never undoes a detail; a "processing" webhook that
arrives after the "done" detail does not take its analysis away. The audio record has no
progress: it only adds to the call, whatever the call's stage.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from callviewer.record import RecordError, message, tool_message, validate
from callviewer.sync.base import (
    Origin,
    boolean,
    epoch_time,
    extras_of,
    integer,
    items,
    mapping,
    number,
    rfc2822_time,
    role_for,
    signature_keys,
    text,
)

NAME = "elevenlabs"
ID_KEYS: tuple[str, ...] = ("conversation_id",)

_ID = "conversation_id"
_SIGNATURE = {_ID, "agent_id", "transcript", "metadata", "analysis", "full_audio",
              "failure_reason"}
_DETAIL = ("transcript", "metadata", "analysis")
_OUTCOMES = {"initiated": "in_progress", "in-progress": "in_progress",
             "processing": "answered", "done": "answered", "failed": "failed"}
_PROGRESS = {"initiated": 1, "in-progress": 1, "processing": 2, "done": 3, "failed": 3}
_LIST_PROGRESS = 0
_FAILURE_PROGRESS = 3
_LIVE = ("initiated", "in-progress")
_SUCCESS = {"success": True, "failure": False}
_ROLES = {"user": "customer", "agent": "agent"}
_FAILURE_OUTCOMES = {"busy": "busy", "no-answer": "missed"}
_TURN_READ = ("role", "message", "time_in_call_secs", "tool_calls", "tool_results")
_CALL_READ = ("tool_name", "params_as_json")
_RESULT_READ = ("tool_name", "result_value")
_ANALYSIS_READ = {"transcript_summary": None, "call_summary_title": None,
                  "call_successful": None, "evaluation_criteria_results": None,
                  "data_collection_results": None, "evaluation_criteria_results_list": None,
                  "data_collection_results_list": None}
_LIST_TIMES = ("start_time_unix_secs", "call_duration_secs")


def matches(obj: dict) -> tuple[str, ...]:
    """The keys by which `obj` looks like an ElevenLabs conversation, list item, audio or
    call initiation failure (empty: it does not)."""
    if _ID not in obj or "call_id" in obj:
        return ()
    keys = signature_keys(obj, _SIGNATURE)
    return keys if len(keys) > 1 else ()


def parse(obj: dict, origin: Origin) -> dict:
    """An ElevenLabs conversation (detail, list item, webhook data) as a partial record."""
    source_id = text(obj, _ID)
    if not source_id or not source_id.strip():
        raise RecordError(_ID, "is missing; every conversation needs its id")
    record: dict = {"source": NAME, "source_id": source_id}
    if "agent_id" in obj:
        record["agent_id"] = text(obj, "agent_id")
    if "full_audio" in obj:
        return _audio(record, obj)
    if "failure_reason" in obj:
        return _initiation_failure(record, obj)
    return _conversation(record, obj)


# --- a conversation: detail, webhook data or list item --------------------------------


def _conversation(record: dict, obj: dict) -> dict:
    detail = any(key in obj for key in _DETAIL)
    mapped: dict = {_ID: None, "agent_id": None, "status": None, "has_audio": None}
    status = text(obj, "status")
    if status is not None:
        record["outcome"] = _OUTCOMES.get(status, "unknown")
    if detail:
        record["progress"] = _PROGRESS.get(status or "", _LIST_PROGRESS)
        record["direction"] = "unknown"  # until phone_call says otherwise
        metadata = mapping(obj, "metadata") or {}
        mapped["metadata"] = _metadata(record, metadata, status)
        if not isinstance(metadata.get("phone_call"), dict):
            spec = _numbers_from_variables(record, obj)
            if spec:
                mapped["conversation_initiation_client_data"] = spec
    else:
        record["progress"] = _LIST_PROGRESS
        _list_item(record, obj, status, mapped)
    if "has_audio" in obj:
        record["has_recording"] = boolean(obj, "has_audio")
    extras: dict = {}
    if "transcript" in obj:
        record["transcript"], leftovers = _transcript(items(obj, "transcript") or [])
        mapped["transcript"] = None
        if leftovers:
            extras["transcript"] = leftovers
    analysis = mapping(obj, "analysis")
    if "analysis" in obj:
        mapped["analysis"] = _ANALYSIS_READ  # null while the call is processed: not yet
    if analysis is not None:
        _analysis(record, analysis, "analysis.")
    elif not detail:
        _analysis(record, obj, "")  # a list item has call_successful… at the top level
        mapped.update(dict.fromkeys(key for key in _ANALYSIS_READ if key in obj))
        for key in ("summary", "subject", "end_reason"):
            if key in record and record[key] is None:
                del record[key]  # a list item's null is "not yet": the detail will say
    record["extras"] = {**extras_of(obj, mapped), **extras}
    return validate(record)


def _metadata(record: dict, metadata: dict, status: str | None) -> dict:
    """Times, end and numbers from a conversation's metadata; the spec of the keys read."""
    read: dict = {"start_time_unix_secs": None, "accepted_time_unix_secs": None,
                  "call_duration_secs": None, "termination_reason": None}
    where = "metadata."
    _times(record, metadata, status, where)
    if "accepted_time_unix_secs" in metadata:
        record["answered_at"] = epoch_time(metadata, "accepted_time_unix_secs", "s",
                                           where + "accepted_time_unix_secs")
    if "termination_reason" in metadata:
        record["end_reason"] = text(metadata, "termination_reason",
                                    where + "termination_reason") or None
    if status == "failed" and "error" in metadata:
        record["error"] = _error(metadata.get("error"))
        read["error"] = None
    phone_call = mapping(metadata, "phone_call", where + "phone_call")
    if phone_call is not None:
        read["phone_call"] = _phone_call(record, phone_call)
    return read


def _list_item(record: dict, obj: dict, status: str | None, mapped: dict) -> None:
    """A list item's own fields: its times, direction and end at the top level."""
    _times(record, obj, status, "")
    mapped.update(dict.fromkeys(key for key in _LIST_TIMES if key in obj))
    if "direction" in obj:  # null for a web or app conversation
        direction = text(obj, "direction")
        record["direction"] = direction if direction in ("inbound", "outbound") else "unknown"
        mapped["direction"] = None
    if "termination_reason" in obj:
        record["end_reason"] = text(obj, "termination_reason") or None
        mapped["termination_reason"] = None


def _times(record: dict, obj: dict, status: str | None, where: str) -> None:
    """started_at, and once the call is over its duration and ended_at."""
    if "start_time_unix_secs" in obj:
        record["started_at"] = epoch_time(obj, "start_time_unix_secs", "s",
                                          where + "start_time_unix_secs")
    if status in _LIVE or "call_duration_secs" not in obj:
        return
    seconds = number(obj, "call_duration_secs", where + "call_duration_secs")
    if seconds is None:
        return
    if seconds < 0:
        raise RecordError(where + "call_duration_secs", f"is negative ({seconds})")
    if status == "failed" and seconds == 0:
        return  # never talked: no duration, as for any unanswered call
    record["duration_ms"] = round(seconds * 1000)
    if record.get("started_at") is not None:
        record["ended_at"] = record["started_at"] + round(seconds * 1_000_000)


def _error(value: Any) -> str | None:
    """metadata.error: {code, reason} as "reason (code N)"; a text as it is."""
    if value is None or isinstance(value, str):
        return value or None
    if not isinstance(value, dict):
        raise RecordError("metadata.error", "expected an object with code and reason")
    reason = text(value, "reason", "metadata.error.reason")
    code = integer(value, "code", "metadata.error.code")
    if reason and code is not None:
        return f"{reason} (code {code})"
    return reason or (f"error code {code}" if code is not None else None)


def _phone_call(record: dict, phone_call: dict) -> set[str]:
    """direction and numbers from metadata.phone_call; the keys read."""
    where = "metadata.phone_call."
    direction = text(phone_call, "direction", where + "direction")
    if direction in ("inbound", "outbound"):
        record["direction"] = direction
    customer = text(phone_call, "external_number", where + "external_number") or None
    business = text(phone_call, "agent_number", where + "agent_number") or None
    _place(record, customer, business)
    return {"direction", "external_number", "agent_number"}


def _place(record: dict, customer: str | None, business: str | None) -> None:
    """from/to by the direction: inbound the customer called the business, outbound the
    business called the customer; with no direction only the customer is known."""
    record["customer_number"] = customer
    if record.get("direction") == "inbound":
        record["from_number"], record["to_number"] = customer, business
    elif record.get("direction") == "outbound":
        record["from_number"], record["to_number"] = business, customer


def _numbers_from_variables(record: dict, obj: dict) -> dict | None:
    """Without phone_call, the system dynamic variables' caller and called numbers (the
    caller is the customer unless the call is outbound); the spec of what was read."""
    data = obj.get("conversation_initiation_client_data")
    variables = data.get("dynamic_variables") if isinstance(data, dict) else None
    if not isinstance(variables, dict):
        return None
    where = "conversation_initiation_client_data.dynamic_variables."
    caller = _number_text(variables, "system__caller_id", where)
    called = _number_text(variables, "system__called_number", where)
    if caller is None and called is None:
        return None
    record["from_number"], record["to_number"] = caller, called
    record["customer_number"] = called if record.get("direction") == "outbound" else caller
    return {"dynamic_variables": {"system__caller_id", "system__called_number"}}


def _number_text(obj: dict, key: str, where: str) -> str | None:
    """A phone number given as text or as a number; None when absent or empty."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(obj, key, where + key) or None


# --- the transcript ------------------------------------------------------------------


def _transcript(turns: list) -> tuple[list[dict], list[dict]]:
    """The messages and tool entries, and per turn what was not read (when any was)."""
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise RecordError(f"transcript[{index}]", "expected a turn object")
    starts = [_start_ms(turn, index) for index, turn in enumerate(turns)]
    results = _results_by_request(turns)
    called = {call.get("request_id") for turn in turns for call in turn.get("tool_calls") or ()
              if isinstance(call, dict) and isinstance(call.get("request_id"), str)}
    entries: list[dict] = []
    for index, turn in enumerate(turns):
        where = f"transcript[{index}]"
        said = text(turn, "message", f"{where}.message")
        end = next((start for start in starts[index + 1:] if start is not None), None)
        if said is not None:
            speaker = turn.get("role")
            role = _ROLES.get(speaker) if isinstance(speaker, str) else None
            entries.append(message(role or role_for(speaker), said, starts[index], end))
        for number_, call in enumerate(items(turn, "tool_calls", f"{where}.tool_calls") or []):
            entries.append(_tool_call(call, f"{where}.tool_calls[{number_}]", starts[index],
                                      results))
        for number_, result in enumerate(turn.get("tool_results") or []):
            if result.get("request_id") not in called:  # a result with no call to join
                entries.append(tool_message(
                    text(result, "tool_name", f"{where}.tool_results[{number_}].tool_name"),
                    None, _decoded(result.get("result_value")), starts[index]))
    leftovers = [_turn_leftover(turn) for turn in turns]
    return entries, leftovers if any(leftovers) else []


def _start_ms(turn: dict, index: int) -> int | None:
    seconds = number(turn, "time_in_call_secs", f"transcript[{index}].time_in_call_secs")
    return None if seconds is None else round(seconds * 1000)


def _results_by_request(turns: list[dict]) -> dict[str, dict]:
    """Every tool result of the conversation by its request_id (a result may come in a
    later turn than its call)."""
    results: dict[str, dict] = {}
    for index, turn in enumerate(turns):
        for number_, result in enumerate(items(turn, "tool_results",
                                               f"transcript[{index}].tool_results") or []):
            if not isinstance(result, dict):
                raise RecordError(f"transcript[{index}].tool_results[{number_}]",
                                  "expected a tool result object")
            request = result.get("request_id")
            if isinstance(request, str):
                results.setdefault(request, result)
    return results


def _tool_call(call: Any, where: str, start_ms: int | None, results: dict[str, dict]) -> dict:
    if not isinstance(call, dict):
        raise RecordError(where, "expected a tool call object")
    name = text(call, "tool_name", f"{where}.tool_name")
    arguments = _decoded(text(call, "params_as_json", f"{where}.params_as_json"))
    request = call.get("request_id")
    result = results.get(request) if isinstance(request, str) else None
    value = _decoded(result.get("result_value")) if result is not None else None
    return tool_message(name, arguments, value, start_ms)


def _decoded(value: Any) -> Any:
    """A tool's JSON text as its object or list; any other text (or value) as it is."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _turn_leftover(turn: dict) -> dict:
    """What a turn holds besides what the transcript shows; null values left out."""
    rest = {key: value for key, value in turn.items()
            if key not in _TURN_READ and value is not None}
    for key, read in (("tool_calls", _CALL_READ), ("tool_results", _RESULT_READ)):
        parts = [{k: v for k, v in part.items() if k not in read}
                 for part in turn.get(key) or () if isinstance(part, dict)]
        if any(parts):
            rest[key] = parts
    return rest


# --- the analysis ----------------------------------------------------------------------


def _analysis(record: dict, analysis: dict, where: str) -> None:
    """summary, subject, success and the analysis runs."""
    if "transcript_summary" in analysis:
        record["summary"] = text(analysis, "transcript_summary",
                                 where + "transcript_summary") or None
    if "call_summary_title" in analysis:
        record["subject"] = text(analysis, "call_summary_title",
                                 where + "call_summary_title") or None
    if "call_successful" in analysis:
        verdict = text(analysis, "call_successful", where + "call_successful")
        if verdict in _SUCCESS:
            record["success"] = _SUCCESS[verdict]
    runs = [*_criteria_runs(analysis, where, record.get("ended_at")),
            *_data_collection_run(analysis, where, record.get("ended_at"))]
    if runs:
        record["analysis"] = runs


def _results(analysis: dict, key: str, where: str) -> list[tuple[str, dict]]:
    """(id, result) of a results object, else of its ``…_list`` form."""
    by_id = mapping(analysis, key, where + key)
    if by_id:
        found = list(by_id.items())
    else:
        listed = items(analysis, f"{key}_list", f"{where}{key}_list") or []
        found = [(None, item) for item in listed]
    for name, result in found:
        if not isinstance(result, dict):
            raise RecordError(f"{where}{key}" + (f".{name}" if name else ""),
                              "expected a result object")
    return found


def _criteria_runs(analysis: dict, where: str, ended_at: int | None) -> list[dict]:
    runs = []
    for name, result in _results(analysis, "evaluation_criteria_results", where):
        at = f"{where}evaluation_criteria_results.{name or ''}".rstrip(".")
        analyzer = text(result, "criteria_id", f"{at}.criteria_id") or name or "criterion"
        verdict = text(result, "result", f"{at}.result") or "unknown"
        rationale = text(result, "rationale", f"{at}.rationale")
        runs.append({"analyzer": analyzer,
                     "text": f"{verdict}: {rationale}" if rationale else verdict,
                     "created_at": ended_at})
    return runs


def _data_collection_run(analysis: dict, where: str, ended_at: int | None) -> list[dict]:
    lines = []
    for name, result in _results(analysis, "data_collection_results", where):
        item = result.get("data_collection_id") or name or "item"
        value = result.get("value")
        shown = value if isinstance(value, str) else "not collected" if value is None \
            else orjson.dumps(value).decode()
        rationale = result.get("rationale")
        lines.append(f"{item}: {shown}" + (f" ({rationale})" if rationale else ""))
    return [{"analyzer": "data_collection", "text": "\n".join(lines), "created_at": ended_at}] \
        if lines else []


# --- post_call_audio -----------------------------------------------------------------


def _audio(record: dict, obj: dict) -> dict:
    """The recording a post_call_audio webhook carries: it only adds to its call."""
    record.update(attach_only=True, has_recording=True, audio=_mp3(obj.get("full_audio")))
    record["extras"] = extras_of(obj, (_ID, "agent_id", "full_audio"))
    return validate(record)


def _mp3(value: Any) -> bytes:
    """full_audio's base64 text as MP3 bytes; RecordError saying why when it is not."""
    if not isinstance(value, str):
        raise RecordError("full_audio", "is not the recording as base64 text.")
    compact = "".join(value.split())
    if not compact:
        raise RecordError("full_audio", "is empty, so the webhook carried no recording.")
    try:
        audio = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise RecordError("full_audio", "is not valid base64 text, so the recording cannot "
                                        "be decoded.") from None
    if not _is_mp3(audio):
        raise RecordError("full_audio", "does not hold an MP3 recording (it starts with "
                                        "neither an ID3 tag nor an MPEG audio frame).")
    return audio


def _is_mp3(audio: bytes) -> bool:
    """An ID3v2 tag or an MPEG audio frame sync (11 bits set) at the start."""
    return audio[:3] == b"ID3" or (len(audio) >= 2 and audio[0] == 0xFF
                                   and audio[1] & 0xE0 == 0xE0)


# --- call_initiation_failure ---------------------------------------------------------


def _initiation_failure(record: dict, obj: dict) -> dict:
    """An outbound call that never connected: busy, not answered, or failed to start."""
    reason = text(obj, "failure_reason")
    outcome = _FAILURE_OUTCOMES.get(reason or "", "failed")
    record.update(direction="outbound", outcome=outcome, end_reason=reason or None,
                  progress=_FAILURE_PROGRESS)
    mapped: dict = {_ID: None, "agent_id": None, "failure_reason": None}
    metadata = mapping(obj, "metadata") or {}
    body = mapping(metadata, "body", "metadata.body") or {}
    provider = text(metadata, "type", "metadata.type")
    where = "metadata.body."
    if provider == "sip":
        business = _number_text(body, "from_number", where)
        customer = _number_text(body, "to_number", where)
        read = {"from_number", "to_number"}
        error = text(body, "error_reason", where + "error_reason")
        when = None
    else:  # Twilio's StatusCallback body
        business = _number_text(body, "From", where)
        customer = _number_text(body, "To", where)
        read = {"From", "To", "Timestamp"}
        error = _twilio_error(body)
        when = rfc2822_time(body, "Timestamp", where + "Timestamp")
    if "from_number" in body or "From" in body or "to_number" in body or "To" in body:
        record.update(from_number=business, to_number=customer, customer_number=customer)
    if when is None and "event_timestamp" in obj:
        when = epoch_time(obj, "event_timestamp", "s")
        mapped["event_timestamp"] = None
    if when is not None:
        record["started_at"] = record["ended_at"] = when
    if outcome == "failed":
        record["error"] = error or f"the call could not be placed ({reason or 'no reason'})"
        if provider == "sip" and error:
            read.add("error_reason")
    if body:
        mapped["metadata"] = {"body": read}
    record["extras"] = extras_of(obj, mapped)
    return validate(record)


def _twilio_error(body: dict) -> str | None:
    status = body.get("CallStatus")
    code = body.get("SipResponseCode")
    parts = [f"Twilio call status {status}" if isinstance(status, str) and status else "",
             f"SIP response {code}" if isinstance(code, (str, int)) and str(code) else ""]
    return ", ".join(part for part in parts if part) or None
