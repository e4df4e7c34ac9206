"""Twilio's REST API (2010-04-01) as a sync connection: its Calls, and their Recordings.

From Twilio's API reference: "Call resource" (docs/voice/api/call-resource: Read
multiple Call resources, with its ``StartTime`` filters; Fetch a Call resource),
"Recording" (docs/voice/api/recording: Read multiple Recording resources of a
call, Fetch a Recording's media file, the ``status`` values), "Paging" of the
2010-04-01 lists (``next_page_uri``, ``PageSize`` up to 1000, ``PageToken``),
Error 20003 (docs/api/errors/20003: HTTP basic authentication with the Account
SID and Auth Token, or an API key SID and secret; a wrong pair answers 401) and
Error 20429 (docs/api/errors/20429: 429 Too Many Requests, safe to retry after
backing off), checked against the twilio-python helper library
(rest/api/v2010/account/call/__init__.py: the filter keys ``StartTime>``,
``StartTime<``, ``PageSize``, ``PageToken``):

    GET {url}/2010-04-01/Accounts/{AccountSid}/Calls.json?PageSize=N&StartTime>=YYYY-MM-DD
        Authorization: Basic base64(SID:SECRET)
        -> {"calls": [Call, ...], "next_page_uri": "/2010-04-01/…&PageToken=PA…", "page", …}
    GET {url}{next_page_uri}                      the next page, exactly as given
    GET {url}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings.json
        -> {"recordings": [Recording, ...], "next_page_uri", …}
    GET {url}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json      one Call
    GET {url}{Recording.uri without .json}.mp3    the recording as MP3 (with the credentials
                                                  when the account enforces HTTP auth)
    401 {"code": 20003, "message": "Authenticate", "more_info": …, "status": 401}
    429 {"code": 20429, "message": "Too Many Requests", …} with Retry-After

Listed calls are whole Call resources: no detail is asked. Pages are walked by
``next_page_uri`` (a ``PageToken`` that points past the last call of the page,
so a call created meanwhile never shifts a page); it is relative to the base
address and is followed only there, never to another host. Twilio's list has
no filter on the update time: an incremental pass asks for ``StartTime>=`` the
day (UTC) of the last pass less the overlap window, so a call started before
that day and changed since is brought by the next full pass (weekly).

A call's recordings need a request of their own (``Calls/{CallSid}/Recordings.json``),
so they are asked only for a call new or changed since stored (its
``date_updated``), or one that ended since the last pass less the overlap (a
recording is processed for a while after the call ends). One recording per
call is kept: the longest completed one, else the newest that says there is
none (absent, deleted, failed). It is read by the twilio-api format as an
attach_only record. Its media is on the API's own host and gets the API's
credentials; a link on another host (external storage) never does. A recording
deleted at Twilio answers 404: the archive marks it gone at the source, and an
archived copy stays.

The Account SID of the paths is the setting ``account_sid``; by default the SID
of the secret when it is an Account SID (``AC…``). An API key (``SK…``) needs
the setting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from callviewer.record import RecordError, parse_time
from callviewer.sync import twilio_api
from callviewer.sync.errors import SyncFailed
from callviewer.sync.http import Credentials, status_failure
from callviewer.sync.sources.paging import host_of, json_answer, needs_detail, sentence
from callviewer.sync.sources.vendor_api import (
    COMMON_DEFAULTS,
    SECOND,
    Listing,
    Request,
    VendorApi,
)

KIND = "twilio"
DEFAULTS = {
    **COMMON_DEFAULTS,
    "url": "https://api.twilio.com",
    "account_sid": "",  # empty: the SID of the secret, when it is an Account SID (AC…)
    "list_path": "/2010-04-01/Accounts/{AccountSid}/Calls.json",
    "call_path": "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json",
    "recordings_path": "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings.json",
    "page_size": 200,  # Twilio: default 50, at most 1000
    "recordings_page_size": 50,
    "max_recording_pages": 10,  # a call's recordings pages followed, at most
    "page_size_param": "PageSize",
    # Sent as StartTime%3E=YYYY-MM-DD, which Twilio reads as StartTime>=YYYY-MM-DD.
    "started_after_param": "StartTime>",
    "calls_key": "calls",
    "recordings_key": "recordings",
    "next_key": "next_page_uri",
}



class TwilioApi(VendorApi):
    """Twilio: `Calls.json` pages by next_page_uri, each new call's `Recordings.json`."""

    KIND = KIND
    FORMAT = twilio_api
    WHAT = "The Twilio API"
    LIST_IS_DETAIL = True

    def __init__(self, name: str, settings: dict, secret: str | None,
                 cancel: threading.Event | None) -> None:
        super().__init__(name, settings, secret, cancel)
        self.account = _account_sid(name, settings, secret)
        self._recheck_after: int | None = None  # calls ended since: recordings asked again

    def credentials(self, secret: str | None) -> Credentials:
        return Credentials.user_and_password(secret)

    # --- the list ------------------------------------------------------------------------

    def _new_pass(self, since: str | None, full: bool | str, passes: int) -> dict:
        run = super()._new_pass(since, full, passes)
        # Even a full pass asks again for the recordings of calls that ended since the last
        # pass (less the overlap): they may have been processing then.
        run["recheck_after"] = None if since is None else parse_time(since, "cursor") - int(
            float(self.settings["overlap_minutes"]) * 60 * SECOND)
        return run

    def list_request(self, run: dict) -> Request:
        s = self.settings
        self._recheck_after = run.get("recheck_after", run.get("after"))
        if run["token"]:
            return Request(self._follow(run["token"], "list page " + str(run["page_number"])))
        params: dict = {s["page_size_param"]: int(s["page_size"])}
        if run["after"] is not None:
            day = datetime.fromtimestamp(run["after"] / SECOND, UTC).date()
            params[s["started_after_param"]] = day.isoformat()
        return Request(self._path("list_path"), params)

    def read_list(self, body: object) -> Listing:
        items = body.get(self.settings["calls_key"]) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise self.not_a_page(body)
        return Listing(items, next=self._next_of(body))

    def _next_of(self, body: dict) -> str | None:
        """The next page's address as the answer gives it; None on the last page."""
        following = body.get(self.settings["next_key"])
        if following is None or following == "":
            return None
        if not isinstance(following, str):
            raise SyncFailed(f"{self.WHAT} at {host_of(self.base)} answered a page whose "
                             f"{self.settings['next_key']} is not an address, so its next "
                             "page cannot be asked for.")
        return following

    def _follow(self, uri: str, label: str) -> str:
        """A next_page_uri as an address on the API's own host (never another)."""
        parts = urlsplit(uri)
        if not parts.scheme and not parts.netloc and uri.startswith("/"):
            return self.base + uri
        base = urlsplit(self.base)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return uri
        raise SyncFailed(sentence(f"{self.WHAT} at {host_of(self.base)} sent {label} to "
                                  "another address than its own; the sync stopped there"))

    def _path(self, key: str, call_sid: str | None = None) -> str:
        path = self.settings[key].replace("{AccountSid}", quote(self.account, safe=""))
        if call_sid is not None:
            path = path.replace("{CallSid}", quote(call_sid, safe=""))
        return self.base + path

    # --- recordings ----------------------------------------------------------------------

    def wants_attachments(self, record: dict, stored: tuple | None) -> bool:
        """A call's recordings cost a request: asked for a call new or changed, or ended
        since the last pass less the overlap (its recording may have been processing)."""
        if needs_detail(record, stored):
            return True
        ended = record.get("ended_at") or record.get("started_at")
        return self._recheck_after is not None and isinstance(ended, int) \
            and ended >= self._recheck_after

    def attachments(self, record: dict) -> list[dict]:
        """The call's recording (one: the longest completed), as an attach_only record."""
        call_sid = record["source_id"]
        chosen = self._chosen(call_sid, self._recordings(call_sid))
        return [chosen] if chosen is not None else []

    def _recordings(self, call_sid: str) -> list[dict]:
        """The call's Recording resources read by the format (theirs, not another call's)."""
        url: str | None = self._path("recordings_path", call_sid)
        params: dict | None = {self.settings["page_size_param"]:
                               int(self.settings["recordings_page_size"])}
        found: list[dict] = []
        for _ in range(max(1, int(self.settings["max_recording_pages"]))):
            if url is None:
                break
            label = f"the recordings of call {call_sid}"
            answer = self.http.fetch(url, params=params, auth=True, what=self.WHAT,
                                     label=label)
            if answer.response.status_code == 404:
                return found  # the call is gone meanwhile: nothing to attach
            if answer.response.status_code != 200:
                raise status_failure(answer.response, self.WHAT)
            body, problem = json_answer(answer)
            items = body.get(self.settings["recordings_key"]) if isinstance(body, dict) \
                else None
            if problem is not None or not isinstance(items, list):
                raise SyncFailed(sentence(f"{self.WHAT} at {host_of(url)} answered {label} "
                                          f"with {problem or 'no list of recordings'}"))
            for item in items:
                part = self.parse(item)
                if part.get("attach_only") and part["source_id"] == call_sid:
                    found.append(self._rebased(part))
            following = self._next_of(body)
            url, params = (self._follow(following, label), None) if following else (None, None)
        return found

    @staticmethod
    def _chosen(call_sid: str, parts: list[dict]) -> dict | None:
        """The longest completed recording; else the newest saying there is none; else
        nothing (still processing)."""
        def seconds(part: dict) -> int:
            value = part["extras"][twilio_api.RECORDING_EXTRAS].get("duration")
            return int(value) if isinstance(value, str | int) and str(value).isdigit() else 0

        complete = [part for part in parts if part.get("has_recording")]
        if complete:
            return max(complete, key=seconds)
        none = [part for part in parts if part.get("has_recording") is False]
        return none[0] if none else None

    def _rebased(self, part: dict) -> dict:
        """A recording the format located on https://api.twilio.com, on this connection's
        address instead (a regional or test endpoint serves its own recordings)."""
        reference = part.get("recording")
        root = twilio_api.API_ROOT + "/"
        if isinstance(reference, str) and reference.startswith(root) and \
                self.base != twilio_api.API_ROOT:
            part = {**part, "recording": self.base + reference[len(twilio_api.API_ROOT):]}
        return part

    def recording_needs_auth(self, reference: str) -> bool:
        """The API's own media (its host) needs the credentials; any other host never."""
        try:
            parts, base = urlsplit(reference), urlsplit(self.base)
        except ValueError:
            return False
        return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)

    # --- one call, fresh -----------------------------------------------------------------

    def fetch_detail(self, source_id: str) -> dict | None:
        """The call now, with its recording (a fresh link); None when Twilio no longer has
        the call."""
        url = self._path("call_path", source_id)
        answer = self.http.fetch(url, auth=True, what=self.WHAT, label=f"call {source_id}")
        if answer.response.status_code == 404:
            return None
        if answer.response.status_code != 200:
            raise status_failure(answer.response, self.WHAT)
        body, problem = json_answer(answer)
        try:
            if problem is not None:
                raise RecordError(None, problem)
            record = self.parse(body)
            if record["source_id"] != source_id:
                raise RecordError("sid", f"is another call's ({record['source_id']})")
            parts = self.attachments(record)
        except RecordError as exc:
            raise SyncFailed(sentence(f"The details of call {source_id} could not be read: "
                                      f"{exc.reason}")) from None
        for part in parts:
            record.update({key: part[key] for key in ("recording", "has_recording")
                           if key in part})
            record["extras"] = {**record.get("extras", {}), **part["extras"]}
        return record


def _account_sid(name: str, settings: dict, secret: str | None) -> str:
    """The Account SID of the paths: the setting, else the secret's SID when it is one."""
    given = str(settings.get("account_sid") or "").strip()
    if given:
        return given
    sid = (secret or "").partition(":")[0].strip()
    if sid.startswith("AC"):
        return sid
    if sid.startswith("SK"):
        raise SyncFailed(f"The connection {name} signs in with a Twilio API key (SK…), which "
                         "does not say its account: add the Account SID with "
                         "--set account_sid=AC….")
    raise SyncFailed(f"The connection {name} has no Twilio Account SID: give ACCOUNT_SID:"
                     "AUTH_TOKEN on standard input, or set account_sid=AC….")


CONNECTION = TwilioApi  # what sync/connection.py opens for this kind
