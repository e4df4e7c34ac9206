"""Call records the tests write to files and read back: one wavekat record's shape, NDJSON,
fixture files copied where an import reads them, and a store's calls by source id."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson


def wavekat(source_id: str, **fields) -> dict:
    """An answered inbound wavekat VoiceCallRecord, `fields` changed."""
    return {"sourceId": source_id, "accountId": "acc-1", "direction": "inbound",
            "party": "+15550100123", "ringAt": "2026-11-02T09:00:00Z",
            "answerAt": "2026-11-02T09:00:05Z", "endAt": "2026-11-02T09:03:05Z",
            "durationMs": 180000, "disposition": "answered", "endReason": "remote_hangup",
            "schemaVersion": 1, **fields}


def write_ndjson(path: Path, lines: list) -> Path:
    """Write records (or raw lines as bytes) a line each; returns the path."""
    path.write_bytes(b"".join(
        (line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines))
    return path


def copy_fixtures(fixtures: Path, folder: Path, *names: str) -> list[Path]:
    """Copy fixture files into `folder` (recordings beside them are found there)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(fixtures / name, folder / name)) for name in names]


def exported(store) -> dict[str, dict]:
    """A store's calls (deleted ones too) as canonical records, by source id."""
    return {record["source_id"]: record for record in store.calls.export(include_deleted=True)}
