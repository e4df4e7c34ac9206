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
days with ``include_deleted=true``; so does the first sync, over everything.

List items lack the detail fields: every call new to the store, changed
(a later ``updated_at``) or never read in detail is fetched in detail.
Records are read by callviewer/sync/agent_platform.py, the same parser as
files of the format.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import orjson

from callviewer.record import RecordError, format_time
from callviewer.sync import agent_platform
from callviewer.sync.base import Origin
from callviewer.sync.connection import Known, Page, RecordingUnavailable
from callviewer.sync.http import DEFAULTS as HTTP_DEFAULTS
from callviewer.sync.http import HttpClient, HttpStatus, SyncFailed, status_failure
from callviewer.sync.importer import Reject, source_id_of

KIND = "calls-api"
SOURCE = agent_platform.NAME
SECOND = 1_000_000
DEFAULTS = {
    **HTTP_DEFAULTS,
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
    "overlap_minutes": 120,
    "reconcile_days": 30,
    "reconcile_every_hours": 24.0,
}


def open(name: str, settings: dict, token: str | None,
         cancel: threading.Event | None) -> CallsApi:
    """The connection for these settings."""
    return CallsApi(name, settings, token, cancel)


class CallsApi:
    """A calls API connection: list since a cursor, details, recordings."""

    kind = KIND

    def __init__(self, name: str, settings: dict, token: str | None,
                 cancel: threading.Event | None) -> None:
        if not str(settings.get("url") or "").startswith(("http://", "https://")):
            raise SyncFailed(f"The connection {name} has no http:// or https:// address.")
        self.name = name
        self.settings = settings
        self.base = settings["url"].rstrip("/")
        self.http = HttpClient(settings, token, cancel)
        self.reconcile_every = float(settings["reconcile_every_hours"]) * 3600

    def close(self) -> None:
        self.http.close()

    # --- listing ----------------------------------------------------------------------

    def changes(self, cursor: dict | None, full: bool, known: Known) -> Iterator[Page]:
        state = dict(cursor or {})
        if state.get("pass"):
            resumed_full = state["pass"]["full"]
            yield from self._walk(state, known)
            if resumed_full or not full:
                return
        state["pass"] = self._new_pass(state.get("since"), full)
        yield from self._walk(state, known)

    def _new_pass(self, since: str | None, full: bool) -> dict:
        now = datetime.now(UTC)
        now_micros = int(now.timestamp()) * SECOND
        start = None
        if since is not None:
            start = _micros(since) - int(self.settings["overlap_minutes"] * 60 * SECOND)
            if full:
                start = min(start, now_micros - int(self.settings["reconcile_days"] * 86_400)
                            * SECOND)
        upper = format_time(now_micros + SECOND)
        return {"full": bool(full or since is None), "from": format_time(start), "to": upper,
                "upper": upper, "page": int(self.settings["first_page"]), "next": None,
                "by_number": False, "lossy": False, "number": 0}

    def _walk(self, state: dict, known: Known) -> Iterator[Page]:
        while state.get("pass"):
            run = dict(state["pass"])
            run["number"] += 1
            url, params = self._list_request(run)
            where = f"{self.name} list page {run['number']}"
            response = self.http.get(url, params=params, auth=True)
            if response.status_code != 200:
                raise status_failure(response)
            body, problem = _json(response.content)
            items = body.get(self.settings["data_key"]) if isinstance(body, dict) else None
            if not isinstance(items, list):
                # A page that cannot be read: say so, go on, and keep the cursor where it
                # was at the end, so that the next sync lists this stretch again.
                reason = problem or f"no '{self.settings['data_key']}' list in the answer"
                run["lossy"] = True
                run["page"] += 1
                state["pass"] = run
                yield Page([], [Reject(where, "", None, None, f"page not read: {reason}")],
                           cursor=_copy(state))
                continue
            records, rejects = self._read_items(items, where, known)
            done = self._advance(run, body, records, len(items))
            page = Page(records, rejects, listed=len(items),
                        total=body.get("total") if isinstance(body.get("total"), int) else None)
            if done:
                if not run["lossy"]:
                    state["since"] = run["to"]
                page.full_done = run["full"] and not run["lossy"]
                state["pass"] = None
            else:
                state["pass"] = run
            page.cursor = _copy(state)
            yield page

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

    def _read_items(self, items: list, where: str,
                    known: Known) -> tuple[list[dict], list[Reject]]:
        listed: list[tuple[int, dict]] = []
        rejects: list[Reject] = []
        for index, item in enumerate(items, 1):
            try:
                if not isinstance(item, dict):
                    raise RecordError("record", f"expected a JSON object, got "
                                      f"{type(item).__name__}")
                listed.append((index, agent_platform.parse(item, Origin())))
            except RecordError as exc:
                rejects.append(Reject(where, f"item {index}", source_id_of(item), exc.field,
                                      exc.reason))
        stored = known.versions(SOURCE, [record["source_id"] for _, record in listed])
        records = []
        for index, record in listed:
            if _needs_detail(record, stored.get(record["source_id"])):
                detail, problem = self._detail_or_problem(record["source_id"])
                if detail is not None:
                    record = detail
                elif problem is not None and record.get("deleted_at") is None:
                    rejects.append(Reject(where, f"item {index} detail", record["source_id"],
                                          problem[0], problem[1]))
            records.append(record)
        return records, rejects

    # --- details and recordings ----------------------------------------------------------

    def fetch_detail(self, source_id: str) -> dict | None:
        detail, problem = self._detail_or_problem(source_id)
        if problem is not None and problem[1] == "not found (404)":
            return None
        if problem is not None:
            raise SyncFailed(f"The details of call {source_id} could not be read: {problem[1]}.")
        return detail

    def _detail_or_problem(self, source_id: str) -> tuple[dict | None, tuple | None]:
        """(record, None), or (None, (field, reason)) for a detail that cannot be used."""
        path = self.settings["detail_path"].replace("{id}", quote(source_id, safe=""))
        response = self.http.get(self.base + path, auth=True)
        if response.status_code == 404:
            return None, (None, "not found (404)")
        if response.status_code != 200:
            raise status_failure(response)
        body, problem = _json(response.content)
        if problem is not None:
            return None, (None, f"not read: {problem}")
        if isinstance(body, dict) and isinstance(body.get(self.settings["data_key"]), dict):
            body = body[self.settings["data_key"]]  # {"data": {...}}
        if not isinstance(body, dict):
            return None, (None, "not read: not a JSON object")
        try:
            record = agent_platform.parse(body, Origin())
        except RecordError as exc:
            return None, (exc.field, exc.reason)
        if record["source_id"] != source_id:
            return None, ("id", f"is another call's ({record['source_id']})")
        return record, None

    def fetch_recording(self, reference: str, part: Path) -> None:
        try:
            self.http.download(reference, part)
        except HttpStatus as exc:
            raise RecordingUnavailable(exc.code, str(exc)) from None

    def can_serve(self, reference: str) -> bool:
        with self.http.get(reference, headers={"Range": "bytes=0-0"}, stream=True) as answer:
            return answer.status_code in (200, 206)


def _needs_detail(record: dict, stored: tuple | None) -> bool:
    """New, changed since stored (by updated_at), or never read in detail."""
    if stored is None:
        return True
    updated_at, progress = stored
    if progress == 0 or record.get("updated_at") is None or updated_at is None:
        return True
    return record["updated_at"] > updated_at


def _json(content: bytes) -> tuple[object, str | None]:
    """(the decoded body, None), or (None, why it is not JSON)."""
    try:
        return orjson.loads(content), None
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("unexpected end of data"):
            return None, "the JSON ends too early (truncated)"
        return None, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"


def _micros(stamp: str) -> int:
    from callviewer.record import parse_time

    return parse_time(stamp, "cursor")


def _copy(state: dict) -> dict:
    return orjson.loads(orjson.dumps(state))

