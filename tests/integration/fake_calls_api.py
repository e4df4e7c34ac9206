"""A calls API on loopback, as the agent platform documents it, with faults on request.

A threaded `http.server` rather than pytest-httpserver: the faults need the
raw socket — headers promising a body that is then cut off, a connection
closed mid-recording, an answer held back past the client's timeout.

    GET /calls?page&limit&from&to&include_deleted   newest first, {"data", "has_more"}
    GET /calls/{id}                                 the detail, with a signed audio URL
    GET /audio/{id}.mp3?expires=…&signature=…       the recording (Range requests too)
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import hmac
import os
import random
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson

from callviewer.paths import demo_dir

# Never a real keyring from the tests: the token file in a test's own config folder.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

TOKEN = "tok-3f9a1c77e2b84d0c"
SIGNING_KEY = b"fake-signing-key"
AUDIO_FILES = sorted(demo_dir().glob("ap-*.mp3"))
LIST_FIELDS = ("id", "call_id", "customer_name", "customer_request", "phone_number", "duration",
               "done", "general_success", "disconnection_reason", "call_summary", "employee",
               "note", "agent_id", "is_purged", "deleted_at", "created_at", "updated_at")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeCallsApi:
    """The server's calls (full detail records), their audio, and faults to inject."""

    def __init__(self, token: str = TOKEN, url_ttl: float = 3600.0) -> None:
        self.token = token
        self.url_ttl = url_ttl
        self.calls: dict[str, dict] = {}
        self.audio: dict[str, bytes] = {}
        self.faults: list[dict] = []
        self.log: list[tuple[str, str, dict, dict]] = []  # (kind, path, query, headers)
        self.after_list_page: list = []  # callables(page number), run after a page is sent
        self.paging = "page"  # or "next_cursor" / "next": the server hands out the next page
        self.ignore_to = False  # a server that does not filter by `to`
        # A real vendor's round trip: every request is answered this many seconds late
        # (the server's threads wait, so concurrent requests overlap as on a network).
        self.latency = 0.0
        self.arrived: list[tuple[float, str]] = []  # (time.monotonic(), kind) of each request
        self.in_flight = 0  # requests being answered now, and the most there ever were
        self.most_in_flight = 0
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        # A dropped client is the faults' point, not news for the standard error of a test
        # that runs the command line in its own process (tests/integration/connectors.py).
        self.server.handle_error = lambda *_args: None
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeCallsApi:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- data ----------------------------------------------------------------------------

    def seed(self, count: int, start: datetime | None = None, spacing_s: int = 97,
             with_audio: float = 1.0, rng: random.Random | None = None) -> list[str]:
        """Add `count` calls, newest `start` (default: an hour ago) going back in time."""
        rng = rng or random.Random(count)
        start = start or datetime.now(UTC) - timedelta(hours=1)
        ids = []
        for n in range(count):
            created = start - timedelta(seconds=n * spacing_s)
            ids.append(self.add_call(created, audio=rng.random() < with_audio, rng=rng))
        return ids

    def add_call(self, created: datetime, audio: bool = True, rng: random.Random | None = None,
                 **fields) -> str:
        rng = rng or random.Random()
        with self.lock:
            number = len(self.calls) + 1
            call_id = fields.pop("id", None) or f"c{number:05d}-{rng.getrandbits(32):08x}"
            turns = [{"role": "agent" if t % 2 == 0 else "user",
                      "text": f"Message {t} of call {number}: " + rng.choice(
                          ("book a cleaning", "refund my invoice", "the boiler leaks",
                           "move my appointment"))} for t in range(4)]
            self.calls[call_id] = {
                "id": call_id, "call_id": f"lk-{number}", "customer_name": f"Caller {number}",
                "customer_request": "Appointment", "phone_number": f"+1555{number:07d}",
                "duration": rng.randint(10, 600), "done": False, "general_success": True,
                "disconnection_reason": "user_hangup", "call_summary": f"Summary {number}",
                "employee": "Ava", "note": None, "agent_id": "agent-1", "is_purged": False,
                "deleted_at": None, "created_at": stamp(created), "updated_at": stamp(created),
                "transcript": orjson.dumps(turns).decode(), "final_score": rng.randint(1, 10),
                **fields,
            }
            if audio:
                self.audio[call_id] = AUDIO_FILES[number % len(AUDIO_FILES)].read_bytes()
            return call_id

    def change(self, call_id: str, **fields) -> None:
        """Change a call as the platform would: its updated_at moves on."""
        with self.lock:
            call = self.calls[call_id]
            later = max(parse_stamp(call["updated_at"]) + timedelta(seconds=1),
                        datetime.now(UTC))
            call.update(fields, updated_at=stamp(later))

    def purge(self, call_id: str) -> None:
        self.change(call_id, is_purged=True, transcript=None, phone_number=None)
        with self.lock:
            self.audio.pop(call_id, None)

    def delete(self, call_id: str) -> None:
        self.change(call_id, deleted_at=stamp(datetime.now(UTC)))

    def delete_audio(self, call_id: str) -> None:
        """The platform's retention: the recording goes, the call's metadata stays."""
        with self.lock:
            self.audio.pop(call_id, None)
        self.change(call_id)

    def fault(self, where: str, kind: str, times: int = 1, **options) -> None:
        """Inject a fault on the next `times` requests of `where` (list, detail, audio)."""
        with self.lock:
            self.faults.append({"where": where, "kind": kind, "times": times, **options})

    def requests_of(self, kind: str) -> list[tuple[str, str, dict, dict]]:
        with self.lock:
            return [entry for entry in self.log if entry[0] == kind]

    # --- answers -----------------------------------------------------------------------

    def list_page(self, query: dict) -> dict:
        page = int(query.get("page", "1"))
        limit = int(query.get("limit", "100"))
        include_deleted = query.get("include_deleted", "false") == "true"
        since = parse_stamp(query["from"]) if "from" in query else None
        until = parse_stamp(query["to"]) if "to" in query and not self.ignore_to else None
        with self.lock:
            chosen = [call for call in self.calls.values()
                      if (include_deleted or call["deleted_at"] is None)
                      and (since is None or parse_stamp(call["created_at"]) >= since)
                      and (until is None or parse_stamp(call["created_at"]) < until)]
            chosen.sort(key=lambda c: (parse_stamp(c["created_at"]), c["id"]), reverse=True)
            start = int(query["cursor"][1:]) if "cursor" in query else (page - 1) * limit
            window = chosen[start: start + limit]
            data = [{key: call[key] for key in LIST_FIELDS} for call in window]
        more = start + limit < len(chosen)
        answer = {"data": data, "has_more": more}
        if self.paging == "next_cursor":
            answer["next_cursor"] = f"o{start + limit}" if more else None
        elif self.paging == "next" and more:
            rest = "&".join(f"{k}={v}" for k, v in query.items() if k not in ("page", "cursor"))
            answer["next"] = f"/calls?cursor=o{start + limit}&{rest}"
        return answer

    def detail(self, call_id: str, expired: bool = False) -> dict | None:
        with self.lock:
            call = self.calls.get(call_id)
            if call is None:
                return None
            answer = dict(call)
            answer["audio_file_url"] = self.signed_url(call_id, expired) \
                if call_id in self.audio and not call["is_purged"] else None
            return answer

    def signed_url(self, call_id: str, expired: bool = False) -> str:
        expires = int(time.time() + (-60 if expired else self.url_ttl))
        signature = hmac.new(SIGNING_KEY, f"{call_id}:{expires}".encode(),
                             hashlib.sha256).hexdigest()[:32]
        return f"{self.url}/audio/{call_id}.mp3?expires={expires}&signature={signature}"

    def audio_status(self, call_id: str, query: dict) -> int:
        expires = query.get("expires", "0")
        expected = hmac.new(SIGNING_KEY, f"{call_id}:{expires}".encode(),
                            hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(expected, query.get("signature", "")):
            return 403
        if int(expires) < time.time():
            return 403
        with self.lock:
            return 200 if call_id in self.audio else 404

    def take_fault(self, where: str, **match) -> dict | None:
        with self.lock:
            for fault in self.faults:
                if fault["where"] != where:
                    continue
                if any(key in fault and fault[key] != value for key, value in match.items()):
                    continue
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None


def _handler_for(api: FakeCallsApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each body waits ~40 ms for a delayed ACK

        def log_message(self, *_args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            arrived = time.monotonic()
            with api.lock:
                api.in_flight += 1
                api.most_in_flight = max(api.most_in_flight, api.in_flight)
            try:
                if api.latency:
                    time.sleep(api.latency)
                self._answer(arrived)
            finally:
                with api.lock:
                    api.in_flight -= 1

        def _answer(self, arrived: float) -> None:
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            path = parts.path
            if path == "/calls":
                kind = "list"
            elif path.startswith("/calls/"):
                kind = "detail"
            elif path.startswith("/audio/"):
                kind = "audio"
            else:
                return self._send(404, b"{}")
            with api.lock:
                api.log.append((kind, path, query, dict(self.headers)))
                api.arrived.append((arrived, kind))
            if kind != "audio" and self.headers.get("Authorization") != f"Bearer {api.token}":
                return self._send(401, b'{"error": "unauthorized"}')
            match = {"page": int(query.get("page", "1"))} if kind == "list" else \
                {"id": path.rsplit("/", 1)[-1].removesuffix(".mp3")}
            fault = api.take_fault(kind, **match)
            if fault is not None and self._fault(fault):
                return None
            if kind == "list":
                page = api.list_page(query)
                self._send(200, orjson.dumps(page))
                for hook in list(api.after_list_page):
                    hook(int(query.get("page", "1")))
                return None
            if kind == "detail":
                answer = api.detail(match["id"], expired=bool(fault and fault["kind"] ==
                                                              "expired_url"))
                if answer is None:
                    return self._send(404, b'{"error": "not found"}')
                return self._send(200, orjson.dumps(answer))
            return self._audio(match["id"], query, fault)

        def _fault(self, fault: dict) -> bool:
            """Carry out a fault; True when it answered the request itself."""
            kind = fault["kind"]
            if kind == "status":
                headers = {}
                if "retry_after" in fault:
                    headers["Retry-After"] = fault["retry_after"]
                self._send(fault["code"], b'{"error": "injected"}', headers)
                return True
            if kind == "slow":
                time.sleep(fault["seconds"])
                return False
            if kind == "drop":
                body = b'{"data": [' + b" " * 4000
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) * 3))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self._cut()
                return True
            if kind == "malformed":
                self._send(200, b'{"data": [{"id": "x", "created_at": "2026-')
                return True
            if kind == "refuse":  # the address answers nothing at all
                self._cut()
                return True
            return False  # expired_url, drop_audio: handled where they apply

        def _audio(self, call_id: str, query: dict, fault: dict | None) -> None:
            code = api.audio_status(call_id, query)
            if code != 200:
                return self._send(code, b"<Error>denied</Error>",
                                  {"Content-Type": "application/xml"})
            data = api.audio[call_id]
            start = 0
            wanted = self.headers.get("Range", "")
            if wanted.startswith("bytes="):
                first, _, last = wanted[6:].partition("-")
                start = int(first or 0)
                if start >= len(data):
                    return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                end = int(last) if last else len(data) - 1
                chunk = data[start:end + 1]
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            else:
                chunk = data
                self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            if fault is not None and fault["kind"] == "drop_audio":
                self.wfile.write(chunk[: len(chunk) // 2])
                self.wfile.flush()
                self._cut()
                return None
            if fault is not None and fault["kind"] == "corrupt_audio":
                self.wfile.write(random.Random(7).randbytes(len(chunk)))
                return None
            self.wfile.write(chunk)
            return None

        def _send(self, code: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(code)
            headers = {"Content-Type": "application/json", **(headers or {})}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _cut(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


def http_date(seconds_from_now: float) -> str:
    """A Retry-After value as an HTTP date."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)



# --- for the tests: a connection to the fake, and the store compared with it ----------------

# Retries short enough for a fast suite (the defaults wait seconds between tries).
FAST = {"backoff_factor": 0.05, "backoff_max": 0.5, "backoff_jitter": 0.05,
        "retry_after_max": 5, "connect_timeout": 2.0, "read_timeout": 5.0}


def add_connection(store, api: FakeCallsApi, name: str = "main", token: str | None = TOKEN,
                   **settings) -> dict:
    """A calls-API connection to the fake in `store`, its token saved."""
    from callviewer.secrets import save_secret

    row = store.sync.add_connection(name, "calls-api", {"url": api.url, **FAST, **settings})
    if token:
        save_secret(row.secret_key, token)
    return row


def assert_store_matches(db, api: FakeCallsApi, archived_only_here: frozenset = frozenset(),
                         done_here: dict | None = None) -> None:
    """The store holds exactly the server's calls, as the server has them now.

    `archived_only_here`: calls whose recording the server deleted after we archived it;
    `done_here`: done flags set in the app, which the store keeps.
    """
    from callviewer.record import format_time, parse_time
    from callviewer.store import Store

    done_here = done_here or {}
    with Store(str(db)) as store, store.reading() as conn:
        rows = conn.exec_driver_sql("SELECT count(*), count(DISTINCT source_id) FROM calls").one()
        indexed = conn.exec_driver_sql("SELECT count(*) FROM calls_fts").scalar()
        exported = {record["source_id"]: record
                    for record in store.calls.export(include_deleted=True)}
        info = {source_id: store.archive.info(store.calls.id_of("agent-platform", source_id))
                for source_id in exported}
    with api.lock:
        server = {key: dict(value) for key, value in api.calls.items()}
        audio = dict(api.audio)
    assert rows[0] == rows[1] == indexed == len(exported), "duplicates or a half-written call"
    assert set(exported) == set(server), (set(exported) ^ set(server))
    for source_id, call in server.items():
        mine = exported[source_id]
        where = f"call {source_id}"
        assert mine["customer_name"] == call["customer_name"], where
        assert mine["summary"] == call["call_summary"], where
        assert mine["updated_at"] == format_time(parse_time(call["updated_at"], "x")), where
        assert (mine["deleted_at"] is None) == (call["deleted_at"] is None), where
        assert mine["is_purged"] == call["is_purged"], where
        assert mine["done"] == done_here.get(source_id, call["done"]), where
        assert mine["score"] == call["final_score"], where
        state = info[source_id].state
        if call["is_purged"]:
            assert (mine["transcript"], mine["recording"], state) == ([], None, "purged"), where
            assert mine["customer_number"] is None, where
            continue
        texts = [turn["text"] for turn in orjson.loads(call["transcript"])]
        assert [turn["text"] for turn in mine["transcript"]] == texts, where
        if source_id in audio or source_id in archived_only_here:
            assert state == "archived", (where, state, info[source_id].error)
            archived = Path(info[source_id].path)
            assert mine["recording"] == str(archived), where
            if source_id in audio:
                assert archived.read_bytes() == audio[source_id], where
        else:
            assert state in ("none", "gone"), (where, state)
