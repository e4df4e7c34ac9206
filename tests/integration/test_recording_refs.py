"""Hostile recording references through `callviewer import` and a sync, secrets echoed by an
API in reject lines, and base addresses with credentials in `sync add`/`sync list` (issue 21):
real processes, real SQLite files, a real API on loopback, real VLC."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fake_calls_api import FAST, TOKEN, FakeCallsApi, add_connection

from callviewer.paths import demo_dir
from callviewer.playback.now_playing import ERROR, NowPlaying
from callviewer.playback.vlc_player import VlcPlayer
from callviewer.recording_refs import refusal
from callviewer.store import Store
from callviewer.sync.runner import run_sync

FAST_SETTINGS = [arg for key, value in FAST.items() for arg in ("--set", f"{key}={value}")]
# Each reference an API or a file may give that is not a recording, and what the reason says.
HOSTILE = {
    "h-passwd": ("../../etc/passwd", "outside the folder of the imported file"),
    "h-absolute": ("/etc/passwd", "outside the folder of the imported file"),
    "h-js": ("javascript:alert(document.cookie)", "a javascript: address"),
    "h-data": ("data:audio/mpeg;base64,SUQzBAAAAAAA", "a data: address"),
    "h-ftp": ("ftp://files.example/a.mp3", "a ftp: address"),
    "h-file-host": ("file://elsewhere.example/srv/a.mp3", "a file on another computer"),
}
# From an API there is no folder: no local path at all is trusted.
FROM_API = {**HOSTILE,
            "h-passwd": ("../../etc/passwd", "a local path from a source with no folder"),
            "h-absolute": ("/etc/passwd", "a local path from a source with no folder")}


@pytest.fixture
def env(tmp_path):
    # PYTHONPATH: this checkout's callviewer, also from another working directory.
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def callviewer(*args: str, env: dict, cwd: Path | None = None,
               stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callviewer", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd, input=stdin)


def detail(call_id: str, audio: str | None) -> dict:
    return {"id": call_id, "created_at": "2026-03-02T10:00:00.000Z", "duration": 30,
            "disconnection_reason": "user_hangup", "audio_file_url": audio}


def assert_not_a_recording(store: Store, call_id: int, reason: str) -> None:
    call = store.calls.get(call_id)
    assert (call.recording, call.recording_state, call.has_recording) == \
        (None, "none", False)
    assert reason in call.extras["recording_refused"]
    assert store.archive.recording(call_id) is None


def test_import_keeps_hostile_references_as_no_recording_and_finds_files_beside(tmp_path, env):
    folder = tmp_path / "export"
    (folder / "audio").mkdir(parents=True)
    (folder / "audio" / "ok.mp3").write_bytes((demo_dir() / "ap-1001.mp3").read_bytes())
    records = [detail(key, reference) for key, (reference, _) in HOSTILE.items()]
    records += [detail("ok-file", "audio/ok.mp3"), detail("ok-url", "https://a.example/x.mp3")]
    (folder / "calls.json").write_bytes(orjson.dumps(records))
    db = tmp_path / "calls.sqlite3"
    # Started where ../../etc/passwd reaches a real file: it must not count for anything.
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    done = callviewer("import", str(folder / "calls.json"), "--db", str(db), env=env, cwd=work)
    assert done.returncode == 0, done.stderr
    with Store(str(db)) as store:
        for key, (_, reason) in HOSTILE.items():
            assert_not_a_recording(store, store.calls.id_of("agent-platform", key), reason)
        local = store.calls.get(store.calls.id_of("agent-platform", "ok-file"))
        assert (local.recording_state, local.recording) == \
            ("archived", str(folder / "audio" / "ok.mp3"))
        assert store.calls.get(store.calls.id_of("agent-platform", "ok-url")).recording_state == \
            "at_source"
        exported = callviewer("export", "--db", str(db), env=env).stdout
    assert all(row["recording"] is None for row in orjson.loads(exported)
               if row["source_id"].startswith("h-"))


class HostileApi(FakeCallsApi):
    """The fake calls API, answering some details with a reference that is no recording."""

    def __init__(self) -> None:
        super().__init__()
        self.references: dict[str, str] = {}

    def detail(self, call_id: str, expired: bool = False) -> dict | None:
        answer = super().detail(call_id, expired)
        if answer is not None and call_id in self.references:
            answer["audio_file_url"] = self.references[call_id]
        return answer


def test_a_sync_keeps_hostile_references_as_no_recording_with_the_reason(tmp_path):
    db = tmp_path / "calls.sqlite3"
    with HostileApi() as api:
        start = datetime.now(UTC) - timedelta(hours=1)
        for n, (key, (reference, _)) in enumerate(FROM_API.items()):
            api.add_call(start - timedelta(minutes=n), audio=False, id=key)
            api.references[key] = reference
        good = api.add_call(start - timedelta(minutes=30), audio=True)
        with Store(str(db)) as store:
            add_connection(store, api)
        report = run_sync(str(db))
        assert (report.failures, report.rejected) == ({}, 0)
        with Store(str(db)) as store:
            for key, (_, reason) in FROM_API.items():
                call_id = store.calls.id_of("agent-platform", key)
                assert_not_a_recording(store, call_id, reason)
                assert reason in store.archive.info(call_id).error
            assert store.archive.info(store.calls.id_of("agent-platform", good)).state == \
                "archived"
        # Nothing was fetched for them: only the good call's audio was asked for.
        assert [path for _, path, _, _ in api.requests_of("audio")] == [f"/audio/{good}.mp3"]


@pytest.mark.parametrize("reference", ["../../etc/passwd", "javascript:alert(1)",
                                       "data:audio/mpeg;base64,SUQz", "ftp://h.example/a.mp3",
                                       "file://elsewhere.example/a.mp3"])
def test_the_player_refuses_what_an_older_database_stored_as_a_recording(qapp, qtbot, reference,
                                                                        tmp_path, monkeypatch):
    # Such references were stored as "archived" before: the player must not open them.
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_bytes((demo_dir() / "ap-1001.mp3").read_bytes())
    monkeypatch.chdir(tmp_path / "etc")  # ../../etc/passwd would reach a playable file
    playing = NowPlaying({7: reference}.get, VlcPlayer())
    try:
        with qtbot.waitSignal(playing.state_changed, check_params_cb=lambda s: s == ERROR,
                              timeout=5000):
            playing.play(7)
        assert playing.error.startswith("This is not a recording: ") and refusal(reference)
        qtbot.wait(300)  # VLC's news would come now if it had been given the reference
        assert playing.state == ERROR and playing.position == 0
    finally:
        playing.release()


def test_an_echoed_token_never_reaches_the_reject_lines(tmp_path, env, api):
    db = tmp_path / "calls.sqlite3"
    start = datetime.now(UTC) - timedelta(hours=1)
    # A server that echoes the request's Authorization header into its list data.
    api.add_call(start, audio=False, id=f"Bearer {TOKEN}", done="maybe")
    echoed = api.add_call(start - timedelta(minutes=1), audio=False)
    api.calls[echoed]["final_score"] = f"Bearer {TOKEN}"
    added = callviewer("sync", "add", "main", "--url", api.url, "--token-stdin", *FAST_SETTINGS,
                       "--db", str(db), env=env, stdin=TOKEN + "\n")
    assert added.returncode == 0, added.stderr
    ran = callviewer("sync", "run", "--db", str(db), env=env)
    assert ran.returncode == 1, ran.stderr
    rejects = [line for line in ran.stderr.splitlines() if line.startswith("rejected: ")]
    assert len(rejects) == 2, ran.stderr
    assert TOKEN not in ran.stdout + ran.stderr
    assert any("(source_id Bearer [redacted])" in line for line in rejects)
    assert any(echoed in line and "final_score" in line for line in rejects)


@pytest.mark.parametrize("url, shown", [
    ("http://ann:s3cret-pw@{host}/", "a user name and password"),
    ("{base}/?api_key=k-7788aa99", "a credential in its query (api_key)"),
    ("{base}/v1?token=k-7788aa99&region=eu", "a credential in its query (token)"),
])
def test_sync_add_refuses_an_address_with_credentials(tmp_path, env, api, url, shown):
    db = tmp_path / "calls.sqlite3"
    url = url.format(host=api.url.removeprefix("http://"), base=api.url)
    added = callviewer("sync", "add", "main", "--url", url, "--db", str(db), env=env)
    assert added.returncode == 2
    assert f"carries {shown}, which would be stored in clear" in added.stderr
    assert "--token-stdin" in added.stderr
    assert "s3cret-pw" not in added.stderr + added.stdout
    assert "k-7788aa99" not in added.stderr + added.stdout and "ann" not in added.stderr
    listed = callviewer("sync", "list", "--db", str(db), env=env)
    assert listed.stdout.startswith("No connections")


def test_sync_list_masks_a_stored_address_with_credentials(tmp_path, env):
    db = tmp_path / "calls.sqlite3"
    with Store(str(db)) as store:  # stored before `sync add` refused such addresses
        store.sync.add_connection("old", "calls-api",
                             {"url": "https://ann:s3cret-pw@calls.example/v1?api_key=k-7788"})
        store.sync.set_status(store.sync.connections()[0].id, status="failed",
                              error="https://calls.example/v1?api_key=k-7788 said: s3cret-pw")
    listed = callviewer("sync", "list", "--db", str(db), env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("old\tcalls-api\thttps://calls.example/v1\t")
    for secret in ("ann", "s3cret-pw", "k-7788", "api_key"):
        assert secret not in listed.stdout, secret
