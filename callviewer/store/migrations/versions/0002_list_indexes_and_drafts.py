"""The list's indexes break ties by start time; note drafts are kept as they are typed.

Every sortable column's index is (column, started_at, id), the list's
ORDER BY, so a sort by any column reads its first rows from the index.
The index on deleted_at goes: hiding deleted calls matches nearly every
row, and with the index there SQLite chose it over the sort order's.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RETIED = ("duration_ms", "score", "customer_name", "note_count")
OLD_NAMES = {"duration_ms": "ix_calls_duration", "score": "ix_calls_score",
             "customer_name": "ix_calls_customer", "note_count": "ix_calls_notes"}


def upgrade() -> None:
    op.drop_index("ix_calls_deleted", "calls")
    for column in RETIED:
        op.drop_index(OLD_NAMES[column], "calls")
        op.create_index(OLD_NAMES[column], "calls", [column, "started_at", "id"])
    op.create_table(
        "drafts",
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("note_id", sa.Integer, primary_key=True),  # 0: a new note
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("cursor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("drafts")
    for column in RETIED:
        op.drop_index(OLD_NAMES[column], "calls")
        op.create_index(OLD_NAMES[column], "calls", [column, "id"])
    op.create_index("ix_calls_deleted", "calls", ["deleted_at"])
