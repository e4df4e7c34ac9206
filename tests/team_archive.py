"""A team database's archived recording, as a sync leaves it: for the tests of the archive
and of the window over a team database."""

from __future__ import annotations

import hashlib

from callviewer.paths import demo_dir
from callviewer.store import Store

SIGNED = "https://cdn.example/rec/a.mp3?X-Amz-Signature=abc123&X-Amz-Expires=3600"
AUDIO = (demo_dir() / "ap-1001.mp3").read_bytes()


def call(source_id="c1", **fields):
    return {"source": "agent-platform", "source_id": source_id, **fields}


def archive_one(store: Store, audio: bytes = AUDIO, source_id: str = "c1") -> int:
    """As a sync leaves it: the call with its source's link, then its download accepted."""
    row = store.sync.connection("main") or store.sync.add_connection(
        "main", "calls-api", {"url": "https://api.example"})
    store.sync.commit_page(row.id, [call(source_id, recording=f"{SIGNED}&id={source_id}",
                                       has_recording=True)])
    call_id = store.calls.id_of("agent-platform", source_id)
    path = f"agent-platform/{source_id}.mp3"
    local = store.archive.folder / path
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(audio)
    assert store.archive.archived(call_id, path, len(audio),
                                    hashlib.sha256(audio).hexdigest())
    return call_id
