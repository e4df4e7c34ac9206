"""On PostgreSQL, the list's indexes sort NULL first, as SQLite does.

SQLite orders NULL before every value; PostgreSQL after, unless told. The
list asks PostgreSQL for SQLite's order (``ASC NULLS FIRST``, ``DESC NULLS
LAST``: callviewer/listing.py), so that a call without a name or a score is
in the same place on either engine, and these indexes are built in that
order so that the first page of every sort is still read from an index
(scanned backwards for ``DESC NULLS LAST``). SQLite is left as it is.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Each list index's sort columns (deleted_at follows them, as in migration 0003).
INDEXES = {
    "ix_calls_started": ["started_at", "id"],
    "ix_calls_duration": ["duration_ms", "started_at", "id"],
    "ix_calls_score": ["score", "started_at", "id"],
    "ix_calls_outcome": ["outcome", "started_at", "id"],
    "ix_calls_direction": ["direction", "started_at", "id"],
    "ix_calls_done": ["done", "started_at", "id"],
    "ix_calls_recording": ["has_recording", "started_at", "id"],
    "ix_calls_customer": ["customer_name", "started_at", "id"],
    "ix_calls_notes": ["note_count", "started_at", "id"],
    "ix_calls_recording_state": ["recording_state", "started_at", "id"],
}


def upgrade() -> None:
    _rebuild(" NULLS FIRST")


def downgrade() -> None:
    _rebuild("")


def _rebuild(order: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in INDEXES.items():
        op.drop_index(name, "calls")
        keys = ", ".join(f"{column}{order}" for column in columns)
        op.execute(f"CREATE INDEX {name} ON calls ({keys}, deleted_at)")
