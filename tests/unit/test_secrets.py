"""Secrets (callviewer/secrets.py): the system keyring when there is one, else a file
only the user can read."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from memory_keyring import MemoryKeyring

from callviewer import secrets


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield tmp_path / "config" / "callviewer" / "tokens.json"
    keyring.set_keyring(before)


def test_without_a_keyring_the_token_goes_to_a_0600_file_and_the_caller_is_told(config_home):
    assert secrets.keyring_backend() is None
    said = secrets.save_secret("connection-a", "tok-first-111111")
    assert said == (f"No system keyring is available, so the token was saved in "
                    f"{config_home}, readable only by you.")
    assert stat.S_IMODE(config_home.stat().st_mode) == 0o600
    secrets.save_secret("connection-b", "tok-second-22222")
    assert secrets.load_secret("connection-a") == "tok-first-111111"
    secrets.delete_secret("connection-a")
    assert secrets.load_secret("connection-a") is None
    assert secrets.load_secret("connection-b") == "tok-second-22222"
    assert stat.S_IMODE(config_home.stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_another_user_cannot_read_the_token_file(monkeypatch):
    # A folder every user may pass through, so that only the file's own mode protects it.
    home = Path(tempfile.mkdtemp(prefix="callviewer-config-"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    try:
        _read_as_another_user(home)
    finally:
        shutil.rmtree(home)


def _read_as_another_user(home: Path) -> None:
    secrets.save_secret("connection-a", "tok-secret-33333")
    for folder in (home, secrets.secrets_file().parent):
        folder.chmod(0o755)
    readable = secrets.secrets_file().with_name("control.txt")
    readable.write_text("anyone may read this")
    readable.chmod(0o644)

    def read_as_nobody(path):
        return subprocess.run(["cat", str(path)], capture_output=True, text=True,
                              user=65534, group=65534, timeout=30)

    assert read_as_nobody(readable).stdout == "anyone may read this"  # the test can fail
    refused = read_as_nobody(secrets.secrets_file())
    assert refused.returncode != 0 and "Permission denied" in refused.stderr
    assert "tok-secret" not in refused.stdout


def test_with_a_keyring_the_token_goes_there_and_not_to_the_file(config_home):
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    assert secrets.keyring_backend() is memory
    assert secrets.save_secret("connection-a", "tok-kept-444444") == \
        "The token was saved in the system keyring."
    assert memory.kept == {("callviewer", "connection-a"): "tok-kept-444444"}
    assert not config_home.exists()
    assert secrets.load_secret("connection-a") == "tok-kept-444444"
    secrets.delete_secret("connection-a")
    assert memory.kept == {}
