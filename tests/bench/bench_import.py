"""Import throughput against raw sqlite3, and peak memory importing a large NDJSON file.

    python tests/bench/bench_import.py [--records 100000]
    python tests/bench/bench_import.py --memory [--gigabytes 1.0]

The first mode generates N agent-platform detail records (20-message
transcripts, ~3 KB each) as NDJSON, imports them with `import_paths`
(parsing, normalising, upserting and search indexing), and times a raw
`sqlite3` `executemany` of the equivalent rows, already built, into an
equivalent table and FTS5 index, in the same run. Target: ratio >= 0.5.

The second mode writes an NDJSON file of the given size and runs
`callviewer import` on it in a child process, reporting its peak resident
memory. Target: < 200 MB for 1 GB.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

from callviewer.store import Store
from callviewer.sync.importer import import_paths

WORDS = [
    "appointment", "booking", "cancel", "tomorrow", "morning", "insurance", "dentist",
    "cleaning", "pain", "invoice", "payment", "refund", "plumber", "boiler", "leak", "kitchen",
    "address", "confirm", "thanks", "please", "schedule", "available", "Tuesday", "Friday",
    "afternoon", "reminder", "message",
]
NAMES = ("Ann Lee", "Omar Haddad", "王小明", "José Müller", "Priya Natarajan", "Sam Patel")


def make_record(rng: random.Random, index: int) -> dict:
    """One agent-platform detail record of about 3 KB."""
    created = 1_760_000_000 + index * 37
    transcript = [{"role": "agent" if turn % 2 == 0 else "user",
                   "text": " ".join(rng.choices(WORDS, k=rng.randint(12, 22)))}
                  for turn in range(20)]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "call_id": f"lk-{index}",
        "customer_name": rng.choice(NAMES),
        "customer_request": " ".join(rng.choices(WORDS, k=5)),
        "phone_number": f"+1555{rng.randint(0, 9_999_999):07d}",
        "duration": rng.randint(20, 900),
        "done": rng.random() < 0.5,
        "general_success": rng.random() < 0.8,
        "disconnection_reason": rng.choice(("user_hangup", "agent_hangup", "call_transfer")),
        "call_summary": " ".join(rng.choices(WORDS, k=30)),
        "employee": "Dana",
        "note": None,
        "agent_id": "5b7c2a4e-0000-4000-8000-000000000001",
        "is_purged": False,
        "deleted_at": None,
        "created_at": stamp,
        "updated_at": stamp,
        "transcript": orjson.dumps(transcript).decode(),
        "audio_file_url": f"https://audio.example/{index}.mp3?sig=abc",
        "final_score": rng.randint(1, 10),
    }


def write_ndjson(path: Path, count: int | None = None, size: int | None = None) -> int:
    """Write records until `count` or `size` bytes; returns how many were written."""
    rng = random.Random(7)
    written = 0
    with path.open("wb") as out:
        while (count is None or written < count) and (size is None or out.tell() < size):
            out.write(orjson.dumps(make_record(rng, written)) + b"\n")
            written += 1
    return written


def raw_rows(path: Path, store: Store) -> tuple[list[tuple], list[tuple], list[str]]:
    """The rows the import wrote, as plain tuples, to replay through raw sqlite3."""
    with store.reading() as conn:
        result = conn.exec_driver_sql("SELECT * FROM calls ORDER BY id")
        columns = list(result.keys())
        calls = [tuple(row) for row in result]
        index = [tuple(row) for row in conn.exec_driver_sql(
            "SELECT rowid, name, numbers, summary, transcript, notes FROM calls_fts"
            " ORDER BY rowid")]
    return calls, index, columns


def raw_insert(db_path: Path, calls: list[tuple], index: list[tuple], columns: list[str],
               schema_from: Path) -> float:
    """Seconds for a raw executemany of the same rows into the same schema, 500 a commit."""
    source = sqlite3.connect(schema_from)
    ddl = [sql for (sql,) in source.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'calls_fts_%'"
        " AND name != 'alembic_version'")]
    source.close()
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    for statement in ddl:
        db.execute(statement)
    insert_call = (f"INSERT INTO calls ({', '.join(columns)}) "
                   f"VALUES ({', '.join('?' for _ in columns)})")
    insert_index = "INSERT INTO calls_fts (rowid, name, numbers, summary, transcript, notes) " \
                   "VALUES (?, ?, ?, ?, ?, ?)"
    started = time.perf_counter()
    for start in range(0, len(calls), 500):
        db.execute("BEGIN")
        db.executemany(insert_call, calls[start:start + 500])
        db.executemany(insert_index, index[start:start + 500])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def throughput(records: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        source = folder / "calls.ndjson"
        write_ndjson(source, count=records)
        size_mb = source.stat().st_size / 1e6
        with Store(str(folder / "app.sqlite3")) as store:
            started = time.perf_counter()
            report = import_paths(store, [source])
            app_seconds = time.perf_counter() - started
            assert report.counts.new == records, report.summary_line()
            calls, index, columns = raw_rows(source, store)
        raw_seconds = raw_insert(folder / "raw.sqlite3", calls, index, columns,
                                 folder / "app.sqlite3")
    app_rate, raw_rate = records / app_seconds, records / raw_seconds
    print(f"records: {records:,} ({size_mb:,.0f} MB NDJSON, {size_mb * 1e3 / records:.1f} KB each)")
    print(f"callviewer import: {app_seconds:7.2f} s  {app_rate:8,.0f} records/s "
          "(read, parse, normalise, upsert, index)")
    print(f"raw sqlite3:       {raw_seconds:7.2f} s  {raw_rate:8,.0f} rows/s "
          "(executemany of the built rows + FTS rows)")
    print(f"ratio: {app_rate / raw_rate:.2f} of the raw rate (target >= 0.50)")


def memory(gigabytes: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        source = folder / "big.ndjson"
        count = write_ndjson(source, size=int(gigabytes * 1e9))
        size_gb = source.stat().st_size / 1e9
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "callviewer", "import", str(source),
             "--db", str(folder / "big.sqlite3")],
            capture_output=True, text=True, env={**os.environ})
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"file: {size_gb:.2f} GB, "
          f"{count:,} records; import: {seconds:.0f} s, exit {done.returncode}: "
          f"{done.stdout.strip()}")
    print(f"peak resident memory of the import: {peak_mb:.0f} MB (target < 200 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--gigabytes", type=float, default=1.0)
    args = parser.parse_args()
    if args.memory:
        memory(args.gigabytes)
    else:
        throughput(args.records)


if __name__ == "__main__":
    main()
