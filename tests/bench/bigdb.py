"""Build a large generated call database for the benchmarks, through the store's own write path.

    python tests/bench/bigdb.py PATH [--calls 1000000]

Calls are spread over two years, newest last, with realistic mixes of
direction, outcome, recordings, scores and short transcripts. Word
frequencies are chosen so searches can be timed for a rare word ("zebra",
~0.01 %), a common one ("appointment", ~1 %) and one in every call ("call").
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from callviewer.record import message
from callviewer.store import Store

START = 1_700_000_000 * 1_000_000  # 2023-11-14, in epoch microseconds
SPAN = 2 * 365 * 86_400 * 1_000_000
FILLER = [
    "please", "thanks", "morning", "afternoon", "kitchen", "invoice", "boiler", "leak",
    "insurance", "cleaning", "reminder", "Tuesday", "Friday", "address", "confirm", "schedule",
    "payment", "refund",
]
FIRST = ("Ann", "Omar", "Li", "José", "Priya", "Sam", "Fatima", "Noah", "Mia", "Kenji")
LAST = ("Lee", "Haddad", "Wang", "Müller", "Natarajan", "Patel", "Khan", "Smith", "Rossi")
OUTCOMES = ("answered",) * 14 + ("missed",) * 3 + ("busy", "failed", "canceled", "voicemail")


def make_call(rng: random.Random, index: int, total: int) -> dict:
    started = START + SPAN * index // total + rng.randint(0, 30_000_000)
    outcome = rng.choice(OUTCOMES)
    answered = outcome == "answered"
    duration = rng.randint(15_000, 900_000) if answered else None
    words = rng.choices(FILLER, k=12)
    if rng.random() < 0.01:
        words.append("appointment")
    if rng.random() < 0.0001:
        words.append("zebra")
    text = "call " + " ".join(words)
    inbound = rng.random() < 0.7
    number = f"+1555{rng.randint(0, 9_999_999):07d}"
    return {
        "source": "agent-platform", "source_id": f"gen-{index}",
        "direction": "inbound" if inbound else "outbound",
        "customer_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "customer_number": number, "from_number": number if inbound else "+15550000000",
        "started_at": started, "answered_at": started + 4_000_000 if answered else None,
        "ended_at": started + (duration or 20_000) * 1000, "duration_ms": duration,
        "outcome": outcome, "summary": f"Caller asked about {words[0]} and {words[1]}.",
        "score": rng.randint(1, 10) if answered else None,
        "done": rng.random() < 0.6, "has_recording": answered and rng.random() < 0.8,
        "transcript": [message("agent", "Hello, how can I help?", 0, 2000),
                       message("customer", text, 2500, 9000)] if answered else [],
        "deleted_at": started if rng.random() < 0.002 else None,
        "updated_at": started,
    }


def build(path: Path, calls: int, batch: int = 5000) -> None:
    rng = random.Random(11)
    started = time.perf_counter()
    with Store(str(path)) as store:
        for first in range(0, calls, batch):
            store.calls.write_records([make_call(rng, i, calls)
                                 for i in range(first, min(first + batch, calls))])
        with store.writing() as conn:
            conn.exec_driver_sql("INSERT INTO calls_fts(calls_fts) VALUES ('optimize')")
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("ANALYZE")
    print(f"{calls:,} calls written to {path} in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args()
    build(args.path, args.calls)


if __name__ == "__main__":
    main()
