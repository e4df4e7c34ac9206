"""The Twilio-based call module (the seed's ``src/mods/call``) as a sync connection.

From the call module's reference (docs-code.loquent.io/modules/call: "Data Model" — Call,
CallDetails, CallAnalysisGroup, CallAnalysisRun; "API Endpoints"; "Recording Endpoint"):

    GET  {url}/api/calls                 -> [Call, ...]   the organization's calls
    GET  {url}/api/calls/:id             -> CallDetails   (transcription, analysis_groups)
    GET  {url}/api/calls/:id/recording   -> the MP3 (audio/mpeg), read from {call_sid}.mp3
    POST {url}/api/calls/:id/rerun       re-runs every active analyzer; the earlier runs
                                         are kept and the new ones appended
    every request:  Cookie: session=VALUE   ("All endpoints require an authenticated
                                             Session"); without it, 401

The list is documented without paging, filters or order: each pass asks for the whole
list once (its size bounded by ``max_response_mb``), orders it itself newest first (by
``created_at``, then ``id``) and takes it ``page_size`` calls at a time, each such page
committed with the cursor (where in that order it stands), so a sync that stops (a
failure, a kill) goes on, asking for the list again, after the last call committed; a call
added meanwhile is newer than the cursor and comes with the next pass, nothing shifts.
``max_pages`` bounds the pages of one sync. As every pass lists every call, every pass is
a walk of the whole history: a call the module no longer lists is marked deleted at the
source on the next sync (never removed). The list's ``Call`` has no change time, so every
call is read in detail on each pass (``CallDetails``): that is how the runs of a re-run
analysis arrive, appended to the stored ones. A call with ``has_recording`` gets the
recording endpoint as its recording, a link of the module's own sent with the session
cookie. Records are read by the format module callviewer/sync/twilio.py (source
"twilio").

The secret is the session cookie's value; its name is the ``cookie_name`` setting.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

from callviewer.record import RecordError, parse_time
from callviewer.sync import twilio
from callviewer.sync.errors import SyncFailed
from callviewer.sync.http import Credentials
from callviewer.sync.sources.paging import host_of
from callviewer.sync.sources.vendor_api import COMMON_DEFAULTS, Listing, Request, VendorApi

KIND = "call-module"
DEFAULTS = {
    **COMMON_DEFAULTS,
    "url": "",  # self-hosted: the module's own address, always given
    "list_path": "/api/calls",
    "list_key": "",  # the list answer's key holding the calls ("": the answer is the list)
    "detail_path": "/api/calls/{id}",
    "recording_path": "/api/calls/{id}/recording",
    "rerun_path": "/api/calls/{id}/rerun",
    "cookie_name": "session",
    "page_size": 100,  # calls committed together (the list itself comes whole)
}
RERUN_ASKED = "Analysis re-run asked for; the new run arrives with the next sync."



class CallModuleApi(VendorApi):
    """The call module: `GET /api/calls` whole, taken a page at a time; details; the MP3."""

    KIND = KIND
    FORMAT = twilio
    WHAT = "The call module"

    def __init__(self, name: str, settings: dict, secret: str | None,
                 cancel: threading.Event | None) -> None:
        super().__init__(name, settings, secret, cancel)
        self._whole: list | None = None  # this pass's list, newest first

    def credentials(self, secret: str | None) -> Credentials:
        cookie = f"{self.settings['cookie_name']}={secret}" if secret else None
        return Credentials.header("Cookie", cookie)

    # --- the list --------------------------------------------------------------------

    def _new_pass(self, since: str | None, full: bool | str, passes: int) -> dict:
        # The whole list every time: every pass is a walk of the whole history.
        return super()._new_pass(since, True, passes)

    def list_request(self, run: dict) -> Request:
        return Request(self.base + self.settings["list_path"], position=run["token"])

    def read_list(self, body: object) -> Listing:
        key = self.settings["list_key"]
        items = body.get(key) if key and isinstance(body, dict) else body
        if not isinstance(items, list):
            raise self.not_a_page(body)
        return Listing(items)

    def _read_page(self, request: Request, label: str) -> Listing:
        """The page after `request.position` of the list, asked for at a pass's start (and
        again when a stopped sync goes on)."""
        if request.position is None or self._whole is None:
            listed = super()._read_page(request, label).items
            self._whole = sorted(listed, key=_order_key, reverse=True)
        after = request.position
        rest = self._whole if after is None else \
            [item for item in self._whole if _order_key(item) < tuple(after)]
        size = max(int(self.settings["page_size"]), 1)
        page = rest[:size]
        if len(rest) <= size:
            return Listing(page, total=len(self._whole))
        return Listing(page, next=list(_order_key(page[-1])), total=len(self._whole))

    # --- details, recordings, re-runs ----------------------------------------------------

    def parse(self, value: object) -> dict:
        record = super().parse(value)
        if record.get("has_recording"):
            record["recording"] = self._call_url("recording_path", record["source_id"])
        return record

    def detail_url(self, source_id: str) -> str | None:
        return self._call_url("detail_path", source_id)

    def recording_needs_auth(self, reference: str) -> bool:
        return reference.startswith(self.base + "/")  # the module's own endpoint

    def rerun(self, source_id: str) -> str:
        """Ask the module to run its analyzers on a call again (once: never retried); the
        sentence saying what happened."""
        try:
            answer = self.http.send_once("POST", self._call_url("rerun_path", source_id),
                                         what=self.WHAT)
        except SyncFailed as exc:
            return str(exc)
        with answer:
            code = answer.status_code
        if 200 <= code < 300:
            return RERUN_ASKED
        if code in (401, 403):
            return (f"{self.WHAT} at {host_of(self.base)} refused the session cookie — sign "
                    "in again and give the new one in Preferences.")
        if code == 404:
            return f"{self.WHAT} at {host_of(self.base)} no longer has this call."
        return (f"{self.WHAT} at {host_of(self.base)} answered {code}; the analysis was not "
                "re-run.")

    def _call_url(self, setting: str, source_id: str) -> str:
        return self.base + self.settings[setting].replace("{id}", quote(source_id, safe=""))


def _order_key(item: Any) -> tuple[int, str]:
    """Newest first: (created_at in epoch µs, id); an item without a readable time last."""
    if not isinstance(item, dict):
        return (0, "")
    try:
        created = parse_time(item.get("created_at"), "created_at") or 0
    except RecordError:
        created = 0
    return (created, str(item.get("id") or ""))


CONNECTION = CallModuleApi  # what sync/connection.py opens for this kind
