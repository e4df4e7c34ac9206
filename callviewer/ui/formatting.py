"""Record values, and what a sync did, in the words a person reads (pure functions, no Qt).

The times' formatters are `callviewer.times` (the command line shares them), named here
too so that a view reads every word from this one module.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from callviewer.times import duration as duration
from callviewer.times import full_time as full_time
from callviewer.times import local_time as local_time
from callviewer.times import position as position

if TYPE_CHECKING:
    from callviewer.sync.runner import SyncReport

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


def percent(share: float | None) -> str:
    """A part of a whole (0..1) as a person reads it: "62 %"; "" when unknown."""
    return "" if share is None else f"{round(share * 100)} %"


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


def sync_sentence(report: SyncReport) -> str:
    """The status bar's words for a finished sync:
    ``Synced 10:42 · 37 new, 5 updated, 3 recordings``, then what was left or failed."""
    if not report.synced_here and (report.elsewhere or report.fresh) and not report.canceled:
        # Nothing synced by this run: how the team stands, as the database has it.
        line = last_synced([*report.elsewhere.values(), *report.fresh.values()])
        return line + (" · another desktop is syncing now" if report.elsewhere else "")
    parts = [f"{report.counts.new} new", f"{report.counts.updated} updated"]
    if report.downloaded:
        parts.append(f"{report.downloaded} recording{'s' * (report.downloaded != 1)}")
    if report.rejected:
        parts.append(f"{report.rejected} rejected")
    head = "Sync canceled" if report.canceled else "Synced"
    when = local_time(report.finished_at or int(time.time() * 1_000_000))
    line = f"{head} {when} · {', '.join(parts)}"
    if report.elsewhere:
        line += " · " + ", ".join(report.elsewhere) + ": another desktop is syncing it"
    if report.failures:
        line += " · " + " ".join(f"{name}: {why}" for name, why in report.failures.items())
    return line


def last_synced(times: Iterable[int | None]) -> str:
    """"Synced 10:42" as of the connection synced longest ago (every one is at least that
    fresh); "Not synced yet" when none has been."""
    synced = [when for when in times if when]
    return f"Synced {local_time(min(synced))}" if synced else "Not synced yet"
