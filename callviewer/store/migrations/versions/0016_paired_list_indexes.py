"""An index for each filter whose calls lie at one end of a sort's order (issue 26).

A call that was not answered has no score and no length, and both sort NULL first: "with
a recording" or "answered" by score ↑ begins after every unanswered call (330,000 of a
million), and "missed" by score ↓ after every answered one. Neither a walk of the sort's
index (it passes them all) nor the filter's own index (all its calls read, then sorted)
gave the first page in less than 350-1,500 ms. An index of the filter's column then the
sort's gives one filter value's calls in the sort's order: about a millisecond.

The pairs are columns.py's `paired` (a copy here: a migration does not follow later
code). On PostgreSQL the sort's columns sort NULL first, as the list's other indexes
(migration 0006).
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Each index: the filter's column, then the sort's.
PAIRED = {
    "ix_calls_outcome_duration_ms": ("outcome", "duration_ms"),
    "ix_calls_has_recording_duration_ms": ("has_recording", "duration_ms"),
    "ix_calls_outcome_score": ("outcome", "score"),
    "ix_calls_has_recording_score": ("has_recording", "score"),
}


def upgrade() -> None:
    first = " NULLS FIRST" if op.get_bind().dialect.name == "postgresql" else ""
    for name, (filtered, sort) in PAIRED.items():
        keys = ", ".join(f"{column}{first}" for column in (sort, "started_at", "id"))
        op.execute(f"CREATE INDEX {name} ON calls ({filtered}, {keys}, deleted_at)")


def downgrade() -> None:
    for name in PAIRED:
        op.drop_index(name, "calls")
