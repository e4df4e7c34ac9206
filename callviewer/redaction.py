"""Keep secrets out of what is shown, logged or exported: API tokens and URLs' query strings.

A signed recording URL carries its signature in the query string, and HTTP
libraries log whole request lines (FACTS.md): every log record is passed
through `redact_text` once `install_log_redaction()` has run, and tokens in
use are registered with `register_secret`. Secrets are masked by value (each
one registered) and by shape (``Bearer …``, ``api_key=…``, ``Authorization: …``),
so that a token a server echoes back is masked too; the command line's every
line goes through `redact_text` once `install_output_redaction()` has run.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import sys
import threading
from typing import TextIO
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "[redacted]"
# A query string (and fragment) after a URL or a path: cut at whitespace, quotes and brackets.
_QUERY = re.compile(r"""((?:[A-Za-z][A-Za-z0-9+.-]*://[^\s?#'"<>()]*)|(?:/[^\s?#'"<>()]*))"""
                    r"""[?#][^\s'"<>()]*""")
# A URL's user and password: the user is shown (a database's role), the password masked;
# a user alone is cut (an API token is often given as one).
_USERINFO = re.compile(r"(://)(?:([^/\s@:'\"]+):)?[^/\s@'\"]+@")


def _userinfo(match: re.Match) -> str:
    return f"{match.group(1)}{match.group(2)}:***@" if match.group(2) else match.group(1)
# A credential by its shape. Headers: the value (after any scheme word, which stays).
_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization|x(?:i)?-api-key|api-key|x-auth-token|"
                     r"cookie|set-cookie)(\s*:\s*(?:(?:bearer|basic|token|digest)\s+)?+)"
                     r"(?!\[redacted\])[^\s;,]+")
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)([A-Za-z0-9._~+/=-]{4,})")
_BASIC = re.compile(r"(?i)\b(basic)(\s+)([A-Za-z0-9+/]{6,}={0,2})")
# `name=value` and JSON's `"name": "value"`, for names that hold credentials.
_NAMES = (r"(?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|"
          r"token|password|passwd|pwd|secret|client[_-]?secret|signature|x-amz-signature|"
          r"x-goog-signature)")
_ASSIGNED = re.compile(rf"(?i)(?<![A-Za-z0-9_-])({_NAMES})(=)([^\s&#'\"<>,;)]+)")
_QUOTED = re.compile(rf"""(?i)(["'])({_NAMES})\1(\s*:\s*)(["'])(?:(?!\4).)*\4""")
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(secret: str | None) -> None:
    """Mask this text (an API token) wherever a log record or `redact_text` meets it."""
    if secret and len(secret) >= 4:
        with _lock:
            _secrets.add(secret)


def register_url_secrets(url: str | None) -> None:
    """Register the user name's password and the credential-named query values of a URL."""
    if not url or "://" not in url:
        return
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return
    register_secret(unquote(password) if password else None)
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if value and _ASSIGNED.fullmatch(f"{name}=x"):
            register_secret(unquote(value))


def redact_url(url: str | None) -> str | None:
    """A URL without its query string, fragment and user name/password; other text as given."""
    if not url or "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if not parts.netloc:
        return urlunsplit((parts.scheme, "", parts.path, "", ""))
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Text with every registered secret (and `secrets`) masked and every URL's query cut."""
    with _lock:
        known = (*_secrets, *secrets)
    for secret in sorted(filter(None, known), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(_userinfo, text)
    text = _QUERY.sub(r"\1", text)
    return _by_shape(text)


def _by_shape(text: str) -> str:
    """Mask what looks like a credential whatever its value: headers, `Bearer …`, `key=…`."""
    text = _BEARER.sub(rf"\1\2{MASK}", text)
    text = _BASIC.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}"
                      if _is_basic_credential(m.group(3)) else m.group(0), text)
    text = _HEADER.sub(rf"\1\2{MASK}", text)
    text = _ASSIGNED.sub(rf"\1\2{MASK}", text)
    return _QUOTED.sub(rf"\1\2\1\3\4{MASK}\4", text)


def _is_basic_credential(word: str) -> bool:
    """True for base64 of `user:password` (so that "Basic information" stays as written)."""
    try:
        decoded = base64.b64decode(word + "=" * (-len(word) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


def without_url_queries(value: object) -> object:
    """A JSON value with every URL in its texts cut before its query string (and its user
    name and password), at any depth: what an export may carry of a source's extras."""
    if isinstance(value, str):
        return _USERINFO.sub(_userinfo, _QUERY.sub(r"\1", value)) if "://" in value else value
    if isinstance(value, dict):
        return {key: without_url_queries(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_url_queries(item) for item in value]
    return value


def install_log_redaction() -> None:
    """Redact every log record made from now on, whatever logger or handler it goes to."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            record.msg, record.args = redact_text(record.getMessage()), None
        except Exception:  # a bad format string: keep the record, masked as it stands
            record.msg, record.args = redact_text(str(record.msg)), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacting_record)


class _MaskedStream:
    """A text stream whose every line is passed through `redact_text` before it is written.

    Lines are masked whole (a `Bearer` and its token may come in two writes); the rest
    (`buffer`, `fileno`, `encoding`…) is the stream's own, so binary output is untouched.
    """

    def __init__(self, stream: TextIO) -> None:
        self.unmasked = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self.unmasked.write(redact_text(lines + "\n"))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, ""
            self.unmasked.write(redact_text(pending))
        self.unmasked.flush()

    def __getattr__(self, name: str):
        return getattr(self.unmasked, name)


def install_output_redaction() -> None:
    """Mask every line the command line prints from now on (standard output and error)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _MaskedStream):
            setattr(sys, name, _MaskedStream(stream))
