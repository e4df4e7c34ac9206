"""Record values in the words and local times a person reads (pure functions, no Qt)."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

_OUTCOMES = {
    "answered": "Answered", "missed": "Missed", "busy": "Busy", "failed": "Failed",
    "canceled": "Canceled", "voicemail": "Voicemail", "in_progress": "In progress",
    "unknown": "Unknown",
}
_DIRECTIONS = {"inbound": "Inbound", "outbound": "Outbound", "unknown": "Direction unknown"}
# End reasons of the seed systems, in words; others are shown as their own words.
_END_REASONS = {
    "user_hangup": "Customer hung up", "agent_hangup": "Agent hung up",
    "call_transfer": "Transferred", "customer-ended-call": "Customer hung up",
    "assistant-ended-call": "Agent hung up", "silence-timed-out": "Silence timed out",
    "voicemail": "Reached voicemail", "normal": "Ended normally", "failed": "Call failed",
    "busy": "Line busy", "cancel": "Canceled", "timeout": "Not answered in time",
    "noanswer": "No answer", "dialout": "Dial-out failed", "amd": "Answering machine",
}
_ENDED_BY = {"customer": "Customer hung up", "agent": "Agent hung up",
             "remote": "Other side hung up", "local": "We hung up"}


def _local(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000)


def local_time(micros: int | None, now: datetime | None = None) -> str:
    """"14:03" today, "Mon 09:12" in the last week, "12 Mar 2026" before that."""
    if micros is None:
        return ""
    moment, now = _local(micros), now or datetime.now()
    if moment.date() == now.date():
        return moment.strftime("%H:%M")
    if now.date() - timedelta(days=6) <= moment.date() < now.date():
        return moment.strftime("%a %H:%M")
    return f"{moment.day} {moment.strftime('%b %Y')}"


def full_time(micros: int | None) -> str:
    """Date and time to the second, in local time: "Mon 12 Mar 2026, 14:03:22"."""
    if micros is None:
        return "Time unknown"
    moment = _local(micros)
    return f"{moment.strftime('%a')} {moment.day} {moment.strftime('%b %Y, %H:%M:%S')}"


def duration(ms: int | None) -> str:
    """"m:ss", or "h:mm:ss" from an hour."""
    if ms is None:
        return ""
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def outcome_words(outcome: str | None) -> str:
    """"Answered", "Missed", "In progress"…"""
    return _OUTCOMES.get(outcome or "unknown", _words(outcome or "unknown"))


def direction_words(direction: str | None) -> str:
    return _DIRECTIONS.get(direction or "unknown", _words(direction or "unknown"))


def end_reason_words(end_reason: str | None, ended_by: str | None = None) -> str:
    """Why the call ended, in words: "Customer hung up"; "" when nothing is known."""
    if end_reason:
        return _END_REASONS.get(end_reason, _words(end_reason))
    return _ENDED_BY.get(ended_by or "", "")


def _words(word: str) -> str:
    text = word.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def who(name: str | None, number: str | None) -> str:
    """Name and number on one line, each a bidi isolate: an Arabic or Hebrew name can
    neither reorder the number (``+971…`` shown as ``…971+``) nor the separator."""
    parts = [f"\u2068{name}\u2069" if name else "", f"\u2066{number}\u2069" if number else ""]
    return " · ".join(part for part in parts if part) or "Unknown caller"


def paragraph(text: str) -> str:
    """Text with its reading direction fixed by its letters' majority, not its first letter.

    Qt (like the Unicode default) sets a paragraph's direction from its first
    strong letter, so "ليلى حداد called; the agent…" would lay out right to left
    with the full stop at the far left. A leading LRM/RLM mark settles it.
    """
    right = left = 0
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            right += 1
        elif kind == "L":
            left += 1
    return ("\u200f" if right > left else "\u200e") + text if text else text
