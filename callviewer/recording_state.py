"""The recording states a call can be in, and their words (no database code here: the
list and the detail read them without loading SQLAlchemy; store/recordings.py keeps them)."""

from __future__ import annotations

NONE, AT_SOURCE, ARCHIVED, LINK_EXPIRED, GONE, PURGED = (
    "none", "at_source", "archived", "link_expired", "gone", "purged")
# Each state and the words the window shows for it.
STATES = {
    NONE: "None",
    AT_SOURCE: "At the source",
    ARCHIVED: "Archived",
    LINK_EXPIRED: "Link expired (sync to refresh)",
    GONE: "Gone at the source",
    PURGED: "Purged",
}
# The list's play column: a glyph per state ("" for none). ▶ is also the mark of a call
# not playing; the now-playing call's marks (a speaker while it plays, two bars while
# paused) are drawn by ui/player.py's PlayColumnDelegate, following NowPlaying.
GLYPHS = {AT_SOURCE: "▶", ARCHIVED: "▶", LINK_EXPIRED: "⚠", GONE: "∅", PURGED: "", NONE: ""}
# What each state means, for tooltips.
MEANINGS = {
    NONE: "No recording",
    AT_SOURCE: "Recording at the source, not downloaded yet",
    ARCHIVED: "Recording archived on this computer",
    LINK_EXPIRED: "The recording's link expired: sync to refresh it",
    GONE: "The source no longer has this recording, and it was never downloaded",
    PURGED: "Purged: the recording was deleted with the call's sensitive fields",
}
