"""What every connector's test shares: `callviewer sync` run as a user runs it, and the store
compared with a fake's calls, field by field, through the format's own parser."""

from __future__ import annotations

import io
import logging
import os
import sys
from pathlib import Path
from subprocess import CompletedProcess

import orjson

from callviewer.record import format_time
from callviewer.sync.base import Origin

# Quick retries: the faults' waits stay short (Retry-After is honoured up to 5 s).
FAST = {"backoff_factor": 0.05, "backoff_max": 0.5, "backoff_jitter": 0.05,
        "retry_after_max": 5, "connect_timeout": 2.0, "read_timeout": 5.0}
FAST_SETTINGS = [arg for key, value in FAST.items() for arg in ("--set", f"{key}={value}")]
# What the store adds to, or keeps apart from, what a source said.
LOCAL = ("notes", "done", "recording", "has_recording", "extras")


def user_env(tmp_path: Path) -> dict:
    """The environment of a person's session: its own config folder, no system keyring."""
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def sync(*args: str, db: Path, env: dict, stdin: str | None = None) -> CompletedProcess:
    """`callviewer sync ARGS… --db DB`, as a script runs it (in this process: the command
    line's own `main`, its streams and environment its own for the call; a test that kills
    a sync starts a real process instead)."""
    return command("sync", *args, "--db", str(db), env=env, stdin=stdin)


def exported(db: Path, env: dict) -> dict[str, dict]:
    """The store's calls (deleted ones too) as `callviewer export` prints them, by source id."""
    done = command("export", "--include-deleted", "--db", str(db), env=env)
    assert done.returncode == 0, done.stderr
    return {record["source_id"]: record for record in orjson.loads(done.stdout)}


def command(*argv: str, env: dict, stdin: str | None = None) -> CompletedProcess:
    """`callviewer ARGV…` through `callviewer.cli.main`, with `env` as the environment and
    `stdin` as standard input; what it printed and its exit status."""
    from callviewer.cli import main

    out, err, saved_env = _stream(), _stream(), dict(os.environ)
    saved = sys.stdin, sys.stdout, sys.stderr
    handlers = list(logging.getLogger().handlers)
    os.environ.clear()
    os.environ.update(env)
    sys.stdin, sys.stdout, sys.stderr = _stream((stdin or "").encode()), out, err
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdin, sys.stdout, sys.stderr = saved
        os.environ.clear()
        os.environ.update(saved_env)
        for handler in logging.getLogger().handlers:
            if handler not in handlers:  # basicConfig's, bound to this call's stream
                logging.getLogger().removeHandler(handler)
    return CompletedProcess(list(argv), status, out.buffer.getvalue().decode(),
                            err.buffer.getvalue().decode())


def _stream(content: bytes = b"") -> io.TextIOWrapper:
    """A text stream with a bytes buffer beneath, as a process's standard streams have."""
    return io.TextIOWrapper(io.BytesIO(content), encoding="utf-8", write_through=True)


def assert_store_equals(db: Path, env: dict, module, calls: list[dict],
                        deleted: frozenset = frozenset()) -> dict[str, dict]:
    """The store holds exactly these calls of the source (as the format reads each), field by
    field, every recording archived; `deleted`: ids gone from the source, kept and marked."""
    stored = exported(db, env)
    expected = {}
    for call in calls:
        record = module.parse(orjson.loads(orjson.dumps(call)), Origin())
        expected[record["source_id"]] = record
    assert set(stored) == set(expected) | set(deleted)
    for source_id, record in expected.items():
        row = stored[source_id]
        for key, value in record.items():
            if key in LOCAL or key in ("progress", "attach_only", "warnings", "audio"):
                continue
            if key.endswith("_at") and isinstance(value, int):
                value = format_time(value)
            if key == "transcript" and value:
                value = [{k: entry.get(k) for k in ("role", "text", "start_ms", "end_ms")}
                         | ({"tool": entry["tool"]} if "tool" in entry else {})
                         for entry in value]
            if key == "analysis" and value:
                value = [{**run, "created_at": format_time(run["created_at"])}
                         for run in value]
            assert row[key] == value, (source_id, key, row[key], value)
        if record.get("has_recording"):
            assert row["recording"] and "://" not in row["recording"], (source_id, row)
    for source_id in deleted:
        assert stored[source_id]["deleted_at"] is not None, source_id
    return stored
