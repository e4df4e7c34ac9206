"""`callviewer sync` as scripts run it: real processes, a real API on loopback, a kill -9."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from fake_calls_api import FAST, TOKEN, assert_store_matches
from killed_sync import sync_killed_when

FAST_SETTINGS = [arg for key, value in FAST.items() for arg in ("--set", f"{key}={value}")]


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def sync(*args: str, db: Path, env: dict, stdin: str | None = None,
         **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callviewer", "sync", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=120, env=env, input=stdin,
                          **kwargs)


def test_add_run_list_remove_and_exit_statuses(tmp_path, api, env):
    db = tmp_path / "calls.sqlite3"
    ids = api.seed(40, with_audio=0.5)
    added = sync("add", "main", "--url", api.url, "--token-stdin", *FAST_SETTINGS, db=db,
                 env=env, stdin=TOKEN + "\n")
    assert added.returncode == 0, added.stderr
    token_file = tmp_path / "config" / "callviewer" / "tokens.json"
    assert f"so the token was saved in {token_file}, readable only by you" in added.stdout
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    listed = sync("list", db=db, env=env)
    assert listed.stdout.startswith(f"main\tcalls-api\t{api.url}\tnot synced yet\tnever")

    ran = sync("run", db=db, env=env)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "40 new, 0 updated, 0 unchanged, 0 rejected"
    assert lines[1].startswith(f"Downloaded {len(api.audio)} recordings (")
    assert_store_matches(db, api)
    assert "last synced" in sync("list", db=db, env=env).stdout

    api.calls[ids[0]]["final_score"] = 42  # a record the parser rejects
    api.change(ids[0])
    rejected = sync("run", "main", db=db, env=env)
    assert rejected.returncode == 1
    assert f"(source_id {ids[0]}): field 'final_score': must be from 1 to 10" in rejected.stderr

    wrong = sync("add", "other", "--url", api.url, "--token-stdin", db=db, env=env,
                 stdin="tok-not-the-right-one\n")
    assert wrong.returncode == 0
    failed = sync("run", "other", db=db, env=env)
    assert failed.returncode == 2
    assert "callviewer: other: The API token was refused — check it in Preferences." in \
        failed.stderr

    removed = sync("remove", "main", db=db, env=env)
    assert removed.returncode == 0 and "its calls and recordings stay" in removed.stdout
    assert "connection-" in token_file.read_text()  # the other connection's token
    assert TOKEN not in token_file.read_text()
    info = subprocess.run([sys.executable, "-m", "callviewer", "info", "--db", str(db)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert "Calls:      40" in info.stdout
    # Secrets appear in no output, and an export names recordings without their signature.
    exported = subprocess.run([sys.executable, "-m", "callviewer", "export", "--format", "csv",
                               "--db", str(db)], capture_output=True, text=True, env=env,
                              timeout=60)
    for text in (added.stdout, added.stderr, ran.stdout, ran.stderr, rejected.stderr,
                 failed.stderr, exported.stdout, listed.stdout):
        assert TOKEN not in text and "signature=" not in text and "tok-not-the" not in text


def test_bad_settings_and_names_get_sentences(tmp_path, api, env):
    db = tmp_path / "calls.sqlite3"
    unknown = sync("add", "x", "--url", api.url, "--set", "pagesize=10", db=db, env=env)
    assert unknown.returncode == 2 and "Unknown setting 'pagesize'" in unknown.stderr
    typed = sync("add", "x", "--url", api.url, "--set", "page_size=many", db=db, env=env)
    assert typed.returncode == 2 and "'page_size' needs a int, not 'many'" in typed.stderr
    scheme = sync("add", "x", "--url", "ftp://example", db=db, env=env)
    assert scheme.returncode == 2 and "must start with http:// or https://" in scheme.stderr
    missing = sync("run", "nobody", db=db, env=env)
    assert missing.returncode == 2 and "There is no connection named 'nobody'" in missing.stderr
    assert sync("add", "x", "--url", api.url, db=db, env=env).returncode == 0
    again = sync("add", "x", "--folder", str(tmp_path), db=db, env=env)
    assert again.returncode == 2 and "already a connection named 'x'" in again.stderr


def test_a_sync_killed_after_its_first_page_resumes_and_ends_equal(tmp_path, api, env):
    db = tmp_path / "calls.sqlite3"
    api.seed(400, spacing_s=13)
    assert sync("add", "main", "--url", api.url, "--token-stdin", *FAST_SETTINGS, db=db,
                env=env, stdin=TOKEN).returncode == 0

    def hold_later_pages(page: int) -> None:
        api.after_list_page.clear()
        api.fault("list", "slow", seconds=30)  # the second page keeps the process busy

    api.after_list_page.append(hold_later_pages)
    cursor = sync_killed_when(db, env, lambda process: _wait_for_a_committed_page(db, process))
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
    assert 100 <= stored < 400
    api.faults.clear()
    before = len(api.requests_of("list"))
    again = sync("run", db=db, env=env)
    assert again.returncode == 0, again.stderr
    # It went on from the committed page (its upper bound), not from the start.
    first_again = api.requests_of("list")[before][2]
    assert first_again["to"] == cursor["pass"]["upper"]
    assert_store_matches(db, api)
    assert not list((tmp_path / "calls.sqlite3.recordings").rglob("*.part"))


def _wait_for_a_committed_page(db: Path, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                row = conn.execute("SELECT cursor FROM sync_state").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row and row[0] and orjson.loads(row[0]).get("pass"):
            return orjson.loads(row[0])
        time.sleep(0.02)
    raise AssertionError("no page was committed within a minute")
