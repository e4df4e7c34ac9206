"""The Twilio connector against a loopback fake of Twilio's REST API (2010-04-01), written
from Twilio's API reference: Calls.json paged by next_page_uri (a PageToken past the last
call, so a call added at the top while the list is walked shifts nothing), the StartTime>=
filter, each call's Recordings.json, the recordings' media behind HTTP basic auth, Twilio's
401 (code 20003) for a wrong SID or secret, 429 (code 20429) with Retry-After, a 5xx, a
recording deleted at Twilio, a call deleted between syncs, and a kill -9 mid-sync."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlencode

import orjson
import pytest
from connectors import FAST_SETTINGS, assert_store_equals, exported, sync, user_env
from fake_vendor import FakeVendor, Reply
from killed_sync import sync_killed_when

from callviewer.store import Store
from callviewer.sync import twilio_api

ACCOUNT = "AC" + "3f6a2b9c1d4e4f5a8b7c9d0e1f2a3b4c"
AUTH_TOKEN = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
API_KEY, API_SECRET = "SK" + "0123456789abcdef0123456789abcdef", "k3y-s3cr3t-of-the-api-key"
ROOT = f"/2010-04-01/Accounts/{ACCOUNT}"


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))  # "Tue, 31 Aug 2010 20:36:28 +0000"


def twilio_error(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


class FakeTwilio(FakeVendor):
    """Calls.json newest first with PageSize, StartTime>=, PageToken; Calls/{sid}.json;
    Calls/{sid}/Recordings.json; Recordings/{sid}.mp3 (HTTP basic auth enforced)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, dict] = {}
        self.recordings: dict[str, list[dict]] = {}  # call sid -> its Recording resources
        self.order: dict[str, tuple] = {}  # every sid ever listed -> its place (kept)
        self.after_first_page = None  # called once, after the first page is answered
        self.hold: threading.Event | None = None  # holds later list pages while not set
        self.route("GET", r"/2010-04-01/Accounts/(?P<account>[^/]+)/Calls\.json",
                   self.list_calls)
        self.route("GET", r"/2010-04-01/Accounts/(?P<account>[^/]+)/Calls/(?P<sid>[^/]+)\.json",
                   self.get_call)
        self.route("GET", r"/2010-04-01/Accounts/(?P<account>[^/]+)/Calls/(?P<sid>[^/]+)/"
                          r"Recordings\.json", self.list_recordings)
        self.route("GET", r"/2010-04-01/Accounts/(?P<account>[^/]+)/Recordings/"
                          r"(?P<sid>RE[0-9a-f]+)\.mp3", self.media)

    def authorized(self, seen) -> bool:
        pairs = {f"{ACCOUNT}:{AUTH_TOKEN}", f"{API_KEY}:{API_SECRET}"}
        return seen.headers.get("authorization") in {
            "Basic " + base64.b64encode(pair.encode()).decode() for pair in pairs}

    def refused(self, seen) -> Reply:
        return Reply(401, twilio_error(401, 20003, "Authenticate"),
                     headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})

    def _answer(self, seen):
        hold = self.hold
        if hold is not None and seen.path.endswith("/Calls.json") and "PageToken" in seen.query:
            hold.wait(30)  # outside the fake's lock: other requests go on
        return super()._answer(seen)

    # --- the account's calls ----------------------------------------------------------

    def add(self, n: int, started: datetime, recording: str | None = "completed",
            direction: str = "inbound", status: str = "completed") -> str:
        sid = f"CA{n:032x}"
        ended = started + timedelta(seconds=40 + n)
        customer = f"+1415555{n:04d}"
        business = "+14155550000"
        caller, called = (customer, business) if direction == "inbound" else (business, customer)
        self.calls[sid] = {
            "sid": sid, "account_sid": ACCOUNT, "parent_call_sid": None,
            "date_created": rfc2822(started - timedelta(seconds=1)),
            "date_updated": rfc2822(ended + timedelta(seconds=2)),
            "to": called, "to_formatted": called, "from": caller, "from_formatted": caller,
            "phone_number_sid": "PN" + "1" * 32, "status": status,
            "start_time": rfc2822(started), "end_time": rfc2822(ended),
            "duration": str(40 + n) if status == "completed" else "0",
            "price": "-0.00850", "price_unit": "USD", "direction": direction,
            "answered_by": None, "api_version": "2010-04-01", "forwarded_from": None,
            "group_sid": None, "caller_name": "Jane Roe" if n % 3 == 0 else None,
            "queue_time": "0", "trunk_sid": None, "annotation": None,
            "uri": f"{ROOT}/Calls/{sid}.json",
            "subresource_uris": {"recordings": f"{ROOT}/Calls/{sid}/Recordings.json",
                                 "notifications": f"{ROOT}/Calls/{sid}/Notifications.json"}}
        self.order[sid] = (started.timestamp(), sid)
        self.recordings[sid] = []
        if recording is not None:
            self.add_recording(sid, n, ended, recording)
        return sid

    def add_recording(self, call_sid: str, n: int, ended: datetime, status: str,
                      media_url: str | None = None, seconds: int | None = None) -> str:
        sid = f"RE{n:016x}{len(self.recordings[call_sid]):016x}"
        self.audio_for(sid)
        self.recordings[call_sid].insert(0, {
            "account_sid": ACCOUNT, "api_version": "2010-04-01", "call_sid": call_sid,
            "conference_sid": None, "date_created": rfc2822(ended),
            "date_updated": rfc2822(ended + timedelta(seconds=5)),
            "start_time": rfc2822(ended - timedelta(seconds=40)),
            "duration": str(seconds if seconds is not None else 38 + n), "sid": sid,
            "price": "-0.0025", "price_unit": "USD", "status": status, "channels": 1,
            "source": "DialVerb", "error_code": None, "media_url": media_url,
            "uri": f"{ROOT}/Recordings/{sid}.json", "encryption_details": None,
            "subresource_uris": {
                "add_on_results": f"{ROOT}/Recordings/{sid}/AddOnResults.json",
                "transcriptions": f"{ROOT}/Recordings/{sid}/Transcriptions.json"}})
        return sid

    def audio_for(self, sid: str) -> None:
        with self.lock:
            self.signed_link(sid)  # keeps one of the demo's MP3s under the recording's sid

    def list_calls(self, seen, match) -> Reply:
        if match.group("account") != ACCOUNT:
            return self.not_found(seen.path)
        size = min(max(int(seen.query.get("PageSize", 50)), 1), 1000)
        calls = sorted(self.calls.values(), key=lambda c: self.order[c["sid"]], reverse=True)
        since = seen.query.get("StartTime>")  # the query "StartTime%3E=YYYY-MM-DD"
        if since is not None:
            day = datetime.fromisoformat(since).replace(tzinfo=UTC)
            calls = [c for c in calls if parsedate_to_datetime(c["start_time"]) >= day]
        token = seen.query.get("PageToken")
        if token:
            place = self.order[token[2:]]
            calls = [c for c in calls if self.order[c["sid"]] < place]
        page = int(seen.query.get("Page", 0))
        shown, more = calls[:size], len(calls) > size
        query = {"PageSize": size, **({"StartTime>": since} if since else {})}
        next_uri = (f"{ROOT}/Calls.json?" + urlencode(
            {**query, "Page": page + 1, "PageToken": "PA" + shown[-1]["sid"]})) if more else None
        body = {"calls": shown, "page": page, "page_size": size, "start": page * size,
                "end": page * size + len(shown) - 1, "next_page_uri": next_uri,
                "previous_page_uri": None, "uri": seen.path,
                "first_page_uri": f"{ROOT}/Calls.json?" + urlencode({**query, "Page": 0})}
        if self.after_first_page is not None and not token:
            hook, self.after_first_page = self.after_first_page, None
            hook()
        return Reply(200, body)

    def get_call(self, seen, match) -> Reply:
        call = self.calls.get(match.group("sid"))
        return Reply(200, call) if call else self.not_found(seen.path)

    def list_recordings(self, seen, match) -> Reply:
        sid = match.group("sid")
        if sid not in self.calls:
            return self.not_found(seen.path)
        shown = [r for r in self.recordings[sid] if r["status"] != "deleted"]
        return Reply(200, {"recordings": shown, "page": 0, "page_size": 50, "start": 0,
                           "end": max(len(shown) - 1, 0), "next_page_uri": None,
                           "previous_page_uri": None, "uri": seen.path,
                           "first_page_uri": seen.path + "?PageSize=50&Page=0"})

    def media(self, seen, match) -> Reply:
        sid = match.group("sid")
        listed = any(r["sid"] == sid and r["status"] != "deleted"
                     for rs in self.recordings.values() for r in rs)
        return self.audio_reply(seen, sid) if listed else self.not_found(seen.path)

    def not_found(self, path: str) -> Reply:
        return Reply(404, twilio_error(404, 20404, f"The requested resource {path} was not "
                                                   "found"))

    def delete_recordings(self, call_sid: str) -> None:
        with self.lock:
            for recording in self.recordings[call_sid]:
                recording["status"] = "deleted"


@pytest.fixture
def fake():
    with FakeTwilio() as server:
        yield server


def add(db, env, fake, *settings: str, secret: str = f"{ACCOUNT}:{AUTH_TOKEN}") -> None:
    added = sync("add", "office", "--api", "twilio", "--url", fake.url, "--token-stdin",
                 "--set", "page_size=10", *FAST_SETTINGS, *settings, db=db, env=env,
                 stdin=secret + "\n")
    assert added.returncode == 0, added.stderr


def assert_recordings_archived(db, env, fake, stored=None) -> dict:
    stored = stored or exported(db, env)
    for sid in fake.calls:
        complete = [r for r in fake.recordings[sid] if r["status"] == "completed"]
        row = stored[sid]
        if complete:
            assert row["has_recording"] and row["recording"], (sid, row)
            assert "://" not in row["recording"] and row["recording"].endswith(".mp3"), row
        else:
            assert not row["has_recording"], (sid, row)
    return stored


def test_calls_and_recordings_arrive_and_stay_through_faults(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(25):  # 3 hours apart: only the newest ended within the overlap window
        fake.add(n, now - timedelta(hours=1 + 3 * n),
                 recording=None if n % 5 == 4 else "completed",
                 direction="outbound-api" if n % 4 == 1 else "inbound",
                 status="no-answer" if n % 5 == 4 else "completed")
    fake.fail(f"{ROOT}/Calls.json", Reply(429, twilio_error(429, 20429, "Too Many Requests"),
                                          headers={"Retry-After": "1"}))
    fake.fail(f"{ROOT}/Calls.json", Reply(503, raw=b"Service Unavailable",
                                          headers={"Content-Type": "text/plain"}))
    fake.fail(f"{ROOT}/Calls/CA{3:032x}/Recordings.json", Reply(500, twilio_error(
        500, 20500, "An internal server error has occurred")))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    # Counted by record: each call, and each recording added to its call ("updated").
    assert ran.stdout.splitlines()[0] == "25 new, 20 updated, 0 unchanged, 0 rejected"
    stored = assert_store_equals(db, env, twilio_api, list(fake.calls.values()))
    assert_recordings_archived(db, env, fake, stored)
    assert sum(1 for r in stored.values() if r["has_recording"]) == 20
    # Three pages of ten by next_page_uri (PageToken); basic auth on every API request,
    # the media's too; the faults were waited out and retried.
    lists = [s for s in fake.requests_to(f"{ROOT}/Calls.json") if s.path.endswith("Calls.json")]
    assert [("PageToken" in s.query) for s in lists][-3:] == [False, True, True]
    expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{AUTH_TOKEN}".encode()).decode()
    assert all(s.headers.get("authorization") == expected for s in fake.seen)
    assert len(fake.requests_to(f"{ROOT}/Recordings/")) == 20
    asked = fake.requests_to(f"{ROOT}/Calls/")
    assert len(asked) == 25 + 1  # one Recordings.json per call (and the 500, retried)
    assert AUTH_TOKEN not in ran.stdout + ran.stderr
    # Incremental: StartTime>= the last pass's day less the overlap; recordings asked only
    # for the call that ended within the overlap window (it might have been processing).
    before = len(fake.seen)
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("0 new, 0 updated, ")
    later = fake.seen[before:]
    assert all("StartTime>" in s.query for s in later if s.path.endswith("/Calls.json"))
    assert [s.path for s in later if s.path.endswith("/Recordings.json")] == \
        [f"{ROOT}/Calls/CA{0:032x}/Recordings.json"]
    assert_store_equals(db, env, twilio_api, list(fake.calls.values()))


def test_a_call_added_at_the_top_while_walking_shifts_nothing(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(1, 24):
        fake.add(n, now - timedelta(minutes=30 * n))
    fake.after_first_page = lambda: fake.add(99, now - timedelta(seconds=5))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    newest = f"CA{99:032x}"
    walked = [call for sid, call in fake.calls.items() if sid != newest]
    assert_store_equals(db, env, twilio_api, walked)  # none lost, none twice
    assert ran.stdout.splitlines()[0].startswith("23 new, ")
    again = sync("run", db=db, env=env)  # the newcomer comes with the next pass
    assert again.returncode == 0, again.stderr
    assert_recordings_archived(db, env, fake, assert_store_equals(
        db, env, twilio_api, list(fake.calls.values())))


def test_wrong_credentials_get_twilios_401_as_a_sentence(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    add(db, env, fake, secret=f"{ACCOUNT}:not-the-auth-token")
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 2
    assert "The API token was refused" in ran.stderr and "Traceback" not in ran.stderr
    assert "not-the-auth-token" not in ran.stdout + ran.stderr
    assert fake.seen[-1].headers.get("authorization", "").startswith("Basic ")
    # No colon: two secrets are needed, said before anything is stored.
    one = sync("add", "other", "--api", "twilio", "--url", fake.url, "--token-stdin",
               db=db, env=env, stdin=AUTH_TOKEN + "\n")
    assert one.returncode == 2 and "ACCOUNT_SID:AUTH_TOKEN" in one.stderr


def test_an_api_key_needs_the_account_sid_setting(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    sid = fake.add(1, datetime.now(UTC) - timedelta(hours=1))
    add(db, env, fake, secret=f"{API_KEY}:{API_SECRET}")
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 2
    assert "--set account_sid=AC" in ran.stderr and "Traceback" not in ran.stderr
    assert API_SECRET not in ran.stdout + ran.stderr
    assert sync("remove", "office", db=db, env=env).returncode == 0
    add(db, env, fake, "--set", f"account_sid={ACCOUNT}", secret=f"{API_KEY}:{API_SECRET}")
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert exported(db, env)[sid]["has_recording"]


def test_media_gets_the_credentials_and_another_host_never(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    own = fake.add(1, now - timedelta(hours=2))
    external = fake.add(2, now - timedelta(hours=3), recording=None)
    # A recording kept in external storage: media_url on another host, signed.
    link = fake.signed_link("external-2").replace("127.0.0.1", "localhost")
    fake.add_recording(external, 2, now - timedelta(hours=3), "completed", media_url=link)
    # Two recordings of one call: the longest completed one is kept; one still processing.
    several = fake.add(3, now - timedelta(hours=4), recording=None)
    fake.add_recording(several, 3, now - timedelta(hours=4), "completed", seconds=5)
    longest = fake.add_recording(several, 3, now - timedelta(hours=4), "completed", seconds=90)
    fake.add_recording(several, 3, now - timedelta(hours=4), "processing")
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    stored = assert_recordings_archived(db, env, fake, assert_store_equals(
        db, env, twilio_api, list(fake.calls.values())))
    media = fake.requests_to(f"{ROOT}/Recordings/")
    assert {s.path for s in media} == {
        f"{ROOT}/Recordings/{fake.recordings[own][0]['sid']}.mp3",
        f"{ROOT}/Recordings/{longest}.mp3"}
    assert all(s.headers.get("authorization", "").startswith("Basic ") for s in media)
    signed = fake.requests_to("/media/external-2")
    assert signed and all("authorization" not in s.headers for s in signed)
    assert stored[several]["extras"]["recording_resource"]["sid"] == longest


def test_deleted_recordings_and_calls(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    sids = [fake.add(n, now - timedelta(days=400 - n)) for n in range(12)]
    # Deleted at Twilio after it was listed: its media answers 404, also after a refresh.
    lost = fake.recordings[sids[5]][0]["sid"]
    fake.fail(f"{ROOT}/Recordings/{lost}.mp3", Reply(404, twilio_error(
        404, 20404, "The requested resource was not found")), times=2)
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    with Store(str(db)) as store:
        assert store.archive.info(store.calls.id_of("twilio-api", sids[5])).state == "gone"
        assert store.archive.info(store.calls.id_of("twilio-api", sids[6])).state == \
            "archived"
    # The archived copy stays when Twilio deletes the recording after its retention.
    fake.delete_recordings(sids[6])
    gone = fake.calls.pop(sids[0])  # a call a year old, deleted at Twilio
    assert sync("run", db=db, env=env).returncode == 0  # incremental: cannot tell
    assert exported(db, env)[gone["sid"]]["deleted_at"] is None
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    stored = assert_store_equals(db, env, twilio_api, list(fake.calls.values()),
                                 deleted=frozenset({gone["sid"]}))
    assert stored[sids[6]]["has_recording"] and "://" not in stored[sids[6]]["recording"]
    fake.calls[gone["sid"]] = gone  # restored at the source: the mark is taken back
    assert sync("run", "--full", db=db, env=env).returncode == 0
    assert exported(db, env)[gone["sid"]]["deleted_at"] is None


def test_a_sync_killed_after_its_first_page_resumes_and_ends_equal(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(30):
        fake.add(n, now - timedelta(hours=1 + n))
    add(db, env, fake)
    fake.hold = threading.Event()  # the second page waits: the process is busy there
    try:
        cursor = sync_killed_when(db, env, lambda process: _wait_for_a_committed_page(db, process))
    finally:
        fake.hold.set()
    assert cursor["pass"]["token"].startswith(f"{ROOT}/Calls.json?")
    with sqlite3.connect(db) as conn:
        assert 10 <= conn.execute("SELECT count(*) FROM calls").fetchone()[0] < 30
    fake.hold = None
    before = len(fake.seen)
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    lists = [s for s in fake.seen[before:] if s.path.endswith("/Calls.json")]
    assert "PageToken" in lists[0].query  # it went on from the committed page
    assert_recordings_archived(db, env, fake, assert_store_equals(
        db, env, twilio_api, list(fake.calls.values())))
    assert not list((tmp_path / "calls.sqlite3.recordings").rglob("*.part"))


def _wait_for_a_committed_page(db, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                row = conn.execute("SELECT cursor FROM sync_state").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row and row[0] and (orjson.loads(row[0]) or {}).get("pass"):
            return orjson.loads(row[0])
        time.sleep(0.02)
    raise AssertionError("no page was committed within a minute")
