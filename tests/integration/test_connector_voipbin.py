"""The VoIPBIN connector against a loopback fake of VoIPBIN's API (GET /v1.0/calls,
GET /v1.0/calls/{id}, GET /v1.0/recordingfiles/{id}), written from its reference and its
server (bin-api-manager): paging by a time token (the tm_create of a page's last call,
`tm_create < page_token` newest first, page_size at most 100), deleted calls never listed,
the access key as the `accesskey` query parameter and 401 with an empty body for a wrong
one, 429 with Retry-After, 5xx, a recording file answered by a 307 to a signed link that
expires, a call deleted and a recording deleted between syncs, a page that changes while it
is walked, and a kill -9 mid-sync then a resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from connectors import FAST_SETTINGS, assert_store_equals, exported, sync, user_env
from fake_vendor import FakeVendor, Reply

from callviewer.store import Store
from callviewer.sync import voipbin

KEY = "vb_a3Bf9xKmPq2nR7sT4wYzLp8mN5qR1xWe"  # an access key's shape
NO_ID = "00000000-0000-0000-0000-000000000000"
LIST = "/v1.0/calls"


def stamp(moment: datetime) -> str:
    """A time as VoIPBIN's API writes it (and its page tokens)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def moment(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def envelope(status: int, code: str, reason: str, message: str, **headers: str) -> Reply:
    """VoIPBIN's error envelope (bin-api-manager abortWithError)."""
    return Reply(status, {"error": {"status": code, "reason": reason, "domain": "api-manager",
                                    "message": message, "request_id": "req-1"}},
                 headers={name.replace("_", "-"): value for name, value in headers.items()})


class FakeVoipbin(FakeVendor):
    """GET /v1.0/calls?page_size&page_token; GET /v1.0/calls/{id};
    GET /v1.0/recordingfiles/{id} -> 307 to a signed link."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, dict] = {}
        self.files: set[str] = set()  # recording ids whose file the source still has
        self.expired_once: set[str] = set()  # recordings whose next link is already expired
        self.after_page: list = []  # callables run after a list page is answered (once each)
        self.gate: threading.Event | None = None  # when set up: pages after the first wait
        self.waiting = threading.Event()  # a page is waiting at the gate
        self.route("GET", LIST, self.list_calls)
        self.route("GET", LIST + r"/(?P<id>[^/]+)", self.get_call)
        self.route("GET", r"/v1\.0/recordingfiles/(?P<id>[^/]+)", self.recording_file)

    def authorized(self, seen) -> bool:
        return seen.query.get("accesskey") == KEY

    def refused(self, seen) -> Reply:
        # The Authenticate middleware: c.AbortWithStatus(401), no body.
        return Reply(401, raw=b"", headers={"Content-Type": "text/plain"})

    def add(self, n: int, created: datetime, audio: bool = True, status: str = "hangup") -> str:
        call_id = f"9b1f0c2e-0000-4000-8000-{n:012d}"
        recording = f"5e4a0680-0000-4000-8000-{n:012d}" if audio else NO_ID
        if audio:
            self.files.add(recording)
            self.signed_link(recording)  # its bytes
        ended = created + timedelta(seconds=30 + n)
        live = status != "hangup"
        self.calls[call_id] = {
            "id": call_id, "customer_id": "5e4a0680-804e-11ec-8477-2fea5968d85b",
            "owner_type": "", "owner_id": NO_ID, "flow_id": "4553c074-c88d-49e5-9d47-5c01598ac099",
            "activeflow_id": NO_ID, "type": "flow", "master_call_id": NO_ID,
            "chained_call_ids": [], "recording_id": recording if live else NO_ID,
            "recording_ids": [recording] if audio else [], "groupcall_id": NO_ID,
            "source": {"type": "tel", "target": f"+1415555{n:04d}", "target_name": "",
                       "name": f"Caller {n}", "detail": ""},
            "destination": {"type": "tel", "target": "+14155550000", "target_name": "",
                            "name": "", "detail": ""},
            "status": status, "action": {"id": NO_ID, "next_id": NO_ID, "type": "hangup"},
            "direction": "incoming", "mute_direction": "",
            "hangup_by": "" if live else "remote", "hangup_reason": "" if live else "normal",
            "tm_create": stamp(created), "tm_update": stamp(ended if not live else created),
            "tm_progressing": stamp(created + timedelta(seconds=2)),
            "tm_ringing": stamp(created + timedelta(seconds=1)),
            "tm_hangup": None if live else stamp(ended), "tm_delete": None}
        return call_id

    def hang_up(self, call_id: str) -> None:
        call = self.calls[call_id]
        ended = moment(call["tm_create"]) + timedelta(seconds=45)
        call.update(status="hangup", hangup_by="remote", hangup_reason="normal",
                    recording_id=NO_ID, tm_hangup=stamp(ended), tm_update=stamp(ended))

    def delete(self, call_id: str) -> None:
        """DELETE /calls/{id}: tm_delete is set; the call is listed and served no more."""
        self.calls[call_id]["tm_delete"] = stamp(datetime.now(UTC))

    def visible(self) -> list[dict]:
        return [call for call in self.calls.values() if call["tm_delete"] is None]

    def list_calls(self, seen, _match) -> Reply:
        size = int(seen.query.get("page_size", 100))
        size = 100 if size <= 0 or size > 100 else size
        token = seen.query.get("page_token")
        if token and self.gate is not None:
            self.waiting.set()
            self.gate.wait(30)  # bounded: the test kills the sync meanwhile
        before = moment(token) if token else datetime.now(UTC)
        calls = sorted((c for c in self.visible() if moment(c["tm_create"]) < before),
                       key=lambda c: c["tm_create"], reverse=True)[:size]
        reply = Reply(200, {"result": calls,
                            "next_page_token": calls[-1]["tm_create"] if calls else ""})
        while self.after_page:
            self.after_page.pop(0)()
        return reply

    def get_call(self, _seen, match) -> Reply:
        call = self.calls.get(match.group("id"))
        if call is None or call["tm_delete"] is not None:
            return envelope(404, "NOT_FOUND", "NOT_FOUND", "The call was not found.")
        return Reply(200, call)

    def recording_file(self, _seen, match) -> Reply:
        recording = match.group("id")
        if recording not in self.files:
            return envelope(404, "NOT_FOUND", "NOT_FOUND", "The recording was not found.")
        link = self.signed_link(recording)
        if recording in self.expired_once:
            self.expired_once.discard(recording)
            link = link.replace("expires=", "expires=1")  # long past
        return Reply(307, raw=b"", headers={"Location": link})


@pytest.fixture
def fake():
    with FakeVoipbin() as server:
        yield server


def add(db, env, fake, *settings: str) -> None:
    added = sync("add", "pbx", "--api", "voipbin", "--url", fake.url, "--token-stdin",
                 "--set", "page_size=10", *FAST_SETTINGS, *settings, db=db, env=env,
                 stdin=KEY + "\n")
    assert added.returncode == 0, added.stderr


def state(db, call_id: str) -> str:
    with Store(str(db)) as store:
        return store.archive.info(store.calls.id_of("voipbin", call_id)).state


def test_calls_and_recordings_arrive_and_stay_through_faults(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC)
    for n in range(25):
        fake.add(n, now - timedelta(hours=n + 1), audio=n % 5 != 4)
    fake.fail(LIST, envelope(429, "RESOURCE_EXHAUSTED", "RATE_LIMIT_EXCEEDED",
                             "Too many requests. Please try again later.", Retry_After="1"))
    fake.fail(LIST, Reply(502, raw=b"Bad Gateway", headers={"Content-Type": "text/plain"}))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "25 new, 0 updated, 0 unchanged, 0 rejected"
    stored = assert_store_equals(db, env, voipbin, fake.visible())
    assert sum(1 for r in stored.values() if r["has_recording"]) == 20
    assert not fake.faults  # the 429 and the 502 were answered, and retried
    # Three pages of ten by the time token, after the 429 and the 502 were retried.
    lists = [s for s in fake.requests_to(LIST, "GET") if s.path == LIST]
    assert [s.query.get("page_token") for s in lists][-3:] == \
        [None, fake.calls[f"9b1f0c2e-0000-4000-8000-{9:012d}"]["tm_create"],
         fake.calls[f"9b1f0c2e-0000-4000-8000-{19:012d}"]["tm_create"]]
    assert all(s.query["page_size"] == "10" for s in lists)
    # The key goes to the API (the recording files too), never to a signed link.
    assert all(s.query.get("accesskey") == KEY for s in fake.requests_to("/v1.0/"))
    assert len(fake.requests_to("/v1.0/recordingfiles/")) == 20
    media = fake.requests_to("/media/")
    assert media and all("accesskey" not in s.query and "authorization" not in s.headers
                         for s in media)
    assert KEY not in ran.stdout + ran.stderr
    # Incremental: no filter of its own; the walk ends at the first page that reaches calls
    # older than the last pass less the overlap (two hours): one page.
    before = len(fake.requests_to(LIST))
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("0 new, 0 updated, ")
    assert len(fake.requests_to(LIST)) == before + 1


def test_a_live_calls_recording_is_fetched_once_it_hung_up(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC)
    live = fake.add(1, now - timedelta(minutes=3), status="progressing")
    fake.add(2, now - timedelta(minutes=30))
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    assert len(fake.requests_to("/v1.0/recordingfiles/")) == 1  # not the live call's yet
    fake.hang_up(live)
    ran = sync("run", db=db, env=env)  # incremental: within the overlap
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0].startswith("0 new, 1 updated, ")
    assert_store_equals(db, env, voipbin, fake.visible())
    assert state(db, live) == "archived"


def test_a_wrong_key_gets_voipbins_401_as_a_sentence(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    added = sync("add", "pbx", "--api", "voipbin", "--url", fake.url, "--token-stdin",
                 *FAST_SETTINGS, db=db, env=env, stdin="vb_not-the-key\n")
    assert added.returncode == 0
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 2
    assert "The API token was refused" in ran.stderr and "Traceback" not in ran.stderr
    assert "vb_not-the-key" not in ran.stdout + ran.stderr
    assert fake.requests_to(LIST)[-1].query["accesskey"] == "vb_not-the-key"


def test_a_page_that_changes_while_walked_shifts_and_loses_nothing(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC)
    ids = [fake.add(n, now - timedelta(hours=n + 1), audio=False) for n in range(25)]
    # After page 1 is answered: a call arrives at the top, and one of page 1 is deleted.
    fake.after_page.append(lambda: fake.add(99, datetime.now(UTC), audio=False))
    fake.after_page.append(lambda: fake.delete(ids[3]))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "25 new, 0 updated, 0 unchanged, 0 rejected"
    stored = exported(db, env)
    assert set(stored) == set(ids)  # every call listed once; the new one comes next time
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0].startswith("1 new, 0 updated, ")
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    assert_store_equals(db, env, voipbin, fake.visible(), deleted=frozenset({ids[3]}))


def test_a_call_deleted_and_a_recording_deleted_at_the_source(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC)
    ids = [fake.add(n, now - timedelta(days=400 - n), audio=n >= 10) for n in range(12)]
    fake.files.discard(fake.calls[ids[11]]["recording_ids"][0])  # deleted before archived
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert "no longer has the recording" in ran.stderr
    assert state(db, ids[10]) == "archived" and state(db, ids[11]) == "gone"
    fake.delete(ids[0])  # a year-old call, erased at the source
    fake.files.discard(fake.calls[ids[10]]["recording_ids"][0])  # archived: the copy stays
    assert sync("run", db=db, env=env).returncode == 0  # incremental: cannot tell
    assert exported(db, env)[ids[0]]["deleted_at"] is None
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    stored = exported(db, env)
    assert stored[ids[0]]["deleted_at"] is not None
    assert set(stored) == set(ids)
    assert state(db, ids[10]) == "archived" and state(db, ids[11]) == "gone"
    fake.calls[ids[0]]["tm_delete"] = None  # restored at the source: the mark is taken back
    assert sync("run", "--full", db=db, env=env).returncode == 0
    assert exported(db, env)[ids[0]]["deleted_at"] is None


def test_an_expired_recording_link_is_asked_for_again(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    call_id = fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    recording = fake.calls[call_id]["recording_ids"][0]
    fake.expired_once.add(recording)  # the first redirect hands out an expired link
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert exported(db, env)[call_id]["recording"].endswith(".mp3")
    assert len(fake.requests_to(f"/v1.0/recordingfiles/{recording}")) == 2
    assert fake.requests_to(f"{LIST}/{call_id}")  # refreshed through the call's detail
    assert any(s.query.get("expires", "").startswith("1") for s in fake.requests_to("/media/"))


def test_a_sync_killed_mid_walk_resumes_where_it_stopped(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC)
    for n in range(25):
        fake.add(n, now - timedelta(hours=n + 1), audio=n % 3 == 0)
    add(db, env, fake)
    fake.gate = threading.Event()
    run = subprocess.Popen([sys.executable, "-m", "callviewer", "sync", "run", "--db", str(db)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Page 2 is asked for only after page 1 and its recordings were committed.
        assert fake.waiting.wait(60), "the sync never asked for page 2"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(30)
        fake.gate.set()
    fake.gate = None
    time.sleep(0.2)  # the page held at the gate is answered to the dead socket
    first = exported(db, env)
    assert len(first) == 10  # page 1, committed whole
    token = fake.calls[f"9b1f0c2e-0000-4000-8000-{9:012d}"]["tm_create"]
    before = len(fake.requests_to(LIST))
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "15 new, 0 updated, 0 unchanged, 0 rejected"
    resumed = [s for s in fake.requests_to(LIST) if s.path == LIST][before:]
    assert resumed[0].query.get("page_token") == token  # from the page after the last saved
    assert_store_equals(db, env, voipbin, fake.visible())
