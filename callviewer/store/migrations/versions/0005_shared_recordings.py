"""A team database's recordings archive: the recordings' bytes in the database itself.

On PostgreSQL the archive is this table, so a recording downloaded by one
desktop plays on every desktop and is backed up with the database; each desktop
keeps played copies in a cache folder of its own. An SQLite file keeps its
archive in the folder beside it, and this table stays empty.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording_files",
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Recordings are compressed audio: storing them out of line without trying to
        # compress them again saves the server the work for nothing.
        op.execute("ALTER TABLE recording_files ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("recording_files")
