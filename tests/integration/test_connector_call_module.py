"""The call-module connector against a loopback fake of the Twilio-based call module
(GET /api/calls, GET /api/calls/:id, GET /api/calls/:id/recording, POST
/api/calls/:id/rerun), written from the module's reference: the whole list in one answer,
CallDetails with transcription and analysis groups, the MP3 served behind the session
cookie, 401 for a missing or wrong session, 429 with Retry-After, 5xx, calls deleted
between syncs, a kill -9 mid-sync then a resume, and Re-run analysis from the window."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import orjson
import pytest
from connectors import FAST_SETTINGS, assert_store_equals, exported, sync, user_env
from fake_vendor import AUDIO, FakeVendor, Reply

from callviewer.secrets import load_secret
from callviewer.store import Store
from callviewer.sync import twilio
from callviewer.sync.connection import open_connection
from callviewer.sync.sources.call_module_api import RERUN_ASKED

SESSION = "8c1f6a0e-4d2b-4b7e-9f3a-2e5d7c9b1a04"  # a session token's shape


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")  # chrono's to_rfc3339: +00:00


class FakeCallModule(FakeVendor):
    """The call module: the organization's calls, their details and MP3s, and re-runs."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, dict] = {}  # id -> CallDetails
        self.files: dict[str, bytes] = {}  # call_sid -> the {call_sid}.mp3 on disk
        self.reruns: list[str] = []
        self.detail_gate: threading.Event | None = None  # held: details wait for it
        self.gated: set[str] = set()
        self.route("GET", r"/api/calls", self.list_calls)
        self.route("GET", r"/api/calls/(?P<id>[^/]+)", self.get_call)
        self.route("GET", r"/api/calls/(?P<id>[^/]+)/recording", self.get_recording)
        self.route("POST", r"/api/calls/(?P<id>[^/]+)/rerun", self.rerun)

    def authorized(self, seen) -> bool:
        cookie = SimpleCookie()
        cookie.load(seen.headers.get("cookie", ""))
        return "session" in cookie and cookie["session"].value == SESSION

    def refused(self, seen) -> Reply:
        return Reply(401, raw=b"Unauthorized", headers={"Content-Type": "text/plain"})

    def add(self, n: int, created: datetime, audio: bool = True, runs: int = 1) -> str:
        call_id = str(uuid.UUID(int=n + 1, version=4))
        sid = f"CA{n:032x}"
        if audio:
            self.files[sid] = AUDIO[n % len(AUDIO)].read_bytes()
        groups = [{"analyzer_id": str(uuid.UUID(int=1000 + g, version=4)),
                   "analyzer_name": name,
                   "runs": [{"id": str(uuid.uuid4()),
                             "analysis_text": f"{name}: call {n}, run {r + 1}.",
                             "created_at": stamp(created + timedelta(minutes=2 + r, seconds=g))}
                            for r in range(runs)]}
                  for g, name in enumerate(("Sentiment Analyzer", "Compliance Analyzer"))]
        self.calls[call_id] = {
            "id": call_id, "from_to_number": f"+1555{n:07d} -> +15559876543",
            "call_sid": sid, "has_recording": audio, "created_at": stamp(created),
            "transcription": f"AI: Riverside Dental, call {n}.\nUser: I would like to book "
                             "a cleaning.\nAI: Thursday at ten works.",
            "analysis_groups": groups}
        return call_id

    def listed(self, call: dict) -> dict:
        return {key: call[key] for key in
                ("id", "from_to_number", "call_sid", "has_recording", "created_at")}

    def list_calls(self, _seen, _match) -> Reply:
        # Oldest first: the reference gives no order, so the connector must not rely on one.
        calls = sorted(self.calls.values(), key=lambda c: c["created_at"])
        return Reply(200, [self.listed(c) for c in calls])

    def get_call(self, _seen, match) -> Reply:
        call_id = match.group("id")
        if self.detail_gate is not None and call_id in self.gated:
            self.lock.release()  # the fake's lock is held around a handler: let others in
            try:
                self.detail_gate.wait(60)
            finally:
                self.lock.acquire()
        call = self.calls.get(call_id)
        return Reply(200, call) if call else Reply(404, raw=b"Call not found",
                                                    headers={"Content-Type": "text/plain"})

    def get_recording(self, seen, match) -> Reply:
        call = self.calls.get(match.group("id"))
        content = self.files.get(call["call_sid"]) if call else None
        if content is None:
            return Reply(404, raw=b"Recording not found", headers={"Content-Type": "text/plain"})
        # tokio::fs reads the whole file: no Range support, the whole MP3 every time.
        return Reply(200, raw=content, headers={"Content-Type": "audio/mpeg"})

    def rerun(self, _seen, match) -> Reply:
        call = self.calls.get(match.group("id"))
        if call is None:
            return Reply(404, raw=b"Call not found", headers={"Content-Type": "text/plain"})
        self.reruns.append(call["id"])
        now = datetime.now(UTC)
        for group in call["analysis_groups"]:  # earlier runs kept, the new one appended
            group["runs"].append({"id": str(uuid.uuid4()), "analysis_text":
                                  f"{group['analyzer_name']}: re-run {len(self.reruns)}.",
                                  "created_at": stamp(now)})
        return Reply(200, raw=b"", headers={"Content-Type": "text/plain"})


@pytest.fixture
def fake():
    with FakeCallModule() as server:
        yield server


def add(db, env, fake, *settings: str, session: str = SESSION) -> None:
    added = sync("add", "office", "--api", "call-module", "--url", fake.url, "--token-stdin",
                 "--set", "page_size=10", *FAST_SETTINGS, *settings, db=db, env=env,
                 stdin=session + "\n")
    assert added.returncode == 0, added.stderr


def seed(fake, count: int, now: datetime) -> list[str]:
    return [fake.add(n, now - timedelta(hours=n + 1), audio=n % 5 != 4) for n in range(count)]


def test_calls_transcripts_analysis_and_recordings_arrive_through_faults(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    seed(fake, 25, now)
    fake.fail("/api/calls", Reply(429, raw=b"Too Many Requests", headers={
        "Retry-After": "1", "Content-Type": "text/plain"}))
    fake.fail("/api/calls", Reply(502, raw=b"Bad Gateway", headers={"Content-Type": "text/plain"}))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "25 new, 0 updated, 0 unchanged, 0 rejected"
    stored = assert_store_equals(db, env, twilio, list(fake.calls.values()))
    assert sum(1 for r in stored.values() if r["has_recording"]) == 20
    first = stored[next(iter(fake.calls))]
    assert [run["analyzer"] for run in first["analysis"]] == ["Compliance Analyzer",
                                                              "Sentiment Analyzer"]
    assert [entry["role"] for entry in first["transcript"]][:2] == ["agent", "customer"]
    # One list request (after the 429 and the 502) for three pages of ten; every request,
    # the MP3s' too, carried the session cookie; the cookie never in what was said.
    lists = [s for s in fake.requests_to("/api/calls", "GET") if s.path == "/api/calls"]
    assert len(lists) == 3
    assert all(s.headers["cookie"] == f"session={SESSION}" for s in fake.seen)
    assert len(fake.requests_to("/api/calls/", "GET")) == 25 + 20  # details and MP3s
    assert SESSION not in ran.stdout + ran.stderr
    with sqlite3.connect(db) as conn:
        cursor = orjson.loads(conn.execute("SELECT cursor FROM sync_state").fetchone()[0])
    assert cursor["pass"] is None and cursor["passes"] == 1
    # A call added since, at the top: the next sync brings it and loses nothing.
    fake.add(99, now - timedelta(minutes=5))
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == "1 new, 0 updated, 25 unchanged, 0 rejected"
    assert_store_equals(db, env, twilio, list(fake.calls.values()))


def test_the_list_is_read_once_a_pass_so_a_call_added_while_walking_shifts_nothing(
        tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = seed(fake, 25, now)
    oldest = ids[-1]  # in the last page of the walk, newest first
    original = fake.get_call

    def get_call(seen, match):  # a call arrives at the top while page 3 is being read
        if match.group("id") == oldest and len(fake.calls) == 25:
            fake.add(50, now)
        return original(seen, match)

    fake.route("GET", r"/api/calls/(?P<id>[^/]+)", get_call)
    fake.routes.insert(0, fake.routes.pop())
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "25 new, 0 updated, 0 unchanged, 0 rejected"
    newcomer = [call for call in fake.calls.values() if call["id"] not in ids]
    assert_store_equals(db, env, twilio, [c for c in fake.calls.values() if c not in newcomer])
    assert sync("run", db=db, env=env).returncode == 0
    assert_store_equals(db, env, twilio, list(fake.calls.values()))


def test_a_wrong_session_gets_the_modules_401_as_a_sentence(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    add(db, env, fake, session="expired-session")
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 2
    assert "The API token was refused" in ran.stderr and "Traceback" not in ran.stderr
    assert fake.seen[-1].headers["cookie"] == "session=expired-session"
    # The cookie's name is a setting: a module whose session cookie is called otherwise.
    db2 = tmp_path / "other.sqlite3"
    add(db2, env, fake, "--set", "cookie_name=sid")
    assert sync("run", db=db2, env=env).returncode == 2
    assert fake.seen[-1].headers["cookie"] == f"sid={SESSION}"


def test_the_recording_needs_the_session_and_a_5xx_on_it_is_retried(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    call_id = fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    recording = f"/api/calls/{call_id}/recording"
    fake.fail(recording, Reply(503, raw=b"Service Unavailable", headers={
        "Retry-After": "1", "Content-Type": "text/plain"}))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert_store_equals(db, env, twilio, list(fake.calls.values()))
    media = fake.requests_to(recording)
    assert len(media) == 2 and all(s.headers["cookie"] == f"session={SESSION}" for s in media)
    # Without the session the endpoint refuses: the link is the module's own.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(fake.url + recording, timeout=10)
    assert refused.value.code == 401


def test_calls_deleted_at_the_module_are_marked_on_the_next_sync(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [fake.add(n, now - timedelta(days=400 - n), audio=n % 2 == 0) for n in range(12)]
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    year_old, recent = fake.calls.pop(ids[0]), fake.calls.pop(ids[-1])
    # Every pass lists every call, so the plain next sync is a walk of the whole history.
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    stored = assert_store_equals(db, env, twilio, list(fake.calls.values()),
                                 deleted=frozenset({year_old["id"], recent["id"]}))
    assert stored[year_old["id"]]["recording"]  # the archived copy stays
    fake.calls[year_old["id"]] = year_old  # restored at the module: the mark is taken back
    assert sync("run", "--full", db=db, env=env).returncode == 0
    assert exported(db, env)[year_old["id"]]["deleted_at"] is None


def test_a_sync_killed_mid_walk_goes_on_from_the_last_page_committed(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = seed(fake, 25, now)
    add(db, env, fake)
    fake.detail_gate = threading.Event()
    fake.gated = set(ids[10:])  # the second page's details wait
    process = subprocess.Popen(
        [sys.executable, "-m", "callviewer", "sync", "run", "--db", str(db)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not fake.requests_to(f"/api/calls/{ids[10]}"):
            time.sleep(0.05)
        assert fake.requests_to(f"/api/calls/{ids[10]}"), "the walk never reached page 2"
        with sqlite3.connect(db) as conn:
            committed = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
        assert committed == 10
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        fake.detail_gate.set()
    fake.detail_gate = None
    fake.add(60, now)  # arrived while nobody was syncing: newer than the cursor
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "15 new, 0 updated, 0 unchanged, 0 rejected"
    newcomer = fake.calls[str(uuid.UUID(int=61, version=4))]
    assert_store_equals(db, env, twilio, [c for c in fake.calls.values() if c is not newcomer])
    for call_id in ids[:10]:  # the first page was not read again
        assert len(fake.requests_to(f"/api/calls/{call_id}", "GET")) == \
            (2 if fake.calls[call_id]["has_recording"] else 1)
    assert sync("run", db=db, env=env).returncode == 0
    assert_store_equals(db, env, twilio, list(fake.calls.values()))


def test_rerun_is_sent_once_and_its_runs_arrive_appended_with_the_next_sync(tmp_path, fake,
                                                                            monkeypatch):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    call_id = fake.add(1, datetime.now(UTC) - timedelta(hours=3))
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])  # where `add` kept it
    with Store(str(db)) as store:
        row = store.sync.connection("office")
    connection = open_connection(row.name, row.kind, row.settings, load_secret(row.secret_key))
    try:
        fake.fail(f"/api/calls/{call_id}/rerun", Reply(502, raw=b"Bad Gateway",
                                                       headers={"Content-Type": "text/plain"}))
        said = connection.rerun(call_id)
        assert "answered 502" in said and "not re-run" in said
        assert len(fake.requests_to(f"/api/calls/{call_id}/rerun", "POST")) == 1  # not retried
        assert connection.rerun(call_id) == RERUN_ASKED
        assert connection.rerun(str(uuid.uuid4())).endswith("no longer has this call.")
    finally:
        connection.close()
    assert fake.reruns == [call_id]
    posts = fake.requests_to(f"/api/calls/{call_id}/rerun", "POST")
    assert len(posts) == 2 and posts[-1].headers["cookie"] == f"session={SESSION}"
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "0 new, 1 updated, 0 unchanged, 0 rejected"
    analysis = exported(db, env)[call_id]["analysis"]
    texts = [run["text"] for run in analysis]  # both runs of each analyzer, newest first
    assert sorted(texts[:2]) == ["Compliance Analyzer: re-run 1.",
                                 "Sentiment Analyzer: re-run 1."]
    assert sorted(texts[2:]) == ["Compliance Analyzer: call 1, run 1.",
                                 "Sentiment Analyzer: call 1, run 1."]
    assert len(analysis) == 4
    times = [run["created_at"] for run in analysis]
    assert times == sorted(times, reverse=True)  # newest first
    assert_store_equals(db, env, twilio, list(fake.calls.values()))


def test_call_menu_reruns_the_analysis_of_a_call_module_call(qtbot, tmp_path, fake,
                                                             monkeypatch):
    from windows import open_window

    from callviewer.sync.importer import import_paths

    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    call_id = fake.add(1, datetime.now(UTC) - timedelta(hours=3))
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    # A call of the same format imported from a file: not the module's to re-run.
    exported_file = tmp_path / "export.json"
    exported_file.write_bytes(orjson.dumps({**fake.listed(fake.calls[call_id]),
                                            "id": str(uuid.uuid4()), "has_recording": False}))
    with Store(str(db)) as store:
        assert import_paths(store, [exported_file]).rejected == 0
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])  # where `add` kept it
    monkeypatch.setenv("XDG_DATA_HOME", env["XDG_DATA_HOME"])
    window = open_window(qtbot, db, tmp_path)
    menu = window._menus["&Call"]
    action = window.rerun.action
    assert action.text() == "Re-run &analysis" and action in menu.actions()
    local = {window.store.calls.get(window.model.call_id(row)).source_id: window.model.call_id(row)
             for row in range(window.model.rowCount())}
    assert len(local) == 2
    for source_id, expected in ((call_id, True), (next(s for s in local if s != call_id), False)):
        window._select(local[source_id])
        assert window.current_call_id() == local[source_id]
        menu.aboutToShow.emit()  # as the menu opens: found out off the GUI thread
        qtbot.waitUntil(lambda expected=expected: action.isEnabled() is expected,
                        timeout=5_000)
    window._select(local[call_id])
    menu.aboutToShow.emit()
    qtbot.waitUntil(action.isEnabled, timeout=5_000)
    action.trigger()
    assert window.rerun.running
    qtbot.waitUntil(lambda: not window.rerun.running, timeout=20_000)
    assert window.statusBar().currentMessage() == RERUN_ASKED
    assert fake.reruns == [call_id]
    # The next sync (F5) brings the new runs, appended to the stored ones.
    window.sync_now()
    qtbot.waitUntil(lambda: not window.syncing.running, timeout=30_000)
    analysis = window.store.calls.get(local[call_id]).analysis
    assert len(analysis) == 4 and analysis[0]["text"].endswith("re-run 1.")
