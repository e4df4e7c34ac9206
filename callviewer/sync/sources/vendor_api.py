"""A vendor's calls API as a sync connection: one walk for every vendor, a subclass each.

A vendor's module (sources/vapi_api.py, twilio_api.py, …) subclasses `VendorApi`
and says only what is its own: the base address and settings (`DEFAULTS`), how
it authenticates (`credentials`), how a list page is asked for (`list_request`)
and read (`read_list`), where a call's detail is (`detail_url`), which of its
links need the API's credentials (`recording_needs_auth`), and what else a
call brings (`attachments`: Twilio's recordings). Records are read by the
vendor's format module (callviewer/sync/<format>.py), the same parser as files.

A pass walks the list newest first from the start (`run["token"]` None) to the
last page. An incremental pass asks only for calls changed or created since
the last finished pass, less the overlap window (`run["after"]`, epoch
microseconds; the vendor's own filter); a full pass (the first sync, `sync run
--full`, and every `full_every_days`) asks for everything, and when it reaches
the end, the calls this connection brought before that the walk no longer
listed are marked deleted at the source (store/sync_seen.py). The cursor is
saved with each page, so a sync that stops (a failure, a kill) goes on from
the page after the last one saved. Every walk ends: see paging.LoopGuard, and
a page that cannot be read fails the connection with a sentence.

A page's details (and attachments) are fetched `concurrency` at a time by the
connection's pool (sync/parallel.py) and taken in the page's order; the pool
also serves the recordings' downloads (sync/downloads.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import orjson

from callviewer.record import RecordError, format_time, parse_time
from callviewer.sync.base import Origin
from callviewer.sync.connection import Known, Page, RecordingUnavailable
from callviewer.sync.envelopes import open_value
from callviewer.sync.errors import Canceled, SyncFailed, TokenRefused
from callviewer.sync.http import DEFAULTS as HTTP_DEFAULTS
from callviewer.sync.http import (
    Credentials,
    HttpClient,
    HttpStatus,
    TooLarge,
    megabytes,
    status_failure,
)
from callviewer.sync.importer import Reject, source_id_of
from callviewer.sync.parallel import DEFAULT_CONCURRENCY, Pool, concurrency_of
from callviewer.sync.sources.paging import (
    LoopGuard,
    copy_state,
    host_of,
    json_answer,
    needs_detail,
    sentence,
)
from callviewer.times import day

SECOND = 1_000_000
MB = 1_000_000
# The settings every vendor connection has, beside HTTP's and its own.
COMMON_DEFAULTS = {
    **HTTP_DEFAULTS,
    "overlap_minutes": 120,  # an incremental pass asks again for this much before the last
    "full_every_days": 7.0,  # a full pass (deletions and purges of any age) this often
    "max_record_mb": 16.0,
    "max_pages": 10_000,
    "concurrency": DEFAULT_CONCURRENCY,  # requests at once (details, recordings): 1 to 16
}


@dataclass
class Request:
    """A list page's request: method, address, query parameters, JSON body; `position`:
    where in a list the API gives whole the page starts (never sent; the loop guard tells
    pages apart by it)."""

    url: str
    params: dict | None = None
    json: Any = None
    method: str = "GET"
    position: Any = None


@dataclass
class Listing:
    """A list page read: its items (call objects as the API gives them) and the token of
    the next page (a cursor, a page number or a link), None on the last page."""

    items: list
    next: Any = None
    total: int | None = None
    extra: dict = field(default_factory=dict)  # anything a vendor keeps for its next request
    size: int = 0  # the answer's bytes (set by the walk)


class VendorApi:
    """A vendor's calls API: list (all or since the last pass), details, recordings."""

    KIND: ClassVar[str]
    FORMAT: ClassVar[ModuleType]  # the format module that reads this vendor's calls
    WHAT: ClassVar[str] = "The calls API"  # the source in sentences: "The Vapi API"
    # True when the list's items are whole calls: no detail is asked for a listed call.
    LIST_IS_DETAIL: ClassVar[bool] = False
    # The statuses of a call's detail that mean the source no longer has the call.
    DETAIL_GONE: ClassVar[tuple[int, ...]] = (404,)

    def __init__(self, name: str, settings: dict, secret: str | None,
                 cancel: threading.Event | None) -> None:
        url = str(settings.get("url") or "")
        if not url.startswith(("http://", "https://")):
            raise SyncFailed(f"The connection {name} has no http:// or https:// address.")
        self.name = name
        self.settings = settings
        self.base = url.rstrip("/")
        self.secret = secret
        try:
            size = concurrency_of(settings, name)
        except ValueError as exc:
            raise SyncFailed(str(exc)) from None
        self.http = HttpClient(settings, secret, cancel, self.credentials(secret))
        self.pool = Pool(size, cancel)
        self.reconcile_every = None  # no window of its own: the full pass is the whole
        self.full_every = float(settings["full_every_days"]) * 86_400
        self.max_record = int(float(settings["max_record_mb"]) * MB)

    def close(self) -> None:
        self.pool.close()  # first: its threads' requests end before their sessions
        self.http.close()

    def on_pool(self, work: Callable[..., Any], *args: Any) -> Any:
        """`work(*args)` on one of the pool's threads, waited for: every request of a sync
        counts against its concurrency (a list page's too, while recordings download)."""
        return self.pool.result(self.pool.submit(work, *args))

    # --- what a vendor says --------------------------------------------------------------

    def credentials(self, secret: str | None) -> Credentials:
        """How requests to the API carry the secret (default: a Bearer token)."""
        return Credentials.bearer(secret)

    def list_request(self, run: dict) -> Request:
        """The request for the page `run` stands at: run["token"] (None: the first page),
        run["after"] (epoch µs: only calls since then; None: all), run["page_number"]."""
        raise NotImplementedError

    def read_list(self, body: object) -> Listing:
        """The items and the next page's token of a list answer; SyncFailed when it is not
        a page of calls."""
        raise NotImplementedError

    def detail_url(self, source_id: str) -> str | None:
        """Where a call's whole record is; None when the list's items are whole."""
        return None

    def wants_detail(self, record: dict, stored: tuple | None) -> bool:
        """Whether a listed call is read in detail, given what the store holds of it
        ((updated_at, progress), None: nothing); default: new, changed or never detailed."""
        return needs_detail(record, stored)

    def wants_attachments(self, record: dict, stored: tuple | None) -> bool:
        """Whether a listed call's attachments are asked for, given what the store holds of
        it ((updated_at, progress), None: nothing); default: always."""
        return True

    def recording_needs_auth(self, reference: str) -> bool:
        """Whether this recording link is the API's own, needing its credentials (a signed
        link never is)."""
        return False

    def attachments(self, record: dict) -> list[dict]:
        """More records a listed call brings (attach_only parts: Twilio's recordings)."""
        return []

    def not_a_page(self, body: object) -> SyncFailed:
        """The failure for a list answer that is JSON but no page of calls."""
        kind = type(body).__name__ if not isinstance(body, dict) else \
            "an object without a list of calls"
        return SyncFailed(f"{self.WHAT} at {host_of(self.base)} answered a list page with "
                          f"{kind}, not a page of calls — is the address the API's?")

    # --- the walk ------------------------------------------------------------------------

    def changes(self, cursor: dict | None, full: bool | str, known: Known) -> Iterator[Page]:
        state = dict(cursor or {})
        guard = LoopGuard(self.name, int(self.settings["max_pages"]), self.WHAT)
        if state.get("pass"):
            resumed_full = state["pass"]["full"]
            yield from self._walk(state, known, guard)
            if resumed_full or not full:
                return
        state["pass"] = self._new_pass(state.get("since"), full, state.get("passes", 0))
        yield from self._walk(state, known, guard)

    def _new_pass(self, since: str | None, full: bool | str, passes: int) -> dict:
        now = int(datetime.now(UTC).timestamp()) * SECOND
        full = full is True or since is None
        after = None
        if not full:
            after = parse_time(since, "cursor") - int(
                float(self.settings["overlap_minutes"]) * 60 * SECOND)
        return {"full": full, "after": after, "started": format_time(now), "token": None,
                "page_number": 0, "number": passes + 1 if full else passes}

    def _walk(self, state: dict, known: Known, guard: LoopGuard) -> Iterator[Page]:
        guard.start_pass()
        while state.get("pass"):
            run = dict(state["pass"])
            run["page_number"] += 1
            label = f"list page {run['page_number']}"
            request = self.list_request(run)
            guard.before(request.url, {"params": request.params, "json": request.json,
                                       "position": request.position}, label)
            listing = self.on_pool(self._read_page, request, label)
            ids = [source_id_of(item) for item in listing.items]
            guard.after(ids, label, host_of(request.url), numbering=True)
            records, rejects = self._read_items(listing.items, f"{self.name} {label}", known,
                                                measure=listing.size > self.max_record)
            page = Page(records, rejects, listed=len(listing.items), total=listing.total)
            page.seen = [r["source_id"] for r in records if not r.get("attach_only")]
            page.pass_number = run["number"]
            page.source = self.FORMAT.NAME
            if listing.next is None:
                state["since"] = run["started"]
                state["passes"] = run["number"]
                page.full_done = run["full"]
                page.whole_history = run["full"]
                state["pass"] = None
            else:
                run["token"] = listing.next
                run.update(listing.extra)
                state["pass"] = run
            page.cursor = copy_state(state)
            yield page

    def _read_page(self, request: Request, label: str) -> Listing:
        answer = self.http.fetch(request.url, params=request.params, json=request.json,
                                 method=request.method, auth=True, what=self.WHAT, label=label)
        if answer.response.status_code != 200:
            raise status_failure(answer.response, self.WHAT)
        body, problem = json_answer(answer)
        if problem is not None:
            raise SyncFailed(sentence(f"{self.WHAT} at {host_of(request.url)} answered "
                                      f"{label} with {problem}"))
        listing = self.read_list(body)
        listing.size = len(answer.content)
        return listing

    def _read_items(self, items: list, where: str, known: Known,
                    measure: bool = False) -> tuple[list[dict], list[Reject]]:
        """The page's records (details fetched where wanted) and its rejects; `measure`: the
        page is larger than one record may be, so each item's size is checked."""
        listed: list[tuple[int, dict]] = []
        rejects: list[Reject] = []
        for index, item in enumerate(items, 1):
            try:
                if measure and len(orjson.dumps(item)) > self.max_record:
                    raise RecordError("record", f"is {self.too_large()}")
                listed.append((index, self.parse(item)))
            except RecordError as exc:
                rejects.append(Reject(where, f"item {index}", source_id_of(item), exc.field,
                                      exc.reason))
        stored = known.versions(self.FORMAT.NAME, [record["source_id"] for _, record in listed])
        return self._completed(listed, stored, where, rejects)

    def _completed(self, listed: list[tuple[int, dict]], stored: dict, where: str,
                   rejects: list[Reject]) -> tuple[list[dict], list[Reject]]:
        """The listed records completed (`_complete`, in the pool), in the page's order,
        and `rejects` with theirs after."""
        records: list[dict] = []
        futures = [self.pool.submit(self._complete, index, record,
                                    stored.get(record["source_id"]), where)
                   for index, record in listed]
        for found, problems in self.pool.ordered(futures):
            records.extend(found)
            rejects.extend(problems)
        return records, rejects

    def _complete(self, index: int, record: dict, stored: tuple | None,
                  where: str) -> tuple[list[dict], list[Reject]]:
        """A listed record as it is stored (its detail where wanted) and what it brings
        (attachments), with its rejects; on a worker thread, so it writes nothing."""
        rejects: list[Reject] = []
        if not self.LIST_IS_DETAIL and self.wants_detail(record, stored):
            detail, problem = self._detail_or_problem(record["source_id"])
            if detail is not None:
                record = detail
            elif problem is not None:
                rejects.append(Reject(where, f"item {index} detail", record["source_id"],
                                      problem[0], problem[1]))
        records = [record]
        if self.wants_attachments(record, stored):
            try:
                records.extend(self.attachments(record))
            except RecordError as exc:
                rejects.append(Reject(where, f"item {index} attachments",
                                      record["source_id"], exc.field, exc.reason))
        return records, rejects

    def parse(self, value: object) -> dict:
        """One item or detail of this API read by its format (a webhook-like wrapper
        opened first); RecordError when it is not one of its calls."""
        if isinstance(value, dict):
            opened = next(iter(open_value("", value)), None)
            if isinstance(opened, tuple):
                value = opened[1]
        if not isinstance(value, dict):
            raise RecordError("record", f"expected a JSON object, got {type(value).__name__}")
        return self.FORMAT.parse(value, Origin())

    # --- details and recordings ----------------------------------------------------------

    def fetch_detail(self, source_id: str) -> dict | None:
        if self.detail_url(source_id) is None:
            return None
        detail, problem = self._detail_or_problem(source_id)
        if problem is not None and problem[1].startswith("not found ("):
            return None
        if problem is not None:
            raise SyncFailed(f"The details of call {source_id} could not be read: {problem[1]}.")
        return detail

    def _detail_or_problem(self, source_id: str) -> tuple[dict | None, tuple | None]:
        """(record, None), or (None, (field, reason)) for a detail that cannot be used."""
        url = self.detail_url(source_id)
        if url is None:
            return None, None
        try:
            answer = self.http.fetch(url, auth=True, what=self.WHAT, limit=self.max_record,
                                     label=f"the details of call {source_id}")
        except TooLarge:
            return None, (None, self.too_large())
        if answer.response.status_code in self.DETAIL_GONE:
            return None, (None, f"not found ({answer.response.status_code})")
        if answer.response.status_code != 200:
            raise status_failure(answer.response, self.WHAT)
        body, problem = json_answer(answer)
        if problem is not None:
            return None, (None, f"not read: {problem}")
        try:
            record = self.parse(body)
        except RecordError as exc:
            return None, (exc.field, exc.reason)
        if record["source_id"] != source_id:
            return None, ("id", f"is another call's ({record['source_id']})")
        return record, None

    def too_large(self) -> str:
        """Why a record over the max_record_mb setting was not read."""
        return (f"larger than the limit of {megabytes(self.max_record)} for one record "
                "(the max_record_mb setting)")

    def fetch_recording(self, reference: str, part: Path) -> None:
        try:
            self.http.download(reference, part, auth=self.recording_needs_auth(reference))
        except HttpStatus as exc:
            raise RecordingUnavailable(exc.code, str(exc)) from None

    def can_serve(self, reference: str) -> bool:
        with self.http.get(reference, headers={"Range": "bytes=0-0"}, stream=True,
                           auth=self.recording_needs_auth(reference)) as answer:
            return answer.status_code in (200, 206)

    # --- Preferences' "Test connection" --------------------------------------------------

    def probe(self) -> str:
        """What the first list page says, in one sentence ("Connected: 1,284 calls since
        3 Mar", or what is wrong). At most three requests: that page, the newest call's
        attachments when the page shows no recording, and one byte of a recording."""
        return probe_sentence(self.WHAT, self._probe)

    def _probe(self) -> str:
        run = self._new_pass(None, True, 0)
        run["page_number"] = 1
        listing = self._read_page(self.list_request(run), "list page 1")
        records = readable(self.parse, listing.items)
        found = found_sentence(records, len(listing.items), listing.next is not None,
                               listing.total)
        return found[:-1] + self._recordings_problem(records) + "."

    def _recordings_problem(self, records: list[dict]) -> str:
        """", but …" when the newest recording the page leads to cannot be fetched."""
        links = [record["recording"] for record in records if record.get("recording")]
        try:
            if not links and records:
                links = [part["recording"] for part in self.attachments(records[0])
                         if part.get("recording")]
            if not links or self.can_serve(links[0]):
                return ""
        except TokenRefused:
            return ", but the key may not read recordings: give it access to them"
        except (SyncFailed, RecordError, ValueError):
            pass
        needs_key = self.recording_needs_auth(links[0]) if links else False
        return (", but the newest recording could not be fetched"
                + (": check that the key may read recordings" if needs_key else ""))


def iso_seconds(micros: int) -> str:
    """An epoch-µs time as the ISO 8601 text most APIs' filters take, to the millisecond."""
    return format_time(micros // 1000 * 1000)


def probe_sentence(what: str, attempt: Callable[[], str]) -> str:
    """`attempt`'s sentence, or the sentence for what went wrong: a refused key, a source
    out of reach, an answer that is no page of calls."""
    try:
        return attempt()
    except TokenRefused:
        return f"{what} refused the key: check it and test again."
    except Canceled:
        return "The test was canceled."
    except SyncFailed as exc:
        return str(exc)


def readable(parse: Callable[[object], dict], items: list) -> list[dict]:
    """The items of a list page that `parse` reads, in their order (the rest left out)."""
    records = []
    for item in items:
        if not isinstance(item, dict):
            continue  # never a call, whatever the vendor
        try:
            records.append(parse(item))
        except (RecordError, TypeError, ValueError):
            continue
    return records


def found_sentence(records: list[dict], listed: int, more: bool, total: int | None) -> str:
    """What a first list page tells: "Connected: 12 calls since 3 Mar." when it is the only
    page, else the total when the API gives it, and the newest call's day."""
    if not listed:
        return "Connected: there are no calls yet."
    times = [t for t in (r.get("started_at") or r.get("created_at") for r in records)
             if isinstance(t, int)]
    if not more:
        since = f" since {day(min(times))}" if times else ""
        return f"Connected: {listed:,} call{'' if listed == 1 else 's'}{since}."
    newest = f", the newest from {day(max(times))}" if times else ""
    if total:
        return f"Connected: {total:,} calls{newest}."
    return f"Connected: calls are there{newest}."
