"""What the store's repositories return: frozen records with the fields their callers use.

Times are epoch microseconds (UTC). A dict stays a dict only where it is the data
itself: a connection's settings, a sync's summary, a call's decoded JSON.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any


def now_micros() -> int:
    """The current time as epoch microseconds, as the store keeps times."""
    return time.time_ns() // 1000


def _from(cls, row: Any, **more: Any):
    """A record from a row mapping (or dict) holding at least its fields."""
    return cls(**{name: row[name] for name in _names(cls) if name not in more}, **more)


def _names(cls) -> tuple[str, ...]:
    return tuple(one.name for one in fields(cls))


@dataclass(frozen=True)
class Note:
    """A staff note on a call; `display_name` is its author's chosen name (a team's);
    `position_ms` the moment of the recording it is pinned to (Ctrl+Shift+N)."""

    id: int
    call_id: int
    author: str
    body: str
    created_at: int
    updated_at: int
    client_key: str | None = None
    hidden_by: str | None = None
    hidden_at: int | None = None
    position_ms: int | None = None  # pinned to this moment of the recording; None: not
    display_name: str | None = None

    @classmethod
    def from_row(cls, row: Any, display_name: str | None = None) -> Note:
        return _from(cls, row, display_name=display_name)

    @classmethod
    def unsaved(cls, call_id: int, author: str, body: str,
                position_ms: int | None = None) -> Note:
        """A note being written, shown before the database has it: no id, no times."""
        return cls(None, call_id, author, body, None, None,  # type: ignore[arg-type]
                   position_ms=position_ms)

    def columns(self) -> dict[str, Any]:
        """The note as the notes table holds it (for putting back a deleted one)."""
        return {name: getattr(self, name) for name in _names(Note) if name != "display_name"}


@dataclass(frozen=True)
class Draft:
    """A note editor's unsaved text; note_id NEW_NOTE (0) for a new note."""

    note_id: int
    body: str
    cursor: int
    updated_at: int


@dataclass(frozen=True)
class Call:
    """One call for display: every column (JSON decoded) and its staff notes, oldest first."""

    id: int
    source: str
    source_id: str
    direction: str
    from_number: str | None
    to_number: str | None
    customer_name: str | None
    customer_number: str | None
    started_at: int | None
    answered_at: int | None
    ended_at: int | None
    duration_ms: int | None
    outcome: str
    end_reason: str | None
    ended_by: str | None
    error: str | None
    summary: str | None
    subject: str | None
    score: float | None
    success: bool | None
    done: bool
    employee: str | None
    agent_id: str | None
    has_recording: bool
    recording: str | None
    transcript: Any
    transcript_text: str | None
    analysis: Any
    source_note: str | None
    is_purged: bool
    deleted_at: int | None
    created_at: int | None
    updated_at: int | None
    schema_version: int | None
    extras: Any
    progress: int
    done_local: bool
    done_by: str | None
    done_at: int | None
    note_count: int
    imported_at: int
    recording_state: str
    notes: tuple[Note, ...] = ()
    stats: StoredStats | None = None  # measured from its timeline; None: not yet

    @classmethod
    def from_row(cls, row: Any, notes: list[Note], decode,
                 stats: StoredStats | None = None) -> Call:
        """`row` a calls row; `decode` turns its JSON columns' text into values."""
        decoded = {name: decode(row[name]) if row[name] else None
                   for name in ("transcript", "analysis", "extras")}
        return _from(cls, row, notes=tuple(notes), stats=stats, **decoded)


@dataclass(frozen=True)
class Caller:
    """Who a call was with, for one line about it."""

    customer_name: str | None
    customer_number: str | None
    from_number: str | None


@dataclass(frozen=True)
class Summary:
    """What `callviewer info` prints: where the database is, its schema and its counts."""

    database: str
    schema: str | None
    calls: int
    deleted: int
    purged: int
    with_recording: int
    by_source: dict[str, int]


class ConnectionStatus(StrEnum):
    """How a connection's last sync went, as `SyncConnection.status` says it."""

    NEVER = "never"
    RUNNING = "running"
    OK = "ok"
    OFFLINE = "offline"
    REFUSED = "refused"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class SyncConnection:
    """A stored sync connection and its state; `settings` never hold a token (that is kept
    under `secret_key`: callviewer/secrets.py)."""

    id: int
    name: str
    kind: str
    settings: dict[str, Any]
    secret_key: str
    created_at: int
    cursor: dict[str, Any] | None
    status: str
    error: str | None
    last_attempt_at: int | None
    last_sync_at: int | None
    last_full_at: int | None
    last_whole_at: int | None
    last_summary: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: Any, **decoded: Any) -> SyncConnection:
        return _from(cls, row, **decoded)


@dataclass(frozen=True)
class WantedRecording:
    """A recording a connection should download; `source_ref` is secret (never log it)."""

    call_id: int
    source: str
    source_id: str
    recording_state: str
    source_ref: str
    attempts: int


@dataclass(frozen=True)
class RecordingInfo:
    """A call's recording state and archive record (the source's link left out); `path`
    is absolute."""

    state: str | None
    label: str | None
    path: str | None = None
    size: int | None = None
    archived_at: int | None = None
    last_played_at: int | None = None
    error: str | None = None
    source_gone: bool | None = None


@dataclass(frozen=True)
class Eviction:
    """An archived recording a size cap would remove (the source still serves it)."""

    call_id: int
    connection_id: int
    path: str
    size: int | None
    last_played_at: int | None
    source: str
    source_id: str

    @classmethod
    def from_row(cls, row: Any) -> Eviction:
        return _from(cls, row)


@dataclass(frozen=True)
class Change:
    """Another desktop's change to a team database: the calls it changed (None: many, or
    new ones) and whether a sync's state changed."""

    calls: tuple[int, ...] | None
    sync: bool = False


@dataclass(frozen=True)
class StoredStats:
    """A call's statistics as measured from its timeline (timeline/stats.py) and kept
    (call_stats): talk of each party, the silences added up, the longest monologue and
    who spoke it, the interruptions; `origin` says where the times came from:
    "transcript", "channels", "estimated", or "none" (nothing to measure: every figure
    None)."""

    origin: str
    agent_ms: int | None = None
    customer_ms: int | None = None
    silence_ms: int | None = None
    longest_monologue_ms: int | None = None
    longest_monologue_role: str | None = None
    interruptions: int | None = None
    computed_at: int | None = None

    @property
    def talk_ms(self) -> int:
        """Both parties' talk (their overlaps counted for each)."""
        return (self.agent_ms or 0) + (self.customer_ms or 0)

    @property
    def customer_share(self) -> float | None:
        """The customer's part of the talk, 0..1 (what the list sorts by); None when no
        one spoke."""
        return (self.customer_ms or 0) / self.talk_ms if self.talk_ms else None

    @classmethod
    def from_row(cls, row: Any) -> StoredStats:
        return _from(cls, row)

    def columns(self) -> dict[str, Any]:
        """The row call_stats keeps (without its call)."""
        return {**{name: getattr(self, name) for name in _names(StoredStats)},
                "customer_share": self.customer_share}
