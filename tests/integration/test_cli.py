"""The `callviewer` command as a user runs it: real processes, real files, real databases."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest
from records import wavekat, write_ndjson

from callviewer.dbfile import HEAD
from callviewer.record import FIELDS

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, db: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "callviewer", *args]
    if db is not None:
        command += ["--db", str(db)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)


def test_demo_then_info_then_export_prints_canonical_records(tmp_path):
    db = tmp_path / "calls.sqlite3"
    loaded = run("demo", db=db)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith(tuple(f"{n} new" for n in range(30, 1000)))
    info = run("info", db=db)
    assert str(db) in info.stdout and f"Schema:     {HEAD}" in info.stdout
    exported = run("export", "--format", "json", "--include-deleted", db=db)
    records = orjson.loads(exported.stdout)
    assert len(records) >= 30
    for record in records:
        assert tuple(record) == FIELDS
        assert record["started_at"] is None or record["started_at"].endswith("Z")
    # Every record read again changes nothing (a Twilio Recording is a record, not a call).
    new, updated = (int(loaded.stdout.split()[i]) for i in (0, 2))
    assert new == len(records)
    again = run("demo", db=db)
    assert again.stdout.startswith(f"0 new, 0 updated, {new + updated} unchanged, 0 rejected")


def test_db_is_honoured_before_and_after_the_command(tmp_path):
    before, after = tmp_path / "before.sqlite3", tmp_path / "after.sqlite3"
    assert run("--db", str(before), "demo").stdout.startswith(tuple(f"{n} new" for n in
                                                                    range(30, 1000)))
    assert run("demo", db=after).stdout.startswith(tuple(f"{n} new" for n in range(30, 1000)))
    assert f"Database:   {before}" in run("--db", str(before), "info").stdout


def test_bad_records_are_listed_and_the_good_ones_imported(tmp_path):
    source = write_ndjson(tmp_path / "calls.ndjson", [
        wavekat("good-1"),
        b'{"sourceId": "broken", ',
        wavekat("bad-time", endAt="yesterday"),
        wavekat("good-2"),
        42,
    ])
    done = run("import", str(source), db=tmp_path / "calls.sqlite3")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "2 new, 0 updated, 0 unchanged, 3 rejected"
    assert f"{source} line 2" in done.stderr
    assert f"{source} line 3 (source_id bad-time): field 'endAt'" in done.stderr
    assert "yesterday" in done.stderr
    assert f"{source} line 5" in done.stderr
    exported = orjson.loads(run("export", db=tmp_path / "calls.sqlite3").stdout)
    assert sorted(record["source_id"] for record in exported) == ["good-1", "good-2"]


def test_an_unreadable_file_exits_2_and_the_others_are_imported(tmp_path):
    (tmp_path / "in").mkdir()
    write_ndjson(tmp_path / "in" / "a.ndjson", [wavekat("a")])
    (tmp_path / "in" / "b.json").write_bytes(b"\x00\x01 not json at all")
    done = run("import", str(tmp_path / "in"), db=tmp_path / "calls.sqlite3")
    assert done.returncode == 2
    assert done.stdout.startswith("1 new")
    assert "b.json" in done.stderr


def test_csv_export_has_the_canonical_columns(tmp_path):
    db = tmp_path / "calls.sqlite3"
    run("import", str(write_ndjson(tmp_path / "a.ndjson", [wavekat("a")])), db=db)
    out = tmp_path / "calls.csv"
    assert run("export", "--format", "csv", "-o", str(out), db=db).returncode == 0
    header, row = out.read_text(encoding="utf-8").splitlines()
    assert header.split(",") == list(FIELDS)
    assert "a" in row.split(",")


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    db = tmp_path / "calls.sqlite3"
    run("info", db=db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0042'")
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    done = run("import", str(write_ndjson(tmp_path / "a.ndjson", [wavekat("a")])), db=db)
    assert done.returncode == 2
    assert "newer version of Call Viewer" in done.stderr
    assert "Traceback" not in done.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_the_environment_variable_names_the_database(tmp_path):
    db = tmp_path / "from-env.sqlite3"
    done = run("info", env={**os.environ, "CALLVIEWER_DB": str(db)})
    assert str(db) in done.stdout and db.exists()


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (3 * 2**20, 3 * 2**20))


def test_a_full_disk_stops_the_import_with_a_sentence_and_the_database_whole(tmp_path):
    db = tmp_path / "calls.sqlite3"
    run("import", str(write_ndjson(tmp_path / "first.ndjson", [wavekat("first")])), db=db)
    big = write_ndjson(tmp_path / "big.ndjson", [
        wavekat(f"call-{n}", extras={"padding": "x" * 3000}) for n in range(3000)])
    done = run("import", str(big), db=db, preexec_fn=_limit_file_size)
    assert done.returncode == 2
    assert "full" in done.stderr or "could not be written" in done.stderr
    assert "Traceback" not in done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        calls = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
        assert calls == conn.execute("SELECT count(*) FROM calls_fts").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM calls WHERE source_id = 'first'").fetchone()[0]
    assert calls % 500 == 1  # whole batches only, besides the first call
    conn.close()


@pytest.mark.slow
def test_the_wheel_carries_the_resources_and_migrations(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                    str(REPO)], check=True, timeout=300)
    [wheel] = tmp_path.glob("callviewer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "callviewer/resources/demo/README.md" in names
    assert any(name.startswith("callviewer/resources/demo/") and name.endswith(".mp3")
               for name in names)
    assert "callviewer/store/migrations/versions/0001_initial.py" in names
    assert "callviewer/store/migrations/script.py.mako" in names


def test_every_module_of_the_source_tree_imports_from_outside_it(tmp_path):
    """An install that left a package out (say callviewer.ui) fails here, not at a user's."""
    source = sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "callviewer").rglob("*.py")
        if "migrations" not in path.parts and path.name != "__main__.py")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", "import importlib, sys\n"
         "for name in sys.argv[1:]:\n"
         "    module = importlib.import_module(name)\n"
         "print(module.__name__)"
         , *source], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
