"""How a sync fails, as sentences: shared by every source (none of them imports HTTP)."""

from __future__ import annotations

from callviewer.errors import ExpectedError


class SyncFailed(ExpectedError):
    """A source could not be synced; str() is the sentence for a person."""

    status = "failed"


class Offline(SyncFailed):
    """The source could not be reached at all (no network, no such host, refused)."""

    status = "offline"


class TokenRefused(SyncFailed):
    """The API answered 401 or 403: the token is wrong, expired or lacks a scope."""

    status = "refused"

    def __init__(self) -> None:
        super().__init__("The API token was refused — check it in Preferences.")


class Canceled(Exception):
    """The sync was canceled while waiting."""


class TooLarge(SyncFailed):
    """An answer was larger than its limit (the connection's max_response_mb)."""


class StorageFailed(SyncFailed):
    """A file of the archive could not be written here (a full disk, a read-only folder)."""
