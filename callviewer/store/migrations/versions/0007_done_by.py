"""Who marked a call done, and when.

A team shares one database: the done flag says who set it (the note author's
name, as notes do) and when (epoch microseconds). A flag set by a source's
import, or before this version, has neither.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("done_by", sa.Text()))
    op.add_column("calls", sa.Column("done_at", sa.BigInteger()))


def downgrade() -> None:
    # In place (SQLite 3.35+ can): a batch copy of calls would drop the old table, and its
    # ON DELETE CASCADE would take every note and draft with it.
    op.drop_column("calls", "done_at")
    op.drop_column("calls", "done_by")
