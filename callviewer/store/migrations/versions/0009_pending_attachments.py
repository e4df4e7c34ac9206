"""Parts of calls that arrived before their call: kept until it comes, never a call.

A Twilio Recording resource, or an ElevenLabs audio webhook, may be imported or
synced before the call it belongs to. It waits here, keyed by its call's
(source, source_id); when the call is written, the parts are merged into it in
the order they came, and leave this table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("source", "source_id", "digest",
                            name="ux_pending_attachments_key"),
    )


def downgrade() -> None:
    op.drop_table("pending_attachments")
