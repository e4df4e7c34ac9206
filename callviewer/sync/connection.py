"""The sync connection interface, and how a stored connection becomes one.

A connection is a place calls come from: one module per source API or kind
of place under `callviewer/sync/sources/`, each with a ``KIND``, its
``DEFAULTS`` (every setting it reads, overridable per connection) and
``open(name, settings, token, cancel)`` returning a `Connection`. The runner
(sync/runner.py) drives any of them the same way.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from callviewer.sync.importer import Reject

# kind -> the module implementing it.
KINDS = {
    "calls-api": "callviewer.sync.sources.agent_platform_api",
    "folder": "callviewer.sync.sources.folder",
    "vapi": "callviewer.sync.sources.vapi_api",
    "twilio": "callviewer.sync.sources.twilio_rest_api",
    "voipbin": "callviewer.sync.sources.voipbin_api",
    "retell": "callviewer.sync.sources.retell_api",
    "elevenlabs": "callviewer.sync.sources.elevenlabs_api",
    "bland": "callviewer.sync.sources.bland_api",
    "call-module": "callviewer.sync.sources.call_module_api",
}
# The names `sync add --api` takes: the vendors' APIs, and the agent platform's.
API_KINDS = {"agent-platform": "calls-api",
             **{kind: kind for kind in KINDS if kind not in ("calls-api", "folder")}}



class Known(Protocol):
    """What the store already holds, as a connection needs to know it."""

    def versions(self, source: str, source_ids: list[str]) -> dict[str, tuple]:
        """{source id: (updated_at, progress)} of the stored calls among these."""
        ...

    def files(self) -> dict[str, tuple[int, int, str]]:
        """A watched folder's imported files: relative path -> (size, mtime_ns, sha256)."""
        ...


@dataclass
class Page:
    """One step of a sync, committed whole: records, rejects, and the cursor after it."""

    records: list[dict]
    rejects: list[Reject] = field(default_factory=list)
    cursor: dict | None = None
    files: list[tuple[str, int, int, str]] = field(default_factory=list)  # folder fingerprints
    listed: int = 0  # source items this page covered (records + rejects)
    total: int | None = None  # items the whole pass will list, when the source says
    waiting: list[str] = field(default_factory=list)  # files still being written
    full_done: bool = False  # this page completed a reconciliation pass
    # The calls this page listed (their source and ids), for the store to know which calls
    # each connection brought; `pass_number`: the full pass (0: an incremental one).
    source: str | None = None
    seen: list[str] = field(default_factory=list)
    pass_number: int = 0
    # This page completed a walk of the source's whole history: the connection's calls it
    # did not list are gone from the source (store/sync_seen.py).
    whole_history: bool = False


class RecordingUnavailable(Exception):
    """The source refused a recording (its HTTP status, or 404 for a missing file)."""

    def __init__(self, code: int, sentence: str) -> None:
        super().__init__(sentence)
        self.code = code


# `changes(…, full=RECENT)`: the source's own reconciliation window, not its whole history.
RECENT = "recent"


class Connection(Protocol):
    """What the runner needs from a source."""

    name: str
    kind: str
    # Seconds between reconciliation passes of a window of its own (None: the source has
    # none), and between walks of the whole history (None: never by themselves).
    reconcile_every: float | None
    full_every: float | None

    def changes(self, cursor: dict | None, full: bool | str, known: Known) -> Iterator[Page]:
        """The calls changed since `cursor`, page by page; `full` True walks the whole
        history (deletions, purges and done flags of any call), RECENT the source's
        reconciliation window."""
        ...

    def fetch_detail(self, source_id: str) -> dict | None:
        """A call's full record now (its recording link fresh); None if the source has none."""
        ...

    def fetch_recording(self, reference: str, part: Path) -> None:
        """Bring a recording into `part`, continuing what `part` already holds.

        Raises RecordingUnavailable when the source refuses it.
        """
        ...

    def can_serve(self, reference: str) -> bool:
        """Whether the source answers for this recording now (checked before an eviction)."""
        ...

    def close(self) -> None:
        ...


def module_for(kind: str) -> ModuleType:
    """The source module of a connection kind; ValueError names the kinds there are."""
    if kind not in KINDS:
        raise ValueError(f"Unknown connection kind {kind!r}; use one of: {', '.join(KINDS)}.")
    return importlib.import_module(KINDS[kind])


def settings_for(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """A kind's defaults with `given` over them; ValueError for a setting the kind lacks."""
    defaults = module_for(kind).DEFAULTS
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"Unknown setting {unknown[0]!r} for a {kind} connection; "
                         f"the settings are: {', '.join(sorted(defaults))}.")
    merged = dict(defaults)
    for key, value in given.items():
        merged[key] = _like(defaults[key], value, key)
    if "concurrency" in merged:  # said when it is set, not at the next sync
        from callviewer.sync.parallel import concurrency_of

        concurrency_of(merged, kind)
    return merged


def open_connection(name: str, kind: str, settings: dict[str, Any], token: str | None,
                    cancel: threading.Event | None = None) -> Connection:
    """The live connection for a stored one (`store.sync.connection(name)` gives its name,
    kind and settings), or for one being made (Preferences' Test connection)."""
    module = module_for(kind)
    # A vendor's module names its VendorApi subclass; the others have an `open` of their own.
    opener = getattr(module, "CONNECTION", None) or module.open
    return opener(name, settings_for(kind, settings), token, cancel)


def parse_setting(kind: str, text: str) -> tuple[str, Any]:
    """A KEY=VALUE setting from the command line, typed like its default."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"Give a setting as KEY=VALUE, not {text!r}.")
    defaults = module_for(kind).DEFAULTS
    if key not in defaults:
        raise ValueError(f"Unknown setting {key!r} for a {kind} connection; "
                         f"the settings are: {', '.join(sorted(defaults))}.")
    return key, _like(defaults[key], value, key)


def _like(default: Any, value: Any, key: str) -> Any:
    """`value` in the type of `default` (text from the command line is converted)."""
    if value is None or default is None or not isinstance(value, str):
        return value
    try:
        if isinstance(default, bool):
            if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return value.strip().lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except ValueError:
        raise ValueError(f"The setting {key!r} needs a {type(default).__name__}, "
                         f"not {value!r}.") from None
    return value
