"""The call list's columns, each declared once: what the SQL, the model and the view read.

Pure (no Qt, no SQLAlchemy): listing.py builds its sorts and the row it reads from
here, ui/call_model.py its headers, alignments and (by key, in one table) its
formatters, ui/window.py its widths. A column's key is also its sort's name in a
ListSpec and in the remembered settings.
"""

from __future__ import annotations

from dataclasses import dataclass

LEFT, RIGHT, CENTRE = "left", "right", "centre"


@dataclass(frozen=True)
class Column:
    """One column of the list."""

    key: str  # its name, and its sort's (ListSpec.sort)
    header: str  # the header's text (a glyph for a narrow column)
    tip: str  # the header's tooltip
    sort: str  # the SQL column it sorts by (each has an index: store/schema.py)
    reads: tuple[str, ...]  # the calls' fields its cells are made from
    align: str = LEFT
    width: int = 64  # pixels, until the person resizes it
    stretch: bool = False  # takes the width the others leave (no sideways scrolling)
    name: str = ""  # the header's name for a screen reader, when its text is a glyph
    # Its field and sort are the call's statistics (the call_stats table, migration 0014),
    # not a calls column: listing.py reads them through that table's index.
    stats: bool = False
    hidden: bool = False  # hidden until shown from View ▸ Columns (ui/column_menu.py)
    # The filters (calls columns) whose calls lie at one end of this sort's order, each
    # with an index of its own, the filter's column then the sort's (store/schema.py): a
    # call not answered has no score and no length, so "answered" or "with a recording"
    # by score ↑ would begin after every unanswered call (issue 26).
    paired: tuple[str, ...] = ()

    @property
    def spoken(self) -> str:
        """What a screen reader calls the column."""
        return self.name or self.header


COLUMNS = (
    Column("recording", "♪", "Recording: ▶ not played, a speaker while playing, ⏸ paused; "
           "click or Space plays", "has_recording", ("recording_state",), CENTRE, 28,
           name="Recording"),
    Column("direction", "⇄", "Direction: ↙ inbound, ↗ outbound", "direction", ("direction",),
           CENTRE, 28, name="Direction"),
    Column("started", "Started", "When the call started (its day and time of day)",
           "started_at", ("started_at",), width=124),
    Column("who", "Who", "Who", "customer_name",
           ("customer_name", "customer_number", "from_number"), width=200, stretch=True),
    Column("duration", "Duration", "How long the call lasted", "duration_ms",
           ("duration_ms",), RIGHT, 86, paired=("outcome", "has_recording")),
    Column("outcome", "Outcome", "Outcome", "outcome", ("outcome",), width=112),
    Column("score", "Score", "Score", "score", ("score",), RIGHT, 50,
           paired=("outcome", "has_recording")),
    Column("done", "Done", "Done", "done", ("done",), CENTRE, 46),
    Column("notes", "Notes", "Notes", "note_count", ("note_count",), RIGHT, 50),
    Column("talk", "Cust. talk", "The customer's share of the talk (agent and customer), "
           "from the call's timeline; empty until measured", "customer_share",
           ("customer_share",), RIGHT, 72, name="Customer talk share", stats=True,
           hidden=True),
    Column("silence", "Silence", "Silence in the call: pauses over a second, added up, from "
           "the call's timeline; empty until measured", "silence_ms", ("silence_ms",), RIGHT,
           80, stats=True, hidden=True),
    Column("monologue", "Monologue", "The longest stretch one party spoke alone, from the "
           "call's timeline; empty until measured", "longest_monologue_ms",
           ("longest_monologue_ms",), RIGHT, 86, name="Longest monologue", stats=True,
           hidden=True),
    Column("interruptions", "Interr.", "Interruptions: one party starting while the other "
           "speaks; empty until measured or when the times are estimated", "interruptions",
           ("interruptions",), RIGHT, 56, name="Interruptions", stats=True, hidden=True),
)
BY_KEY = {column.key: column for column in COLUMNS}
AT = {column.key: i for i, column in enumerate(COLUMNS)}  # a column's place in the view
# Each index of a filter's column and a sort's (Column.paired): its name, its columns.
PAIRED_INDEXES = {f"ix_calls_{filtered}_{column.sort}": (filtered, column.sort)
                  for column in COLUMNS for filtered in column.paired}

# What a list row holds, in this order: the call's id and whether it is deleted (shown
# struck through), then each field a column reads.
STATS_FIELDS = frozenset(field for column in COLUMNS if column.stats for field in column.reads)
ROW_FIELDS = tuple(dict.fromkeys(
    ("id", "deleted_at", *(field for column in COLUMNS for field in column.reads))))
