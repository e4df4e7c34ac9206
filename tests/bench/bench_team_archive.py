"""The team's recordings archive: what archiving and playing a recording cost on PostgreSQL.

    python tests/bench/bench_team_archive.py [--tries 15] [--sizes 1,5,20]

Starts a PostgreSQL server on loopback (tests/pg_server.py). For each size (MB)
one desktop archives a recording of that size (`recording_archived`: its bytes
go into the database), and another desktop (its own cache folder) asks what
plays it (`store.archive.recording`): the first time, which fetches the bytes, checks
their sha256 and writes the cached copy, and then from its cache. The same
calls on an SQLite file in the same run are the yardstick (its archive is the
folder; playing is one query). Medians of `--tries`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pg_server import PostgresServer

from callviewer.store import Store

SIGNED = "https://cdn.example/rec/a.mp3?X-Amz-Signature=abc"


def desktop(url: str, home: Path) -> Store:
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    return Store(url)


def archive(store: Store, source_id: str, content: bytes) -> tuple[int, float]:
    """(call id, seconds to accept the downloaded file into the archive)."""
    row = store.sync.connection("main") or store.sync.add_connection(
        "main", "calls-api", {"url": "https://api.example"})
    store.sync.commit_page(row.id, [{"source": "agent-platform", "source_id": source_id,
                                   "recording": f"{SIGNED}&id={source_id}",
                                   "has_recording": True}])
    call_id = store.calls.id_of("agent-platform", source_id)
    path = f"agent-platform/{source_id}.mp3"
    local = store.archive.folder / path
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(content)
    started = time.perf_counter()
    assert store.archive.archived(call_id, path, len(content),
                                    hashlib.sha256(content).hexdigest())
    return call_id, time.perf_counter() - started


def measure(url: str, home: Path, size_mb: int, tries: int) -> dict[str, float]:
    content = os.urandom(size_mb * 1_000_000)
    uploads, firsts, cached = [], [], []
    for n in range(tries):
        with desktop(url, home / "front-desk") as first:
            call_id, seconds = archive(first, f"s{size_mb}-{n}", content)
            uploads.append(seconds)
        with desktop(url, home / "support") as second:
            started = time.perf_counter()
            played = second.archive.recording(call_id)
            firsts.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert second.archive.recording(call_id) == played
            cached.append(time.perf_counter() - started)
            assert Path(played).stat().st_size == len(content)
    return {"archive": statistics.median(uploads), "first play": statistics.median(firsts),
            "cached play": statistics.median(cached)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=15)
    parser.add_argument("--sizes", default="1,5,20", help="recording sizes in MB")
    args = parser.parse_args()
    server = PostgresServer()
    try:
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder)
            print(f"{'size':>6} {'engine':<11} {'archive ms':>11} {'first play ms':>14} "
                  f"{'cached play ms':>15}")
            for size in (int(part) for part in args.sizes.split(",")):
                name = server.database()
                engines = (("sqlite", str(home / f"calls-{size}.sqlite3")),
                           ("postgresql", server.url(name)))
                for engine, url in engines:
                    found = measure(url, home / engine, size, args.tries)
                    print(f"{size:>4} MB {engine:<11} {found['archive'] * 1000:>11.1f} "
                          f"{found['first play'] * 1000:>14.1f} "
                          f"{found['cached play'] * 1000:>15.2f}")
                server.drop(name)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
