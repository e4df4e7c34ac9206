"""Keep secrets out of what is shown, logged or exported: API tokens and URLs' query strings.

A signed recording URL carries its signature in the query string, and HTTP
libraries log whole request lines (FACTS.md): every log record is passed
through `redact_text` once `install_log_redaction()` has run, and tokens in
use are registered with `register_secret`.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit, urlunsplit

MASK = "[redacted]"
# A query string (and fragment) after a URL or a path: cut at whitespace, quotes and brackets.
_QUERY = re.compile(r"""((?:[A-Za-z][A-Za-z0-9+.-]*://[^\s?#'"<>()]*)|(?:/[^\s?#'"<>()]*))"""
                    r"""[?#][^\s'"<>()]*""")
_USERINFO = re.compile(r"(://)[^/\s@'\"]+@")
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(secret: str | None) -> None:
    """Mask this text (an API token) wherever a log record or `redact_text` meets it."""
    if secret and len(secret) >= 4:
        with _lock:
            _secrets.add(secret)


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
    text = _USERINFO.sub(r"\1", text)
    return _QUERY.sub(r"\1", text)


def without_url_queries(value: object) -> object:
    """A JSON value with every URL in its texts cut before its query string (and its user
    name and password), at any depth: what an export may carry of a source's extras."""
    if isinstance(value, str):
        return _USERINFO.sub(r"\1", _QUERY.sub(r"\1", value)) if "://" in value else value
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
