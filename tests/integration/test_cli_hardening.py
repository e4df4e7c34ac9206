"""Faults at the command line's edges (issue 21): special files, exports that cannot be
written, database addresses that are none, a failed upgrade, a full disk, a read-only
folder. Real processes of `python -m callviewer`, real files, real SQLite databases."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import orjson
import pytest
from records import wavekat, write_ndjson

from callviewer.dbfile import HEAD
from callviewer.store import Store
from callviewer.sync.importer import import_paths

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534
TIMEOUT = 60  # a command that hangs on a FIFO fails the test instead of the run


def run(*args: str, db: Path | str | None = None, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "callviewer", *args]
    if db is not None:
        command += ["--db", str(db)]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=REPO, **kwargs)


def padded_db(tmp_path: Path, calls: int = 2000) -> Path:
    """A database whose JSON export is some megabytes (1.5 KB of extras a call)."""
    db = tmp_path / "calls.sqlite3"
    source = write_ndjson(tmp_path / "padded.ndjson", [
        wavekat(f"call-{n}", padding="x" * 1500) for n in range(calls)])
    with Store(str(db)) as store:
        assert import_paths(store, [source]).counts.new == calls
    return db


def one_sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("callviewer: ") and lines[0].endswith("."), lines[0]
    return lines[0]


def _limit_file_size(size: int):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


# --- export ---------------------------------------------------------------------------


def test_an_export_over_a_size_limit_leaves_the_earlier_export_whole(tmp_path):
    db = padded_db(tmp_path)
    target = tmp_path / "calls.json"
    assert run("export", "-o", str(target), db=db).returncode == 0
    earlier = target.read_bytes()
    assert len(earlier) > 2 * 2**20 and len(orjson.loads(earlier)) == 2000

    done = run("export", "-o", str(target), db=db, preexec_fn=_limit_file_size(2**20))
    assert done.returncode == 2
    sentence = one_sentence(done.stderr)
    assert str(target) in sentence and "left as it was" in sentence
    assert target.read_bytes() == earlier
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_an_export_is_renamed_into_place_with_the_usual_permissions(tmp_path):
    db = padded_db(tmp_path, calls=3)
    target = tmp_path / "calls.csv"
    done = run("export", "--format", "csv", "-o", str(target), db=db)
    assert done.returncode == 0 and done.stderr == f"3 calls written to {target}\n"
    assert target.read_text().startswith("source,source_id,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_export_into_a_missing_folder_is_one_sentence(tmp_path):
    db = padded_db(tmp_path, calls=3)
    done = run("export", "-o", str(tmp_path / "no-such-folder" / "calls.json"), db=db)
    assert done.returncode == 2
    assert one_sentence(done.stderr) == (
        f"callviewer: The folder {tmp_path / 'no-such-folder'} does not exist; create it or "
        "export to another folder.")


@pytest.mark.parametrize("export_format", ["json", "csv"])
def test_an_export_into_a_closed_pipe_ends_quietly(tmp_path, export_format):
    db = padded_db(tmp_path, calls=500)
    exporter = subprocess.Popen(
        [sys.executable, "-m", "callviewer", "export", "--format", export_format, "--db",
         str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    exporter.stdout.readline()  # `| head -1`
    exporter.stdout.close()
    try:
        stderr = exporter.stderr.read().decode()
        status = exporter.wait(timeout=TIMEOUT)
    finally:
        exporter.kill()
    assert stderr == ""
    assert status == 141  # as a process SIGPIPE ended (README: The command line)


# --- database addresses -----------------------------------------------------------------


@pytest.mark.parametrize(("address", "says"), [
    ("mysql://me@localhost/calls", "is not one Call Viewer can use"),
    ("notascheme://x", "is not one Call Viewer can use"),
    ("http://example.com/calls", "is not one Call Viewer can use"),
    ("postgresql+psycopg://", "names no database"),
    ("postgresql+psycopg://me@localhost:99999/calls", "a port that is not a number"),
    ("postgresql+psycopg://me:secret-pw@[::1/calls", "a '[' without its ']'"),
    ("postgresql+psycopg2://me@localhost/calls", "asks for the driver psycopg2"),
])
def test_a_database_address_that_is_none_gets_one_sentence_naming_what_is(tmp_path,
                                                                          address, says):
    done = run("info", db=address)
    assert done.returncode == 2
    sentence = one_sentence(done.stderr)
    assert says in sentence
    assert "an SQLite file's path" in sentence and "postgresql+psycopg://" in sentence
    assert "secret-pw" not in done.stderr


def test_no_server_on_this_computer_is_one_sentence(tmp_path):
    done = run("info", db="postgresql+psycopg:///calls?host=" + str(tmp_path))
    assert done.returncode == 2
    assert "could not be reached" in one_sentence(done.stderr)


# --- a failed upgrade -----------------------------------------------------------------


def _older_database_with_a_conflicting_view(db: Path) -> None:
    """A database at the schema before the head, in which another tool made a view named
    like the table the upgrade creates: the upgrade's CREATE TABLE fails."""
    conn = sqlite3.connect(db)  # made at the head, then taken back one step
    with conn:
        conn.execute("DROP TABLE pending_attachments")
        conn.execute("UPDATE alembic_version SET version_num = '0008'")
        conn.execute("CREATE VIEW pending_attachments AS SELECT source, source_id FROM calls")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_a_failed_upgrade_restores_the_backup_it_made_and_says_so(tmp_path):
    db = tmp_path / "calls.sqlite3"
    run("import", str(write_ndjson(tmp_path / "a.ndjson", [wavekat("a"), wavekat("b")])),
        db=db)
    _older_database_with_a_conflicting_view(db)
    assert HEAD > "0008"

    done = run("import", str(write_ndjson(tmp_path / "c.ndjson", [wavekat("c")])), db=db)
    assert done.returncode == 2
    sentence = one_sentence(done.stderr)
    backup = tmp_path / "calls.sqlite3.schema-0008.bak"
    assert sentence.startswith(f"callviewer: Upgrading the database {db} from schema 0008 "
                               "failed (view pending_attachments already exists)")
    assert f"restored from the copy made before the upgrade ({backup})" in sentence
    assert backup.exists()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0008",)]
    assert conn.execute("SELECT source_id FROM calls ORDER BY 1").fetchall() == [("a",), ("b",)]
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("SELECT type FROM sqlite_master WHERE name = 'pending_attachments'"
                        ).fetchall() == [("view",)]
    conn.close()


# --- special files ----------------------------------------------------------------------


def test_a_fifo_given_to_import_is_skipped_with_a_sentence(tmp_path):
    fifo = tmp_path / "calls.json"
    os.mkfifo(fifo)
    good = write_ndjson(tmp_path / "good.ndjson", [wavekat("good")])
    done = run("import", str(fifo), str(good), db=tmp_path / "calls.sqlite3")
    assert done.returncode == 2
    assert done.stdout.startswith("1 new, 0 updated, 0 unchanged, 0 rejected")
    assert done.stderr == (f"unreadable: {fifo} is a named pipe (FIFO), not a regular file; "
                           "it was skipped.\n")


def test_a_folder_holding_a_fifo_and_a_link_to_dev_zero_imports_the_rest(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    os.mkfifo(folder / "calls.json")
    (folder / "zero.json").symlink_to("/dev/zero")
    write_ndjson(folder / "good.ndjson", [wavekat("good")])
    done = run("import", str(folder), db=tmp_path / "calls.sqlite3")
    assert done.returncode == 2
    assert done.stdout.startswith("1 new, 0 updated, 0 unchanged, 0 rejected")
    assert f"unreadable: {folder / 'calls.json'} is a named pipe (FIFO)" in done.stderr
    assert f"unreadable: {folder / 'zero.json'} is a character device" in done.stderr


def test_a_watched_folder_skips_a_fifo_and_a_link_to_dev_zero(tmp_path):
    db, folder = tmp_path / "calls.sqlite3", tmp_path / "drop"
    folder.mkdir()
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    added = run("sync", "add", "drop", "--folder", str(folder), "--set", "settle_seconds=0",
                db=db, env=env)
    assert added.returncode == 0, added.stderr
    os.mkfifo(folder / "calls.json")
    (folder / "zero.json").symlink_to("/dev/zero")
    write_ndjson(folder / "good.ndjson", [wavekat("good")])

    done = run("sync", "run", db=db, env=env)  # ends well within TIMEOUT, or the test fails
    assert done.stdout.startswith("1 new, 0 updated, 0 unchanged, 2 rejected"), done.stdout
    assert (f"rejected: {folder / 'calls.json'}: {folder / 'calls.json'} is a named pipe "
            "(FIFO), not a regular file; it was skipped.") in done.stderr
    assert f"{folder / 'zero.json'} is a character device, not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


# --- smaller ----------------------------------------------------------------------------


def test_a_folder_with_no_json_files_imports_nothing_and_says_so(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    (folder / "call.mp3").write_bytes(b"ID3")
    (folder / "notes.txt").write_text("not calls")
    done = run("import", str(folder), db=tmp_path / "calls.sqlite3")
    assert done.returncode == 2
    assert done.stdout.startswith("0 new, 0 updated, 0 unchanged, 0 rejected")
    assert done.stderr == (f"unreadable: No JSON files found in {folder} (.json, .ndjson or "
                           ".jsonl); nothing was imported from it.\n")


def test_a_full_disk_says_how_many_records_were_saved_before_it_stopped(tmp_path):
    db = tmp_path / "calls.sqlite3"
    big = write_ndjson(tmp_path / "big.ndjson", [
        wavekat(f"call-{n}", padding="x" * 3000) for n in range(3000)])
    done = run("import", str(big), db=db, preexec_fn=_limit_file_size(3 * 2**20))
    assert done.returncode == 2
    conn = sqlite3.connect(db)
    saved = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
    conn.close()
    assert 0 < saved < 3000 and saved % 500 == 0
    assert done.stdout.startswith(f"{saved} new, 0 updated, 0 unchanged, 0 rejected")
    sentence = one_sentence(done.stderr)
    assert sentence.startswith(f"callviewer: The import stopped after {saved:,} records were "
                               "saved")
    assert "could not be written" in sentence or "full" in sentence


@pytest.fixture
def open_tmp():
    """A temporary folder others may enter (pytest's own is root's alone)."""
    with tempfile.TemporaryDirectory() as name:
        Path(name).chmod(0o755)
        yield Path(name)


def test_a_read_only_folder_is_reported_as_a_folder_not_a_file(open_tmp):
    """Run as `nobody` (the tests run as root, who may write anywhere): the database file
    may be written, its folder may not, so SQLite cannot make its -wal and -shm files."""
    tmp_path = open_tmp
    folder = tmp_path / "shared"
    folder.mkdir()
    db = folder / "calls.sqlite3"
    source = write_ndjson(tmp_path / "calls.ndjson", [wavekat("a")])
    Store(str(db)).close()
    for extra in folder.glob("calls.sqlite3-*"):
        extra.unlink()
    db.chmod(0o666)
    folder.chmod(0o755)  # root's, not writable by nobody
    source.chmod(0o644)
    warm = tmp_path / "warm"  # every module the import needs is loaded while still root
    script = textwrap.dedent(f"""
        import os, sys
        from callviewer import cli
        cli.main(["--db", {str(warm / "w.sqlite3")!r}, "import", {str(source)!r}])
        os.setgroups([]); os.setgid({NOBODY}); os.setuid({NOBODY})
        sys.exit(cli.main(["--db", {str(db)!r}, "import", {str(source)!r}]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=REPO)
    assert done.returncode == 2, done.stderr
    sentence = done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr
    assert sentence == (f"callviewer: The folder {folder} of the database {db} is read-only "
                        "(SQLite writes its -wal and -shm files beside the database); make "
                        "the folder writable, or move the database to one that is.")
