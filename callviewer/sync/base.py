"""What every source-format parser shares: the import's origin, extras, and typed getters."""

from __future__ import annotations

import datetime
import email.utils
import functools
import math
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from callviewer.record import RecordError, parse_time, role_of
from callviewer.recording_refs import refusal, refused, shown

# Two letters at least, so that a Windows drive ("C:\calls\a.mp3") reads as a path.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_WINDOWS_DRIVE = re.compile(r"^/[A-Za-z]:")


@dataclass(frozen=True)
class Origin:
    """Where the records being parsed come from: the folder of the imported file, if any."""

    folder: Path | None = None

    def beside(self, name: str) -> str | None:
        """The absolute path of the regular file `name` (a plain name) in the folder, or None."""
        if self.folder is None or not _is_plain_name(name):
            return None
        return _existing_file(Path(os.path.abspath(self.folder)) / name)


def resolve_recording(value: str | None, origin: Origin) -> str | None:
    """A recording reference for the store and the player: an http(s) URL as given, a local
    file the import named (in or under its file's folder) as an absolute path; anything else
    `refused(reason)` (recording_refs.py), never a path opened from wherever the app runs."""
    if not value:
        return value
    scheme = _SCHEME.match(value)
    if scheme is None:
        return _local_file(value, value, origin)
    if scheme.group(1).lower() == "file":
        path = _file_url_path(value)
        if path is None:
            return refused(f"{shown(value)} is a file on another computer")
        return _local_file(path, value, origin)
    problem = refusal(value)
    return refused(problem) if problem else value


def signature_keys(obj: dict, signature: Collection[str]) -> tuple[str, ...]:
    """The keys of `obj` that belong to a format's signature, in the record's order: what
    `matches` answers (empty: not this format), and what a reject names as the reason."""
    if obj.keys().isdisjoint(signature):  # most formats asked: none (the smaller side read)
        return ()
    return tuple(filter(signature.__contains__, obj))  # the same test, without a frame


def extras_of(obj: dict, mapped: Collection[str] | Mapping[str, Any]) -> dict:
    """The input keys a parser did not map, verbatim.

    `mapped` may be a mapping whose value for a key is a nested spec of the
    sub-keys mapped inside that object; its other sub-keys stay under the key.
    """
    extras: dict = {}
    nested = isinstance(mapped, Mapping)  # asked once, not for every key
    for key, value in obj.items():
        inner = mapped[key] if nested and key in mapped else None
        if key not in mapped or (inner and not isinstance(value, dict)):
            extras[key] = value  # not mapped, or not the object the parser looked into
        elif inner and (rest := extras_of(value, inner)):
            extras[key] = rest
    return extras


Getter = Callable[..., Any]


def take(record: dict, obj: dict, table: Mapping[str, tuple[str, Getter]]) -> None:
    """Copy each `source key: (canonical field, getter)` of `table` that `obj` has."""
    for key, (field, getter) in table.items():
        if key in obj:
            record[field] = getter(obj, key)


def text(obj: dict, key: str, name: str | None = None) -> str | None:
    """`obj[key]` as text; None when absent or null. `name` is the field for errors."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise RecordError(name or key, f"expected text, got {describe(value)}")


def boolean(obj: dict, key: str, name: str | None = None) -> bool | None:
    """`obj[key]` as true or false; None when absent or null."""
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise RecordError(name or key, f"expected true or false, got {describe(value)}")


def number(obj: dict, key: str, name: str | None = None) -> int | float | None:
    """`obj[key]` as a finite number; None when absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RecordError(name or key, f"expected a number, got {describe(value)}")
    return value


def integer(obj: dict, key: str, name: str | None = None) -> int | None:
    """`obj[key]` as a whole number (``12.0`` reads as 12); None when absent or null."""
    value = number(obj, key, name)
    if value is None or isinstance(value, int):
        return value
    if value.is_integer():
        return int(value)
    raise RecordError(name or key, f"expected a whole number, got {describe(value)}")


def mapping(obj: dict, key: str, name: str | None = None) -> dict | None:
    """`obj[key]` as a JSON object; None when absent or null."""
    value = obj.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise RecordError(name or key, f"expected an object, got {describe(value)}")


def items(obj: dict, key: str, name: str | None = None) -> list | None:
    """`obj[key]` as a JSON array; None when absent or null."""
    value = obj.get(key)
    if value is None or isinstance(value, list):
        return value
    raise RecordError(name or key, f"expected a list, got {describe(value)}")


def time(obj: dict, key: str, name: str | None = None) -> int | None:
    """`obj[key]` as epoch microseconds (see record.parse_time); None when absent or unset."""
    return parse_time(obj.get(key), name or key)


_EPOCH_UNITS = {"s": 1_000_000, "ms": 1_000}
_LAST_MICROS = 253_402_300_800 * 1_000_000  # 10000-01-01: later is no time of a call


def epoch_time(obj: dict, key: str, unit: str, name: str | None = None) -> int | None:
    """`obj[key]`, a count of seconds (`unit` "s") or milliseconds ("ms") since the epoch,
    as epoch microseconds; None when absent or null.

    The unit is the vendor's documented one for that field, never guessed from the size.
    A number written as text ("1700000000") reads too; 0 reads as unset.
    """
    value = obj.get(key)
    if isinstance(value, str) and value.strip():
        try:
            value = float(value) if "." in value else int(value)
        except ValueError:
            raise RecordError(name or key, f"expected a time in epoch {_UNIT_WORDS[unit]}, got "
                                           f"{describe(value)}") from None
    seconds = number({key: value}, key, name or key)
    if seconds is None or seconds == 0:
        return None
    micros = round(seconds * _EPOCH_UNITS[unit])
    if not 0 < micros < _LAST_MICROS:
        raise RecordError(name or key, f"{describe(obj.get(key))} is not a time in epoch "
                                       f"{_UNIT_WORDS[unit]}")
    return micros


_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds"}


def rfc2822_time(obj: dict, key: str, name: str | None = None) -> int | None:
    """`obj[key]`, an RFC 2822 date (``Fri, 18 Oct 2019 17:02:00 +0000``, as Twilio's
    REST API writes them), as epoch microseconds; None when absent, null or empty."""
    value = text(obj, key, name)
    if value is None or not value.strip():
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise RecordError(name or key, f"not an RFC 2822 date: {value[:60]!r}") from None
    if moment.tzinfo is None:  # "-0000": the zone is not known; UTC, as RFC 2822 says
        moment = moment.replace(tzinfo=datetime.UTC)
    return parse_time(moment.isoformat(), name or key)


def role_for(speaker: Any) -> str:
    """A canonical transcript role for a source's speaker word; unknown speakers are system."""
    return role_for_word(speaker) if isinstance(speaker, str) else "system"


@functools.lru_cache(maxsize=256)
def role_for_word(speaker: str) -> str:
    """`role_for` of a speaker word known to be text."""
    role = role_of(speaker)
    if role is None and speaker.lower().startswith("tool"):
        return "tool"  # tool_calls, tool_call_result
    return role or "system"


_NO_NUMBER = frozenset(("anonymous", "restricted", "private", "unavailable", "unknown",
                        "withheld", "blocked"))
_SIP_URI = re.compile(r"^(?:sips?|tel):(?:(?P<user>[^@;?]*)@)?(?P<rest>[^;?]*)", re.I)
_DIALLABLE = re.compile(r"^\+?[0-9][0-9 ().-]{2,}$")


def number_in_address(address: str | None) -> tuple[str | None, str | None]:
    """(the phone number, the address it came from when that was a URI) of a party.

    ``sip:+15551230001@pbx;user=phone`` → ("+15551230001", the URI); ``tel:+1555…`` alike;
    ``anonymous`` and other withheld-caller words → (None, None), or (None, the URI) when
    inside one; a URI whose user is no number (``sip:bob@pbx``) → (None, the URI); a plain
    number as it is.
    """
    if address is None or not address.strip():
        return None, None
    address = address.strip()
    match = _SIP_URI.match(address)
    if match is None:
        return (None, None) if address.lower() in _NO_NUMBER else (address, None)
    user = unquote(match.group("user") if match.group("user") is not None
                   else match.group("rest")).strip()
    if user.lower() in _NO_NUMBER or not _DIALLABLE.match(user):
        return None, address
    return user, address


def describe(value: Any) -> str:
    """A short, safe description of a bad value for an error sentence."""
    kinds = {bool: "true/false", str: "text", int: "a number", float: "a number",
             list: "a list", dict: "an object"}
    kind = kinds.get(type(value), type(value).__name__)
    shown = repr(value)
    return f"{kind} {shown if len(shown) <= 40 else shown[:37] + '...'}"


def _is_plain_name(name: Any) -> bool:
    return (isinstance(name, str) and name not in ("", ".", "..")
            and not any(mark in name for mark in ("/", "\\", "\0"))
            and os.path.basename(name) == name)


def _file_url_path(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None  # a file on another host: not ours to open
    path = unquote(parts.path)
    if os.name == "nt" and _WINDOWS_DRIVE.match(path):
        path = path[1:]
    return path


def _local_file(path: str, given: str, origin: Origin) -> str:
    """The absolute path of the file `path` names in or under the origin's folder (a regular
    file, or none yet), or `refused(reason)`: an API's answer has no folder, so no local
    path of it is trusted."""
    if origin.folder is None:
        return refused(f"{shown(given)} is a local path from a source with no folder; only "
                       "files in an imported file's folder are played")
    try:
        folder = Path(origin.folder).resolve()
        target = (folder / path).resolve()
    except (OSError, RuntimeError, ValueError):
        return refused(f"{shown(given)} is not a path that can be read")
    # Resolved first: neither ".." nor a link may reach outside the imported file's folder.
    if not target.is_relative_to(folder):
        return refused(f"{shown(given)} is outside the folder of the imported file")
    found = _existing_file(target)
    if found is None and os.path.lexists(target):
        return refused(f"{shown(given)} is not a regular file")  # a FIFO, a device, a folder
    # A file not there yet may come (a watched folder's recordings can follow their export).
    return found or os.path.abspath(target)


def _existing_file(path: Path) -> str | None:
    try:
        return os.path.abspath(path) if path.is_file() else None
    except (OSError, ValueError):
        return None
