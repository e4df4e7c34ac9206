"""The ElevenLabs connector against a loopback fake of ElevenLabs' conversations API
(GET /v1/convai/conversations, …/{id}, …/{id}/audio), written from ElevenLabs' API
reference: cursor paging newest first with has_more/next_cursor and call_start_after_unix,
the xi-api-key header and its 401 invalid_api_key answer, 429 with Retry-After, 5xx, the
audio behind the API key, summaries completed by details only when new or further on,
a conversation deleted between syncs (and one a year old), a page that changes while it
is walked, and a kill -9 mid-sync then a resume."""

from __future__ import annotations

import base64
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
import requests
from connectors import FAST_SETTINGS, assert_store_equals, exported, sync, user_env
from fake_vendor import FakeVendor, Reply, audio_path

from callviewer.sync import elevenlabs

KEY = "sk_3f6a2b9c1d4e4f5a8b7c9d0e1f2a3b4c5d6e7f8a9b0c1d2e"  # an API key's shape
AGENT = "agent_01jnq2w8b5c7d9e3f4g6h8j0k2"
LIST = "/v1/convai/conversations"


class FakeElevenLabs(FakeVendor):
    """GET /v1/convai/conversations?page_size&cursor&call_start_after_unix&agent_id, newest
    first; GET …/{conversation_id}; GET …/{conversation_id}/audio (MP3, with the key)."""

    def __init__(self) -> None:
        super().__init__()
        self.conversations: dict[str, dict] = {}
        self.after_page: list = []  # callables run (lock held) after a list page is made
        self.gate: threading.Event | None = None  # set: pages after the first wait on it
        self.held = threading.Event()  # a later page is being held at the gate
        self.route("GET", LIST, self.list_conversations)
        self.route("GET", LIST + r"/(?P<id>[^/]+)", self.get_conversation)
        self.route("GET", LIST + r"/(?P<id>[^/]+)/audio", self.get_audio)

    def authorized(self, seen) -> bool:
        return seen.headers.get("xi-api-key") == KEY

    def refused(self, seen) -> Reply:
        return Reply(401, {"detail": {"status": "invalid_api_key",
                                      "message": "Invalid API key"}})

    # --- the data --------------------------------------------------------------------

    def add(self, n: int, started: int, audio: bool = True, status: str = "done",
            agent: str = AGENT) -> str:
        conversation_id = f"conv_01jnw7k3x9f2ep8rq5t6{n:06d}"
        duration = 30 + n % 50
        analysis = None if status != "done" else {
            "evaluation_criteria_results": {"appointment_handled": {
                "criteria_id": "appointment_handled", "result": "success",
                "rationale": f"The agent booked the cleaning ({n})."}},
            "data_collection_results": {"new_appointment_time": {
                "data_collection_id": "new_appointment_time", "value": "2026-03-17T14:00:00",
                "json_schema": {"type": "string"}, "rationale": "Tuesday at 2 PM."}},
            "call_successful": "success", "call_success_score": None,
            "transcript_summary": f"The caller booked a cleaning ({n}).",
            "call_summary_title": "Cleaning booked"}
        self.conversations[conversation_id] = {
            "agent_id": agent, "conversation_id": conversation_id, "status": status,
            "user_id": None,
            "transcript": [
                {"role": "agent", "message": f"Harbor Dental, this is Ava ({n}).",
                 "tool_calls": [], "tool_results": [], "time_in_call_secs": 0,
                 "interrupted": False, "source_medium": "audio"},
                {"role": "user", "message": "I'd like to book a cleaning.", "tool_calls": [],
                 "tool_results": [], "time_in_call_secs": 4, "interrupted": False},
                {"role": "agent", "message": None, "tool_calls": [
                    {"type": "webhook", "request_id": f"find_{n}", "tool_name": "find_slot",
                     "params_as_json": "{\"day\": \"Tuesday\"}"}],
                 "tool_results": [
                     {"request_id": f"find_{n}", "tool_name": "find_slot",
                      "result_value": "{\"slot\": \"14:00\"}", "is_error": False}],
                 "time_in_call_secs": 9},
                {"role": "agent", "message": "Tuesday at 2 PM works. You're booked.",
                 "tool_calls": [], "tool_results": [], "time_in_call_secs": 12}],
            "metadata": {
                "start_time_unix_secs": started, "accepted_time_unix_secs": started + 1,
                "call_duration_secs": duration, "cost": 400 + n,
                "termination_reason": "end_call tool was called.", "error": None,
                "main_language": "en",
                "phone_call": {"direction": "inbound", "agent_number": "+15557650100",
                               "external_number": f"+1555123{n:04d}", "type": "twilio",
                               "call_sid": f"CA{n:032x}"}},
            "analysis": analysis,
            "has_audio": audio, "has_user_audio": audio, "has_response_audio": audio}
        if audio:
            self.audio[conversation_id] = audio_path(n).read_bytes()
        return conversation_id

    def summary(self, conversation: dict) -> dict:
        """A conversation as the list gives it (ConversationSummaryResponseModel)."""
        metadata, analysis = conversation["metadata"], conversation["analysis"] or {}
        return {
            "agent_id": conversation["agent_id"], "agent_name": "Harbor Dental front desk",
            "conversation_id": conversation["conversation_id"],
            "start_time_unix_secs": metadata["start_time_unix_secs"],
            "call_duration_secs": metadata["call_duration_secs"],
            "message_count": len(conversation["transcript"]),
            "status": conversation["status"],
            "call_successful": analysis.get("call_successful", "unknown"),
            "transcript_summary": analysis.get("transcript_summary"),
            "call_summary_title": analysis.get("call_summary_title"),
            "direction": metadata["phone_call"]["direction"],
            "termination_reason": metadata["termination_reason"], "main_language": "en"}

    # --- the routes --------------------------------------------------------------------

    def list_conversations(self, seen, _match) -> Reply:
        size = int(seen.query.get("page_size", 30))
        if not 1 <= size <= 100:
            return Reply(422, {"detail": [{"type": "less_than_equal",
                                           "loc": ["query", "page_size"],
                                           "msg": "Input should be less than or equal to 100",
                                           "input": str(size)}]})
        if "cursor" in seen.query and self.gate is not None:
            self.held.set()
            self.gate.wait(30)  # a later page, held while the test kills the sync
        ordered = sorted(self.conversations.values(), reverse=True, key=_place)
        if "call_start_after_unix" in seen.query:
            after = int(seen.query["call_start_after_unix"])
            ordered = [c for c in ordered if c["metadata"]["start_time_unix_secs"] > after]
        if "agent_id" in seen.query:
            ordered = [c for c in ordered if c["agent_id"] == seen.query["agent_id"]]
        if "cursor" in seen.query:
            mark = tuple(orjson.loads(base64.urlsafe_b64decode(seen.query["cursor"])))
            ordered = [c for c in ordered if _place(c) < mark]
        page, more = ordered[:size], len(ordered) > size
        cursor = base64.urlsafe_b64encode(orjson.dumps(list(_place(page[-1])))).decode() \
            if more else None
        for hook in list(self.after_page):
            hook(seen)
        return Reply(200, {"conversations": [self.summary(c) for c in page],
                           "next_cursor": cursor, "has_more": more})

    def get_conversation(self, _seen, match) -> Reply:
        conversation = self.conversations.get(match.group("id"))
        if conversation is None:
            return Reply(404, {"detail": {"status": "conversation_not_found",
                                          "message": "Conversation not found"}})
        return Reply(200, conversation)

    def get_audio(self, seen, match) -> Reply:
        conversation = self.conversations.get(match.group("id"))
        if conversation is None or not conversation["has_audio"]:
            return Reply(404, {"detail": {"status": "conversation_audio_not_found",
                                          "message": "Audio not found"}})
        return self.audio_reply(seen, match.group("id"))


def _place(conversation: dict) -> tuple[int, str]:
    return conversation["metadata"]["start_time_unix_secs"], conversation["conversation_id"]


@pytest.fixture
def fake():
    with FakeElevenLabs() as server:
        yield server


def add(db, env, fake, *settings: str) -> None:
    added = sync("add", "clinic", "--api", "elevenlabs", "--url", fake.url, "--token-stdin",
                 "--set", "page_size=10", *FAST_SETTINGS, *settings, db=db, env=env,
                 stdin=KEY + "\n")
    assert added.returncode == 0, added.stderr


def details(fake) -> list[str]:
    return [s.path.rsplit("/", 1)[-1] for s in fake.requests_to(LIST + "/")
            if not s.path.endswith("/audio")]


def test_conversations_transcripts_and_recordings_arrive_and_stay_through_faults(tmp_path,
                                                                                 fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = int(time.time())
    ids = [fake.add(n, now - 3600 * (n + 1), audio=n % 5 != 4) for n in range(25)]
    fake.fail(LIST, Reply(429, {"detail": {"status": "system_busy", "message": "busy"}},
                          headers={"Retry-After": "1"}))
    fake.fail(LIST, Reply(502, raw=b"Bad Gateway", headers={"Content-Type": "text/plain"}))
    fake.fail(f"{LIST}/{ids[0]}/audio", Reply(503, raw=b"", headers={"Retry-After": "1"}))
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "25 new, 0 updated, 0 unchanged, 0 rejected"
    stored = assert_store_equals(db, env, elevenlabs, list(fake.conversations.values()))
    assert sum(1 for r in stored.values() if r["has_recording"]) == 20
    # Three pages of ten by cursor, the key on every request (the audio's too).
    lists = [s for s in fake.requests_to(LIST, "GET") if s.path == LIST]
    assert [s.query.get("cursor") is not None for s in lists][-3:] == [False, True, True]
    assert all(s.query["page_size"] == "10" and "call_start_after_unix" not in s.query
               for s in lists)
    assert all(s.headers.get("xi-api-key") == KEY for s in fake.requests_to(LIST))
    assert sorted(set(details(fake))) == sorted(ids)  # every summary completed once
    audio = [s for s in fake.requests_to(LIST) if s.path.endswith("/audio")]
    assert len({s.path for s in audio}) == 20
    assert KEY not in ran.stdout + ran.stderr
    # Incremental: since the last pass less the overlap; nothing new, no detail asked again.
    before = len(details(fake))
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("0 new, 0 updated, ")
    after = int(fake.requests_to(LIST)[-1].query["call_start_after_unix"])
    assert now - 2 * 3600 - 120 <= after <= now - 2 * 3600 + 120  # overlap_minutes=120
    assert len(details(fake)) == before
    assert_store_equals(db, env, elevenlabs, list(fake.conversations.values()))


def test_a_conversation_further_on_is_read_again_in_detail(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = int(time.time())
    live = fake.add(1, now - 60, status="in-progress", audio=False)
    analysing = fake.add(2, now - 600, status="processing", audio=False)
    done = fake.add(3, now - 900)
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    assert_store_equals(db, env, elevenlabs, list(fake.conversations.values()))
    assert exported(db, env)[analysing]["summary"] is None
    # The call ended and was analysed; the other's analysis arrived; the done one is as it was.
    fake.add(1, now - 60, status="done")
    fake.add(2, now - 600, status="done")
    before = len(details(fake))
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0].startswith("0 new, 2 updated, ")
    assert sorted(details(fake)[before:]) == sorted([live, analysing])  # not `done`
    stored = assert_store_equals(db, env, elevenlabs, list(fake.conversations.values()))
    assert stored[analysing]["summary"] == "The caller booked a cleaning (2)."
    assert stored[live]["recording"].endswith(".mp3") and stored[done]["recording"]


def test_a_wrong_key_gets_elevenlabs_answer_as_a_sentence(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    fake.add(1, int(time.time()) - 3600)
    added = sync("add", "clinic", "--api", "elevenlabs", "--url", fake.url, "--token-stdin",
                 *FAST_SETTINGS, db=db, env=env, stdin="sk_not-the-key\n")
    assert added.returncode == 0
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 2
    assert "The API token was refused" in ran.stderr and "Traceback" not in ran.stderr
    assert "sk_not-the-key" not in ran.stdout + ran.stderr
    assert fake.requests_to(LIST)[-1].headers["xi-api-key"] == "sk_not-the-key"


def test_the_audio_needs_the_key_and_stays_archived_after_the_source_drops_it(tmp_path,
                                                                             fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    call = fake.add(1, int(time.time()) - 3600)
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    stored = exported(db, env)[call]
    archive = tmp_path / "calls.sqlite3.recordings"
    assert stored["recording"].endswith(".mp3")
    assert (archive / stored["recording"]).read_bytes() == fake.audio[call]
    # The audio address is the API's own: without the key it is refused.
    assert requests.get(f"{fake.url}{LIST}/{call}/audio", timeout=5).status_code == 401
    # The agent's retention settings delete the audio at the source: the archive keeps it.
    fake.conversations[call].update(has_audio=False, has_user_audio=False,
                                    has_response_audio=False)
    del fake.audio[call]
    assert sync("run", "--full", db=db, env=env).returncode == 0
    again = exported(db, env)[call]
    assert again["recording"] == stored["recording"]
    assert (archive / again["recording"]).exists()


def test_deleted_conversations_are_marked_on_the_next_full_walk(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = int(time.time())
    ids = [fake.add(n, now - 86400 * (400 - n), audio=n < 2) for n in range(12)]
    add(db, env, fake)
    assert sync("run", db=db, env=env).returncode == 0
    old = fake.conversations.pop(ids[0])  # a year-old conversation, erased at the source
    another = fake.conversations.pop(ids[-1])
    rerun = fake.conversations[ids[5]]["analysis"]  # its analysis run again at the source
    rerun.update(call_successful="failure", transcript_summary="Booked the wrong day.")
    assert sync("run", db=db, env=env).returncode == 0  # incremental: cannot tell
    assert exported(db, env)[old["conversation_id"]]["deleted_at"] is None
    full = sync("run", "--full", db=db, env=env)
    assert full.returncode == 0, full.stderr
    gone = frozenset({old["conversation_id"], another["conversation_id"]})
    stored = assert_store_equals(db, env, elevenlabs, list(fake.conversations.values()),
                                 deleted=gone)
    assert stored[ids[5]]["success"] is False  # the full walk read every detail again
    assert stored[ids[5]]["summary"] == "Booked the wrong day."
    assert stored[old["conversation_id"]]["recording"].endswith(".mp3")  # kept, marked
    fake.conversations[old["conversation_id"]] = old  # restored: the mark is taken back
    assert sync("run", "--full", db=db, env=env).returncode == 0
    assert exported(db, env)[old["conversation_id"]]["deleted_at"] is None


def test_a_conversation_started_while_the_pages_are_walked_shifts_nothing(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = int(time.time())
    for n in range(30):
        fake.add(n, now - 600 * (n + 1), audio=False)
    added_id = []

    def a_new_call_after_the_first_page(seen) -> None:
        if "cursor" not in seen.query and not added_id:
            added_id.append(fake.add(99, now - 5, audio=False))
    fake.after_page.append(a_new_call_after_the_first_page)
    add(db, env, fake)
    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "30 new, 0 updated, 0 unchanged, 0 rejected"
    assert_store_equals(db, env, elevenlabs, [c for i, c in fake.conversations.items()
                                              if i not in added_id])
    fake.after_page.clear()
    again = sync("run", db=db, env=env)  # the next pass brings it
    assert again.stdout.splitlines()[0].startswith("1 new, 0 updated, ")
    assert_store_equals(db, env, elevenlabs, list(fake.conversations.values()))


def test_a_sync_killed_after_its_first_page_resumes_and_ends_equal(tmp_path, fake):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    now = int(time.time())
    for n in range(35):
        fake.add(n, now - 900 * (n + 1), audio=n % 3 == 0)
    add(db, env, fake)
    fake.gate = threading.Event()
    process = subprocess.Popen([sys.executable, "-m", "callviewer", "sync", "run", "--db",
                                str(db)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        cursor = _wait_for_a_committed_page(db, process)
        _wait_until(fake.held.is_set, process)  # the recordings of page 1 came first
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        fake.gate.set()  # the held page answers a closed connection
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
    assert stored == 10
    fake.gate = None
    before = len(fake.requests_to(LIST))
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    # It went on from the committed page's cursor, not from the start.
    first_again = next(s for s in fake.requests_to(LIST)[before:] if s.path == LIST)
    assert first_again.query["cursor"] == cursor["pass"]["token"]
    assert_store_equals(db, env, elevenlabs, list(fake.conversations.values()))
    assert not list((tmp_path / "calls.sqlite3.recordings").rglob("*.part"))


def _wait_until(condition, process: subprocess.Popen, bound: float = 60) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"not within {bound} s")


def _wait_for_a_committed_page(db: Path, process: subprocess.Popen) -> dict:
    found: list[dict] = []

    def committed() -> bool:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                row = conn.execute("SELECT cursor FROM sync_state").fetchone()
        except sqlite3.OperationalError:
            return False
        if row and row[0] and orjson.loads(row[0]).get("pass"):
            found.append(orjson.loads(row[0]))
            return True
        return False
    _wait_until(committed, process)
    return found[-1]
