"""Sync connections and their cursors, watched files, and the recordings archive.

Every call gets one recording state (store/recordings.py), a column with
the list's index shape so the list can filter and sort on it. Existing calls
are given theirs from what they hold: purged, none, a URL (at the source) or
a local file (archived).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BACKFILL = (
    "UPDATE calls SET recording_state = CASE"
    " WHEN is_purged THEN 'purged'"
    " WHEN recording IS NULL OR recording = '' THEN 'none'"
    " WHEN recording LIKE '%://%' THEN 'at_source'"
    " ELSE 'archived' END"
)


def upgrade() -> None:
    text, big = sa.Text, sa.BigInteger
    op.add_column("calls", sa.Column("recording_state", text, nullable=False,
                                     server_default="none"))
    op.execute(BACKFILL)
    op.create_index("ix_calls_recording_state", "calls",
                    ["recording_state", "started_at", "id", "deleted_at"])
    op.create_table(
        "sync_connections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", text, nullable=False),
        sa.Column("kind", text, nullable=False),
        sa.Column("settings", text, nullable=False),
        sa.Column("secret_key", text, nullable=False),
        sa.Column("created_at", big, nullable=False),
        sa.UniqueConstraint("name", name="uq_sync_connections_name"),
    )
    connection = sa.ForeignKey("sync_connections.id", ondelete="CASCADE")
    op.create_table(
        "sync_state",
        sa.Column("connection_id", sa.Integer, connection, primary_key=True),
        sa.Column("cursor", text),
        sa.Column("status", text, nullable=False, server_default="never"),
        sa.Column("error", text),
        *(sa.Column(name, big) for name in ("last_attempt_at", "last_sync_at", "last_full_at")),
        sa.Column("last_summary", text),
    )
    op.create_table(
        "watched_files",
        sa.Column("connection_id", sa.Integer,
                  sa.ForeignKey("sync_connections.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("path", text, primary_key=True),
        sa.Column("size", big, nullable=False),
        sa.Column("mtime_ns", big, nullable=False),
        sa.Column("sha256", text, nullable=False),
        sa.Column("imported_at", big, nullable=False),
    )
    op.create_table(
        "recordings",
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("connection_id", sa.Integer,
                  sa.ForeignKey("sync_connections.id", ondelete="SET NULL")),
        sa.Column("source_ref", text),
        sa.Column("source_gone", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("path", text),
        sa.Column("size", big),
        sa.Column("sha256", text),
        *(sa.Column(name, big) for name in ("archived_at", "last_played_at", "evicted_at")),
        sa.Column("stale_path", text),
        sa.Column("error", text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_recordings_connection", "recordings", ["connection_id"])
    op.create_table(
        "store_settings",
        sa.Column("key", text, primary_key=True),
        sa.Column("value", text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_settings")
    op.drop_index("ix_recordings_connection", "recordings")
    op.drop_table("recordings")
    op.drop_table("watched_files")
    op.drop_table("sync_state")
    op.drop_table("sync_connections")
    op.drop_index("ix_calls_recording_state", "calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("recording_state")
