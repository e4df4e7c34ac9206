"""Vapi's calls API as a sync connection.

From Vapi's API reference ("Calls": List Calls, Get Call; its OpenAPI document's
``GET /call`` and ``GET /call/{id}``, bearer authentication with the private
API key):

    GET {url}/call?limit=100&createdAtLt=T&updatedAtGt=A
        Authorization: Bearer KEY
        -> [Call, ...]  newest first by createdAt (or {"results": [...], "metadata"})
    GET {url}/call/{id}
        -> the Call

Calls listed are whole (transcript, analysis, artifact): no detail is asked.
Pages are walked by moving ``createdAtLt`` down to the oldest call of the page
while a page is full, so calls created meanwhile never shift a page. An
incremental pass asks for ``updatedAtGt`` (the last pass less the overlap), so
a call whose analysis arrived late is listed again. The recording is
``artifact.recordingUrl`` (or ``recording.mono.combinedUrl``), a storage link
that needs no key; it is archived as soon as the call is synced.
"""

from __future__ import annotations

from urllib.parse import quote

from callviewer.record import parse_time
from callviewer.sync import vapi
from callviewer.sync.errors import SyncFailed
from callviewer.sync.sources.vendor_api import (
    COMMON_DEFAULTS,
    Listing,
    Request,
    VendorApi,
    iso_seconds,
)

KIND = "vapi"
DEFAULTS = {
    **COMMON_DEFAULTS,
    "url": "https://api.vapi.ai",
    "list_path": "/call",
    "detail_path": "/call/{id}",
    "page_size": 100,
    "limit_param": "limit",
    "before_param": "createdAtLt",
    "updated_after_param": "updatedAtGt",
}



class VapiApi(VendorApi):
    """Vapi: `GET /call` pages, newest first."""

    KIND = KIND
    FORMAT = vapi
    WHAT = "The Vapi API"
    LIST_IS_DETAIL = True

    def list_request(self, run: dict) -> Request:
        s = self.settings
        params = {s["limit_param"]: int(s["page_size"])}
        if run["token"]:
            params[s["before_param"]] = run["token"]
        if run["after"] is not None:
            params[s["updated_after_param"]] = iso_seconds(run["after"])
        return Request(self.base + s["list_path"], params)

    def read_list(self, body: object) -> Listing:
        items = body.get("results") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise self.not_a_page(body)
        if len(items) < int(self.settings["page_size"]):
            return Listing(items)
        created = [item.get("createdAt") for item in items if isinstance(item, dict)]
        created = [stamp for stamp in created if isinstance(stamp, str)]
        if not created:
            raise SyncFailed(f"{self.WHAT} answered a full list page without createdAt "
                             "times, so its next page cannot be asked for.")
        oldest = min(created, key=lambda stamp: parse_time(stamp, "createdAt"))
        return Listing(items, next=oldest)

    def detail_url(self, source_id: str) -> str | None:
        return self.base + self.settings["detail_path"].replace("{id}", quote(source_id, safe=""))


CONNECTION = VapiApi  # what sync/connection.py opens for this kind
