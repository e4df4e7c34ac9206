"""Sync throughput from a calls API on loopback, against importing the same records from a file.

    python tests/bench/bench_sync.py [--calls 1000] [--connectors [KIND ...]]
    python tests/bench/bench_sync.py --latency 150 --concurrency 12 [--calls 300]

Seeds the test suite's fake calls API (tests/integration/fake_calls_api.py)
with N calls, each with a ~70 KB MP3, and times `run_sync` into a fresh
database: list pages, every detail and every recording downloaded,
verified and archived. In the same run it times `import_paths` on an NDJSON
file of the same detail records (the raw import rate: parsing, upsert,
search index; no network, no audio) and a sync of calls without recordings,
and counts the HTTP requests the server saw per call synced.

With ``--connectors``, the same for each vendor's connector against its test
suite's fake (tests/integration/test_connector_*.py): calls/s of a first sync
with recordings, HTTP requests per call, and the raw import of the same
records (the fake's call objects as an NDJSON file) in the same run.

With ``--latency MS`` every request to the fake is answered that much late
(on the server's side, by its threads: a vendor's round trip), and the sync
runs with ``--concurrency N`` requests at once (the connection's setting;
default 4). Each sync, without and with recordings, is run one request at a
time first, as a sync did before its pool, then with N; it prints calls/s
against the ideal (N ÷ latency ÷ the requests a call needs) and against the
one-at-a-time figure.
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


def timed_sync(folder: Path, calls: int, with_audio: float, latency_ms: float = 0.0,
               concurrency: int = 4) -> tuple[float, int, int, int]:
    """(seconds, calls stored, recordings downloaded, requests the server saw)."""
    with FakeCallsApi() as api:
        api.seed(calls, spacing_s=17, with_audio=with_audio)
        api.latency = latency_ms / 1000
        db = folder / f"sync-{with_audio}-{concurrency}.sqlite3"
        with Store(str(db)) as store:
            add_connection(store, api, concurrency=concurrency)
        started = time.perf_counter()
        report = run_sync(str(db))
        elapsed = time.perf_counter() - started
        assert not report.failures and not report.rejected, report.failures
        assert api.most_in_flight <= concurrency, api.most_in_flight
        return elapsed, report.counts.new, report.downloaded, len(api.log)


def latency_table(folder: Path, calls: int, latency_ms: float, concurrency: int) -> None:
    """Calls/s at `latency_ms` a request, one at a time and `concurrency` at once."""
    print(f"calls: {calls:,}; every request answered {latency_ms:g} ms late; "
          f"concurrency {concurrency}")
    print(f"{'sync':<28}{'requests/call':>14}{'1 at a time':>13}{f'{concurrency} at once':>12}"
          f"{'ideal':>9}{'of ideal':>10}{'speed-up':>10}")
    for label, with_audio in (("list + detail", 0.0), ("list + detail + recording", 1.0)):
        serial, stored, _, _ = timed_sync(folder, calls, with_audio, latency_ms, 1)
        elapsed, stored_now, downloaded, requests = timed_sync(folder, calls, with_audio,
                                                               latency_ms, concurrency)
        assert stored == stored_now == calls and downloaded == round(calls * with_audio)
        per_call = requests / stored_now
        ideal = concurrency / (latency_ms / 1000) / per_call
        rate, serial_rate = stored_now / elapsed, stored / serial
        print(f"{label:<28}{per_call:>14.2f}{serial_rate:>13,.1f}{rate:>12,.1f}{ideal:>9,.1f}"
              f"{rate / ideal:>10.2f}{rate / serial_rate:>9.1f}x")


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


# kind -> (test module, its fake's class, how the fake's add takes the call's time)
CONNECTORS = {
    "vapi": ("test_connector_vapi", "FakeVapi", "datetime"),
    "twilio": ("test_connector_twilio", "FakeTwilio", "datetime"),
    "voipbin": ("test_connector_voipbin", "FakeVoipbin", "datetime"),
    "retell": ("test_connector_retell", "FakeRetell", "datetime"),
    "elevenlabs": ("test_connector_elevenlabs", "FakeElevenLabs", "epoch"),
    "bland": ("test_connector_bland", "FakeBland", "datetime"),
    "call-module": ("test_connector_call_module", "FakeCallModule", "datetime"),
}


def timed_connector(folder: Path, kind: str, calls: int) -> tuple[float, int, int, int, float]:
    """(sync seconds, calls stored, recordings downloaded, requests, raw import seconds)."""
    import importlib
    from datetime import UTC, datetime, timedelta

    from connectors import user_env

    module_name, fake_name, clock = CONNECTORS[kind]
    module = importlib.import_module(module_name)
    here = folder / kind
    here.mkdir()
    env = user_env(here)
    os.environ.update({key: env[key] for key in ("XDG_CONFIG_HOME", "XDG_DATA_HOME")})
    with getattr(module, fake_name)() as fake:
        now = datetime.now(UTC).replace(microsecond=0)
        for n in range(calls):
            moment = now - timedelta(minutes=n + 1)
            fake.add(n, int(moment.timestamp()) if clock == "epoch" else moment)
        db = here / "sync.sqlite3"
        module.add(db, env, fake, "--set", "page_size=100")
        started = time.perf_counter()
        report = run_sync(str(db))
        elapsed = time.perf_counter() - started
        assert not report.failures, report.failures
        requests = len(fake.seen)
        source = here / "records.ndjson"
        held = getattr(fake, "calls", None) or fake.conversations  # ElevenLabs' name
        source.write_bytes(b"".join(orjson.dumps(call) + b"\n" for call in held.values()))
    with Store(str(here / "import.sqlite3")) as store:
        began = time.perf_counter()
        imported = import_paths(store, [source])
        raw = time.perf_counter() - began
    assert imported.counts.new == calls, imported.summary_line()
    return elapsed, report.counts.new, report.downloaded, requests, raw


def connectors_table(folder: Path, kinds: list[str], calls: int) -> None:
    print(f"calls per connector: {calls:,} (first sync: list, details where the API needs "
          "them, every recording archived)")
    print(f"{'connector':<12}{'sync calls/s':>14}{'requests/call':>15}{'recordings':>12}"
          f"{'raw import/s':>14}{'ratio':>8}")
    for kind in kinds:
        elapsed, stored, downloaded, requests, raw = timed_connector(folder, kind, calls)
        rate, raw_rate = stored / elapsed, calls / raw
        print(f"{kind:<12}{rate:>14,.0f}{requests / max(stored, 1):>15.2f}{downloaded:>12,}"
              f"{raw_rate:>14,.0f}{rate / raw_rate:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--connectors", nargs="*", metavar="KIND",
                        help="each vendor connector (all without a KIND) against its fake")
    parser.add_argument("--latency", type=float, metavar="MS",
                        help="answer every request this late; compare with one at a time")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N",
                        help="requests at once (the connection's setting, 1 to 16)")
    args = parser.parse_args()
    if args.latency is not None:
        with tempfile.TemporaryDirectory() as temporary:
            os.environ["XDG_CONFIG_HOME"] = str(Path(temporary) / "config")
            latency_table(Path(temporary), args.calls, args.latency, args.concurrency)
        return
    if args.connectors is not None:
        with tempfile.TemporaryDirectory() as temporary:
            connectors_table(Path(temporary), args.connectors or list(CONNECTORS), args.calls)
        return
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
        imported = timed_import(folder, args.calls)
        bare, stored, _, bare_requests = timed_sync(folder, args.calls, 0.0,
                                                    concurrency=args.concurrency)
        full, stored_full, downloaded, requests = timed_sync(folder, args.calls, 1.0,
                                                             concurrency=args.concurrency)
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
