"""What every API connection's walk over list pages shares: reading a page's answer as
JSON or saying what came back instead, and ending a walk that would never end."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import orjson

from callviewer.sync.errors import SyncFailed
from callviewer.sync.http import Answer

JSON_TYPES = ("application/json", "text/json")


def json_answer(answer: Answer) -> tuple[object, str | None]:
    """(the decoded body, None), or (None, what came back instead of JSON, for a sentence
    "… answered list page 2 with <it>")."""
    content = answer.content
    media = answer.response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    start = bytes(content[:64]).lstrip().lower()
    if not start:
        return None, "an empty body, not JSON; the next sync asks for it again"
    if "html" in media or start.startswith((b"<!doctype html", b"<html")):
        return None, "an HTML page, not JSON — is the address the API's?"
    if media and media not in JSON_TYPES and not media.endswith("+json"):
        return None, f"{media[:60]}, not JSON — is the address the API's?"
    try:
        return orjson.loads(content), None
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("unexpected end of data"):
            return None, "JSON that ends too early (cut off); the next sync asks for it again"
        return None, (f"something that is not JSON ({exc.msg} at line {exc.lineno}, column "
                      f"{exc.colno}); the next sync asks for it again")


def needs_detail(record: dict, stored: tuple | None) -> bool:
    """Whether a listed call must be read in detail: new, changed since stored (by
    updated_at), or never read in detail (progress 0)."""
    if stored is None:
        return True
    updated_at, progress = stored
    if progress == 0 or record.get("updated_at") is None or updated_at is None:
        return True
    return record["updated_at"] > updated_at


def sentence(text: str) -> str:
    """`text` ended as a sentence (a question keeps its question mark)."""
    return text if text.endswith(("?", ".")) else text + "."


def host_of(url: str) -> str:
    """The host of a URL, without a user or password, for a sentence."""
    try:
        return urlsplit(url).netloc.rsplit("@", 1)[-1]
    except ValueError:
        return "its address"


def digest(value: object) -> bytes:
    """A short, stable digest of a JSON value (a request, a page's ids)."""
    return hashlib.blake2b(orjson.dumps(value, option=orjson.OPT_SORT_KEYS),
                           digest_size=16).digest()


def copy_state(state: dict) -> dict:
    """A cursor as it will be stored: a deep copy through JSON."""
    return orjson.loads(orjson.dumps(state))


class LoopGuard:
    """Ends a walk that would never end: a request it made before (a `next` pointing back),
    the same calls again while paging by number or link (a server that ignores the page
    asked for), or more than max_pages pages in one sync."""

    def __init__(self, name: str, max_pages: int, what: str = "The calls API") -> None:
        self.name, self.max_pages, self.what = name, max_pages, what
        self.count = 0
        self.requests: dict[bytes, str] = {}  # digest of a request -> the page it was
        self.pages: dict[bytes, str] = {}  # digest of a page's ids -> the first page so

    def start_pass(self) -> None:
        """Forget the pages seen: a new pass lists the overlap again, rightly."""
        self.requests.clear()
        self.pages.clear()

    def before(self, url: str, params: object, label: str) -> None:
        """Check a request about to be made (its address, parameters and body)."""
        if self.count >= self.max_pages:
            raise SyncFailed(f"The sync of {self.name} stopped after {self.max_pages:,} list "
                             "pages (the max_pages setting); the next sync goes on from "
                             "there.")
        self.count += 1
        key = digest({"url": url, "params": params})
        if key in self.requests:
            raise SyncFailed(f"{self.what} at {host_of(url)} sent {label} back to an address "
                             f"it had already given for {self.requests[key]} (a loop); the "
                             "sync stopped there.")
        self.requests[key] = label

    def after(self, ids: list, label: str, host: str, numbering: bool = True) -> None:
        """Check a page's calls (their ids); `numbering`: the page was asked for by number,
        token or link, so the same calls again mean the server ignores what was asked."""
        key = digest(ids)
        if numbering and ids and key in self.pages:
            raise SyncFailed(f"{self.what} at {host} answered {label} with the same calls "
                             f"as {self.pages[key]} — it seems to ignore the page asked "
                             "for; the sync stopped there.")
        self.pages.setdefault(key, label)
