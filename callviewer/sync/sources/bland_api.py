"""Bland AI's calls API as a sync connection.

From Bland's API reference (https://docs.bland.ai): "List Calls" (api-v1/get/calls),
"Call Details" (api-v1/get/calls-id) and "Get Call Recording"
(api-v1/get/calls-id-recording):

    GET {url}/v1/calls?from=I&to=J&limit=N&ascending=true&sort_by=created_at
        [&start_date=YYYY-MM-DD]                         authorization: KEY
        -> {"total_count": T, "count": n, "calls": [summary, ...]}
           ``from`` the first index (inclusive) and ``to`` the index to stop before, in
           the list as sorted; ``limit`` at most 1000 (its default); ``ascending``
           false by default (newest first); ``sort_by`` created_at by default;
           ``start_date``/``end_date`` filter by creation
    GET {url}/v1/calls/{call_id}
        -> the whole call: inbound, started_at, corrected_duration, transcripts,
           concatenated_transcript, summary, analysis, recording_url, variables…
    GET {url}/v1/recordings/{call_id}                    authorization: KEY
        -> the recording's audio (WAV unless asked for audio/mpeg); errors as
           {"data": null, "errors": [{"error": "CALL_RECORDING_NOT_FOUND", …}]}

Authentication (every page's "Headers"): the API key itself in the ``authorization``
header, no "Bearer". A wrong key is answered 401 with Bland's error envelope
(``{"data": null, "errors": [{"error": "AUTH_FAILURE", "message": …}]}``), a sentence
here ("The API token was refused"). Rate limits answer 429, retried with Retry-After.

The list's items are summaries (call_id, created_at, call_length, to, from, completed,
queue_status, error_message, answered_by, batch_id: no direction, transcript or
recording), read by the format module (sync/bland.py) and completed by the detail for a
call that is new, never read in detail, further on in its life than the version stored
(queued → live → over), or created within the overlap window of an incremental pass (an
analysis or a recording that arrived after the call ended); a walk of the whole history
(``full_pass_details``) reads every call's detail again, so a recording or transcript
removed by Bland's retention, or an analysis run again, reaches the store.

Pages are walked oldest first (``ascending=true``, sorted by ``created_at``) by index,
so a call created meanwhile is added at the end and never shifts a page. Each page is
asked for from ``page_overlap`` calls before where the last one ended, and what was
already listed is left out by creation time and id: a call deleted at the source
meanwhile (which moves every later call one index down) loses no call. An incremental
pass asks for ``start_date`` the day (UTC) of the last pass less the overlap window: the
filter is by creation, so calls created within it are listed again.

The recording is the detail's ``recording_url``: a storage link, downloaded without the
key; a link to the API's own address (its ``key_paths``, as ``/v1/recordings/{id}``)
gets the key, a link anywhere else never does. A call deleted at the source is absent
from the next full walk and marked deleted (vendor_api.py); Bland has no purge of its
own.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from callviewer.record import RecordError, parse_time
from callviewer.sync import bland
from callviewer.sync.http import Credentials
from callviewer.sync.importer import source_id_of
from callviewer.sync.sources.vendor_api import (
    COMMON_DEFAULTS,
    SECOND,
    Listing,
    Request,
    VendorApi,
)

log = logging.getLogger(__name__)

KIND = "bland"
DEFAULTS = {
    **COMMON_DEFAULTS,
    "url": "https://api.bland.ai",
    "list_path": "/v1/calls",
    "detail_path": "/v1/calls/{id}",
    "page_size": 100,  # the API takes up to 1000 (its default)
    "page_overlap": 5,  # calls asked for again before each page, to see the list shift
    "from_param": "from",
    "to_param": "to",
    "limit_param": "limit",
    "ascending_param": "ascending",
    "sort_param": "sort_by",
    "sort_by": "created_at",
    "since_param": "start_date",
    "since_format": "%Y-%m-%d",  # strftime of the filter's time, in UTC
    "calls_key": "calls",
    "total_key": "total_count",
    "key_header": "authorization",
    "key_paths": "/v1/",  # links under the API's address and these paths get the key
    "full_pass_details": True,  # a full pass reads every call's detail again
}



class BlandApi(VendorApi):
    """Bland: `GET /v1/calls` pages by index, oldest first; `GET /v1/calls/{id}`."""

    KIND = KIND
    FORMAT = bland
    WHAT = "The Bland API"

    def __init__(self, name: str, settings: dict, secret: str | None,
                 cancel: threading.Event | None) -> None:
        super().__init__(name, settings, secret, cancel)
        # The page asked for: (its first index, where the last page ended, the last
        # page's end as [created_at µs, ids]); and the pass (full; after, epoch µs).
        self.asked: tuple[int, int, list | None] = (0, 0, None)
        self.full_pass = False
        self.after: int | None = None

    def credentials(self, secret: str | None) -> Credentials:
        return Credentials.header(self.settings["key_header"], secret)

    # --- the list ---------------------------------------------------------------------

    def list_request(self, run: dict) -> Request:
        s = self.settings
        size = max(1, int(s["page_size"]))
        ended = int(run["token"] or 0)
        back = min(max(0, int(s["page_overlap"])), size - 1, ended)
        start = ended - back
        self.asked = (start, ended, run.get("boundary") if ended else None)
        self.full_pass = bool(run.get("full"))
        self.after = run["after"]
        params: dict = {s["from_param"]: start, s["to_param"]: start + size,
                        s["limit_param"]: size, s["ascending_param"]: "true",
                        s["sort_param"]: s["sort_by"]}
        if run["after"] is not None:
            moment = datetime.fromtimestamp(max(0, run["after"]) / SECOND, UTC)
            params[s["since_param"]] = moment.strftime(s["since_format"])
        return Request(self.base + s["list_path"], params, position=start)

    def read_list(self, body: object) -> Listing:
        s = self.settings
        items = body
        if isinstance(body, dict):
            data = body.get("data")
            holder = data if isinstance(data, dict) and s["calls_key"] in data else body
            items = holder.get(s["calls_key"])
        if not isinstance(items, list):
            raise self.not_a_page(body)
        total = body.get(s["total_key"]) if isinstance(body, dict) else None
        total = total if isinstance(total, int) and not isinstance(total, bool) else None
        start, ended, boundary = self.asked
        fresh = self._after_boundary(items, boundary, ended)
        if len(items) < max(1, int(s["page_size"])):
            return Listing(fresh, total=total)
        return Listing(fresh, next=start + len(items), total=total,
                       extra={"boundary": _boundary(items)})

    def _after_boundary(self, items: list, boundary: list | None, ended: int) -> list:
        """The items not listed by the page before: after its last call by creation time
        (or at the same time, another call)."""
        if not boundary:
            return items
        at, ids = boundary[0], set(boundary[1])
        fresh, anchored = [], False
        for item in items:
            when = _created(item)
            if when is not None and (when < at or (when == at and source_id_of(item) in ids)):
                anchored = True
                fresh = []  # everything up to here was listed before
                continue
            fresh.append(item)
        if not anchored and items:
            log.info("%s: the page from index %d did not reach back to the last page's end; "
                     "more calls than page_overlap were deleted meanwhile", self.name, ended)
        return fresh

    # --- details ----------------------------------------------------------------------

    def wants_detail(self, record: dict, stored: tuple | None) -> bool:
        if stored is None:
            return True
        progress = stored[1] or 0
        if progress % 2 == 0:
            return True  # only ever seen as a list item
        if self.full_pass and self.settings["full_pass_details"]:
            return True
        listed = record.get("progress")
        if listed is not None and listed >= progress:
            return True  # further on than the detail stored (queued → live → over)
        created = record.get("created_at")
        return self.after is not None and isinstance(created, int) and created >= self.after

    def detail_url(self, source_id: str) -> str | None:
        return self.base + self.settings["detail_path"].replace("{id}", quote(source_id,
                                                                              safe=""))

    def recording_needs_auth(self, reference: str) -> bool:
        """A link to the API's own address under one of its ``key_paths`` (the Get Call
        Recording endpoint); a storage link, or any other host, never gets the key."""
        try:
            link, api = urlsplit(reference), urlsplit(self.base)
        except ValueError:
            return False
        if (link.scheme, link.netloc.lower()) != (api.scheme, api.netloc.lower()):
            return False
        paths = [p.strip() for p in str(self.settings["key_paths"]).split(",") if p.strip()]
        return any(link.path.startswith(api.path.rstrip("/") + path) for path in paths)


def _created(item: object) -> int | None:
    """A listed call's creation time (epoch µs), None when it has none readable."""
    stamp = item.get("created_at") if isinstance(item, dict) else None
    if not isinstance(stamp, str):
        return None
    try:
        return parse_time(stamp, "created_at")
    except RecordError:
        return None


def _boundary(items: list) -> list | None:
    """Where a page ended: its last call's creation time and the ids of the calls created
    then (the next page leaves them out)."""
    at = _created(items[-1]) if items else None
    if at is None:
        return None
    return [at, [source_id_of(item) for item in items if _created(item) == at]]


CONNECTION = BlandApi  # what sync/connection.py opens for this kind
