"""ElevenLabs Agents (Conversational AI) conversations as a sync connection.

From ElevenLabs' API reference, "ElevenAgents ▸ Conversations"
(https://elevenlabs.io/docs/api-reference/conversations/list, …/get, …/get-audio), with
the request parameters and types of the elevenlabs-python SDK
(conversational_ai/conversations/raw_client.py ``list`` and ``get``,
conversations/audio/raw_client.py; types GetConversationsPageResponseModel,
ConversationSummaryResponseModel, GetConversationResponseModel):

    GET {url}/v1/convai/conversations?page_size=100&cursor=C&call_start_after_unix=S
        [&agent_id=A]                                     xi-api-key: KEY
        -> {"conversations": [summary, ...], "next_cursor": C | null, "has_more": bool}
           newest first by call start (the default sort_direction); page_size at most
           100 (default 30); call_start_after_unix in epoch seconds
    GET {url}/v1/convai/conversations/{conversation_id}
        -> the conversation: transcript, metadata, analysis, has_audio…
    GET {url}/v1/convai/conversations/{conversation_id}/audio
        -> the recording, MP3, with the same key

Authentication ("API reference ▸ Authentication"): the ``xi-api-key`` header. A wrong key
is answered 401 ``{"detail": {"status": "invalid_api_key", "message": "Invalid API
key"}}``; rate limits (help centre "API Error Code 429") are 429 ``too_many_concurrent_
requests`` or ``system_busy``, retried with Retry-After like any 429.

The list's items are summaries (status, start, duration, summary; no transcript, no
has_audio), read by the format module (sync/elevenlabs.py) and completed by the detail
for a conversation that is new, never read in detail, or whose listed status is further
on than the one stored (in-progress → processing → done); a walk of the whole history
(``full_pass_details``) reads every conversation's detail again, so an analysis run again,
or a transcript deleted by the agent's retention settings, reaches the store. Pages
follow ``next_cursor`` while ``has_more``: the cursor marks a place in the list, so a
conversation started meanwhile never shifts a page. An incremental pass asks for
``call_start_after_unix`` (the last pass less the overlap window): conversations are
filtered by when they started, so one that was still being analysed at the last pass is
listed again within the overlap, and the weekly full pass catches any later.

The recording is the conversation's ``…/audio`` address on the API itself (the format
leaves ``recording`` unset, ``has_recording`` from ``has_audio``): the connector sets it,
and downloads it with the API key. A conversation deleted at the source is absent from
the next full walk and marked deleted (vendor_api.py).
"""

from __future__ import annotations

import threading
from urllib.parse import quote

from callviewer.sync import elevenlabs
from callviewer.sync.errors import SyncFailed
from callviewer.sync.http import Credentials
from callviewer.sync.sources.vendor_api import (
    COMMON_DEFAULTS,
    SECOND,
    Listing,
    Request,
    VendorApi,
)

KIND = "elevenlabs"
DEFAULTS = {
    **COMMON_DEFAULTS,
    "url": "https://api.elevenlabs.io",
    "list_path": "/v1/convai/conversations",
    "detail_path": "/v1/convai/conversations/{id}",
    "audio_path": "/v1/convai/conversations/{id}/audio",
    "page_size": 100,  # the API's largest
    "page_size_param": "page_size",
    "cursor_param": "cursor",
    "after_param": "call_start_after_unix",
    "agent_id": "",  # only this agent's conversations ("": every agent's)
    "agent_id_param": "agent_id",
    "key_header": "xi-api-key",
    "full_pass_details": True,  # a full pass reads every conversation's detail again
}
# A listed status's stage, as the format module counts a detail's progress.
STAGES = {"initiated": 1, "in-progress": 1, "processing": 2, "done": 3, "failed": 3}



class ElevenLabsApi(VendorApi):
    """ElevenLabs: `GET /v1/convai/conversations` pages by cursor, newest first."""

    KIND = KIND
    FORMAT = elevenlabs
    WHAT = "The ElevenLabs API"

    def __init__(self, name: str, settings: dict, secret: str | None,
                 cancel: threading.Event | None) -> None:
        super().__init__(name, settings, secret, cancel)
        self.listed_status: dict[str, str] = {}  # the current page's statuses, by id
        self.full_pass = False

    def credentials(self, secret: str | None) -> Credentials:
        return Credentials.header(self.settings["key_header"], secret)

    def list_request(self, run: dict) -> Request:
        s = self.settings
        self.full_pass = bool(run.get("full"))
        params: dict = {s["page_size_param"]: int(s["page_size"])}
        if run["token"]:
            params[s["cursor_param"]] = run["token"]
        if run["after"] is not None:
            params[s["after_param"]] = max(0, run["after"] // SECOND)
        if s["agent_id"]:
            params[s["agent_id_param"]] = s["agent_id"]
        return Request(self.base + s["list_path"], params)

    def read_list(self, body: object) -> Listing:
        items = body.get("conversations") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise self.not_a_page(body)
        self.listed_status = {
            item["conversation_id"]: item.get("status") for item in items
            if isinstance(item, dict) and isinstance(item.get("conversation_id"), str)}
        cursor = body.get("next_cursor")
        if not body.get("has_more"):
            return Listing(items)
        if not isinstance(cursor, str) or not cursor:
            raise SyncFailed(f"{self.WHAT} said it has more conversations but gave no "
                             "next_cursor, so its next page cannot be asked for.")
        return Listing(items, next=cursor)

    def wants_detail(self, record: dict, stored: tuple | None) -> bool:
        if stored is None or stored[1] == 0:
            return True  # new, or only ever seen as a list item
        if self.full_pass and self.settings["full_pass_details"]:
            return True
        status = self.listed_status.get(record["source_id"])
        return STAGES.get(status or "", 0) > stored[1]

    def detail_url(self, source_id: str) -> str | None:
        return self.base + self.settings["detail_path"].replace("{id}", quote(source_id,
                                                                              safe=""))

    def audio_url(self, source_id: str) -> str:
        return self.base + self.settings["audio_path"].replace("{id}", quote(source_id,
                                                                             safe=""))

    def parse(self, value: object) -> dict:
        record = super().parse(value)
        if record.get("has_recording") and not record.get("attach_only"):
            record["recording"] = self.audio_url(record["source_id"])
        return record

    def recording_needs_auth(self, reference: str) -> bool:
        before, _, after = (self.base + self.settings["audio_path"]).partition("{id}")
        return reference.startswith(before) and reference.endswith(after) and \
            "/" not in reference[len(before):len(reference) - len(after)]


CONNECTION = ElevenLabsApi  # what sync/connection.py opens for this kind
