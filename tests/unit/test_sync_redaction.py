"""Secrets stay out of logs, messages and exceptions: tokens and signed URLs' queries."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest

from callviewer.redaction import (
    MASK,
    install_log_redaction,
    redact_text,
    redact_url,
    register_secret,
)
from callviewer.sync.http import DEFAULTS, HttpClient, SyncFailed

TOKEN = "tok-unit-9b2e77c1d4"
SIGNED = "https://cdn.example/rec/a.mp3?X-Amz-Signature=deadbeef&X-Amz-Expires=3600"


def test_a_url_loses_its_query_fragment_and_password():
    assert redact_url(SIGNED) == "https://cdn.example/rec/a.mp3"
    assert redact_url("https://user:pw@host:8443/a?b=c#d") == "https://host:8443/a"
    assert redact_url("/home/ann/calls/a.mp3") == "/home/ann/calls/a.mp3"
    assert redact_url(None) is None


def test_text_loses_registered_secrets_and_every_query():
    register_secret(TOKEN)
    text = (f'Authorization: Bearer {TOKEN}; GET "{SIGNED}" and "GET /audio/x.mp3?sig=1 '
            'HTTP/1.1" at http://u:p@h/x')
    cleaned = redact_text(text)
    assert TOKEN not in cleaned and "deadbeef" not in cleaned and "sig=1" not in cleaned
    assert MASK in cleaned and "/audio/x.mp3" in cleaned and "u:p@" not in cleaned


def test_every_log_record_is_redacted_its_traceback_too(caplog):
    install_log_redaction()
    register_secret(TOKEN)
    log = logging.getLogger("urllib3.connectionpool")
    with caplog.at_level(logging.DEBUG):
        log.debug('%s "GET %s HTTP/1.1" 200', "https://cdn.example:443", SIGNED[19:])
        log.warning("token %s refused", TOKEN)
        try:
            raise ValueError(f"failed on {SIGNED}")
        except ValueError:
            log.exception("boom")
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "deadbeef" not in logged and TOKEN not in logged
    assert "/rec/a.mp3" in logged and "boom" in logged


def test_network_failures_say_where_without_the_query(caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpClient({**DEFAULTS, "retries": 1, "backoff_factor": 0.0}, TOKEN, None)
    with caplog.at_level(logging.DEBUG), pytest.raises(SyncFailed) as caught:
        client.get(f"http://127.0.0.1:{port}/audio/a.mp3?signature=deadbeef", auth=True)
    failure = caught.value
    # What a crash report shows: the exception and any it was raised from (none: `from None`).
    shown = "".join(traceback.format_exception_only(failure)) + repr(failure) + caplog.text
    assert failure.__cause__ is None and failure.__suppress_context__
    assert str(failure) == f"The calls API at 127.0.0.1:{port} could not be reached."
    assert "deadbeef" not in shown and TOKEN not in shown
