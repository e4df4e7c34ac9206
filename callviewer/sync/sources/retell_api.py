"""Retell AI's calls API as a sync connection.

From Retell's API reference (docs.retellai.com/api-references: "List Calls",
``POST /v3/list-calls``, and "Get Call", ``GET /v2/get-call/{call_id}``; the
OpenAPI document "Retell SDK 3.0.0" behind them, its ``components.responses``
for errors, and Retell's generated SDK, github.com/RetellAI/retell-python-sdk:
src/retell/resources/call.py ``list`` / ``retrieve``, types/call_list_params.py,
types/call_list_response.py; before its 2026 v3 release the same ``list`` was
``POST /v2/list-calls``):

    POST {url}/v3/list-calls                       (api_version=v3, the current one)
        Authorization: Bearer KEY
        {"sort_order": "descending", "limit": 100, "pagination_key": "<opaque>",
         "filter_criteria": {"start_timestamp": {"type": "number", "op": "ge",
                                                 "value": <epoch ms>}}}
        -> {"items": [Call, ...], "has_more": true, "pagination_key": "<opaque>"}
    POST {url}/v2/list-calls                       (api_version=v2, the earlier one)
        {"sort_order": "descending", "limit": 100, "pagination_key": "<call_id>",
         "filter_criteria": {"start_timestamp": {"lower_threshold": <epoch ms>}}}
        -> [Call, ...]
    GET {url}/v2/get-call/{call_id}
        -> the Call, whole

Calls are sorted by ``start_timestamp``. The v2 ``pagination_key`` is the last
call id of the page before, exclusive; a page shorter than ``limit`` is the
last. The v3 key is opaque, given with ``has_more``. Either way a page is
asked for *after a call*, never by offset, so calls started meanwhile (at the
top) never shift a page. ``limit`` is at most 1,000 (default 50).

The v3 list omits ``transcript``, ``transcript_object``,
``transcript_with_tool_calls`` and ``recording_url`` ("fetch those per call
with get-call"); the v2 list gave whole calls. So a listed call is read in
detail when it is new or was not yet ended when last read, or when the list
shows it further on (``call_analysis`` arrives minutes after the end: the
``call_analyzed`` event of Retell's webhook guide). A call with its analysis
stored needs no detail again: what changes after that (analysis re-run,
metadata) is in the list item itself. Retell's calls have no update time, so
an incremental pass asks for calls *started* since the last pass less the
overlap: 180 minutes, beyond the longest call (``max_call_duration_ms``, at
most 2 hours) plus the analysis, so a call still running or not yet analysed
at the last pass is listed again.

The recording is ``recording_url``: a storage link that needs no key (signed
and expiring after 24 hours when the agent has ``opt_in_signed_url``); it is
archived as soon as the call is synced, and a link that expired is asked for
again through get-call. Retell deletes a call on ``DELETE /v2/delete-call`` and
by the agent's ``data_storage_retention_days``; either way the call is no
longer listed, and the next full walk marks it deleted at the source.

Errors are ``{"status": "error", "message": …}``: 401 "API key is missing or
invalid.", 429 "Account rate limited, please throttle your requests." (waited
for as Retry-After says), 500; get-call documents no 404, and answers a call
id it does not have with 422 "Cannot find requested asset under given api
key.", read here as "no longer there".
"""

from __future__ import annotations

import threading
from urllib.parse import quote

from callviewer.sync import retell
from callviewer.sync.errors import SyncFailed
from callviewer.sync.sources.paging import host_of
from callviewer.sync.sources.vendor_api import COMMON_DEFAULTS, Listing, Request, VendorApi

KIND = "retell"
VERSIONS = ("v2", "v3")
DEFAULTS = {
    **COMMON_DEFAULTS,
    "url": "https://api.retellai.com",
    # longer than Retell's longest call (2 hours) and its analysis after it
    "overlap_minutes": 180,
    "api_version": "v3",
    "list_path": "/{version}/list-calls",
    "detail_path": "/v2/get-call/{id}",
    "page_size": 100,
    "limit_key": "limit",
    "sort_key": "sort_order",
    "sort_order": "descending",
    "pagination_key": "pagination_key",
    "filter_key": "filter_criteria",
    "time_filter_key": "start_timestamp",
    "v2_lower_key": "lower_threshold",  # v2: {"lower_threshold": ms}
    "v3_filter_op": "ge",  # v3: {"type": "number", "op": "ge", "value": ms}
    "items_key": "items",  # v3's answer
    "has_more_key": "has_more",
}
# Links a list item lacking recording_url (v3) must not stand in for it.
_SCRUBBED_RECORDINGS = ("scrubbed_recording_url", "scrubbed_recording_multi_channel_url")
ENDED = 2  # retell.py's progress of an ended call (3: with its analysis)



class RetellApi(VendorApi):
    """Retell: list-calls pages (POST, newest first), get-call for each new call."""

    KIND = KIND
    FORMAT = retell
    WHAT = "The Retell API"
    LIST_IS_DETAIL = False
    DETAIL_GONE = (404, 422)  # get-call answers an id it does not have with 422

    def __init__(self, name: str, settings: dict, secret: str | None,
                 cancel: threading.Event | None) -> None:
        version = str(settings.get("api_version") or "").strip().lower()
        if version not in VERSIONS:
            raise SyncFailed(f"The connection {name} asks for Retell's API version "
                             f"{version or '(none)'}; use api_version=v3 or v2.")
        super().__init__(name, settings, secret, cancel)
        self.version = version

    def list_request(self, run: dict) -> Request:
        s = self.settings
        body: dict = {s["sort_key"]: s["sort_order"], s["limit_key"]: int(s["page_size"])}
        if run["token"]:
            body[s["pagination_key"]] = run["token"]
        if run["after"] is not None:
            since = run["after"] // 1000  # epoch µs -> Retell's epoch ms
            body[s["filter_key"]] = {s["time_filter_key"]: (
                {s["v2_lower_key"]: since} if self.version == "v2" else
                {"type": "number", "op": s["v3_filter_op"], "value": since})}
        url = self.base + s["list_path"].replace("{version}", self.version)
        return Request(url, json=body, method="POST")

    def read_list(self, body: object) -> Listing:
        s = self.settings
        if isinstance(body, list):  # v2: a bare array; the last call's id asks for the next
            items = body
            more, key = len(items) >= int(s["page_size"]), None
        elif isinstance(body, dict) and isinstance(body.get(s["items_key"]), list):
            items = body[s["items_key"]]
            more, key = body.get(s["has_more_key"]), body.get(s["pagination_key"])
            if more is None:  # not said: a full page with a key goes on
                more = bool(key) and len(items) >= int(s["page_size"])
        else:
            raise self.not_a_page(body)
        items = [_as_listed(item) for item in items]
        if not more or not items:
            return Listing(items)
        if key is None and isinstance(body, list):
            key = items[-1].get("call_id") if isinstance(items[-1], dict) else None
        if not isinstance(key, str) or not key:
            raise SyncFailed(f"{self.WHAT} at {host_of(self.base)} said more calls follow "
                             "but gave no pagination_key to ask for them; the sync stopped "
                             "there.")
        return Listing(items, next=key)

    def wants_detail(self, record: dict, stored: tuple | None) -> bool:
        if stored is None:
            return True
        progress = stored[1] or 0
        return progress < ENDED or (record.get("progress") or 0) > progress

    def detail_url(self, source_id: str) -> str | None:
        return self.base + self.settings["detail_path"].replace("{id}", quote(source_id, safe=""))


def _as_listed(item: object) -> object:
    """A list item without the scrubbed recording links when it lacks `recording_url` (v3
    leaves it out): the format would take the scrubbed one for the recording, and the list
    does not say which recording a call has; get-call does."""
    if isinstance(item, dict) and "recording_url" not in item \
            and any(key in item for key in _SCRUBBED_RECORDINGS):
        return {key: value for key, value in item.items() if key not in _SCRUBBED_RECORDINGS}
    return item


CONNECTION = RetellApi  # what sync/connection.py opens for this kind
