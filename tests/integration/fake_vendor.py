"""A vendor's API on loopback, for the connectors' tests: routes, auth, faults, audio.

Each vendor's test subclasses `FakeVendor` and adds its routes with `route` (the
vendor's paging and shapes, written from its API reference); what every fake
shares is here: a threaded server, the requests it saw, the vendor's answer to
a wrong key, faults queued for a path (a status with Retry-After, a 5xx, a body
cut off), and recordings served with Range, behind a signed link that expires
or behind the API's own credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson

from callviewer.paths import demo_dir

# Never a real keyring from the tests: the token file in a test's own config folder.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

AUDIO = sorted(demo_dir().glob("ap-*.mp3"))
SIGNING_KEY = b"fake-vendor-signing-key"


@dataclass
class Seen:
    """One request the fake answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: object = None


@dataclass
class Reply:
    """An answer: status, JSON (or raw bytes), headers."""

    status: int = 200
    json: object = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Seen, re.Match], Reply]


class FakeVendor:
    """The server: routes by method and path pattern, auth, faults, recordings."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern, Handler, bool]] = []
        self.faults: list[tuple[str, Reply, int]] = []  # (path prefix, reply, times left)
        self.seen: list[Seen] = []
        self.audio: dict[str, bytes] = {}  # recording key -> bytes
        self.link_ttl = 3600.0
        self.lock = threading.RLock()
        self.server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.route("GET", r"/media/(?P<key>[^/?]+)", self._signed_audio, auth=False)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what a vendor's fake says ------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler, auth: bool = True) -> None:
        """Answer `method` requests whose path matches `pattern` (whole) with `handler`;
        `auth`: only with the right credentials (else `refused`)."""
        self.routes.append((method, re.compile(pattern + r"\Z"), handler, auth))

    def authorized(self, seen: Seen) -> bool:
        """Whether the request carries the vendor's credentials (each fake says how)."""
        raise NotImplementedError

    def refused(self, seen: Seen) -> Reply:
        """The vendor's own answer to a wrong or missing key (each fake says it)."""
        return Reply(401, {"error": "Unauthorized"})

    # --- faults and recordings ----------------------------------------------------------

    def fail(self, path_prefix: str, reply: Reply, times: int = 1) -> None:
        """Answer the next `times` requests under `path_prefix` with `reply` instead."""
        with self.lock:
            self.faults.append((path_prefix, reply, times))

    def signed_link(self, key: str, audio: bytes | None = None) -> str:
        """A recording link signed to expire after `link_ttl` seconds (no key needed)."""
        with self.lock:
            self.audio.setdefault(key, audio if audio is not None else
                                  AUDIO[len(self.audio) % len(AUDIO)].read_bytes())
        expires = int(time.time() + self.link_ttl)
        return f"{self.url}/media/{key}?expires={expires}&signature={_sign(key, expires)}"

    def audio_reply(self, seen: Seen, key: str) -> Reply:
        """A recording's bytes (Range requests answered with 206), or 404."""
        content = self.audio.get(key)
        if content is None:
            return Reply(404, {"error": "not found"})
        match = re.fullmatch(r"bytes=(\d+)-", seen.headers.get("range", ""))
        if match and int(match.group(1)) < len(content):
            start = int(match.group(1))
            return Reply(206, raw=content[start:], headers={
                "Content-Type": "audio/mpeg",
                "Content-Range": f"bytes {start}-{len(content) - 1}/{len(content)}"})
        return Reply(200, raw=content, headers={"Content-Type": "audio/mpeg"})

    def requests_to(self, prefix: str, method: str | None = None) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path.startswith(prefix)
                    and (method is None or s.method == method)]

    def _signed_audio(self, seen: Seen, match: re.Match) -> Reply:
        key = match.group("key")
        expires = seen.query.get("expires", "0")
        good = hmac.compare_digest(seen.query.get("signature", ""), _sign(key, int(expires)
                                                                          if expires.isdigit()
                                                                          else 0))
        if not good or int(expires or 0) < time.time():
            return Reply(403, raw=b"<Error><Code>AccessDenied</Code>Request has expired"
                                  b"</Error>", headers={"Content-Type": "application/xml"})
        return self.audio_reply(seen, key)

    def _answer(self, seen: Seen) -> Reply:
        with self.lock:
            self.seen.append(seen)
            for index, (prefix, reply, times) in enumerate(self.faults):
                if seen.path.startswith(prefix):
                    if times <= 1:
                        del self.faults[index]
                    else:
                        self.faults[index] = (prefix, reply, times - 1)
                    return reply
        for method, pattern, handler, auth in self.routes:
            match = pattern.match(seen.path)
            if method == seen.method and match:
                if auth and not self.authorized(seen):
                    return self.refused(seen)
                with self.lock:
                    return handler(seen, match)
        return Reply(404, {"error": f"no route {seen.method} {seen.path}"})


class _QuietServer(ThreadingHTTPServer):
    """A server that keeps a client's dropped connection to itself: the tests run the
    command line in their own process, and its standard error is what they read."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def _sign(key: str, expires: int) -> str:
    return hmac.new(SIGNING_KEY, f"{key}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def _handler_for(fake: FakeVendor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go as two writes: without TCP_NODELAY every answer waits ~40 ms
        # for the client's delayed ACK (Nagle), which no real server makes a client wait.
        disable_nagle_algorithm = True

        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                body = raw
            seen = Seen(method, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                        {k.lower(): v for k, v in self.headers.items()}, body)
            reply = fake._answer(seen)
            content = reply.raw if reply.raw is not None else orjson.dumps(reply.json)
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    return Handler


def audio_path(n: int) -> Path:
    """One of the demo's spoken MP3s, for a fake's recordings."""
    return AUDIO[n % len(AUDIO)]
