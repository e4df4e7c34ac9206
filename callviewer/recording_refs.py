"""Which recording references may be fetched or played, and why the others are not recordings.

A reference is a recording when it is an http or https URL, a file: URL on this
computer (what a watched folder's files become, copied into the archive), or an
absolute path: a local file an import named, found in or under the imported
file's folder (sync/base.py vouches for it), or a file in the archive. Anything
else — a relative path from an API, ``javascript:``, ``data:``, ``ftp:``, a file
on another host — is not a recording. The parsers hand such a reference on as
`refused(reason)`; the store keeps the call without a recording and the reason
(store/recordings.py), and the player refuses it whatever reaches it.
No imports beyond the standard library: the player and the store both use this.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from callviewer.redaction import redact_url

ALLOWED_SCHEMES = ("http", "https")
# What a parser hands the store for a reference that is not a recording, before the
# reason. It has "://" so that a watched folder leaves it alone (sources/folder.py).
REFUSED = "not-a-recording://"
# Two letters at least, so that a Windows drive ("C:\calls\a.mp3") reads as a path.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_SHOWN = 60
# An http(s) URL whose host is plain ASCII (letters, digits, "._~-"; no user, port or
# brackets), ended by the path, query or fragment or by nothing: urlsplit would read that
# host as it is and raise no error, so it plays, known without urlsplit. It is asked twice
# a record (the parser's resolve_recording and the store's next_state); anything else is
# read with urlsplit (tests/unit/test_import_passed_along.py holds both to one answer).
_PLAIN_WEB_URL = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?)://[A-Za-z0-9._~-]+(?=[/?#]|\Z)")


def refused(reason: str) -> str:
    """The reference a parser gives for one that is not a recording, carrying why."""
    return REFUSED + reason


def refusal(reference: str) -> str | None:
    """Why `reference` is not a recording (a sentence's end), or None when it may be played."""
    if reference.startswith(REFUSED):
        return reference[len(REFUSED):] or "it is not a recording"
    if _PLAIN_WEB_URL.match(reference):
        return None
    return _parsed_refusal(reference)


def _parsed_refusal(reference: str) -> str | None:
    """`refusal` of a reference that is not a plain web URL, read with urlsplit."""
    scheme = _SCHEME.match(reference)
    if scheme is None:
        if "\0" in reference or not os.path.isabs(reference):
            return f"{shown(reference)} is a relative path, not a file an import named"
        return None
    name = scheme.group(1).lower()
    try:
        parts = urlsplit(reference)
    except ValueError:
        return f"{shown(reference)} is not a readable address"
    if name in ALLOWED_SCHEMES:
        return None if parts.hostname else f"{shown(reference)} names no host"
    if name == "file":
        if parts.netloc not in ("", "localhost"):
            return f"{shown(reference)} is a file on another computer"
        return None
    return f"{shown(reference)} is a {name}: address; only http and https are played"


def shown(reference: str) -> str:
    """A reference as a reason quotes it: quoted, cut short, without its query string."""
    text = redact_url(reference) or ""
    text = text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"
    return '"' + text.replace("\n", " ").replace("\r", " ") + '"'
