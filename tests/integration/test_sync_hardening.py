"""A sync from a hostile or broken calls API always ends: bounded loops, size limits, a full
disk and redirect faults each end in the summary plus one sentence, the cursor kept.

`HostileApi` is the suite's fake calls API (fake_calls_api.py) with more bad answers,
added here rather than in the fake: an HTML login page, an empty body, XML, a body that
never ends, a server that ignores paging, a `next` link that loops, redirects.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from fake_calls_api import AUDIO_FILES, FakeCallsApi, _handler_for, add_connection

from callviewer.store import Store
from callviewer.sync.runner import run_sync

BOUND_S = 60  # no run here may take longer: the old code looped forever
LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
              b"<form action='/login'><input name='password'></form></body></html>")


class HostileApi(FakeCallsApi):
    """The fake calls API, whose list answers go bad after `good_pages` good ones."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: dict | None = None  # the fault every list request gets once broken
        self.good_pages = 1
        self.stuck = False  # ignores page, to and cursor: the same calls forever
        self.next_loop = False  # a `next` link that always points at the same page
        self.sent_bytes = 0  # of the endless bodies, before the client hung up
        self.server.RequestHandlerClass = _hostile_handler(self)

    def take_fault(self, where: str, **match) -> dict | None:
        if where == "list" and self.broken and len(self.requests_of("list")) > self.good_pages:
            return dict(self.broken)
        return super().take_fault(where, **match)

    def list_page(self, query: dict) -> dict:
        if self.stuck:
            query = {k: v for k, v in query.items() if k not in ("page", "to", "cursor")}
        answer = super().list_page(query)
        if self.next_loop and answer["has_more"]:
            answer["next"] = "/calls?cursor=o100&limit=100"
        return answer


def _hostile_handler(api: HostileApi) -> type:
    base = _handler_for(api)

    class Handler(base):
        def _fault(self, fault: dict) -> bool:
            kind = fault["kind"]
            if kind == "html":
                self._send(200, LOGIN_PAGE, {"Content-Type": "text/html; charset=utf-8"})
            elif kind == "cut":
                self._send(200, b'{"data": [{"id": "x", "created_at": "2026-')
            elif kind == "empty":
                self._send(200, b"")
            elif kind == "xml":
                self._send(200, b'<?xml version="1.0"?><Error>AccessDenied</Error>',
                           {"Content-Type": "application/xml"})
            elif kind == "endless":
                self._endless(fault["size"], fault.get("chunked", True))
            elif kind == "redirect":
                self._send(302, b"", {"Location": fault["to"]})
            else:
                return super()._fault(fault)
            return True

        def _endless(self, size: int, chunked: bool) -> None:
            """A JSON page that goes on for `size` bytes (whitespace inside its list)."""
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            block = b" " * (1 << 20)
            sent = 0
            with contextlib.suppress(OSError):
                self._write(b'{"data": [', chunked)
                while sent < size:
                    self._write(block, chunked)
                    sent += len(block)
                    with api.lock:
                        api.sent_bytes += len(block)
                self._write(b"]}", chunked)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True

        def _write(self, data: bytes, chunked: bool) -> None:
            if chunked:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            else:
                self.wfile.write(data)

    return Handler


@pytest.fixture
def hostile():
    with HostileApi() as server:
        yield server


@pytest.fixture
def db(tmp_path):
    return tmp_path / "calls.sqlite3"


def connect(db: Path, api: FakeCallsApi, name: str = "main", **settings) -> None:
    with Store(str(db)) as store:
        add_connection(store, api, name=name, **settings)


def sync_run(db: Path, *args: str, limit_file_size: int | None = None,
             ) -> subprocess.CompletedProcess:
    """`callviewer sync run` in a process of its own, bounded in time."""
    def limits() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails: EFBIG
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run([sys.executable, "-m", "callviewer", "sync", "run", *args, "--db",
                           str(db)], capture_output=True, text=True, timeout=BOUND_S,
                          env=dict(os.environ), preexec_fn=limits)


def stored_cursor(db: Path) -> dict | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT cursor FROM sync_state").fetchone()
    return orjson.loads(row[0]) if row and row[0] else None


def list_queries(api: FakeCallsApi) -> list[dict]:
    return [query for _, _, query, _ in api.requests_of("list")]


# --- 1. a page that cannot be read ends the connection, the cursor kept --------------------

BAD_ANSWERS = {
    "html": "answered list page 2 with an HTML page, not JSON — is the address the API's?",
    "cut": "answered list page 2 with JSON that ends too early (cut off)",
    "empty": "answered list page 2 with an empty body, not JSON",
    "xml": "answered list page 2 with application/xml, not JSON — is the address the API's?",
}


@pytest.mark.parametrize("kind", sorted(BAD_ANSWERS))
def test_an_unreadable_page_fails_the_connection_and_the_next_sync_reads_it_again(
        db, hostile, kind):
    hostile.seed(250, with_audio=0)
    connect(db, hostile)
    hostile.broken = {"where": "list", "kind": kind}
    started = time.monotonic()
    ran = sync_run(db)
    assert time.monotonic() - started < BOUND_S
    assert ran.returncode == 2, ran.stderr
    assert ran.stdout.splitlines()[0] == "100 new, 0 updated, 0 unchanged, 0 rejected"
    assert "callviewer: main: The calls API at 127.0.0.1:" in ran.stderr
    assert BAD_ANSWERS[kind] in ran.stderr
    assert "Traceback" not in ran.stderr and len(ran.stderr.splitlines()) == 1
    queries = list_queries(hostile)
    assert len(queries) == 2  # not retried, not walked past
    cursor = stored_cursor(db)
    assert cursor["pass"]["number"] == 1 and cursor.get("since") is None
    with Store(str(db)) as store:
        row = store.sync.connection("main")
        assert row.status == "failed" and BAD_ANSWERS[kind] in row.error
    # Fixed, the server is asked for the very page that could not be read, and all is read.
    hostile.broken = None
    again = sync_run(db)
    assert again.returncode == 0, again.stderr
    assert list_queries(hostile)[2] == queries[1]
    with Store(str(db)) as store:
        assert store.calls.summary().calls == 250


def test_a_server_that_ignores_paging_is_stopped_with_a_sentence(db, hostile):
    hostile.seed(250, with_audio=0)
    hostile.stuck = True
    connect(db, hostile)
    ran = sync_run(db)
    assert ran.returncode == 2, ran.stderr
    assert "answered list page 3 with the same calls as list page 1 — it seems to ignore " \
           "the page asked for; the sync stopped there." in ran.stderr
    assert "Traceback" not in ran.stderr
    queries = list_queries(hostile)
    # Page 1; page 1 again below a moved `to` (ignored: paging by number); page 2: the same.
    assert [q["page"] for q in queries] == ["1", "1", "2"]
    assert stored_cursor(db)["pass"]["page"] == 2
    hostile.stuck = False
    again = sync_run(db)
    assert again.returncode == 0, again.stderr
    assert list_queries(hostile)[3] == queries[2]


def test_a_next_link_that_loops_back_is_stopped_with_a_sentence(db, hostile):
    hostile.seed(250, with_audio=0)
    hostile.next_loop = True
    connect(db, hostile)
    ran = sync_run(db)
    assert ran.returncode == 2, ran.stderr
    assert "sent list page 3 back to an address it had already given for list page 2 " \
           "(a loop)" in ran.stderr
    assert "Traceback" not in ran.stderr
    queries = list_queries(hostile)
    assert [q.get("cursor") for q in queries] == [None, "o100"]  # the loop never requested
    assert stored_cursor(db)["pass"]["next"] == "/calls?cursor=o100&limit=100"
    hostile.next_loop = False
    hostile.paging = "next"
    again = sync_run(db)
    assert again.returncode == 0, again.stderr
    assert list_queries(hostile)[2] == queries[1]


def test_max_pages_ends_a_sync_and_the_next_goes_on_from_there(db, hostile):
    hostile.seed(50, with_audio=0, spacing_s=7)
    connect(db, hostile, page_size=10, max_pages=3)
    first = run_sync(str(db))
    assert first.counts.new + first.counts.unchanged == 30 and first.exit_code == 2
    assert first.failures == {"main": "The sync of main stopped after 3 list pages (the "
                                      "max_pages setting); the next sync goes on from there."}
    assert len(list_queries(hostile)) == 3
    cursor = stored_cursor(db)
    second = run_sync(str(db))
    assert second.failures == {} and second.exit_code == 0
    assert list_queries(hostile)[3]["to"] == cursor["pass"]["upper"]  # on, not anew
    with Store(str(db)) as store:
        assert store.calls.summary().calls == 50


def test_after_a_connection_fails_the_runner_syncs_the_next(db, hostile):
    hostile.seed(30, with_audio=0)
    hostile.broken = {"where": "list", "kind": "html"}
    hostile.good_pages = 0
    with FakeCallsApi() as good:
        good.seed(40, with_audio=0)
        connect(db, hostile, name="a-broken")
        connect(db, good, name="b-good")
        cancel = threading.Event()
        bound = threading.Timer(BOUND_S, cancel.set)  # the old code looped until canceled
        bound.start()
        try:
            report = run_sync(str(db), cancel=cancel)
        finally:
            bound.cancel()
    assert not report.canceled
    assert list(report.failures) == ["a-broken"]
    assert "with an HTML page, not JSON" in report.failures["a-broken"]
    assert report.counts.new == 40 and report.exit_code == 2
    assert len(list_queries(hostile)) == 1
    with Store(str(db)) as store:
        assert store.sync.connection("b-good").status == "ok"


# Runs `callviewer ARGS...` and writes its peak resident memory (kB) to $PEAK_MEMORY_FILE.
PEAK_MEMORY_WRAPPER = """
import atexit, os, runpy, sys
def peak():
    status = open("/proc/self/status").read()
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    open(os.environ["PEAK_MEMORY_FILE"], "w").write(kb)
atexit.register(peak)
sys.argv = ["callviewer", *sys.argv[1:]]
runpy.run_module("callviewer", run_name="__main__")
"""


# --- 2. size limits -----------------------------------------------------------------------

@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_an_answer_larger_than_the_limit_is_cut_off_at_the_limit(db, hostile, tmp_path,
                                                                 chunked):
    hostile.seed(3, with_audio=0)
    hostile.broken = {"where": "list", "kind": "endless", "size": 2 << 30, "chunked": chunked}
    hostile.good_pages = 0
    connect(db, hostile, max_response_mb=4.0)
    out, err, peak = tmp_path / "out.txt", tmp_path / "err.txt", tmp_path / "peak.txt"
    started = time.monotonic()
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-c", PEAK_MEMORY_WRAPPER, "sync", "run",
                                    "--db", str(db)], stdout=stdout, stderr=stderr,
                                   env={**os.environ, "PEAK_MEMORY_FILE": str(peak)})
        killer = threading.Timer(BOUND_S, process.kill)
        killer.start()
        try:
            _, status, _usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    assert time.monotonic() - started < BOUND_S
    said = err.read_text()
    assert process.returncode == 2, said
    assert "with more than 4 MB, larger than the limit (the max_response_mb setting)" in said
    assert "timed out" not in said and "in time" not in said and "Traceback" not in said
    assert out.read_text().splitlines()[0] == "0 new, 0 updated, 0 unchanged, 0 rejected"
    # The sync's own peak (VmHWM: wait4's ru_maxrss keeps the forking test process's size
    # across exec, so it grows with the suite): the body was not held whole (2 GB).
    assert int(peak.read_text()) < 300 * 1024  # KB
    assert hostile.sent_bytes < 200 << 20
    assert len(list_queries(hostile)) == 1  # a body too large is not asked for again


def test_a_record_larger_than_the_limit_is_rejected_naming_it(db, hostile):
    ids = hostile.seed(5, with_audio=0)
    hostile.calls[ids[1]]["call_summary"] = "long " * 40_000  # in the list item: 200 KB
    hostile.calls[ids[3]]["transcript"] = orjson.dumps(
        [{"role": "user", "text": "word " * 40_000}]).decode()  # in the detail only
    connect(db, hostile, max_record_mb=0.1)
    report = run_sync(str(db))
    assert report.failures == {} and report.exit_code == 1
    rejects = sorted(str(reject) for reject in report.rejects)
    assert len(rejects) == 2
    assert f"main list page 1 item 2 (source_id {ids[1]}): larger than the limit of 0.1 MB " \
           f"for one record (the max_record_mb setting)" in rejects
    assert f"main list page 1 item 4 detail (source_id {ids[3]}): larger than the limit of " \
           f"0.1 MB for one record (the max_record_mb setting)" in rejects
    with Store(str(db)) as store:
        assert store.calls.summary().calls == 4  # the list's version of the other is kept


# --- 3. a full disk while a recording downloads ---------------------------------------------

def test_a_full_disk_while_downloading_ends_in_the_summary_and_a_sentence(db, hostile):
    ids = hostile.seed(3, with_audio=0)
    big = AUDIO_FILES[0].read_bytes() * (6_000_000 // AUDIO_FILES[0].stat().st_size + 1)
    hostile.audio[ids[1]] = big
    connect(db, hostile)
    ran = sync_run(db, limit_file_size=2_000_000)
    assert ran.returncode == 2, ran.stderr
    assert ran.stdout.splitlines()[:2] == ["3 new, 0 updated, 0 unchanged, 0 rejected",
                                           "No recordings downloaded."]
    assert "Traceback" not in ran.stderr and "OSError" not in ran.stderr
    assert f"callviewer: main: The recording of call {ids[1]} could not be saved in " in \
           ran.stderr
    assert "the disk is full" in ran.stderr and "goes on where it stopped" in ran.stderr
    parts = list((db.parent / "calls.sqlite3.recordings").rglob("*.part"))
    assert len(parts) == 1 and 0 < parts[0].stat().st_size <= 2_000_000
    kept = parts[0].stat().st_size
    assert big.startswith(parts[0].read_bytes())
    # With room again the download resumes from the part, and the store is whole.
    again = sync_run(db)
    assert again.returncode == 0, again.stderr
    assert [h.get("Range") for *_, h in hostile.requests_of("audio")][-1] == f"bytes={kept}-"
    with Store(str(db)) as store:
        info = store.archive.info(store.calls.id_of("agent-platform", ids[1]))
        assert info.state == "archived"
        assert Path(info.path).read_bytes() == big


# --- 4. redirect faults --------------------------------------------------------------------

REDIRECTS = {
    "loop": ("/calls", "redirected more than 10 times"),
    "ftp": ("ftp://files.example/calls", "redirected to an address starting ftp://, which "
                                         "is not supported — is the address the API's?"),
    "file": ("file:///etc/passwd", "redirected to an address starting file://, which is "
                                   "not supported — is the address the API's?"),
}


@pytest.mark.parametrize("case", sorted(REDIRECTS))
def test_redirect_faults_end_in_a_sentence_without_class_names(db, hostile, case):
    target, sentence = REDIRECTS[case]
    hostile.seed(3, with_audio=0)
    hostile.broken = {"where": "list", "kind": "redirect", "to": target}
    hostile.good_pages = 0
    connect(db, hostile)
    ran = sync_run(db)
    assert ran.returncode == 2, ran.stderr
    assert "callviewer: main: The calls API at 127.0.0.1:" in ran.stderr
    assert sentence in ran.stderr
    for word in ("InvalidSchema", "TooManyRedirects", "Traceback", "Error"):
        assert word not in ran.stderr
    assert len(list_queries(hostile)) <= 11


def test_the_limits_are_settings_with_sane_defaults():
    from callviewer.sync.connection import settings_for

    settings = settings_for("calls-api", {})
    assert (settings["max_response_mb"], settings["max_record_mb"]) == (50.0, 16.0)
    assert settings["max_pages"] == 10_000 and settings["max_redirects"] == 10
