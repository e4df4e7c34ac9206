"""Secrets (API tokens, team database passwords), behind one interface: `save_secret`,
`load_secret`, `delete_secret`. Kept in the system keyring, or where there is none, in a
file only the user can read (``tokens.json``, mode 0600, in the user config folder), and
saying so. Keys: a sync connection's ``secret_key``; a database's
``user@host:port/dbname`` (callviewer/dbfile.py).

A keyring backend that is no keyring — keyring's "fail" and "null" backends,
or keyrings.alt's plain-text files (FACTS.md) — counts as none: the fallback
file is then ours, in a known place, with known permissions.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import orjson
import platformdirs

from callviewer.atomic import write_bytes
from callviewer.redaction import register_secret

SERVICE = "callviewer"
FILE_NAME = "tokens.json"
log = logging.getLogger(__name__)


def secrets_file() -> Path:
    """The fallback file: ``tokens.json`` in the user config folder."""
    return Path(platformdirs.user_config_dir(SERVICE, appauthor=False)) / FILE_NAME


def keyring_backend():
    """The system keyring, or None when there is no real one."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except Exception:  # keyring missing or broken on this platform
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    candidates = backend.backends if isinstance(backend, chainer.ChainerBackend) else [backend]
    real = [one for one in candidates if not isinstance(one, fail.Keyring)
            and not type(one).__module__.startswith(("keyrings.alt", "keyring.backends.null"))]
    return backend if real else None


def save_secret(key: str, secret: str, what: str = "token") -> str:
    """Keep a secret under `key`; returns a sentence saying where the `what` was kept."""
    register_secret(secret)
    backend = keyring_backend()
    if backend is not None:
        try:
            backend.set_password(SERVICE, key, secret)
            _file_write(key, None)  # a copy left from a time without a keyring goes
            return f"The {what} was saved in the system keyring."
        except Exception as exc:  # locked, refused, no D-Bus session
            log.warning("The system keyring refused the %s (%s); using the file.",
                        what, type(exc).__name__)
    path = _file_write(key, secret)
    return (f"No system keyring is available, so the {what} was saved in {path}, "
            "readable only by you.")


def load_secret(key: str) -> str | None:
    """The secret kept under `key`, or None."""
    token = None
    backend = keyring_backend()
    if backend is not None:
        try:
            token = backend.get_password(SERVICE, key)
        except Exception as exc:
            log.warning("The system keyring could not be read (%s).", type(exc).__name__)
    if token is None:
        token = _file_read().get(key)
    register_secret(token)
    return token


def delete_secret(key: str) -> None:
    """Forget the secret kept under `key`, wherever it is."""
    backend = keyring_backend()
    if backend is not None:
        with contextlib.suppress(Exception):
            backend.delete_password(SERVICE, key)
    if key in _file_read():
        _file_write(key, None)


def _file_read() -> dict[str, str]:
    try:
        data = orjson.loads(secrets_file().read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _file_write(key: str, token: str | None) -> Path:
    """Set (or with None remove) one token in the file, replacing the file whole."""
    path = secrets_file()
    tokens = _file_read()
    if token is None and key not in tokens:
        return path
    if token is None:
        tokens.pop(key)
    else:
        tokens[key] = token
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Readable by its owner only (0600) from before its first byte; renamed over the old file.
    write_bytes(path, orjson.dumps(tokens, option=orjson.OPT_INDENT_2), mode=0o600)
    return path
