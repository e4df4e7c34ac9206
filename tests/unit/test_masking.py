"""Secrets masked by value and by shape in every line printed; credentials in base addresses
refused; recording references that are not recordings refused with the reason (issue 21)."""

from __future__ import annotations

import io

import pytest

from callviewer.recording_refs import refusal
from callviewer.redaction import (
    MASK,
    _MaskedStream,
    redact_text,
    register_secret,
    register_url_secrets,
)
from callviewer.store.recordings import ARCHIVED, AT_SOURCE, NONE, next_state, refusal_of
from callviewer.sync.base import Origin, resolve_recording
from callviewer.sync.manage import credentials_in

ECHOED = "tok_5be0c9a1d2e3f4a5"


@pytest.mark.parametrize("line, secret", [
    (f"rejected: page 2 (source_id Bearer {ECHOED}): field 'done'", ECHOED),
    ("GET /calls with Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
    ("Authorization: Token 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ("the API said xi-api-key: sk_live_0a1b2c3d is wrong", "sk_live_0a1b2c3d"),
    ("see api_key=k-0a1b2c3d&page=2", "k-0a1b2c3d"),
    ("token=abc123xyz; then", "abc123xyz"),
    ("a form with access_token=eyJhbGciOi.x.y", "eyJhbGciOi.x.y"),
    ("it sent password=hunter22", "hunter22"),
    ('{"access_token": "at-998877", "page": 1}', "at-998877"),
    ("http://ann:pa55word@calls.example/v1", "pa55word"),
])
def test_credentials_are_masked_by_their_shape(line, secret):
    assert secret not in redact_text(line)


def test_words_that_only_look_like_credentials_stay():
    for line in ("Basic information about the caller", "The token was saved in the keyring.",
                 "--set KEY=VALUE", "sort_key=started_at", "No token was given"):
        assert redact_text(line) == line


def test_a_known_secret_is_masked_wherever_it_is_echoed():
    register_secret("echo-me-4f3e2d1c")
    assert "echo-me-4f3e2d1c" not in redact_text("source_id xecho-me-4f3e2d1cx: bad")
    register_url_secrets("https://u:pw-77aa88bb@api.example/?api_key=qk-11223344&region=eu")
    masked = redact_text("echoed pw-77aa88bb and qk-11223344 and eu")
    assert "pw-77aa88bb" not in masked and "qk-11223344" not in masked and "eu" in masked


def test_printed_lines_are_masked_whole_even_when_written_in_pieces():
    out = io.StringIO()
    stream = _MaskedStream(out)
    print("rejected: (source_id Bearer", end=" ", file=stream)
    print(ECHOED + ")", file=stream)
    print("no newline yet api_key=zz-445566", end="", file=stream)
    assert ECHOED not in out.getvalue()
    stream.flush()
    assert out.getvalue() == f"rejected: (source_id Bearer {MASK})\nno newline yet api_key={MASK}"
    binary = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert _MaskedStream(binary).buffer is binary.buffer  # bytes (an export) go unmasked


@pytest.mark.parametrize("url, found", [
    ("http://user:pass@calls.example/", "a user name and password"),
    ("https://tok-123@calls.example/", "a user name"),
    ("https://calls.example/v1?api_key=abc", "a credential in its query (api_key)"),
    ("https://calls.example/v1?token=abc&x=1", "a credential in its query (token)"),
    ("https://calls.example/v1?access_token=abc", "a credential in its query (access_token)"),
    ("https://calls.example/v1?region=eu", None),
    ("https://calls.example/v1", None),
])
def test_credentials_in_a_base_address(url, found):
    assert credentials_in(url) == found


HOSTILE = {
    "../../etc/passwd": "is outside the folder of the imported file",
    "javascript:alert(1)": "is a javascript: address; only http and https are played",
    "data:audio/mpeg;base64,SUQz": "is a data: address",
    "ftp://files.example/a.mp3": "is a ftp: address",
    "file://elsewhere.example/srv/a.mp3": "is a file on another computer",
    "/etc/passwd": "is outside the folder of the imported file",
    "folder.mp3": "is not a regular file",
}


@pytest.mark.parametrize("reference", sorted(HOSTILE))
def test_a_reference_that_is_no_recording_is_refused_with_its_reason(tmp_path, reference):
    (tmp_path / "folder.mp3").mkdir()
    from_file = resolve_recording(reference, Origin(folder=tmp_path))
    assert HOSTILE[reference] in refusal(from_file)
    # From an API (no folder), no local path at all is trusted.
    assert refusal(resolve_recording(reference, Origin()))


def test_urls_and_files_in_the_imported_folder_are_recordings(tmp_path):
    (tmp_path / "sub").mkdir()
    mp3 = tmp_path / "sub" / "a.mp3"
    mp3.write_bytes(b"ID3")
    origin = Origin(folder=tmp_path)
    url = "https://audio.example/a.mp3?sig=1"
    assert resolve_recording(url, origin) == url
    for reference in ("sub/a.mp3", str(mp3), mp3.as_uri(), "sub/../sub/a.mp3"):
        assert resolve_recording(reference, origin) == str(mp3)
    # A file not there yet may come (a watched folder's recordings can follow the export).
    assert resolve_recording("sub/later.mp3", origin) == str(tmp_path / "sub" / "later.mp3")
    # A link in the folder that leads out of it is not followed.
    (tmp_path / "link.mp3").symlink_to("/etc/passwd")
    assert "outside the folder" in refusal(resolve_recording("link.mp3", origin))


def row(recording: str | None, extras: str | None = None) -> dict:
    return {"is_purged": False, "recording": recording, "has_recording": True,
            "extras": extras}


@pytest.mark.parametrize("reference", ["../../etc/passwd", "calls/a.mp3", "javascript:alert(1)",
                                       "data:,x", "ftp://h/a.mp3", "file://h/a.mp3"])
def test_the_store_never_takes_a_relative_path_or_an_odd_scheme_for_a_recording(reference):
    written = row(reference)
    assert next_state(written, None) == NONE
    assert written["recording"] is None and written["has_recording"] is False
    assert refusal_of(written).startswith("Not a recording: ")


def test_a_later_recording_clears_the_reason_and_plays():
    first = row("javascript:alert(1)", '{"kept": 1}')
    next_state(first, None)
    base = {**first, "recording_state": NONE}
    later = {**base, "recording": "https://audio.example/a.mp3", "has_recording": True}
    assert next_state(later, base) == AT_SOURCE
    assert refusal_of(later) is None and later["extras"] == '{"kept":1}'
    assert next_state(row("/srv/calls/a.mp3"), None) == ARCHIVED  # an import vouched for it
