"""Sync throughput from a calls API on loopback, against importing the same records from a file.

    python tests/bench/bench_sync.py [--calls 1000]

Seeds the test suite's fake calls API (tests/integration/fake_calls_api.py)
with N calls, each with a ~70 KB MP3, and times `run_sync` into a fresh
database: list pages, every detail and every recording downloaded,
verified and archived. In the same run it times `import_paths` on an NDJSON
file of the same detail records (the raw import rate: parsing, upsert,
search index; no network, no audio) and a sync of calls without recordings,
and counts the HTTP requests the server saw per call synced.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from fake_calls_api import FakeCallsApi, add_connection

from callviewer.store import Store
from callviewer.sync.importer import import_paths
from callviewer.sync.runner import run_sync


def timed_sync(folder: Path, calls: int, with_audio: float) -> tuple[float, int, int, int]:
    """(seconds, calls stored, recordings downloaded, requests the server saw)."""
    with FakeCallsApi() as api:
        api.seed(calls, spacing_s=17, with_audio=with_audio)
        db = folder / f"sync-{with_audio}.sqlite3"
        with Store(str(db)) as store:
            add_connection(store, api)
        started = time.perf_counter()
        report = run_sync(str(db))
        elapsed = time.perf_counter() - started
        assert not report.failures and not report.rejected, report.failures
        return elapsed, report.counts.new, report.downloaded, len(api.log)


def timed_import(folder: Path, calls: int) -> float:
    """Seconds to import the same detail records from an NDJSON file."""
    with FakeCallsApi() as api:
        api.seed(calls, spacing_s=17)
        source = folder / "details.ndjson"
        with source.open("wb") as out:
            for call_id in api.calls:
                out.write(orjson.dumps(api.detail(call_id)) + b"\n")
    with Store(str(folder / "import.sqlite3")) as store:
        started = time.perf_counter()
        report = import_paths(store, [source])
        elapsed = time.perf_counter() - started
    assert report.counts.new == calls and not report.rejected
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
        imported = timed_import(folder, args.calls)
        bare, stored, _, bare_requests = timed_sync(folder, args.calls, with_audio=0.0)
        full, stored_full, downloaded, requests = timed_sync(folder, args.calls, with_audio=1.0)
    raw_rate = args.calls / imported
    print(f"calls: {args.calls:,}")
    print(f"raw import of the same records (import_paths, NDJSON): {raw_rate:,.0f} calls/s")
    print(f"sync, list + detail, no recordings: {stored / bare:,.0f} calls/s "
          f"(ratio to raw import {stored / bare / raw_rate:.2f}); "
          f"{bare_requests / stored:.2f} HTTP requests per call")
    print(f"sync, list + detail + recording ({downloaded:,} MP3s archived): "
          f"{stored_full / full:,.0f} calls/s (ratio to raw import "
          f"{stored_full / full / raw_rate:.2f}); {requests / stored_full:.2f} HTTP requests "
          "per call")


if __name__ == "__main__":
    main()
