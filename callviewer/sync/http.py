"""HTTP for the source APIs: requests with urllib3's Retry, and failures as sentences.

Timeouts, dropped connections and 5xx are retried with exponential backoff
and jitter, bounded; 429 and 503 wait as long as ``Retry-After`` says (in
seconds or as an HTTP date), up to a bound. urllib3's Retry does all of it,
with one addition it cannot do: a body that breaks off after the headers
arrived is read again through the same Retry object (its counts and its
backoff). Every wait can be cut short by the sync's cancel event.

A client is used by the sync's worker threads at once (sync/parallel.py): a
429, or any answer with Retry-After, closes the client's `BackoffGate` and
every thread's next request waits there, so the whole connection slows down.

No exception raised here carries a URL's query string or a token: the
library's own exceptions are replaced (``from None``) by sentences, redirect
faults too (a loop, or a redirect to ftp://, file:// or any scheme but
http and https). A whole answer is read as it streams and given up at its
limit (``max_response_mb``), so neither a huge page nor an endless one
fills the memory or passes for a time-out.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.exceptions import (
    DecodeError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util.retry import Retry

from callviewer.redaction import install_log_redaction, redact_text, register_secret
from callviewer.sync.errors import Canceled, Offline, SyncFailed, TokenRefused, TooLarge
from callviewer.sync.parallel import BackoffGate

__all__ = ["Answer", "Canceled", "Credentials", "HttpClient", "HttpStatus", "Offline", "SyncFailed",
           "TokenRefused", "TooLarge"]

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
USER_AGENT = "callviewer-sync"
CHUNK = 64 * 1024
# Every HTTP source's settings (sync/connection.py); times in seconds.
DEFAULTS = {
    "connect_timeout": 10.0,
    "read_timeout": 30.0,
    "retries": 5,
    "backoff_factor": 1.0,
    "backoff_max": 60.0,
    "backoff_jitter": 1.0,
    "retry_after_max": 300,
    "max_response_mb": 50.0,  # the largest answer read whole (a list page, a detail)
    "max_redirects": 10,
}
MB = 1_000_000
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class HttpStatus(SyncFailed):
    """The server's final answer was an error status (after any retries)."""

    def __init__(self, sentence: str, code: int) -> None:
        super().__init__(sentence)
        self.code = code


@dataclass
class Answer:
    """A whole answer: the response (status, reason, headers, url; its body already read or
    left unread for an error status) and the body."""

    response: requests.Response
    content: bytes | bytearray


@dataclass(frozen=True)
class Credentials:
    """How a source's API is told who is asking: headers, query parameters, or HTTP basic
    authentication, sent only with requests made with ``auth=True`` (never to a link)."""

    headers: tuple[tuple[str, str], ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    basic: tuple[str, str] | None = None

    @classmethod
    def bearer(cls, token: str | None) -> Credentials:
        """``Authorization: Bearer TOKEN`` (most APIs)."""
        return cls(headers=(("Authorization", f"Bearer {token}"),) if token else ())

    @classmethod
    def header(cls, name: str, value: str | None) -> Credentials:
        """The secret as it is in a header of its own (``xi-api-key``, Bland's
        ``authorization``, a session ``Cookie``)."""
        return cls(headers=((name, value),) if value else ())

    @classmethod
    def query(cls, name: str, value: str | None) -> Credentials:
        """The secret as a query parameter (VoIPBIN's ``token``)."""
        return cls(params=((name, value),) if value else ())

    @classmethod
    def user_and_password(cls, secret: str | None) -> Credentials:
        """HTTP basic authentication from ``USER:PASSWORD`` (Twilio's SID and secret)."""
        user, _, password = (secret or "").partition(":")
        return cls(basic=(user, password)) if user and password else cls()


class _SchemeRefused(requests.exceptions.InvalidSchema):
    """A request (a redirect, as a rule) to a scheme other than http and https."""

    def __init__(self, scheme: str) -> None:
        super().__init__(f"the {scheme}:// scheme is not supported")
        self.scheme = scheme


class _RefuseOtherSchemes(BaseAdapter):
    """Mounted for every address that is not http:// or https://: refuses it, by name.

    Without it requests says ``InvalidSchema: No connection adapters were found``.
    """

    def send(self, request: requests.PreparedRequest, *_args: Any, **_kwargs: Any) -> Any:
        scheme = (request.url or "").partition(":")[0].lower() or "an unknown"
        raise _SchemeRefused(scheme)

    def close(self) -> None:
        pass


class _BrokeOff(Exception):
    """A body broke off while it was being read (the network's fault: tried again)."""


class CancellableRetry(Retry):
    """urllib3's Retry whose waits end early (raising Canceled) when the sync is canceled,
    and where a server's "slow down" (a 429, a Retry-After) holds back every thread."""

    def __init__(self, *args: Any, cancel: threading.Event | None = None,
                 gate: BackoffGate | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancel = cancel
        self.gate = gate

    def new(self, **kwargs: Any) -> CancellableRetry:
        kwargs.setdefault("cancel", self.cancel)
        kwargs.setdefault("gate", self.gate)
        return super().new(**kwargs)

    def sleep(self, response: Any = None) -> None:
        seconds = None
        if self.respect_retry_after_header and response is not None:
            seconds = self.get_retry_after(response)  # capped by retry_after_max
        slow_down = bool(seconds) or getattr(response, "status", None) == 429
        if not seconds:
            seconds = self.get_backoff_time()
        if self.gate is not None and slow_down:
            # The server's limit is the connection's, not this request's: all wait.
            self.gate.close_for(seconds)
        elif seconds and seconds > 0:  # this request's own trouble: it alone waits
            if self.cancel is None:
                threading.Event().wait(seconds)
            elif self.cancel.wait(seconds):
                raise Canceled()
        if self.gate is not None:
            self.gate.wait(self.cancel)


class HttpClient:
    """Requests sessions with the connection's retry policy, timeouts and backoff gate.

    The token goes only with ``auth=True`` requests (the API's own), never to a
    recording's link: a signed link needs none, and its host is often another.
    Usable from several threads at once: each has a session of its own.
    """

    def __init__(self, settings: dict, token: str | None,
                 cancel: threading.Event | None, credentials: Credentials | None = None) -> None:
        install_log_redaction()
        register_secret(token)
        for part in (token or "").split(":"):
            register_secret(part)  # SID:SECRET: each half is a secret of its own
        self.cancel = cancel
        self.credentials = credentials if credentials is not None else \
            Credentials.bearer(token)
        self.timeout = (float(settings["connect_timeout"]), float(settings["read_timeout"]))
        self.gate = BackoffGate()  # shared by every thread's requests
        self.retry = CancellableRetry(
            total=int(settings["retries"]), connect=int(settings["retries"]),
            read=int(settings["retries"]), status=int(settings["retries"]), other=0,
            redirect=5, status_forcelist=RETRY_STATUSES,
            # POST too: the list requests some APIs take as POST (Retell's) only read.
            # A request that changes something is sent once (`send_once`).
            allowed_methods=frozenset({"GET", "POST"}),
            backoff_factor=float(settings["backoff_factor"]),
            backoff_max=float(settings["backoff_max"]),
            backoff_jitter=float(settings["backoff_jitter"]),
            retry_after_max=int(settings["retry_after_max"]),
            raise_on_status=False, respect_retry_after_header=True, cancel=cancel,
            gate=self.gate)
        self.max_response = int(float(settings["max_response_mb"]) * MB)
        self.max_redirects = int(settings["max_redirects"])
        self.requests = 0  # sent, retries included (for the benchmark)
        self._count_lock = threading.Lock()
        # One requests.Session per thread, not one shared: requests does not promise a
        # Session is thread-safe (its cookie jar, its redirect handling, the adapter's
        # pool mapping are shared state), while urllib3's pools under a session of one's
        # own are. A sync's threads are few (the concurrency setting, at most 16) and live
        # as long as the sync, so a session each costs one kept-alive connection each.
        self._local = threading.local()
        self._sessions: list[requests.Session] = []

    @property
    def session(self) -> requests.Session:
        """This thread's session (made on its first request)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            session.max_redirects = self.max_redirects
            adapter = HTTPAdapter(max_retries=self.retry)
            session.mount("", _RefuseOtherSchemes())  # the longest prefix wins: all others
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.hooks["response"].append(self._counted)
            with self._count_lock:
                self._sessions.append(session)
            self._local.session = session
        return session

    def close(self) -> None:
        with self._count_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def get(self, url: str, params: dict | None = None, headers: dict | None = None,
            stream: bool = False, what: str = "The calls API", auth: bool = False,
            method: str = "GET", json: Any = None) -> requests.Response:
        """GET (or `method`) with retries; the final response whatever its status (errors
        are the caller's).

        Raises Offline, SyncFailed (timeouts, broken connections after the retries)
        or Canceled. A body that breaks off is fetched again (not when streaming).
        """
        retry = self.retry
        sent_headers, sent_params, basic = self._authorized(headers, params, auth)
        while True:
            if self.cancel is not None and self.cancel.is_set():
                raise Canceled()
            self.gate.wait(self.cancel)
            try:
                return self.session.request(method, url, params=sent_params,
                                            headers=sent_headers, json=json, auth=basic,
                                            timeout=self.timeout, stream=stream)
            except requests.exceptions.ChunkedEncodingError as exc:
                problem = exc  # the body broke off after the headers: Retry cannot see it
            except requests.exceptions.RequestException as exc:
                raise self._failure(exc, url, what, self.session.max_redirects) from None
            try:
                retry = retry.increment(method, url, error=ProtocolError(str(problem)))
            except MaxRetryError:
                raise SyncFailed(f"{_host(url, what)} kept breaking off its answer; "
                                 "the sync will try again later.") from None
            retry.sleep()

    def _authorized(self, headers: dict | None, params: dict | None,
                    auth: bool) -> tuple[dict, dict | None, tuple[str, str] | None]:
        """The headers, parameters and basic credentials of a request (with the API's
        credentials when `auth`)."""
        sent_headers = dict(headers or {})
        if not auth:
            return sent_headers, params, None
        sent_headers.update(self.credentials.headers)
        sent_params = {**(params or {}), **dict(self.credentials.params)} \
            if self.credentials.params else params
        return sent_headers, sent_params, self.credentials.basic

    def send_once(self, method: str, url: str, json: Any = None,
                  what: str = "The calls API") -> requests.Response:
        """One request with the API's credentials, never retried: it changes something at
        the source (a re-run of an analysis must not run twice)."""
        headers, params, basic = self._authorized(None, None, True)
        self.gate.wait(self.cancel)
        try:
            return requests.request(method, url, json=json, headers={
                "User-Agent": USER_AGENT, **headers}, params=params, auth=basic,
                timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            raise self._failure(exc, url, what, 0) from None

    def fetch(self, url: str, params: dict | None = None, auth: bool = False,
              what: str = "The calls API", label: str = "a request",
              limit: int | None = None, method: str = "GET", json: Any = None) -> Answer:
        """GET a whole body of at most `limit` bytes (default: max_response_mb), read as it
        streams; an error status comes back with its body unread (errors are the caller's).

        Raises TooLarge past the limit (after reading no more than the limit), and what
        `get` raises. A body that breaks off is fetched again through the Retry object.
        """
        limit = self.max_response if limit is None else limit
        retry = self.retry
        while True:
            response = self.get(url, params=params, stream=True, what=what, auth=auth,
                                method=method, json=json)
            with response:
                if response.status_code != 200:
                    return Answer(response, b"")
                try:
                    return Answer(response, self._read_limited(response, limit, what, label))
                except _BrokeOff:
                    pass
            try:
                retry = retry.increment("GET", url, error=ProtocolError("body broke off"))
            except MaxRetryError:
                raise SyncFailed(f"{_host(url, what)} kept breaking off its answer; "
                                 "the sync will try again later.") from None
            retry.sleep()

    def _read_limited(self, response: requests.Response, limit: int, what: str,
                      label: str) -> bytearray:
        """The body, decoded; TooLarge as soon as it passes `limit` bytes."""
        where = _host(response.url, what)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit and \
                not response.headers.get("Content-Encoding"):
            raise _too_large(where, label, limit)
        body = bytearray()
        chunks = response.raw.stream(CHUNK, decode_content=True)
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return body
            except DecodeError:
                raise SyncFailed(f"{where} answered {label} with a compressed body that "
                                 "could not be unpacked.") from None
            except (Urllib3Error, ConnectionError, TimeoutError) as exc:
                log.info("%s: the answer to %s broke off: %s", where, label, exc)
                raise _BrokeOff() from None
            if self.cancel is not None and self.cancel.is_set():
                raise Canceled()
            if len(body) + len(chunk) > limit:
                raise _too_large(where, label, limit)
            body += chunk

    def download(self, url: str, part: Path, what: str = "The recording's server",
                 auth: bool = False) -> None:
        """Bring `url`'s body into `part`, continuing what it holds (a Range request).

        A body that breaks off is resumed through the Retry object; a final error
        status raises HttpStatus, nothing reachable Offline or SyncFailed. `part`
        is kept for the next try in every case but a body longer than announced.
        """
        retry = self.retry
        while True:
            have = part.stat().st_size if part.exists() else 0
            headers = {"Accept-Encoding": "identity"}
            if have:
                headers["Range"] = f"bytes={have}-"
            # `auth`: a link of the API's own (Twilio's media, ElevenLabs' audio); a signed
            # link never gets the credentials.
            response = self.get(url, headers=headers, stream=True, what=what, auth=auth)
            with response:
                if response.status_code == 416 and have:
                    return  # what we hold is the whole recording
                if response.status_code not in (200, 206):
                    raise HttpStatus(f"{_host(url, what)} answered {response.status_code}.",
                                     response.status_code)
                start = _range_start(response) if response.status_code == 206 else 0
                if start not in (0, have):
                    start = 0  # an answer to some other range: start over without it
                    response.close()
                    part.unlink(missing_ok=True)
                    continue
                length = response.headers.get("Content-Length")
                expected = start + int(length) if length and length.isdigit() else None
                whole = self._write_body(response, part, append=start > 0)
                broken = not whole or (expected is not None and part.stat().st_size < expected)
            if expected is not None and part.stat().st_size > expected:
                part.unlink()
                raise SyncFailed(f"{_host(url, what)} sent more than it announced.")
            if not broken:
                return
            try:
                retry = retry.increment("GET", url, error=ProtocolError("body broke off"))
            except MaxRetryError:
                raise SyncFailed(f"{_host(url, what)} kept breaking off the recording; "
                                 "the sync will try again later.") from None
            retry.sleep()

    def _write_body(self, response: requests.Response, part: Path, append: bool) -> bool:
        """Append the body to `part` as it arrives; False if the connection broke off.

        Errors writing the file itself are not the network's: they propagate.
        """
        whole = True
        with open(part, "ab" if append else "wb") as out:
            chunks = response.raw.stream(CHUNK, decode_content=False)
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except (Urllib3Error, ConnectionError, TimeoutError):
                    whole = False
                    break
                if self.cancel is not None and self.cancel.is_set():
                    raise Canceled()
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return whole

    def _counted(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        retries = getattr(response.raw, "retries", None)
        with self._count_lock:
            self.requests += 1 + (len(retries.history) if retries is not None else 0)

    @staticmethod
    def _failure(exc: requests.exceptions.RequestException, url: str, what: str,
                 max_redirects: int = 30) -> Exception:
        where = _host(url, what)
        reason = _root(exc)
        if isinstance(exc, requests.exceptions.TooManyRedirects):
            return SyncFailed(f"{where} redirected more than {max_redirects} times "
                              "(a redirect loop); check the connection's address.")
        if isinstance(exc, requests.exceptions.InvalidSchema):
            scheme = getattr(exc, "scheme", None) or "another"
            return SyncFailed(f"{where} redirected to an address starting {scheme}://, which "
                              "is not supported — is the address the API's?")
        if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.InvalidURL)):
            return SyncFailed(f"{where} gave an address that is not a usable web address; "
                              "check the connection's address.")
        if isinstance(reason, (NewConnectionError, NameResolutionError)) or isinstance(
                exc, requests.exceptions.ConnectTimeout):
            return Offline(f"{where} could not be reached.")
        if isinstance(exc, (requests.exceptions.Timeout,)) or "timed out" in str(reason).lower():
            return SyncFailed(f"{where} did not answer in time; the sync will try again later.")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return SyncFailed(f"{where} closed the connection; the sync will try again later.")
        log.warning("%s could not be used", where, exc_info=exc)
        return SyncFailed(redact_text(f"{where} could not be used; the details are in the "
                                      "log."))


def status_failure(response: requests.Response, what: str = "The calls API") -> SyncFailed:
    """The sentence for an error status; TokenRefused for 401 and 403."""
    if response.status_code in (401, 403):
        return TokenRefused()
    reason = response.reason or ""
    later = "; the sync will try again later" if response.status_code >= 500 or \
        response.status_code == 429 else ""
    return HttpStatus(f"{_host(response.url, what)} answered {response.status_code} "
                      f"{reason}{later}.".replace(" .", "."), response.status_code)


def _too_large(where: str, label: str, limit: int) -> TooLarge:
    return TooLarge(f"{where} answered {label} with more than {megabytes(limit)}, larger "
                    "than the limit (the max_response_mb setting); the sync stopped there.")


def megabytes(size: int) -> str:
    """A limit in MB as settings give it: ``50 MB``, ``0.5 MB``."""
    return f"{size / MB:g} MB"


def _range_start(response: requests.Response) -> int:
    found = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return int(found.group(1)) if found else -1


def _host(url: str, what: str) -> str:
    try:
        host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    except ValueError:
        host = ""
    return f"{what} at {host}" if host else what


def _root(exc: BaseException) -> BaseException | None:
    """The urllib3 reason inside a requests exception (MaxRetryError's reason, unwrapped)."""
    seen = exc.args[0] if exc.args else None
    if isinstance(seen, MaxRetryError):
        return seen.reason
    return seen if isinstance(seen, BaseException) else None
