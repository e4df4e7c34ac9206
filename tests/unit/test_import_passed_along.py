"""What the import computes once and passes along gives what computing it again gave.

The format found while opening envelopes is the one a record is read as; a web address
judged by its shape is judged as urlsplit would; the fast read of plain transcript
messages builds what the general read builds; and a new call's search index row, made
from the messages its transcript was encoded from, holds the stored transcript's words.
"""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from callviewer.record import message
from callviewer.recording_refs import _parsed_refusal, refusal
from callviewer.store import Store
from callviewer.store.schema import calls
from callviewer.store.search import _join, matching
from callviewer.sync import agent_platform, formats
from callviewer.sync.base import role_for, signature_keys
from callviewer.sync.envelopes import Opened, open_value
from callviewer.sync.importer import import_paths
from callviewer.textsearch import index_text


def platform_call(source_id: str, updated: str = "2025-01-01T10:00:00Z", **fields) -> dict:
    return {"id": source_id, "call_id": f"lk-{source_id}", "created_at": "2025-01-01T09:00:00Z",
            "updated_at": updated, "duration": 30, **fields}


# --- the format found while opening ------------------------------------------------------

def test_open_value_passes_on_the_format_it_found():
    record = platform_call("a1")
    [opened] = open_value("line 1", record)
    assert opened == Opened("line 1", record, formats.detect(record))
    assert opened.found.module is agent_platform
    [inner] = open_value("line 2", {"body": record, "headers": {}})
    assert inner.locator == "line 2 body" and inner.found == formats.detect(record)
    [plain] = open_value("line 3", {"nothing": 1})  # no format: the reader says why
    assert plain == ("line 3", {"nothing": 1}, None)


@pytest.mark.parametrize("wrap", [lambda r: r, lambda r: {"body": r, "headers": {}},
                                  lambda r: {"calls": [r], "has_more": False}])
def test_a_reject_names_the_format_and_keys_it_was_read_as(tmp_path, wrap):
    bad = platform_call("b1", final_score=99, disconnection_reason="user_hangup")
    path = tmp_path / "calls.ndjson"
    path.write_bytes(orjson.dumps(wrap(bad)) + b"\n"
                     + orjson.dumps({"what": "no format"}) + b"\n")
    with Store(str(tmp_path / "calls.sqlite3")) as store:
        report = import_paths(store, [path])
    first, second = report.rejects
    assert first.field == "final_score"
    assert first.reason == ("must be from 1 to 10, got 99; read as agent-platform (for its "
                            "keys call_id, final_score, disconnection_reason)")
    assert second.reason.startswith("is not a call record of any known format (tried ")
    assert second.reason.endswith("its keys: what)")


def test_a_forced_format_is_read_as_asked_whatever_was_found(tmp_path):
    path = tmp_path / "calls.ndjson"
    path.write_bytes(orjson.dumps(platform_call("f1", final_score=0)) + b"\n")
    with Store(str(tmp_path / "calls.sqlite3")) as store:
        report = import_paths(store, [path], format_name="agent-platform")
    [reject] = report.rejects
    assert reject.reason == "must be from 1 to 10, got 0; read as agent-platform (as asked)"


@pytest.mark.parametrize("signature", [{"b", "d", "x"}, frozenset({"b", "d", "x"}),
                                       ("b", "d", "x"), {"b": 1, "d": 2, "x": 3}])
def test_signature_keys_are_the_records_keys_in_its_order(signature):
    assert signature_keys({"d": 1, "a": 2, "b": 3}, signature) == ("d", "b")
    assert signature_keys({"a": 1}, signature) == ()


# --- web addresses judged by their shape -------------------------------------------------

TRICKY = [
    "https://audio.example/1.mp3?sig=abc", "http://a/", "HTTP://A.B", "Https://x.y#f",
    "https://h", "https://", "https:///path", "https://?q", "https://#f", "http://:80/",
    "https://user:pw@host/x", "https://@/x", "https://host:8080/x", "https://host:99999/x",
    "https://host:port/x", "https://[::1]/x", "https://[::1/x", "https://::1]/x",
    "https://exa mple.com/x", "https://ex\tample.com/", "https://example.com\n",
    "https://example.com/a\nb", " https://example.com/", "\x00https://example.com/",
    "https://ex\u00e4mple.com/", "https://exam\uff0eple.com/", "https://\u2100.com/",
    "https://example.com\\path", "https://example.com;x", "ftp://example.com/",
    "file:///tmp/a.mp3", "file://other/a.mp3", "javascript:alert(1)", "data:audio/mp3,xx",
    "/abs/path.mp3", "rel/path.mp3", "C:\\calls\\a.mp3",
    "https://example.com%2f/", "https://ex%41mple.com/",
    "https://-/", "https://./", "https://~/", "https://_/", "http:/example.com/",
    "http:example.com", "https:////example.com", "https://example.com/[x]",
]


@pytest.mark.parametrize("reference", TRICKY)
def test_refusal_by_shape_is_refusal_by_urlsplit(reference):
    assert refusal(reference) == _parsed_refusal(reference)


@given(st.sampled_from(["http://", "https://", "HTTPS://", "hTtP://"]),
       st.text(alphabet="aZ09.-_~:@[]/?#% \t\n\\;\u00e4\uff0e", max_size=16),
       st.text(max_size=12))
def test_refusal_by_shape_is_refusal_by_urlsplit_for_any_address(scheme, host, rest):
    reference = scheme + host + rest
    assert refusal(reference) == _parsed_refusal(reference)


# --- plain transcript messages ----------------------------------------------------------

@pytest.mark.parametrize("messages", [
    [{"role": "agent", "text": "Hello"}, {"role": "user", "text": "Hi"},
     {"role": "robot", "text": ""}, {"text": "order", "role": "tool_call"}],
    [],
])
def test_plain_messages_read_fast_are_canonical_messages(messages):
    read = agent_platform._transcript(orjson.dumps(messages).decode())
    assert read == {"transcript": [message(role_for(m["role"]), m["text"]) for m in messages]}
    assert all(list(entry) == ["role", "text", "start_ms", "end_ms"]
               for entry in read["transcript"])


@pytest.mark.parametrize("messages", [
    [{"role": "agent", "text": "Hello", "start": 1.5}],  # timed: the general read
    [{"role": "agent", "text": "Hello"}, {"role": 3, "text": "x"}],
    [{"role": "agent", "content": "Hello"}],
    [{"role": "agent", "text": None}],
    [{"role": "agent"}],
    [{"role": "agent", "text": "Hello", "extra": 1}],
])
def test_messages_of_another_shape_are_read_as_before(messages):
    read = agent_platform._transcript(orjson.dumps(messages).decode())
    assert agent_platform._plain_messages(messages) is None
    assert read == {"transcript": [agent_platform._entry(m, i) for i, m in enumerate(messages)]}


@pytest.mark.parametrize("value", [["ab"], [1], [["role", "text"]]])
def test_messages_that_are_not_objects_are_refused_as_before(value):
    assert agent_platform._plain_messages(value) is None
    with pytest.raises(agent_platform.RecordError):
        agent_platform._transcript(value)


# --- the search index of new calls ------------------------------------------------------

def said(*words: str) -> str:
    return orjson.dumps([{"role": "agent" if i % 2 == 0 else "user", "text": word}
                         for i, word in enumerate(words)]).decode()


def test_new_calls_are_indexed_by_the_transcript_they_keep(store_url, tmp_path):
    """Versions of one call in one batch, a purge, a part-timed transcript: each call's
    index row holds the words of the transcript stored, found by search, none else."""
    records = [
        platform_call("n1", transcript=said("alpha", "zulu")),
        platform_call("n2", transcript=said("bravo")),
        platform_call("n2", updated="2025-01-02T10:00:00Z", transcript=said("charlie")),
        platform_call("n3", updated="2025-01-02T10:00:00Z", transcript=said("delta")),
        platform_call("n3", transcript=said("echo")),  # older: ignored
        platform_call("n4", transcript=said("foxtrot"), is_purged=True),
        platform_call("n5", transcript=f'[{{"role": "agent", "text": "golf", '
                                       f'"start_ms": {2**70}}}]'),
        platform_call("n6", transcript="AI: hotel\nUser: india"),
        platform_call("n7", transcript="juliet as plain text"),
        platform_call("n8", transcript=said("kilo")),
        platform_call("n8", updated="2025-01-02T10:00:00Z"),  # lacks a transcript: kept
    ]
    path = tmp_path / "calls.ndjson"
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    with Store(store_url) as store:
        report = import_paths(store, [path])
        assert (report.counts.new, report.rejected) == (8, 0)
        with store.reading() as conn:
            rows = conn.exec_driver_sql(
                "SELECT c.source_id, c.transcript, c.transcript_text, f.transcript "
                "FROM calls c JOIN calls_fts f ON f.rowid = c.id").all()
        postgres = store_url.startswith("postgresql")
        for source_id, transcript, text, indexed in rows:
            expected = _join(m["text"] for m in orjson.loads(transcript)) if transcript \
                else text
            assert indexed == (index_text(expected) if postgres and expected else expected), \
                source_id
        by_id = {row[0]: row[3] for row in rows}
        assert by_id["n2"] == ("charlie" if not postgres else index_text("charlie"))
        assert by_id["n3"] == ("delta" if not postgres else index_text("delta"))
        assert by_id["n4"] is None
        assert by_id["n8"] == ("kilo" if not postgres else index_text("kilo"))
        with store.reading() as conn:
            def found(word: str) -> list[str]:
                return list(conn.execute(select(calls.c.source_id)
                                         .where(matching(conn.dialect.name, word))
                                         .order_by(calls.c.source_id)).scalars())
            assert [found(word) for word in ("alpha", "bravo", "charlie", "delta", "echo",
                                             "foxtrot", "golf", "hotel", "juliet")] \
                == [["n1"], [], ["n2"], ["n3"], [], [], ["n5"], ["n6"], ["n7"]]
