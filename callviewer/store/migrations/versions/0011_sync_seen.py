"""Which calls each sync connection brought, and the last full pass that listed them.

A full pass walks a source's whole history; the calls a connection brought that
the pass no longer lists are marked deleted at the source (store/sync_seen.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # When a walk of a source's whole history last ended (last_full_at: any reconciliation).
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("last_whole_at", sa.BigInteger()))
    op.create_table(
        "sync_seen",
        sa.Column("connection_id", sa.Integer(),
                  sa.ForeignKey("sync_connections.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("source_id", sa.Text(), primary_key=True),
        sa.Column("pass_number", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("marked", sa.Boolean(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("sync_seen")
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("last_whole_at")
