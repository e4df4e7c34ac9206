"""The Vapi connector against a loopback fake of Vapi's API (GET /call, GET /call/{id}),
written from Vapi's API reference: its paging by createdAtLt, bearer auth and its answer to
a wrong key, 429 with Retry-After, 5xx, an expiring recording link, a call deleted between
syncs, and a page that changes while it is walked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from connectors import FAST_SETTINGS, assert_store_equals, exported, sync, user_env
from fake_vendor import FakeVendor, Reply

from callviewer.sync import vapi

KEY = "3f6a2b9c-1d4e-4f5a-8b7c-9d0e1f2a3b4c"  # a private API key's shape


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeVapi(FakeVendor):
    """GET /call?limit&createdAtLt&updatedAtGt newest first; GET /call/{id}."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, dict] = {}
        self.route("GET", r"/call", self.list_calls)
        self.route("GET", r"/call/(?P<id>[^/]+)", self.get_call)

    def authorized(self, seen) -> bool:
        return seen.headers.get("authorization") == f"Bearer {KEY}"

    def refused(self, seen) -> Reply:
        return Reply(401, {"message": "Invalid Key. Hot tip, you may be using the private key "
                                      "instead of the public key, or vice versa.",
                           "error": "Unauthorized", "statusCode": 401})

    def add(self, n: int, created: datetime, audio: bool = True) -> str:
        call_id = f"c0ffee00-0000-4000-8000-{n:012d}"
        ended = created + timedelta(seconds=40 + n)
        artifact = {"messages": [
            {"role": "system", "message": "You are Ava, the clinic's assistant.", "time": 0,
             "secondsFromStart": 0},
            {"role": "bot", "message": f"Riverside Dental, call {n}.", "secondsFromStart": 0.4,
             "duration": 1800},
            {"role": "user", "message": "I would like to book a cleaning.",
             "secondsFromStart": 3.1, "duration": 2100}]}
        if audio:
            artifact["recordingUrl"] = self.signed_link(call_id)
        self.calls[call_id] = {
            "id": call_id, "orgId": "org-1", "type": "inboundPhoneCall", "status": "ended",
            "endedReason": "customer-ended-call", "assistantId": "asst-1",
            "createdAt": stamp(created), "updatedAt": stamp(ended + timedelta(seconds=5)),
            "startedAt": stamp(created), "endedAt": stamp(ended),
            "customer": {"number": f"+1415555{n:04d}"}, "phoneNumber": {"number": "+14155550000"},
            "analysis": {"summary": f"Booked a cleaning ({n}).", "successEvaluation": "true"},
            "artifact": artifact, "cost": 0.12}
        return call_id

    def list_calls(self, seen, _match) -> Reply:
        limit = int(seen.query.get("limit", 100))
        calls = sorted(self.calls.values(), key=lambda c: c["createdAt"], reverse=True)
        if "createdAtLt" in seen.query:
            calls = [c for c in calls if c["createdAt"] < seen.query["createdAtLt"]]
        if "updatedAtGt" in seen.query:
            calls = [c for c in calls if c["updatedAt"] > seen.query["updatedAtGt"]]
        return Reply(200, calls[:limit])

    def get_call(self, _seen, match) -> Reply:
        call = self.calls.get(match.group("id"))
        return Reply(200, call) if call else Reply(404, {"message": "Call not found",
                                                          "statusCode": 404})


@pytest.fixture
def fake():
    with FakeVapi() as server:
        yield server


def add(db, env, fake, *settings: str) -> None:
    added = sync("add", "clinic", "--api", "vapi", "--url", fake.url, "--token-stdin",
                 "--set", "page_size=10", *FAST_SETTINGS, *settings, db=db, env=env,
                 stdin=KEY + "\n")
    assert added.returncode == 0, added.stderr


def test_calls_transcripts_and_recordings_arrive_and_stay_through_faults(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(25):
        fake.add(n, now - timedelta(hours=n + 1), audio=n % 5 != 4)
    fake.fail("/call", Reply(429, {"message": "Too Many Requests"}, headers={"Retry-After": "1"}))
    fake.fail("/call", Reply(502, raw=b"Bad Gateway", headers={"Content-Type": "text/plain"}))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "25 new, 0 updated, 0 unchanged, 0 rejected"
    stored = assert_store_equals(db, env, vapi, list(fake.calls.values()))
    assert sum(1 for r in stored.values() if r["has_recording"]) == 20
    # Three pages of ten by createdAtLt; the faults were retried; the key went each time.
    lists = fake.requests_to("/call", "GET")
    assert all(s.headers["authorization"] == f"Bearer {KEY}" for s in lists)
    assert [s.query.get("createdAtLt") is not None for s in lists if s.path == "/call"][-3:] \
        == [False, True, True]
    media = fake.requests_to("/media/")
    assert media and all("authorization" not in s.headers for s in media)  # never to a link
    assert KEY not in ran.stdout + ran.stderr
    # Incremental: only what changed since, with the overlap; nothing new, nothing lost.
    again = sync("run", db=db, env=env)
    assert again.stdout.splitlines()[0].startswith("0 new, 0 updated, ")
    assert "updatedAtGt" in fake.requests_to("/call")[-1].query


def test_a_wrong_key_gets_vapis_answer_as_a_sentence(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    added = sync("add", "clinic", "--api", "vapi", "--url", fake.url, "--token-stdin",
                 *FAST_SETTINGS, db=db, env=env, stdin="not-the-key\n")
    assert added.returncode == 0
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 2
    assert "The API token was refused" in ran.stderr and "Traceback" not in ran.stderr


def test_a_call_deleted_at_the_source_is_marked_on_the_next_full_walk(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [fake.add(n, now - timedelta(days=400 - n), audio=False) for n in range(12)]
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    gone = fake.calls.pop(ids[0])  # a year-old call, erased at the source
    assert sync("run", db=db, env=env).returncode == 0  # incremental: cannot tell
    assert exported(db, env)[gone["id"]]["deleted_at"] is None
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    assert_store_equals(db, env, vapi, list(fake.calls.values()), deleted=frozenset({gone["id"]}))
    fake.calls[gone["id"]] = gone  # restored at the source: the mark is taken back
    assert sync("run", "--full", db=db, env=env).returncode == 0
    assert exported(db, env)[gone["id"]]["deleted_at"] is None


def test_an_expired_recording_link_is_fetched_again_fresh(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    fake.link_ttl = -1  # every link handed out is already expired
    call_id = fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    fake.link_ttl = 3600
    fake.calls[call_id]["artifact"]["recordingUrl"] = fake.signed_link(call_id)  # the detail's
    expired = fake.calls[call_id]["artifact"]["recordingUrl"].replace("expires=", "expires=1")
    listed = {**fake.calls[call_id], "artifact": {**fake.calls[call_id]["artifact"],
                                                  "recordingUrl": expired}}
    fake.fail("/call", Reply(200, [listed]))  # the list hands out a stale link
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert exported(db, env)[call_id]["recording"].endswith(".mp3")
    assert fake.requests_to(f"/call/{call_id}")  # the fresh link came from the detail
