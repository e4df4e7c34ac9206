"""The Retell connector against a loopback fake of Retell's API (POST /v3/list-calls and the
earlier POST /v2/list-calls, GET /v2/get-call/{call_id}), written from Retell's API reference
and its SDK's types: paging after a call (v2: the last call id; v3: an opaque key with
has_more), the start-time filter, bearer auth and its 401 body, 429 with Retry-After, 500,
a v3 list that leaves out transcripts and recordings, an expiring signed recording link, a
call deleted and one removed by the retention setting between syncs, a page that changes
while it is walked, and a kill -9 mid-sync then a resume."""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from connectors import FAST_SETTINGS, assert_store_equals, exported, sync, user_env
from fake_vendor import FakeVendor, Reply

from callviewer.sync import retell

KEY = "key_8f3b2c1d9e7a4f6b5c0d1e2f3a4b"  # an API key's shape
# What the v3 list leaves out ("fetch those per call with get-call").
DETAIL_ONLY = ("transcript", "transcript_object", "transcript_with_tool_calls", "recording_url")


def error(message: str) -> dict:
    """Retell's error body (components.responses of its OpenAPI document)."""
    return {"status": "error", "message": message}


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FakeRetell(FakeVendor):
    """POST /v2/list-calls and /v3/list-calls, newest first by start_timestamp; GET
    /v2/get-call/{call_id}."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, dict] = {}
        self.on_list = None  # called with each list request before it is answered
        self.hold: threading.Event | None = None  # pages after the first wait for it
        self.held = threading.Event()
        self.server.handle_error = lambda *_args: None  # a killed client's broken pipe
        self.route("POST", r"/(?P<version>v2|v3)/list-calls", self.list_calls)
        self.route("GET", r"/v2/get-call/(?P<id>[^/]+)", self.get_call)

    def authorized(self, seen) -> bool:
        return seen.headers.get("authorization") == f"Bearer {KEY}"

    def refused(self, seen) -> Reply:
        return Reply(401, error("API key is missing or invalid."))

    def _answer(self, seen):
        body = seen.body if isinstance(seen.body, dict) else {}
        if self.hold is not None and seen.path.endswith("/list-calls") \
                and body.get("pagination_key"):
            self.held.set()
            self.hold.wait(30)  # outside the fake's lock: other requests go on
        return super()._answer(seen)

    def add(self, n: int, started: datetime, audio: bool = True, analysed: bool = True) -> str:
        call_id = f"{n:04d}Jabr9TXYYJHfvl6Syypi88rd"
        ended = started + timedelta(seconds=40 + n)
        agent_words = [{"word": "Riverside", "start": 0.4, "end": 0.9},
                       {"word": "Dental.", "start": 0.9, "end": 1.5}]
        user_words = [{"word": "A", "start": 3.1, "end": 3.2},
                      {"word": "cleaning,", "start": 3.2, "end": 3.8},
                      {"word": "please.", "start": 3.8, "end": 4.4}]
        utterances = [{"role": "agent", "content": f"Riverside Dental, call {n}.",
                       "words": agent_words},
                      {"role": "user", "content": "A cleaning, please.", "words": user_words}]
        call = {
            "call_type": "phone_call", "call_id": call_id, "agent_id": "oBeDLoLOeuAbiuaMFX",
            "agent_version": 3, "agent_name": "Front desk", "call_status": "ended",
            "direction": "inbound", "from_number": f"+1415555{n:04d}",
            "to_number": "+14155550000", "start_timestamp": ms(started),
            "end_timestamp": ms(ended), "duration_ms": ms(ended) - ms(started),
            "disconnection_reason": "user_hangup", "metadata": {"patient": n},
            "data_storage_setting": "everything", "opt_in_signed_url": True,
            "transcript": f"Agent: Riverside Dental, call {n}.\nUser: A cleaning, please.\n",
            "transcript_object": utterances,
            "transcript_with_tool_calls": [
                utterances[0], utterances[1],
                {"role": "tool_call_invocation", "tool_call_id": f"t{n}",
                 "name": "book_cleaning", "arguments": '{"day": "Tuesday"}'},
                {"role": "tool_call_result", "tool_call_id": f"t{n}",
                 "content": '{"booked": true}'}],
            "call_cost": {"combined_cost": 12.5, "total_duration_seconds": 40 + n,
                          "product_costs": []},
            "public_log_url": f"{self.url}/logs/{call_id}/public_log.txt"}
        if audio:
            call["recording_url"] = self.signed_link(call_id)
            if n % 3 == 0:  # a PII-free copy beside it: never the one archived
                call["scrubbed_recording_url"] = self.signed_link(f"scrubbed-{call_id}")
        if analysed:
            call["call_analysis"] = {"call_summary": f"Booked a cleaning ({n}).",
                                     "in_voicemail": False, "user_sentiment": "Positive",
                                     "call_successful": True,
                                     "custom_analysis_data": {"day": "Tuesday"}}
        self.calls[call_id] = call
        return call_id

    def ordered(self, descending: bool = True) -> list[dict]:
        return sorted(self.calls.values(), key=lambda c: (c["start_timestamp"], c["call_id"]),
                      reverse=descending)

    def list_calls(self, seen, match) -> Reply:
        if self.on_list is not None:
            self.on_list(seen)
        body = seen.body if isinstance(seen.body, dict) else {}
        version = match.group("version")
        limit = body.get("limit", 50)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            return Reply(400, error("Invalid request format, please check API reference."))
        calls = self.ordered(body.get("sort_order", "descending") == "descending")
        window = (body.get("filter_criteria") or {}).get("start_timestamp")
        if window is not None:
            if version == "v2":
                lower = window["lower_threshold"]
            else:
                assert window["type"] == "number" and window["op"] == "ge", window
                lower = window["value"]
            calls = [c for c in calls if c["start_timestamp"] >= lower]
        key = body.get("pagination_key")
        if key and version == "v2":  # the last call id of the page before, exclusive
            ids = [c["call_id"] for c in calls]
            if key not in ids:
                return Reply(400, error("Invalid request format, please check API reference."))
            calls = calls[ids.index(key) + 1:]
        elif key:  # opaque: where the page before ended
            start, call_id = orjson.loads(base64.urlsafe_b64decode(key))
            calls = [c for c in calls if (c["start_timestamp"], c["call_id"]) < (start, call_id)]
        page = calls[:limit]
        if version == "v2":
            return Reply(200, page)
        answer = {"items": [{k: v for k, v in c.items() if k not in DETAIL_ONLY}
                            for c in page], "has_more": len(calls) > limit}
        if answer["has_more"]:
            answer["pagination_key"] = base64.urlsafe_b64encode(orjson.dumps(
                [page[-1]["start_timestamp"], page[-1]["call_id"]])).decode()
        return Reply(200, answer)

    def get_call(self, _seen, match) -> Reply:
        call = self.calls.get(match.group("id"))
        return Reply(200, call) if call else Reply(
            422, error("Cannot find requested asset under given api key."))

    def lists(self) -> list:
        return [s for s in self.requests_to("/v") if s.path.endswith("/list-calls")]


@pytest.fixture
def fake():
    with FakeRetell() as server:
        yield server


def add(db, env, fake, *settings: str) -> None:
    added = sync("add", "clinic", "--api", "retell", "--url", fake.url, "--token-stdin",
                 "--set", "page_size=10", *FAST_SETTINGS, *settings, db=db, env=env,
                 stdin=KEY + "\n")
    assert added.returncode == 0, added.stderr


@pytest.mark.parametrize("version", ["v3", "v2"])
def test_calls_transcripts_and_recordings_arrive_and_stay_through_faults(tmp_path, fake,
                                                                         version):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(1, 26):
        fake.add(n, now - timedelta(hours=n), audio=n % 5 != 4, analysed=n != 1)
    fake.fail(f"/{version}/list-calls", Reply(429, error(
        "Account rate limited, please throttle your requests."), headers={"Retry-After": "1"}))
    fake.fail(f"/{version}/list-calls", Reply(500, error("An unexpected server error occurred.")))
    fake.fail("/v2/get-call/", Reply(500, error("An unexpected server error occurred.")))
    # A call starts while the list is walked: it is above the first page, shifts nothing.
    latecomer = {}

    def start_a_call(seen) -> None:
        if seen.body.get("pagination_key") and not latecomer:
            latecomer["id"] = fake.add(26, now - timedelta(minutes=1))

    fake.on_list = start_a_call
    add(db, env, fake, "--set", f"api_version={version}")
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "25 new, 0 updated, 0 unchanged, 0 rejected"
    walked = [c for c in fake.calls.values() if c["call_id"] != latecomer["id"]]
    stored = assert_store_equals(db, env, retell, walked)
    assert sum(1 for r in stored.values() if r["has_recording"]) == 20
    assert stored[walked[0]["call_id"]]["transcript"][2]["tool"]["name"] == "book_cleaning"
    # Three pages of ten asked for after a call, POSTed with the key; one get-call each.
    lists = fake.lists()
    assert all(s.method == "POST" and s.path == f"/{version}/list-calls" for s in lists)
    assert all(s.headers["authorization"] == f"Bearer {KEY}" for s in lists)
    bodies = [s.body for s in lists][-3:]
    assert [b.get("pagination_key") is not None for b in bodies] == [False, True, True]
    assert all(b["sort_order"] == "descending" and b["limit"] == 10 for b in bodies)
    if version == "v2":
        first = fake.ordered()[1:]  # the latecomer is on top now
        assert bodies[1]["pagination_key"] == first[9]["call_id"]
    details = fake.requests_to("/v2/get-call/")
    assert {s.path.rsplit("/", 1)[1] for s in details} == {c["call_id"] for c in walked}
    media = fake.requests_to("/media/")
    assert media and all("authorization" not in s.headers for s in media)  # never to a link
    assert not [s for s in media if "scrubbed" in s.path]
    assert KEY not in ran.stdout + ran.stderr
    # Incremental: calls started since the last pass less the overlap; the latecomer, and
    # the analysis that came after the end, are read in detail; nothing else is.
    fake.calls[walked[0]["call_id"]]["call_analysis"] = {"call_summary": "Booked (late).",
                                                         "call_successful": True}
    fake.on_list = None
    seen_before = len(fake.requests_to("/v2/get-call/"))
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("1 new, 1 updated, ")
    assert_store_equals(db, env, retell, list(fake.calls.values()))
    window = fake.lists()[-1].body["filter_criteria"]["start_timestamp"]
    lower = window["lower_threshold"] if version == "v2" else window["value"]
    assert ms(now) - 4 * 3600 * 1000 < lower < ms(now) - 2 * 3600 * 1000  # 3 hours' overlap
    assert sorted(s.path.rsplit("/", 1)[1] for s in fake.requests_to("/v2/get-call/")
                  [seen_before:]) == sorted([latecomer["id"], walked[0]["call_id"]])
    # Once analysed, a call is not read again: the list says all that changes.
    seen_before = len(fake.requests_to("/v2/get-call/"))
    third = sync("run", db=db, env=env)
    assert third.stdout.splitlines()[0].startswith("0 new, 0 updated, "), third.stdout
    assert len(fake.requests_to("/v2/get-call/")) == seen_before


def test_a_wrong_key_gets_retells_answer_as_a_sentence(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    added = sync("add", "clinic", "--api", "retell", "--url", fake.url, "--token-stdin",
                 *FAST_SETTINGS, db=db, env=env, stdin="not-the-key\n")
    assert added.returncode == 0
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 2
    assert "The API token was refused" in ran.stderr and "Traceback" not in ran.stderr
    assert "not-the-key" not in ran.stdout + ran.stderr
    refused = fake.lists()[-1]
    assert refused.headers["authorization"] == "Bearer not-the-key"


def test_an_unknown_api_version_is_a_sentence(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    add(db, env, fake, "--set", "api_version=v9")
    ran = sync("run", db=db, env=env)
    assert ran.returncode != 0
    assert "api_version=v3 or v2" in ran.stderr and "Traceback" not in ran.stderr


def test_calls_deleted_and_removed_by_retention_are_marked_on_the_next_full_walk(tmp_path,
                                                                                fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [fake.add(n, now - timedelta(days=400 - 30 * n), audio=False) for n in range(12)]
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    retained = fake.calls.pop(ids[0])  # a year old: the agent's data_storage_retention_days
    deleted = fake.calls.pop(ids[10])  # DELETE /v2/delete-call/{call_id}
    assert sync("run", db=db, env=env).returncode == 0  # incremental: cannot tell
    assert exported(db, env)[retained["call_id"]]["deleted_at"] is None
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    gone = frozenset({retained["call_id"], deleted["call_id"]})
    stored = assert_store_equals(db, env, retell, list(fake.calls.values()), deleted=gone)
    assert stored[retained["call_id"]]["transcript"]  # kept, marked: never removed
    fake.calls[deleted["call_id"]] = deleted  # restored at the source: the mark is taken back
    assert sync("run", "--full", db=db, env=env).returncode == 0
    assert exported(db, env)[deleted["call_id"]]["deleted_at"] is None


def test_the_periodic_full_pass_marks_a_removal_by_itself(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [fake.add(n, now - timedelta(days=400 - n), audio=False) for n in range(3)]
    add(db, env, fake, "--set", "full_every_days=0")  # due at every sync, as weekly is weekly
    assert sync("run", db=db, env=env).returncode == 0
    fake.calls.pop(ids[0])
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert "filter_criteria" not in fake.lists()[-1].body  # the whole history, unfiltered
    assert_store_equals(db, env, retell, list(fake.calls.values()), deleted=frozenset({ids[0]}))


def test_an_expired_recording_link_is_fetched_again_fresh(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    call_id = fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    stale = fake.calls[call_id]["recording_url"].replace("expires=", "expires=1")
    fake.fail(f"/v2/get-call/{call_id}", Reply(200, {**fake.calls[call_id],
                                                     "recording_url": stale}))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert exported(db, env)[call_id]["recording"].endswith(".mp3")
    assert len(fake.requests_to(f"/v2/get-call/{call_id}")) == 2  # the fresh link's detail
    assert len({s.query["expires"] for s in fake.requests_to("/media/")}) == 2


def test_a_sync_killed_mid_walk_goes_on_from_the_page_after_the_last_saved(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(1, 26):
        fake.add(n, now - timedelta(hours=n))
    add(db, env, fake)
    fake.hold = threading.Event()
    killed = subprocess.Popen([sys.executable, "-m", "callviewer", "sync", "run", "--db",
                               str(db)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        assert fake.held.wait(60), "the second page was never asked for"
        killed.send_signal(signal.SIGKILL)  # page 1 committed, page 2 on its way
        assert killed.wait(30) == -signal.SIGKILL
    finally:
        if killed.poll() is None:
            killed.kill()
        fake.hold.set()
    first_page = fake.ordered()[:10]
    assert set(exported(db, env)) == {c["call_id"] for c in first_page}
    fake.hold = None
    before = len(fake.lists())
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    resumed = fake.lists()[before]
    assert resumed.body.get("pagination_key")  # not from the start
    assert ran.stdout.splitlines()[0].startswith("15 new, 0 updated, ")
    stored = assert_store_equals(db, env, retell, list(fake.calls.values()))
    assert all(r["has_recording"] for r in stored.values())


def test_a_call_deleted_between_the_list_and_its_detail_is_no_failure(tmp_path, fake):
    """get-call answers 422 for a call id it does not have (it documents no 404)."""
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [fake.add(n, now - timedelta(hours=n)) for n in range(1, 4)]
    fake.fail("/v3/list-calls", Reply(200, {"items": [  # the page, as it was listed
        {k: v for k, v in c.items() if k not in DETAIL_ONLY} for c in fake.ordered()],
        "has_more": False}))
    fake.calls.pop(ids[1])  # … then deleted, before its get-call
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 1, ran.stderr  # one rejected, the others stored: no failure
    assert ran.stdout.splitlines()[0] == "3 new, 0 updated, 0 unchanged, 1 rejected"
    assert f"(source_id {ids[1]}): not found (422)" in ran.stderr
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    assert_store_equals(db, env, retell, list(fake.calls.values()), deleted=frozenset({ids[1]}))
