"""The first schema: calls, staff notes and the full-text index."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A migration is a frozen snapshot: it spells its tables out rather than
# importing store/schema.py, which moves on with later migrations.
FTS_CREATE = (
    "CREATE VIRTUAL TABLE calls_fts USING fts5(name, numbers, summary, transcript, notes, "
    "tokenize = 'unicode61 remove_diacritics 2')"
)
# PostgreSQL: the same columns, holding the words callviewer/textsearch.py cuts, and a
# tsvector of those words as they are (no parser, no locale), GIN-indexed for @@.
FTS_CREATE_POSTGRESQL = (
    "CREATE TABLE calls_fts (rowid integer PRIMARY KEY, name text, numbers text, summary text, "
    "transcript text, notes text, document tsvector GENERATED ALWAYS AS (array_to_tsvector("
    "array_remove(string_to_array(coalesce(name, '') || ' ' || coalesce(numbers, '') || ' ' || "
    "coalesce(summary, '') || ' ' || coalesce(transcript, '') || ' ' || coalesce(notes, ''), "
    "' '), ''))) STORED)",
    "CREATE INDEX ix_calls_fts_document ON calls_fts USING gin (document)",
)


def upgrade() -> None:
    text, big, flag = sa.Text, sa.BigInteger, sa.Boolean
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", text, nullable=False),
        sa.Column("source_id", text, nullable=False),
        sa.Column("direction", text, nullable=False, server_default="unknown"),
        *(sa.Column(name, text) for name in (
            "from_number", "to_number", "customer_name", "customer_number")),
        *(sa.Column(name, big) for name in (
            "started_at", "answered_at", "ended_at", "duration_ms")),
        sa.Column("outcome", text, nullable=False, server_default="unknown"),
        *(sa.Column(name, text) for name in (
            "end_reason", "ended_by", "error", "summary", "subject")),
        sa.Column("score", sa.Float),
        sa.Column("success", flag),
        sa.Column("done", flag, nullable=False, server_default="0"),
        sa.Column("employee", text),
        sa.Column("agent_id", text),
        sa.Column("has_recording", flag, nullable=False, server_default="0"),
        *(sa.Column(name, text) for name in (
            "recording", "transcript", "transcript_text", "analysis", "source_note")),
        sa.Column("is_purged", flag, nullable=False, server_default="0"),
        *(sa.Column(name, big) for name in ("deleted_at", "created_at", "updated_at")),
        sa.Column("schema_version", sa.Integer),
        sa.Column("extras", text),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("done_local", flag, nullable=False, server_default="0"),
        sa.Column("note_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("imported_at", big, nullable=False),
        sa.UniqueConstraint("source", "source_id", name="uq_calls_source_key"),
    )
    for name, columns in (
        ("ix_calls_started", ["started_at", "id"]),
        ("ix_calls_duration", ["duration_ms", "id"]),
        ("ix_calls_score", ["score", "id"]),
        ("ix_calls_outcome", ["outcome", "started_at", "id"]),
        ("ix_calls_direction", ["direction", "started_at", "id"]),
        ("ix_calls_done", ["done", "started_at", "id"]),
        ("ix_calls_recording", ["has_recording", "started_at", "id"]),
        ("ix_calls_customer", ["customer_name", "id"]),
        ("ix_calls_notes", ["note_count", "id"]),
        ("ix_calls_deleted", ["deleted_at"]),
    ):
        op.create_index(name, "calls", columns)
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("author", text, nullable=False),
        sa.Column("body", text, nullable=False),
        sa.Column("created_at", big, nullable=False),
        sa.Column("updated_at", big, nullable=False),
    )
    op.create_index("ix_notes_call", "notes", ["call_id", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in FTS_CREATE_POSTGRESQL:
            op.execute(statement)
    else:
        op.execute(FTS_CREATE)


def downgrade() -> None:
    op.execute("DROP TABLE calls_fts")
    op.drop_table("notes")
    op.drop_table("calls")
