"""VoIPBIN's calls API as a sync connection.

From VoIPBIN's API reference (https://api.voipbin.net/docs/): "RESTful API"
(base address ``https://api.voipbin.net/v1.0/``, list answers ``{"result":
[...], "next_page_token": "..."}``, the token passed back as ``page_token``,
the last page when it is empty), "Call" / "Struct Call" (``GET /calls``,
``GET /calls/{id}``, ``recording_ids``; the all-zero UUID means none),
"Recording" / its tutorial (``GET /recordingfiles/{id}``: the file of an
ended recording), "Authentication" and "Accesskey" (an access key as the
``accesskey`` query parameter, a 7-day login JWT as ``token``). What the
reference leaves out was read in its server (github.com/voipbin/monorepo,
bin-api-manager): ``GetCalls`` caps ``page_size`` at 100 (the default) and
answers ``next_page_token`` = the ``tm_create`` of the page's last call,
``CallGets`` lists ``tm_create < page_token`` newest first and never a
deleted call (whose ``GetCallsId`` answers 404; 400 before the error
envelopes), ``GetRecordingfilesId`` answers 307 to a signed storage link,
the ``Authenticate`` middleware answers a wrong or missing key with 401 and an
empty body, and the customer rate limit with 429, ``Retry-After`` and a
``RESOURCE_EXHAUSTED`` envelope:

    GET {url}/v1.0/calls?page_size=100&page_token=T&accesskey=KEY
        -> {"result": [Call, ...], "next_page_token": "2026-03-02T09:14:05.120000Z"}
    GET {url}/v1.0/calls/{id}?accesskey=KEY         -> the Call
    GET {url}/v1.0/recordingfiles/{id}?accesskey=KEY -> 307 Location: a signed link

Calls listed are whole (the same object as the detail): no detail is asked
while walking. Pages are walked by the time token, so calls created (or
deleted) meanwhile never shift a page. VoIPBIN's list has no filter by time
of change or creation: an incremental pass walks newest first as a full one
does and ends at the first page that reaches calls created before the last
pass less the overlap (``run["after"]``; its calls are all listed, so none
newer is missed), and a call changed later than that window (a call longer
than ``overlap_minutes``, a recording finished later) is read again by the
full pass (``full_every_days``). Deleted calls are not listed: a call absent
from a full walk is marked deleted at the source.

The recording is the file of the call's first recording (``recording_id``,
else the first of ``recording_ids``; the others stay in the call's extras):
its ``recordingfiles`` address, which needs the access key, is the
recording's reference, given once the call has hung up (a recording is served
only when it ended). The key never goes to the signed link it redirects to.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

from callviewer.record import RecordError, parse_time
from callviewer.sync import voipbin
from callviewer.sync.http import Credentials
from callviewer.sync.sources.vendor_api import COMMON_DEFAULTS, Listing, Request, VendorApi

KIND = "voipbin"
DEFAULTS = {
    **COMMON_DEFAULTS,
    "url": "https://api.voipbin.net",
    "list_path": "/v1.0/calls",
    "detail_path": "/v1.0/calls/{id}",
    "recording_path": "/v1.0/recordingfiles/{id}",
    "page_size": 100,  # VoIPBIN's largest (and default) page
    "page_size_param": "page_size",
    "page_token_param": "page_token",
    "result_key": "result",
    "next_token_key": "next_page_token",
    # How the secret is sent: "accesskey" (an access key, the default) or "token" (a login
    # JWT, valid 7 days).
    "auth_param": "accesskey",
    "max_page_size": 100,  # what the API serves at most: a shorter page is its last
}
# The progress of a call whose status is "hangup" (sync/voipbin.py): its recordings ended.
_ENDED = 4



class VoipbinApi(VendorApi):
    """VoIPBIN: `GET /v1.0/calls` pages by time token, newest first."""

    KIND = KIND
    FORMAT = voipbin
    WHAT = "The VoIPBIN API"
    LIST_IS_DETAIL = True
    # A deleted call's detail: 404 (its error envelope); servers before it answered 400.
    DETAIL_GONE = (400, 404)

    def __init__(self, name: str, settings: dict, secret: str | None,
                 cancel: threading.Event | None) -> None:
        super().__init__(name, settings, secret, cancel)
        self._after: int | None = None  # the pass's `after`, for the page being read

    def credentials(self, secret: str | None) -> Credentials:
        return Credentials.query(str(self.settings["auth_param"]), secret)

    def list_request(self, run: dict) -> Request:
        s = self.settings
        params = {s["page_size_param"]: int(s["page_size"])}
        if run["token"]:
            params[s["page_token_param"]] = run["token"]
        self._after = run["after"]  # read_list ends an incremental pass by it
        return Request(self.base + s["list_path"], params)

    def read_list(self, body: object) -> Listing:
        s = self.settings
        items = body.get(s["result_key"]) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise self.not_a_page(body)
        token = body.get(s["next_token_key"])
        served = min(int(s["page_size"]), int(s["max_page_size"]))
        if not items or not isinstance(token, str) or not token or len(items) < served:
            return Listing(items)
        if self._after is not None and self._reaches(items, self._after):
            return Listing(items)  # the calls after this page are older than the pass asks
        return Listing(items, next=token)

    @staticmethod
    def _reaches(items: list, after: int) -> bool:
        """Whether the page's oldest call was created before `after` (epoch µs)."""
        oldest = items[-1]
        if not isinstance(oldest, dict):
            return False
        try:
            created = parse_time(oldest.get("tm_create"), "tm_create")
        except RecordError:
            return False
        return created is not None and created < after

    def detail_url(self, source_id: str) -> str | None:
        return self.base + self.settings["detail_path"].replace("{id}", quote(source_id, safe=""))

    def parse(self, value: object) -> dict:
        record = super().parse(value)
        recording_id = _first_recording(record.get("extras") or {})
        if recording_id is not None and record.get("progress") == _ENDED:
            record["recording"] = self._recording_url(recording_id)
        return record

    def _recording_url(self, recording_id: str) -> str:
        return self.base + self.settings["recording_path"].replace(
            "{id}", quote(recording_id, safe=""))

    def recording_needs_auth(self, reference: str) -> bool:
        prefix = self.base + self.settings["recording_path"].split("{id}", 1)[0]
        return reference.startswith(prefix)


def _first_recording(call: dict) -> str | None:
    """The call's first recording id (recording_id, else recording_ids, as its format keeps
    them in the extras), not the zero UUID."""
    ids = [call.get("recording_id"), *(call.get("recording_ids") or [])]
    return next((value for value in ids if isinstance(value, str) and value.strip()
                 and value.strip() != voipbin.NO_ID), None)


CONNECTION = VoipbinApi  # what sync/connection.py opens for this kind
