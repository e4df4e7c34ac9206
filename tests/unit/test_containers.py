"""Containers: every way a file can hold records, read from real files, hostile ones included."""

from __future__ import annotations

import contextlib
import random
import tracemalloc

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callviewer.sync import containers
from callviewer.sync.containers import (
    TOO_DEEP,
    BadItem,
    Item,
    UnreadableFile,
    find_files,
    read_items,
)

WHOLE, STREAMING = 64 * 2**20, 16  # whole_file_limit: read whole with orjson, or stream with ijson
BOTH_MODES = pytest.mark.parametrize("limit", [WHOLE, STREAMING], ids=["whole", "streaming"])
DEEP = b"[" * 2000 + b"]" * 2000
HUGE_INT = b"7" * 5000


def read(tmp_path, content: bytes, limit: int = WHOLE, name: str = "calls.json") -> list:
    path = tmp_path / name
    path.write_bytes(content)
    return list(read_items(path, whole_file_limit=limit))


def pairs(items) -> list[tuple[str, object]]:
    return [(item.locator, item.value if isinstance(item, Item) else "BAD") for item in items]


def unreadable(tmp_path, content: bytes, limit: int = WHOLE) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read(tmp_path, content, limit)
    assert str(caught.value).startswith(str(tmp_path / "calls.json"))
    return str(caught.value)


def test_find_files_walks_folders_sorted_and_skips_hidden_and_other_files(tmp_path):
    for name in ["b.json", "a.JSONL", "song.mp3", ".hidden.json", "sub/c.ndjson", "sub/d.mp3",
                 "sub/deeper/e.json", ".git/f.json", "sub/.cache/g.json", "notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"{}")
    given_file = tmp_path / "song.mp3"
    found = list(find_files([tmp_path, given_file]))
    assert [str(p.relative_to(tmp_path)) for p in found] == [
        "a.JSONL", "b.json", "sub/c.ndjson", "sub/deeper/e.json", "song.mp3"]


def test_json_lines_skip_blank_lines_and_a_bad_line_costs_only_itself(tmp_path):
    items = read(tmp_path, b'{"a": 1}\n\n{"b": tru}\r\n  \n{"c": 3}\r\n', name="calls.ndjson")
    assert pairs(items) == [("line 1", {"a": 1}), ("line 3", "BAD"), ("line 5", {"c": 3})]
    assert items[1].reason == "not valid JSON: invalid literal, expected 'true' at column 7"


def test_a_json_line_holding_a_list_gives_one_item_per_element(tmp_path):
    items = read(tmp_path, b'[{"a": 1}, {"b": 2}]\n{"c": 3}\n')
    assert pairs(items) == [("line 1 item 1", {"a": 1}), ("line 1 item 2", {"b": 2}),
                            ("line 2", {"c": 3})]


def test_json_lines_with_a_bad_first_line_are_still_json_lines(tmp_path):
    assert pairs(read(tmp_path, b'{"a": 1,, }\n{"b": 2}\n')) == [("line 1", "BAD"),
                                                                 ("line 2", {"b": 2})]


def test_a_json_line_longer_than_the_limit_is_bad_and_reading_goes_on(tmp_path):
    content = b'{"a": 1}\n{"long": "' + b"x" * 100 + b'"}\n{"c": 3}\n'
    items = read(tmp_path, content, limit=40)
    assert pairs(items) == [("line 1", {"a": 1}), ("line 2", "BAD"), ("line 3", {"c": 3})]
    assert items[1].reason == "longer than 40 bytes"


def test_a_long_first_line_is_measured_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(containers, "_SNIFF", 8)  # read first lines 8 bytes at a time
    long_line = b'{"id": 1, "text": "' + b"x" * 60 + b'"}'
    assert pairs(read(tmp_path, long_line + b'\n{"id": 2}\n', limit=100)) == [
        ("line 1", orjson.loads(long_line)), ("line 2", {"id": 2})]
    array = orjson.dumps([{"id": n, "text": "x" * 20} for n in range(10)])
    assert len(read(tmp_path, array + b"\n\n", limit=100)) == 10  # too long to sniff: streamed


@BOTH_MODES
def test_single_object_is_one_record(tmp_path, limit):
    record = {"message": {"type": "end-of-call-report", "call": {"id": "c1"}}}
    assert pairs(read(tmp_path, orjson.dumps(record), limit)) == [("", record)]


@BOTH_MODES
def test_array_gives_one_item_per_element(tmp_path, limit):
    content = orjson.dumps([{"id": 1, "cost": 0.25}, {"id": 2}, "not a record"])
    assert pairs(read(tmp_path, content, limit)) == [
        ("item 1", {"id": 1, "cost": 0.25}), ("item 2", {"id": 2}), ("item 3", "not a record")]


@BOTH_MODES
def test_pretty_printed_documents_are_not_taken_for_json_lines(tmp_path, limit):
    content = orjson.dumps([{"id": 1}, {"id": 2}], option=orjson.OPT_INDENT_2)
    assert pairs(read(tmp_path, content, limit)) == [("item 1", {"id": 1}), ("item 2", {"id": 2})]
    content = b'[\n{"id": 1}\n]\n'  # an inner line that is a whole value on its own
    assert pairs(read(tmp_path, content, limit)) == [("item 1", {"id": 1})]


@BOTH_MODES
@pytest.mark.parametrize(("page", "expected"), [
    ({"data": [{"id": 1}, {"id": 2}], "has_more": True, "next": "/calls?page=2"},
     [("data item 1", {"id": 1}), ("data item 2", {"id": 2})]),
    ({"total": 1, "calls": [{"id": 1}], "records": [{"no": 1}]}, [("calls item 1", {"id": 1})]),
    ({"data": {"calls": [{"id": 1}], "next": None}}, [("data.calls item 1", {"id": 1})]),
    ({"data": {"id": 7}, "items": [{"id": 1}]}, [("items item 1", {"id": 1})]),
    ({"results": [], "has_more": False}, []),
    ({"data": {"id": 7, "results": {"calls": [1]}}}, [("", {"data": {"id": 7,
                                                                   "results": {"calls": [1]}}})]),
], ids=["data", "calls", "nested", "after-an-object", "empty", "too-deep-to-be-a-page"])
def test_pages_give_their_list_and_ignore_paging_metadata(tmp_path, limit, page, expected):
    assert pairs(read(tmp_path, orjson.dumps(page), limit)) == expected


def test_streaming_gives_plain_ints_and_floats(tmp_path):
    [item] = read(tmp_path, b'[{"n": 12345678901234567890123, "f": 1.5, "e": 2E3}]', STREAMING)
    assert item.value == {"n": 12345678901234567890123, "f": 1.5, "e": 2000.0}
    assert [type(v) for v in item.value.values()] == [int, float, float]


def test_a_truncated_array_streams_its_good_items_then_one_bad_item(tmp_path):
    items = read(tmp_path, b'[{"id": 1}, {"id": 2}, {"id": 3, "from": "+1555', STREAMING)
    assert pairs(items) == [("item 1", {"id": 1}), ("item 2", {"id": 2}), ("item 3", "BAD")]
    assert items[-1].reason == "the JSON ends too early (truncated?)"
    assert unreadable(tmp_path, b'[{"id": 1}, {"id": 2').endswith("ends too early (truncated?).")


def test_garbage_after_a_streamed_array_is_reported_after_its_items(tmp_path):
    items = read(tmp_path, b'[{"id": 1}] and more', STREAMING)
    assert pairs(items) == [("item 1", {"id": 1}), ("", "BAD")]
    assert items[-1].reason == "not valid JSON: trailing garbage"


def test_deep_nesting_is_a_bad_item_when_streaming_or_a_line(tmp_path):
    content = b'[{"id": 1}, {"deep": ' + DEEP + b'}, {"id": 3}]'
    items = read(tmp_path, content, STREAMING)
    assert pairs(items) == [("item 1", {"id": 1}), ("item 2", "BAD"), ("item 3", {"id": 3})]
    assert items[1].reason == "nested deeper than 1,024 levels"
    items = read(tmp_path, b'{"id": 1}\n{"deep": ' + DEEP + b'}\n{"id": 3}\n')
    assert pairs(items) == [("line 1", {"id": 1}), ("line 2", "BAD"), ("line 3", {"id": 3})]
    assert items[1].reason == "nested deeper than 1,024 levels"
    assert pairs(read(tmp_path, b'{"deep": ' + DEEP + b"}", STREAMING)) == [("", "BAD")]


def test_deep_nesting_makes_a_whole_file_unreadable(tmp_path):
    assert unreadable(tmp_path, b'[{"deep": ' + DEEP + b"}]").endswith(
        "nested deeper than 1,024 levels.")


def test_both_modes_draw_the_depth_line_where_orjson_does(tmp_path):
    def nested(depth):  # an array holding an object holding lists: `depth` levels in all
        return b'[{"x": ' + b"[" * (depth - 2) + b"]" * (depth - 2) + b"}]"
    for limit in (WHOLE, STREAMING):  # (== on such values would hit Python's recursion limit)
        assert [type(item) for item in read(tmp_path, nested(1024), limit)] == [Item]
    assert read(tmp_path, nested(1025), STREAMING) == [BadItem("item 1", TOO_DEEP)]
    assert unreadable(tmp_path, nested(1025)).endswith(TOO_DEEP + ".")


def test_a_5000_digit_integer_never_escapes_as_a_traceback(tmp_path):
    items = read(tmp_path, b'[{"id": 1}, {"n": ' + HUGE_INT + b'}, {"id": 3}]', STREAMING)
    assert pairs(items) == [("item 1", {"id": 1}), ("item 2", "BAD")]
    assert "4,300 digits" in items[-1].reason
    items = read(tmp_path, b'{"id": 1}\n{"n": ' + HUGE_INT + b'}\n{"id": 3}\n')
    assert pairs(items) == [("line 1", {"id": 1}), ("line 2", "BAD"), ("line 3", {"id": 3})]
    assert "too large" in items[1].reason
    assert "too large" in unreadable(tmp_path, b'[{"n": -' + HUGE_INT + b"}]")


def test_an_exponent_too_large_for_decimal_stops_streaming_cleanly(tmp_path):
    content = b'[{"id": 1}, {"n": 9e' + b"9" * 30 + b'}, {"id": 3}]'
    items = read(tmp_path, content, STREAMING)
    assert items[-1].reason == "a number that cannot be read (InvalidOperation); reading stopped"
    assert all(isinstance(item, Item) for item in items[:-1])
    assert "too large" in unreadable(tmp_path, content)


def test_a_long_digit_run_straddling_two_read_buffers_is_caught(tmp_path):
    filler = b",".join([b'{"pad": "' + b"x" * 90 + b'"}'] * 700)  # ~70 KB, past one buffer
    items = read(tmp_path, b"[" + filler + b', {"n": ' + HUGE_INT + b"}]", STREAMING)
    assert len(items) == 701 and items[-1] == BadItem(
        "item 701", "a number longer than 4,300 digits; reading stopped")


@BOTH_MODES
def test_a_byte_order_mark_is_skipped(tmp_path, limit):
    assert pairs(read(tmp_path, b'\xef\xbb\xbf[{"id": 1}]', limit)) == [("item 1", {"id": 1})]
    assert pairs(read(tmp_path, b'\xef\xbb\xbf{"id": 1}\r\n{"id": 2}\r\n', limit)) == [
        ("line 1", {"id": 1}), ("line 2", {"id": 2})]


def test_invalid_utf8_is_a_bad_line_or_an_unreadable_file(tmp_path):
    items = read(tmp_path, b'{"name": "caf\xe9"}\n{"id": 2}\n')
    assert items == [BadItem("line 1", "not UTF-8 text"), Item("line 2", {"id": 2})]
    assert unreadable(tmp_path, b'[{"name": "caf\xe9"}]').endswith("not UTF-8 text.")
    assert read(tmp_path, b'[{"name": "caf\xe9"}]', STREAMING) == [
        BadItem("item 1", "not UTF-8 text")]


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "is empty."), (b" \n\r\n\t \n", "is empty."), (b"\xef\xbb\xbf\n", "is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "does not start with '{' or '['"),
    (b'"just a string"', "does not start with '{' or '['"), (b"42\n43\n", "does not start"),
    ('[{"id": 1}]'.encode("utf-16"), "UTF-16"),
    (b'{"id": 1} trailing', "not valid JSON: unexpected content after document at line 1"),
])
def test_files_that_hold_no_records_are_unreadable(tmp_path, content, problem):
    assert problem in unreadable(tmp_path, content)


def test_binary_garbage_never_raises_anything_but_unreadable_file(tmp_path):
    rng = random.Random(7)
    for first in (b"", b"{", b"["):
        garbage = first + bytes(rng.randrange(256) for _ in range(3000))
        for limit in (WHOLE, STREAMING):
            with contextlib.suppress(UnreadableFile):
                assert all(isinstance(item, BadItem) for item in read(tmp_path, garbage, limit))


def test_missing_files_and_folders_are_unreadable(tmp_path):
    with pytest.raises(UnreadableFile, match="could not be read: No such file"):
        list(read_items(tmp_path / "gone.json"))
    with pytest.raises(UnreadableFile, match="could not be read: Is a directory"):
        list(read_items(tmp_path))


@pytest.mark.parametrize("kind", ["array", "ndjson"])
def test_memory_stays_flat_while_streaming_a_file_far_bigger_than_the_limit(tmp_path, kind):
    record = orjson.dumps({"id": "x" * 40, "turns": [{"role": "user", "text": "hi " * 200}] * 4})
    records = [record] * 1500  # ~4 MB
    content = b"[" + b",".join(records) + b"]" if kind == "array" else b"\n".join(records)
    path = tmp_path / "big.json"
    path.write_bytes(content)
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_items(path, whole_file_limit=64 * 1024))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 1500
    assert peak < 1_000_000, f"peak {peak:,} bytes for a {len(content):,}-byte file"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=20),  # orjson: no surrogates
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.sampled_from(["data", "calls", "id", "x"]) | st.text(max_size=8), inner,
                      max_size=5),
    max_leaves=25,
)


def read_all(path, limit):
    try:
        return list(read_items(path, whole_file_limit=limit))
    except UnreadableFile:
        return None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("property") / "values.json"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, lines=st.lists(json_values, min_size=2, max_size=5))
def test_any_json_is_read_or_refused_and_lists_of_objects_round_trip(scratch, value, lines):
    for document in (value, [value]):  # a single value (object or not), and an array
        scratch.write_bytes(orjson.dumps(document))
        whole, streamed = read_all(scratch, WHOLE), read_all(scratch, 1)
        if whole is not None:
            assert streamed == whole  # both readers find the same records in the same places
        if isinstance(document, list) and all(isinstance(v, dict) for v in document):
            assert whole == [Item(f"item {n}", v) for n, v in enumerate(document, 1)]
    scratch.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    items = read_all(scratch, WHOLE)
    if all(isinstance(line, dict) for line in lines):
        assert items == [Item(f"line {n}", line) for n, line in enumerate(lines, 1)]
