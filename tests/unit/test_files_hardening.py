"""Files read and written safely (issue 21): only regular files are opened, every file
written is whole or not at all, and integers beyond 64 bits keep their digits."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import orjson
import pytest
from records import wavekat

from callviewer import atomic, jsontext, secrets
from callviewer.store import Store
from callviewer.sync.containers import (
    Item,
    UnreadableFile,
    find_files,
    open_regular,
    read_items,
)
from callviewer.sync.importer import import_paths

BIG = 123456789012345678901234567890  # far past 2**64
JUST_PAST = 2**64  # the first integer orjson rounds
NEGATIVE = -(2**63) - 1


def _big_line(source_id: str) -> bytes:
    text = orjson.dumps(wavekat(source_id, amount="@A", ledger={"ids": ["@B", 7]}, debt="@C"))
    return (text.replace(b'"@A"', str(BIG).encode()).replace(b'"@B"', str(JUST_PAST).encode())
            .replace(b'"@C"', str(NEGATIVE).encode()))


# --- only regular files -------------------------------------------------------------------


def _finishes(work, seconds: float = 10.0):
    """Run `work` in a thread; what it returned or raised, or a failure if it hangs (a FIFO
    opened for reading waits for a writer forever)."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "hung reading a file that is no regular file"
    return outcome


def test_a_fifo_is_refused_before_it_is_opened(tmp_path):
    fifo = tmp_path / "calls.json"
    os.mkfifo(fifo)
    outcome = _finishes(lambda: list(read_items(fifo)))
    assert isinstance(outcome.get("error"), UnreadableFile)
    assert str(outcome["error"]) == (f"{fifo} is a named pipe (FIFO), not a regular file; "
                                     "it was skipped.")


def test_a_link_to_a_device_is_refused_and_a_link_to_a_file_read(tmp_path):
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    outcome = _finishes(lambda: list(read_items(zero)))
    assert "is a character device, not a regular file" in str(outcome.get("error"))
    real = tmp_path / "real.json"
    real.write_bytes(orjson.dumps(wavekat("a")))
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert [item.value["sourceId"] for item in read_items(link)] == ["a"]


def test_a_folder_is_still_reported_as_a_folder(tmp_path):
    with pytest.raises(UnreadableFile, match="could not be read: Is a directory"):
        list(read_items(tmp_path))
    with pytest.raises(IsADirectoryError):
        open_regular(tmp_path)


def test_folders_without_json_files_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.json").write_text("{}")
    empty: list[Path] = []
    found = list(find_files([tmp_path / "empty", tmp_path / "full"], empty))
    assert found == [tmp_path / "full" / "a.json"] and empty == [tmp_path / "empty"]


# --- written whole or not at all ----------------------------------------------------------


def test_a_write_that_fails_leaves_the_earlier_file_and_no_temporary(tmp_path):
    target = tmp_path / "export.json"
    target.write_text("the earlier export")
    target.chmod(0o640)
    with pytest.raises(OSError), atomic.replacing(target) as out:
        out.write(b"half of it")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "the earlier export"
    assert os.listdir(tmp_path) == ["export.json"]
    atomic.write_text(target, "the new export")
    assert target.read_text() == "the new export"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file's permissions


def test_a_new_file_gets_the_permissions_open_would_give_it(tmp_path):
    mask = os.umask(0o027)
    try:
        atomic.write_bytes(tmp_path / "new.csv", b"a,b\n")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640
    atomic.write_bytes(tmp_path / "secret", b"x", mode=0o600)
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


def test_the_tokens_file_is_replaced_whole_and_stays_private(config_home, monkeypatch):
    monkeypatch.setattr(secrets, "keyring_backend", lambda: None)
    secrets.save_secret("first", "tok-first-111111")
    path = secrets.secrets_file()
    secrets.save_secret("second", "tok-second-222222")
    assert orjson.loads(path.read_bytes()) == {"first": "tok-first-111111",
                                                "second": "tok-second-222222"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == [path.name]


# --- integers beyond 64 bits ----------------------------------------------------------------


def test_json_text_keeps_integers_past_64_bits_exact():
    text = b'{"a": %d, "b": [%d, 1.5], "c": %d, "id": "12345678901234567890123"}' % (
        BIG, JUST_PAST, NEGATIVE)
    value = jsontext.loads(text)
    assert value == {"a": BIG, "b": [JUST_PAST, 1.5], "c": NEGATIVE,
                     "id": "12345678901234567890123"}
    assert type(value["a"]) is int and type(value["b"][0]) is int
    assert jsontext.loads(jsontext.dumps(value)) == value
    assert jsontext.dumps({"b": 1, "a": BIG}, option=orjson.OPT_SORT_KEYS) == \
        b'{"a":%d,"b":1}' % BIG
    assert jsontext.dumps({"a": 2**63}) == orjson.dumps({"a": 2**63})  # orjson's own range


@pytest.mark.parametrize("shape", ["ndjson", "array", "streamed"])
def test_every_reader_keeps_integers_past_64_bits_exact(tmp_path, shape):
    line = _big_line("a")
    path = tmp_path / "calls.json"
    path.write_bytes(line + b"\n" + _big_line("b") if shape == "ndjson"
                     else b"[\n" + line + b",\n" + _big_line("b") + b"\n]")
    limit = 10 if shape == "streamed" else 64 * 2**20  # past it, the file is streamed
    items = list(read_items(path, whole_file_limit=limit))
    assert all(isinstance(item, Item) for item in items), items
    first = items[0].value
    assert (first["amount"], first["ledger"]["ids"][0], first["debt"]) == \
        (BIG, JUST_PAST, NEGATIVE)
    assert type(first["amount"]) is int


def test_the_database_keeps_them_as_json_text_and_the_export_prints_their_digits(tmp_path):
    source = tmp_path / "calls.ndjson"
    source.write_bytes(_big_line("a") + b"\n")
    db = tmp_path / "calls.sqlite3"
    with Store(str(db)) as store:
        report = import_paths(store, [source])
        assert (report.counts.new, report.rejected) == (1, 0), report.rejects
        [record] = store.calls.export()
        assert report.exit_code == 0
        again = import_paths(store, [source])
        assert (again.counts.unchanged, again.counts.updated) == (1, 0)
    assert (record["extras"]["amount"], record["extras"]["debt"]) == (BIG, NEGATIVE)
    conn = sqlite3.connect(db)
    [(extras,)] = conn.execute("SELECT extras FROM calls").fetchall()
    conn.close()
    assert f'"amount":{BIG}' in extras and f'"ids":[{JUST_PAST},7]' in extras
    assert f'"debt":{NEGATIVE}' in extras
