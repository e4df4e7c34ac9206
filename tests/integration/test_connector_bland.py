"""The Bland connector against a loopback fake of Bland's API (GET /v1/calls, GET
/v1/calls/{call_id}, GET /v1/recordings/{call_id}), written from Bland's API reference
("List Calls", "Call Details", "Get Call Recording"): paging by from/to indexes with
ascending and start_date, the raw key in the authorization header and Bland's answer to a
wrong one, 429 with Retry-After, 5xx, an expiring recording link and one on the API's own
address, a page that changes while it is walked (a call added, one deleted), a call
deleted between syncs, and a kill -9 mid-sync then a resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from connectors import FAST_SETTINGS, assert_store_equals, exported, sync, user_env
from fake_vendor import FakeVendor, Reply, audio_path

from callviewer.sync import bland

KEY = "sk-7b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a"  # a Bland key's shape


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")  # …+00:00, as Bland


SUMMARY = ("call_id", "created_at", "call_length", "to", "from", "completed", "queue_status",
           "error_message", "answered_by", "batch_id")


class FakeBland(FakeVendor):
    """GET /v1/calls?from&to&limit&ascending&sort_by&start_date; GET /v1/calls/{call_id};
    GET /v1/recordings/{call_id} (the key needed)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, dict] = {}
        self.stale_once: set[str] = set()  # details that hand out an expired link once
        self.between_pages = None  # called before answering a list page past the first
        self.gate: threading.Event | None = None  # list pages past the first wait for it
        self.paused = threading.Event()
        self.route("GET", r"/v1/calls", self.list_calls)
        self.route("GET", r"/v1/calls/(?P<id>[^/]+)", self.get_call)
        self.route("GET", r"/v1/recordings/(?P<id>[^/]+)", self.get_recording)

    def authorized(self, seen) -> bool:
        return seen.headers.get("authorization") == KEY

    def refused(self, seen) -> Reply:
        return Reply(401, {"data": None, "errors": [
            {"error": "AUTH_FAILURE", "message": "Invalid API key"}]})

    def _answer(self, seen):
        # A later list page held back (outside the server's lock) while a test kills the sync.
        if self.gate is not None and seen.path == "/v1/calls" and \
                seen.query.get("from", "0") != "0" and not self.gate.is_set():
            self.paused.set()
            self.gate.wait(60)
        return super()._answer(seen)

    def add(self, n: int, created: datetime, audio: str | None = "link",
            over: bool = True) -> str:
        call_id = f"9d404c1b-6a23-4426-953a-{n:012d}"
        started = created + timedelta(seconds=2)
        seconds = 40 + n
        lines = [("assistant", f"Riverside Dental, call {n}. How can I help?", 0.5),
                 ("user", "I would like to book a cleaning.", 3.2),
                 ("assistant", "Tuesday at ten works. See you then.", 7.9)]
        call = {
            "call_id": call_id, "c_id": call_id, "created_at": stamp(created),
            "started_at": stamp(started), "end_at": stamp(started + timedelta(minutes=30)),
            "call_length": round(seconds / 60, 3), "corrected_duration": str(seconds),
            "to": "+14155550000", "from": f"+1415555{n:04d}", "inbound": True,
            "completed": over, "queue_status": "complete" if over else "started",
            "status": "completed" if over else "in-progress", "answered_by": "human",
            "error_message": None, "batch_id": None, "max_duration": 30,
            "endpoint_url": "api.prod.bland.ai", "call_ended_by": "USER" if over else None,
            "transcripts": [{"id": i + 1, "user": who, "text": text,
                             "created_at": stamp(started + timedelta(seconds=at))}
                            for i, (who, text, at) in enumerate(lines)],
            "concatenated_transcript": "\n".join(f"{who}: {text}" for who, text, _ in lines),
            # The summary and the analysis come once the call is over.
            "summary": f"Booked a cleaning ({n})." if over else None,
            "analysis": {"booked": True, "day": "Tuesday"} if over else None,
            "pathway_id": "pw-1",
            "variables": {"now": stamp(created)}, "request_data": {"phone_number": "+1"},
            "price": 0.09, "recording_url": None}
        if audio == "link":
            call["recording_url"] = self.signed_link(call_id)
        elif audio == "api":  # Bland's own Get Call Recording address: the key is needed
            self.audio.setdefault(call_id, audio_path(len(self.audio)).read_bytes())
            call["recording_url"] = f"{self.url}/v1/recordings/{call_id}"
        self.calls[call_id] = call
        return call_id

    def list_calls(self, seen, _match) -> Reply:
        if seen.query.get("from", "0") != "0" and self.between_pages is not None:
            change, self.between_pages = self.between_pages, None
            change()
        calls = sorted(self.calls.values(), key=lambda c: c["created_at"],
                       reverse=seen.query.get("ascending", "false") != "true")
        since = seen.query.get("start_date")
        if since:
            calls = [c for c in calls if c["created_at"][:len(since)] >= since]
        start = int(seen.query.get("from", 0))
        stop = min(int(seen.query.get("to", start + 1000)),
                   start + int(seen.query.get("limit", 1000)))
        page = [{key: c[key] for key in SUMMARY} for c in calls[start:stop]]
        return Reply(200, {"total_count": len(calls), "count": len(page), "calls": page})

    def get_call(self, _seen, match) -> Reply:
        call = self.calls.get(match.group("id"))
        if call is None:
            return Reply(404, {"data": None, "errors": [
                {"error": "CALL_NOT_FOUND", "message": "Call not found"}]})
        if call["call_id"] in self.stale_once and call["recording_url"]:
            self.stale_once.discard(call["call_id"])
            ttl, self.link_ttl = self.link_ttl, -60
            stale = self.signed_link(call["call_id"])
            self.link_ttl = ttl
            return Reply(200, {**call, "recording_url": stale})
        return Reply(200, call)

    def get_recording(self, seen, match) -> Reply:
        if match.group("id") not in self.audio:
            return Reply(404, {"data": None, "errors": [
                {"error": "CALL_RECORDING_NOT_FOUND", "message": "Call recording not found"}]})
        return self.audio_reply(seen, match.group("id"))


@pytest.fixture
def fake():
    with FakeBland() as server:
        yield server


def add(db, env, fake, *settings: str) -> None:
    added = sync("add", "clinic", "--api", "bland", "--url", fake.url, "--token-stdin",
                 "--set", "page_size=10", *FAST_SETTINGS, *settings, db=db, env=env,
                 stdin=KEY + "\n")
    assert added.returncode == 0, added.stderr


def list_pages(fake) -> list:
    return [s for s in fake.requests_to("/v1/calls", "GET") if s.path == "/v1/calls"]


def details(fake) -> list:
    return fake.requests_to("/v1/calls/", "GET")


def test_calls_transcripts_and_recordings_arrive_and_stay_through_faults(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(24):
        fake.add(n, now - timedelta(hours=30 - n), audio=None if n % 6 == 5 else "link")
    on_api = fake.add(24, now - timedelta(hours=5), audio="api")
    live = fake.add(25, now - timedelta(minutes=1), audio=None, over=False)
    fake.stale_once.add(next(iter(fake.calls)))  # its first detail hands out an expired link
    fake.fail("/v1/calls", Reply(429, {"data": None, "errors": [
        {"error": "RATE_LIMITED", "message": "Too many requests"}]},
        headers={"Retry-After": "1"}))
    fake.fail("/v1/calls", Reply(502, raw=b"Bad Gateway", headers={"Content-Type": "text/plain"}))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "26 new, 0 updated, 0 unchanged, 0 rejected"
    stored = assert_store_equals(db, env, bland, list(fake.calls.values()))
    assert sum(1 for r in stored.values() if r["has_recording"]) == 21
    assert stored[live]["outcome"] == "in_progress"
    # Index pages oldest first, each reaching back page_overlap calls; the key, raw, each time.
    pages = list_pages(fake)
    assert all(s.headers["authorization"] == KEY for s in fake.seen if s.path.startswith("/v1/"))
    assert [s.query["from"] for s in pages] == ["0", "0", "0", "5", "10", "15", "20"]
    assert all(s.query["ascending"] == "true" and s.query["sort_by"] == "created_at" and
               "start_date" not in s.query for s in pages)
    # Every call read in detail once (the stale link's twice); the key went to the API's own
    # recording address, never to a storage link.
    assert len(details(fake)) == 27
    assert [s.headers.get("authorization") for s in fake.requests_to(f"/v1/recordings/{on_api}")] \
        == [KEY]
    media = fake.requests_to("/media/")
    assert media and all("authorization" not in s.headers for s in media)
    assert KEY not in ran.stdout + ran.stderr
    # Incremental: start_date is the day of the last pass less the overlap; the live call,
    # now over, is read in detail again; old finished calls are not.
    fake.calls[live].update(completed=True, queue_status="complete", status="completed",
                            call_ended_by="USER", recording_url=fake.signed_link(live),
                            summary="Booked a cleaning (25).", analysis={"booked": True})
    before = len(details(fake))
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("0 new, 1 updated, ")
    since = list_pages(fake)[-1].query["start_date"]
    assert since in {(now - timedelta(hours=2, minutes=1)).strftime("%Y-%m-%d"),
                     (now - timedelta(hours=1, minutes=55)).strftime("%Y-%m-%d")}
    detailed = {s.path.rsplit("/", 1)[-1] for s in details(fake)[before:]}
    assert live in detailed and not detailed & {c for c in fake.calls
                                                if fake.calls[c]["created_at"] < stamp(
                                                    now - timedelta(hours=3))}
    stored = assert_store_equals(db, env, bland, list(fake.calls.values()))
    assert stored[live]["outcome"] == "answered" and stored[live]["recording"].endswith(".mp3")


def test_a_page_that_changes_while_walked_loses_and_shifts_no_call(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [fake.add(n, now - timedelta(days=3, minutes=-n), audio=None) for n in range(23)]
    taken = {}

    def change() -> None:  # between page 1 and page 2: a call arrives, an old one goes
        fake.add(100, now, audio=None)
        taken["call"] = fake.calls.pop(ids[2])

    fake.between_pages = change
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    gone = taken["call"]
    # Listed on page 1 before it went: kept, not marked; every other call there once.
    assert_store_equals(db, env, bland, [*fake.calls.values(), gone])
    assert ran.stdout.splitlines()[0] == "24 new, 0 updated, 0 unchanged, 0 rejected"
    # The next full walk marks it deleted at the source, and reads no call twice.
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    assert_store_equals(db, env, bland, list(fake.calls.values()),
                        deleted=frozenset({gone["call_id"]}))


def test_a_wrong_key_gets_blands_answer_as_a_sentence(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    added = sync("add", "clinic", "--api", "bland", "--url", fake.url, "--token-stdin",
                 *FAST_SETTINGS, db=db, env=env, stdin="not-the-key\n")
    assert added.returncode == 0
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 2
    assert "The API token was refused" in ran.stderr and "Traceback" not in ran.stderr
    assert "not-the-key" not in ran.stdout + ran.stderr


def test_a_call_deleted_at_the_source_is_marked_on_the_next_full_walk(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [fake.add(n, now - timedelta(days=400 - n), audio=None) for n in range(12)]
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    gone = fake.calls.pop(ids[0])  # a year-old call, erased at the source
    before = len(details(fake))
    assert sync("run", db=db, env=env).returncode == 0  # incremental: cannot tell
    assert exported(db, env)[gone["call_id"]]["deleted_at"] is None
    assert len(details(fake)) == before  # nothing new: no detail asked for
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    assert_store_equals(db, env, bland, list(fake.calls.values()),
                        deleted=frozenset({gone["call_id"]}))
    fake.calls[gone["call_id"]] = gone  # restored at the source: the mark is taken back
    assert sync("run", "--full", db=db, env=env).returncode == 0
    assert exported(db, env)[gone["call_id"]]["deleted_at"] is None


def test_a_sync_killed_mid_walk_goes_on_from_the_page_it_saved(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(27):
        fake.add(n, now - timedelta(days=2, minutes=-n), audio="link" if n % 2 else None)
    add(db, env, fake)
    fake.gate = threading.Event()
    proc = subprocess.Popen([sys.executable, "-m", "callviewer", "sync", "run", "--db", str(db)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert fake.paused.wait(60), "the sync never asked for its second page"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(exported(db, env)) == 10  # page 1 committed, page 2 never answered
    fake.gate.set()  # the held request goes on, to a dead socket
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0].startswith("17 new, 0 updated, ")
    # Resumed from the page after the one saved (reaching back page_overlap calls), never
    # from the start.
    assert [s.query["from"] for s in list_pages(fake)].count("0") == 1
    assert [s.query["from"] for s in list_pages(fake)][-4:] == ["5", "10", "15", "20"]
    stored = assert_store_equals(db, env, bland, list(fake.calls.values()))
    assert sum(1 for r in stored.values() if r["recording"]) == 13
