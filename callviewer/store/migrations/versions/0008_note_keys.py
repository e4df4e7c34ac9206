"""A note's own key, so that a save retried after its answer was lost saves it once.

A desktop picks the key of a new note when it first tries to save it. When the
database took the note but the connection dropped before it said so, the
desktop saves it again (when the database is back): the key finds the note
already there. Notes from before this version, and from imports, have none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("client_key", sa.Text()))
    op.create_index("ux_notes_client_key", "notes", ["client_key"], unique=True)


def downgrade() -> None:
    # In place, as 0007: a batch copy of notes is not needed to drop a column.
    op.drop_index("ux_notes_client_key", table_name="notes")
    op.drop_column("notes", "client_key")
