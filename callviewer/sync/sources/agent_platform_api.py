"""The agent platform's calls API as a sync connection (see the seed's API document).

Requests, with the defaults (every name and number is a setting):

    GET {url}/calls?page=1&limit=100&from=F&to=T&include_deleted=false
        Authorization: Bearer TOKEN
        -> {"data": [call, ...], "has_more": true|false}   (newest first by created_at)
    GET {url}/calls/{id}
        -> the call with transcript, audio_file_url and final_score

A pass lists the calls created in [F, T): T is the time the pass began, F the
cursor (the T of the last finished pass) less an overlap window, so a call
written late is not missed; no F on the first sync. Pages are walked by
moving T down to just past the oldest call received, page 1 each time, so
calls created or deleted meanwhile never shift a page (a page of calls that
all share one second falls back to page=2, 3, ...; a server that ignores
``to`` is paged by number). A ``next`` URL or ``next_cursor`` in an answer is
followed instead (``cursor=…``). The reconciliation pass lists the last 30
days with ``include_deleted=true``, daily; a full pass (the first sync, ``sync
run --full``, and every ``full_every_days``) lists the whole history so, and
when it ends, a call of this connection it no longer listed is marked deleted
at the source (store/sync_seen.py): a purge or deletion of any age arrives.

Every walk ends. A page that cannot be read (HTML, cut-off or invalid JSON, an
empty body, another content type, JSON that is not a page, an answer over
``max_response_mb``) fails the connection with a sentence naming the page and
what came back, and the cursor stays before it, so the next sync asks for
that page again. So does a loop: a page with the same calls as an earlier
one while paging by number or by link (a server that ignores the page
parameter), a request the walk already made (a ``next`` that points back),
or more than ``max_pages`` pages in one sync. An item larger than
``max_record_mb`` is rejected, the rest of its page kept.

List items lack the detail fields: every call new to the store, changed
(a later ``updated_at``) or never read in detail is fetched in detail.
Records are read by callviewer/sync/agent_platform.py, the same parser as
files of the format.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit

import orjson

from callviewer.record import RecordError, format_time
from callviewer.sync import agent_platform
from callviewer.sync.base import Origin
from callviewer.sync.connection import RECENT, Known, Page
from callviewer.sync.http import (
    SyncFailed,
    status_failure,
)
from callviewer.sync.importer import Reject, source_id_of
from callviewer.sync.sources.paging import (
    LoopGuard,
    copy_state,
    host_of,
    json_answer,
    needs_detail,
    sentence,
)
from callviewer.sync.sources.vendor_api import (
    COMMON_DEFAULTS,
    SECOND,
    VendorApi,
    found_sentence,
    probe_sentence,
    readable,
)

KIND = "calls-api"
SOURCE = agent_platform.NAME
DEFAULTS = {
    **COMMON_DEFAULTS,  # HTTP's, the overlap, the full pass, the record and page limits
    "url": "",
    "list_path": "/calls",
    "detail_path": "/calls/{id}",
    "page_size": 100,
    "first_page": 1,
    "page_param": "page",
    "limit_param": "limit",
    "from_param": "from",
    "to_param": "to",
    "include_deleted_param": "include_deleted",
    "cursor_param": "cursor",
    "data_key": "data",
    "has_more_key": "has_more",
    "reconcile_days": 30,
    "reconcile_every_hours": 24.0,
}

class CallsApi(VendorApi):
    """A calls API connection: list since a cursor, details, recordings (VendorApi's), and
    a walk of its own: pages by moving `to` down, a reconciliation window of 30 days."""

    KIND = KIND
    FORMAT = agent_platform
    kind = KIND

    def __init__(self, name: str, settings: dict, token: str | None,
                 cancel: threading.Event | None) -> None:
        super().__init__(name, settings, token, cancel)
        self.reconcile_every = float(settings["reconcile_every_hours"]) * 3600

    def detail_url(self, source_id: str) -> str | None:
        return self.base + self.settings["detail_path"].replace("{id}", quote(source_id, safe=""))

    # --- listing ----------------------------------------------------------------------

    def changes(self, cursor: dict | None, full: bool, known: Known) -> Iterator[Page]:
        state = dict(cursor or {})
        guard = LoopGuard(self.name, int(self.settings["max_pages"]))
        if state.get("pass"):
            # Resumed: it does when it was of the kind asked for (a whole-history pass does
            # for any; a reconciliation for one, not for a whole pass).
            enough = state["pass"].get("whole") if full is True else state["pass"]["full"]
            yield from self._walk(state, known, guard)
            if enough or not full:
                return
        state["pass"] = self._new_pass(state.get("since"), full, state.get("passes", 0))
        yield from self._walk(state, known, guard)

    def _new_pass(self, since: str | None, full: bool | str, passes: int) -> dict:
        """A pass: the whole history (`full` True, or the first sync), the reconciliation
        window (RECENT), or what changed since the last pass less the overlap."""
        now = datetime.now(UTC)
        now_micros = int(now.timestamp()) * SECOND
        whole = full is True or since is None
        start = None
        if not whole:
            start = _micros(since) - int(self.settings["overlap_minutes"] * 60 * SECOND)
            if full == RECENT:
                start = min(start, now_micros - int(self.settings["reconcile_days"] * 86_400)
                            * SECOND)
        upper = format_time(now_micros + SECOND)
        return {"full": bool(full) or whole, "whole": whole,
                "pass_number": passes + 1 if whole else 0, "from": format_time(start),
                "to": upper, "upper": upper, "page": int(self.settings["first_page"]),
                "next": None, "by_number": False, "number": 0}

    def _walk(self, state: dict, known: Known, guard: LoopGuard) -> Iterator[Page]:
        """The pass's pages from where the cursor stands; SyncFailed (nothing yielded for
        it, so the cursor stays before it) for a page that cannot be read or a loop.

        The next page is asked for as soon as this one's list says where it starts, so
        that it arrives while this page's details do (the pool's first request)."""
        guard.start_pass()
        ahead: tuple[tuple, Future] | None = None
        while state.get("pass"):
            run = dict(state["pass"])
            run["number"] += 1
            url, params = self._list_request(run)
            label = f"list page {run['number']}"
            where = f"{self.name} {label}"
            if ahead is not None and ahead[0] == (url, params):
                asked = ahead[1]
            else:
                guard.before(url, params, label)
                asked = self.pool.submit(self._read_page, url, params, label)
            ahead = None
            body, items, size = self.pool.result(asked)
            # Moving `to` down, the same calls again only mean the server ignores `to`
            # (_advance then pages by number); by number or by link they mean a loop.
            numbering = bool(run["by_number"] or run["next"]
                             or run["page"] != int(self.settings["first_page"]))
            guard.after([item.get("id", item) if isinstance(item, dict) else item
                         for item in items], label, host_of(url), numbering)
            # Only a page larger than one record's limit can hold an item over it.
            listed, rejects = self._listed(items, where, measure=size > self.max_record)
            done = self._advance(run, body, [record for _, record in listed], len(items))
            if not done:
                ahead = self._ask_ahead(run, guard)
            stored = known.versions(SOURCE, [record["source_id"] for _, record in listed])
            records, rejects = self._completed(listed, stored, where, rejects)
            page = Page(records, rejects, listed=len(items),
                        total=body.get("total") if isinstance(body.get("total"), int) else None)
            page.source, page.pass_number = SOURCE, run.get("pass_number", 0)
            page.seen = [record["source_id"] for record in records]
            if done:
                # "lossy": a page an older version skipped; this stretch is listed again.
                if not run.get("lossy"):
                    state["since"] = run["to"]
                page.full_done = run["full"] and not run.get("lossy")
                page.whole_history = bool(run.get("whole")) and not run.get("lossy")
                if page.whole_history:
                    state["passes"] = run["pass_number"]
                state["pass"] = None
            else:
                state["pass"] = run
            page.cursor = copy_state(state)
            yield page

    def _ask_ahead(self, run: dict, guard: LoopGuard) -> tuple[tuple, Future] | None:
        """The request for the page after `run`'s, sent now: ((url, params), its answer to
        come); None when it may not be sent (its failure is raised in its turn, after this
        page is committed)."""
        following = dict(run, number=run["number"] + 1)
        label = f"list page {following['number']}"
        try:
            url, params = self._list_request(following)
            guard.before(url, params, label)
        except SyncFailed:
            return None
        return (url, params), self.pool.submit(self._read_page, url, params, label)

    def _read_page(self, url: str, params: dict | None,
                   label: str) -> tuple[dict, list, int]:
        """The list page's answer, its items and its size; SyncFailed naming the page and
        what came back when it is not a page of calls."""
        answer = self.http.fetch(url, params=params, auth=True, label=label)
        if answer.response.status_code != 200:
            raise status_failure(answer.response)
        body, problem = json_answer(answer)
        items = body.get(self.settings["data_key"]) if isinstance(body, dict) else None
        if problem is None and not isinstance(items, list):
            problem = (f"JSON that is not a page of calls (no '{self.settings['data_key']}' "
                       "list); check the connection's address and its data_key setting")
        if problem is not None:
            raise SyncFailed(sentence(f"The calls API at {host_of(answer.response.url or url)} "
                                       f"answered {label} with {problem}"))
        return body, items, len(answer.content)

    def _list_request(self, run: dict) -> tuple[str, dict | None]:
        s = self.settings
        if run["next"] and ("://" in run["next"] or run["next"].startswith("/")):
            following = urljoin(self.base + "/", run["next"])
            if urlsplit(following).netloc != urlsplit(self.base).netloc:
                # The token goes with list requests: never to another host.
                raise SyncFailed(f"The calls API sent its next page to another address "
                                 f"({urlsplit(following).netloc}); it was not followed.")
            return following, None
        params = {s["limit_param"]: s["page_size"],
                  s["include_deleted_param"]: "true" if run["full"] else "false"}
        if run["next"]:
            params[s["cursor_param"]] = run["next"]
        else:
            params[s["page_param"]] = run["page"]
        if run["from"]:
            params[s["from_param"]] = run["from"]
        params[s["to_param"]] = run["upper"]
        return self.base + s["list_path"], params

    def _advance(self, run: dict, body: dict, records: list[dict], count: int) -> bool:
        """Move the pass past this page; True when it was the last."""
        following = body.get("next") or body.get("next_cursor")
        if isinstance(following, (str, int)) and not isinstance(following, bool) and count:
            run["next"] = str(following)
            return False
        more = body.get(self.settings["has_more_key"])
        if not (more is True or (more is None and count >= int(self.settings["page_size"]))):
            return True
        upper = _micros(run["upper"])
        times = [r["created_at"] for r in records if r.get("created_at") is not None]
        if times and max(times) >= upper:
            run["by_number"] = True  # the server does not honour `to`
        oldest = min(times) if times else None
        if not run["by_number"] and oldest is not None and oldest // SECOND * SECOND + SECOND \
                < upper:
            run["upper"] = format_time(oldest // SECOND * SECOND + SECOND)
            run["page"] = int(self.settings["first_page"])
        else:
            run["page"] += 1
        return False

    def _listed(self, items: list, where: str,
                measure: bool = False) -> tuple[list[tuple[int, dict]], list[Reject]]:
        """The page's items read as records ((item number, record)), and its rejects."""
        listed: list[tuple[int, dict]] = []
        rejects: list[Reject] = []
        for index, item in enumerate(items, 1):
            if measure and len(orjson.dumps(item)) > self.max_record:
                rejects.append(Reject(where, f"item {index}", source_id_of(item), None,
                                      self.too_large()))
                continue
            try:
                if not isinstance(item, dict):
                    raise RecordError("record", f"expected a JSON object, got "
                                      f"{type(item).__name__}")
                listed.append((index, agent_platform.parse(item, Origin())))
            except RecordError as exc:
                rejects.append(Reject(where, f"item {index}", source_id_of(item), exc.field,
                                      exc.reason))
        return listed, rejects

    def _complete(self, index: int, record: dict, stored: tuple | None,
                  where: str) -> tuple[list[dict], list[Reject]]:
        """A listed call in detail where it needs it (on a worker thread: no writes); a
        detail that cannot be used is a reject unless the list says the call is deleted."""
        if not needs_detail(record, stored):
            return [record], []
        detail, problem = self._detail_or_problem(record["source_id"])
        if detail is not None:
            return [detail], []
        if problem is not None and record.get("deleted_at") is None:
            return [record], [Reject(where, f"item {index} detail", record["source_id"],
                                     problem[0], problem[1])]
        return [record], []

    # --- Preferences' "Test connection" --------------------------------------------------

    def probe(self) -> str:
        """What the first list page says, in one sentence ("Connected: 1,284 calls since
        3 Mar", or what is wrong); one request."""
        return probe_sentence("The calls API", self._probe)

    def _probe(self) -> str:
        run = self._new_pass(None, True, 0)
        run["number"] = 1
        url, params = self._list_request(run)
        body, items, _size = self._read_page(url, params, "list page 1")
        more = body.get(self.settings["has_more_key"])
        following = body.get("next") or body.get("next_cursor")
        more = bool(following) or more is True or (
            more is None and len(items) >= int(self.settings["page_size"]))
        total = body.get("total")
        records = readable(self.parse, items)
        return found_sentence(records, len(items), more,
                              total if isinstance(total, int) else None)


def _micros(stamp: str) -> int:
    from callviewer.record import parse_time

    return parse_time(stamp, "cursor")


CONNECTION = CallsApi  # what sync/connection.py opens for this kind
