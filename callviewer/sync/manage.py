"""Adding and removing sync connections: one way for the command line and Preferences."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from callviewer.redaction import redact_url
from callviewer.secrets import delete_secret, save_secret
from callviewer.store.records import SyncConnection
from callviewer.sync.connection import API_KINDS, module_for, settings_for

API, FOLDER = "calls-api", "folder"
# Kinds whose secret is two parts, read from standard input as one line.
NEEDS_TWO_SECRETS = {"twilio": "ACCOUNT_SID:AUTH_TOKEN (or API_KEY_SID:API_KEY_SECRET)"}


def add_connection(store, name: str, *, url: str | None = None, folder: Path | None = None,
                   token: str | None = None, settings: dict | None = None,
                   api: str | None = None) -> tuple[SyncConnection, str | None]:
    """Add a calls API (`api`: a vendor's kind, connection.API_KINDS, the agent platform's
    without it; `url`: its base address, the vendor's default without it; `token`) or a
    watched folder under `name`.

    Returns the connection's row and, when a token was given, the sentence saying
    where it was kept. ValueError with a sentence for a bad name, kind, address or
    folder; StoreError for a name already taken.
    """
    name = name.strip()
    if not name:
        raise ValueError("Give the connection a name.")
    given = dict(settings or {})
    if folder is not None:
        kind = FOLDER
        resolved = Path(folder).expanduser().resolve()
        if not resolved.is_dir():
            raise ValueError(f"The folder {resolved} does not exist.")
        given["folder"] = str(resolved)
    else:
        kind = API if api is None else API_KINDS.get(api.strip().lower(), "")
        if not kind:
            raise ValueError(f"Unknown API {api!r}; use one of: {', '.join(API_KINDS)}.")
        if token is not None and kind in NEEDS_TWO_SECRETS and ":" not in token:
            raise ValueError(f"A {api} connection needs two secrets: give them on standard "
                             f"input as {NEEDS_TWO_SECRETS[kind]}.")
        url = (url or module_for(kind).DEFAULTS.get("url") or "").strip()
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"The address {redact_url(url)!r} must start with http:// or "
                             "https://.")
        _refuse_credentials(url)
        given["url"] = url.rstrip("/")
    settings_for(kind, given)  # ValueError for a setting the kind lacks
    row = store.sync.add_connection(name, kind, given)
    return row, save_secret(row.secret_key, token) if token else None


def credentials_in(url: str) -> str | None:
    """What credential a URL carries (a user name, a password, a token in its query), or None."""
    from callviewer.record import is_credential_key

    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return "a malformed user name or port"
    if password:
        return "a user name and password"
    if user:
        return "a user name"
    names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)
             if is_credential_key(name) or name.lower() in ("key", "sig")]
    return f"a credential in its query ({', '.join(names)})" if names else None


def _refuse_credentials(url: str) -> None:
    """A base address is stored and shown: a secret in it would be kept in clear."""
    found = credentials_in(url)
    if found:
        raise ValueError(f"The address {redact_url(url)} carries {found}, which would be "
                         "stored in clear: give the address without it and the token with "
                         "--token-stdin.")


def remove_connection(store, name: str) -> SyncConnection:
    """Remove a connection and its token; its calls and recordings stay."""
    row = store.sync.remove_connection(name)
    delete_secret(row.secret_key)
    return row
