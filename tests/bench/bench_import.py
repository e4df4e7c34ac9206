"""Import throughput against raw sqlite3, and peak memory importing a large NDJSON file.

    python tests/bench/bench_import.py [--records 100000]
    python tests/bench/bench_import.py --memory [--gigabytes 1.0]

The first mode generates N agent-platform detail records (20-message
transcripts, ~4 KB each) as NDJSON, imports them with `import_paths`
(reading, parsing, normalising, upserting and search indexing), and times a
raw import of the same file in the same run: stdlib `json.loads` of each
line and a `sqlite3` `executemany` of the rows the import wrote, already
built (calls, the FTS5 index, the numbers index, call_stats), into the same
tables and indexes. Each side runs twice, alternately, each time into a new
database; the best of each is compared. Target: ratio >= 0.5 at 20,000
records, >= 0.6 at 100,000.

The second mode writes an NDJSON file of the given size and runs
`callviewer import` on it in a child process, reporting its peak resident
memory. Target: < 200 MB for 1 GB.
"""

from __future__ import annotations

import argparse
import json
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


# Every table the import writes, with the columns a raw program would write, in the order
# it writes them; the raw side replays exactly these rows.
WRITTEN = {
    "calls": None,  # every column
    "calls_fts": ("rowid", "name", "numbers", "summary", "transcript", "notes"),
    "calls_fts_numbers": ("rowid", "digits"),
    "call_stats": ("call_id", "call_started_at"),
}
FTS_SHADOWS = ("data", "idx", "content", "docsize", "config")


def raw_rows(store: Store) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows the import wrote, table by table, as plain tuples in the calls' order
    (with their columns), to replay through raw sqlite3."""
    found = {}
    with store.reading() as conn:
        for table, columns in WRITTEN.items():
            key = "id" if table == "calls" else "call_id" if table == "call_stats" else "rowid"
            result = conn.exec_driver_sql(
                f"SELECT {', '.join(columns) if columns else '*'} FROM {table} ORDER BY {key}")
            found[table] = (list(result.keys()), [tuple(row) for row in result])
    return found


def raw_insert(db_path: Path, source: Path, rows: dict[str, tuple[list[str], list[tuple]]],
               schema_from: Path) -> tuple[float, float]:
    """(seconds for the whole raw import, of which writing) of the same rows into the same
    tables and indexes: the NDJSON read and `json.loads`-ed line by line, and each 500
    records' rows of every table written by one `executemany` a table, 500 a commit.

    The schema is the app's tables, indexes and full-text tables, without triggers: the raw
    program writes every row itself (the rows of the import's database, call_stats
    included), as the import does."""
    schema = sqlite3.connect(schema_from)
    virtual = [name for (name,) in schema.execute(
        "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")]
    shadows = {f"{name}_{suffix}" for name in virtual for suffix in FTS_SHADOWS}
    ddl = [sql for name, sql in schema.execute(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND type != 'trigger'"
        " AND name != 'alembic_version'") if name not in shadows]
    schema.close()
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    for statement in ddl:
        db.execute(statement)
    statements = {table: (f"INSERT INTO {table} ({', '.join(columns)}) "
                          f"VALUES ({', '.join('?' for _ in columns)})")
                  for table, (columns, _) in rows.items()}
    ids = [row[0] for row in rows["calls"][1]]
    # Each table's rows by the records they belong to (the calls' order), batch by batch.
    starts = {table: [0] for table in rows}
    for table, (_, table_rows) in rows.items():
        position = 0
        for start in range(500, len(ids), 500):
            while position < len(table_rows) and table_rows[position][0] < ids[start]:
                position += 1
            starts[table].append(position)
        starts[table].append(len(table_rows))
    writing = 0.0
    started = time.perf_counter()
    with source.open("rb") as lines:
        for batch in range(len(starts["calls"]) - 1):
            for _, line in zip(range(500), lines, strict=False):
                json.loads(line)
            began = time.perf_counter()
            db.execute("BEGIN")
            for table, (_, table_rows) in rows.items():
                db.executemany(statements[table],
                               table_rows[starts[table][batch]:starts[table][batch + 1]])
            db.execute("COMMIT")
            writing += time.perf_counter() - began
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed, writing


def throughput(records: int, tries: int = 2) -> None:
    """Each side `tries` times into a new database, alternately; the best of each."""
    app_times, raw_times, write_times = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        source = folder / "calls.ndjson"
        write_ndjson(source, count=records)
        size_mb = source.stat().st_size / 1e6
        for attempt in range(tries):
            app_db = folder / f"app{attempt}.sqlite3"
            with Store(str(app_db)) as store:  # made (migrated) before the clock starts
                started = time.perf_counter()
                report = import_paths(store, [source])
                app_times.append(time.perf_counter() - started)
                assert report.counts.new == records, report.summary_line()
                rows = raw_rows(store)
            assert len(rows["calls"][1]) == len(rows["call_stats"][1]) == records
            whole, writing = raw_insert(folder / f"raw{attempt}.sqlite3", source, rows, app_db)
            raw_times.append(whole)
            write_times.append(writing)
    app_seconds, raw_seconds, write_seconds = min(app_times), min(raw_times), min(write_times)
    app_rate, raw_rate = records / app_seconds, records / raw_seconds
    each = "; ".join(f"{a:.2f} s vs {r:.2f} s" for a, r in zip(app_times, raw_times, strict=True))
    print(f"records: {records:,} ({size_mb:,.0f} MB NDJSON, {size_mb * 1e3 / records:.1f} KB each)"
          f"; best of {tries} each ({each})")
    print(f"callviewer import: {app_seconds:7.2f} s  {app_rate:8,.0f} records/s "
          "(read, parse, normalise, upsert, index)")
    print(f"raw sqlite3:       {raw_seconds:7.2f} s  {raw_rate:8,.0f} rows/s "
          "(json.loads of each line + executemany of the built rows: calls, FTS, numbers, "
          "call_stats)")
    print(f"ratio: {app_rate / raw_rate:.2f} of the raw rate (target >= 0.50 at 20,000, "
          ">= 0.60 at 100,000)")
    print(f"  (the raw side's writing alone: {write_seconds:.2f} s, "
          f"{records / write_seconds:,.0f} rows/s; ratio to it {write_seconds / app_seconds:.2f})")


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
