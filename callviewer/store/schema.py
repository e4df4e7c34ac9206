"""The database tables, as SQLAlchemy Core metadata (the migrations create the same)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from callviewer.columns import PAIRED_INDEXES

metadata = MetaData()

# One row per call. Times are epoch microseconds (UTC). `transcript`,
# `analysis` and `extras` hold JSON text. Columns after `extras` are local:
# no import writes them except through the rules in store/calls.py.
calls = Table(
    "calls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("direction", Text, nullable=False, server_default="unknown"),
    Column("from_number", Text),
    Column("to_number", Text),
    Column("customer_name", Text),
    Column("customer_number", Text),
    Column("started_at", BigInteger),
    Column("answered_at", BigInteger),
    Column("ended_at", BigInteger),
    Column("duration_ms", BigInteger),
    Column("outcome", Text, nullable=False, server_default="unknown"),
    Column("end_reason", Text),
    Column("ended_by", Text),
    Column("error", Text),
    Column("summary", Text),
    Column("subject", Text),
    Column("score", Float),
    Column("success", Boolean),
    Column("done", Boolean, nullable=False, server_default="0"),
    Column("employee", Text),
    Column("agent_id", Text),
    Column("has_recording", Boolean, nullable=False, server_default="0"),
    Column("recording", Text),
    Column("transcript", Text),
    Column("transcript_text", Text),
    Column("analysis", Text),
    Column("source_note", Text),
    Column("is_purged", Boolean, nullable=False, server_default="0"),
    Column("deleted_at", BigInteger),
    Column("created_at", BigInteger),
    Column("updated_at", BigInteger),
    Column("schema_version", Integer),
    Column("extras", Text),
    # Local state.
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("done_local", Boolean, nullable=False, server_default="0"),
    # Who marked it done here, and when (migration 0007); NULL when a source set it.
    Column("done_by", Text),
    Column("done_at", BigInteger),
    Column("note_count", Integer, nullable=False, server_default="0"),
    Column("imported_at", BigInteger, nullable=False),
    # One of store/recordings.py STATES, kept in step by every write (migration 0004).
    Column("recording_state", Text, nullable=False, server_default="none"),
    UniqueConstraint("source", "source_id", name="uq_calls_source_key"),
)

# The list's sort orders and filters: ORDER BY column, started_at, id (see callviewer/listing.py);
# deleted_at last, so that counts of the calls not deleted read only the index.
CALL_INDEXES = (
    Index("ix_calls_started", calls.c.started_at, calls.c.id, calls.c.deleted_at),
    *(Index(name, column, calls.c.started_at, calls.c.id, calls.c.deleted_at) for name, column in (
        ("ix_calls_duration", calls.c.duration_ms),
        ("ix_calls_score", calls.c.score),
        ("ix_calls_outcome", calls.c.outcome),
        ("ix_calls_direction", calls.c.direction),
        ("ix_calls_done", calls.c.done),
        ("ix_calls_recording", calls.c.has_recording),
        ("ix_calls_customer", calls.c.customer_name),
        ("ix_calls_notes", calls.c.note_count),
        ("ix_calls_recording_state", calls.c.recording_state),
    )),
    # A filter and a sort whose calls lie at its one end (columns.py `paired`, migration
    # 0016): a page of one of the filter's values is read from this index in the sort's
    # order.
    *(Index(name, calls.c[filtered], calls.c[sort], calls.c.started_at, calls.c.id,
            calls.c.deleted_at) for name, (filtered, sort) in PAIRED_INDEXES.items()),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("call_id", Integer, ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
    Column("author", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Chosen by the desktop that wrote it, so a save retried after its answer was lost
    # saves it once (migration 0008); NULL before.
    Column("client_key", Text),
    # Hidden by a team administrator: kept, not shown (migration 0010); NULL otherwise.
    Column("hidden_by", Text),
    Column("hidden_at", BigInteger),
    # Where in the recording the note is pinned, in ms (migration 0013); NULL: nowhere.
    Column("position_ms", BigInteger),
    Index("ix_notes_call", "call_id", "created_at"),
    Index("ux_notes_client_key", "client_key", unique=True),
)

# A team database's display names, one per role, each set by its own role (migration
# 0010, store/team_roles.py); unused on SQLite.
team_names = Table(
    "team_names",
    metadata,
    Column("role", Text, primary_key=True),
    Column("display_name", Text, nullable=False),
)

# What a person was typing in a note editor, saved as they type; note_id 0 is a new note.
drafts = Table(
    "drafts",
    metadata,
    Column("call_id", Integer, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
    Column("note_id", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    Column("cursor", Integer, nullable=False, server_default="0"),
    Column("updated_at", BigInteger, nullable=False),
)

# The full-text index is not SQLAlchemy metadata: migration 0001 creates it by SQL, an
# FTS5 table on SQLite; on PostgreSQL a table with the same columns and a tsvector
# column made from them. Its rowid is calls.id; store/search.py writes its rows.
FTS_TABLE = "calls_fts"
FTS_COLUMNS = ("name", "numbers", "summary", "transcript", "notes")
FTS_DOCUMENT = "document"  # PostgreSQL only: the tsvector, GIN-indexed
# Each customer name once, with a word index of its own (migration 0017): on SQLite
# `call_names` (id, name) and the contentless FTS5 table `call_names_fts` by its id, on
# PostgreSQL `call_names` (name, words, document: a tsvector of the words, GIN-indexed).
# There calls_fts also has `others`, the words of every column but the name, GIN-indexed.
NAMES_TABLE = "call_names"


# --- sync (migration 0004) ------------------------------------------------------------

# A place calls are synced from: a calls API or a watched folder. `settings` is JSON
# (see callviewer/sync/connection.py); the API token is never here, but in the keyring
# (or its fallback file) under `secret_key`.
sync_connections = Table(
    "sync_connections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("settings", Text, nullable=False),
    Column("secret_key", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("name", name="uq_sync_connections_name"),
)

# Where a connection stands: its cursor (JSON, committed with each page), how its last
# sync went (status and the sentence for a failure) and when.
sync_state = Table(
    "sync_state",
    metadata,
    Column("connection_id", Integer, ForeignKey("sync_connections.id", ondelete="CASCADE"),
           primary_key=True),
    Column("cursor", Text),
    Column("status", Text, nullable=False, server_default="never"),
    Column("error", Text),
    Column("last_attempt_at", BigInteger),
    Column("last_sync_at", BigInteger),
    Column("last_full_at", BigInteger),
    Column("last_whole_at", BigInteger),  # a walk of the whole history ended (0011)
    Column("last_summary", Text),
)

# The files of a watched folder already imported, so that unchanged ones are not re-read.
watched_files = Table(
    "watched_files",
    metadata,
    Column("connection_id", Integer, ForeignKey("sync_connections.id", ondelete="CASCADE"),
           primary_key=True),
    Column("path", Text, primary_key=True),  # relative to the folder, "/"-separated
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("imported_at", BigInteger, nullable=False),
)

# The recordings archive: per call, where its source serves the recording and the
# archived copy (a path relative to the archive folder). Local state only.
recordings = Table(
    "recordings",
    metadata,
    Column("call_id", Integer, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
    Column("connection_id", Integer, ForeignKey("sync_connections.id", ondelete="SET NULL")),
    Column("source_ref", Text),  # a signed URL or a file: never exported or logged
    Column("source_gone", Boolean, nullable=False, server_default="0"),
    Column("path", Text),
    Column("size", BigInteger),
    Column("sha256", Text),
    Column("archived_at", BigInteger),
    Column("last_played_at", BigInteger),
    Column("evicted_at", BigInteger),
    Column("stale_path", Text),  # an archived file to delete now that its call let go of it
    Column("error", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index("ix_recordings_connection", "connection_id"),
)

# A team database's recordings archive (migration 0005): the archived recordings' bytes,
# in the database itself, so that every desktop plays them and a backup of the database
# holds them (see store/shared_archive.py). Their path, size and sha256 are in
# `recordings`. An SQLite file's archive is the folder beside it: this table stays empty.
recording_files = Table(
    "recording_files",
    metadata,
    Column("call_id", Integer, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

# Store-wide settings that the command line and the window share (the archive's size cap).
store_settings = Table(
    "store_settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# Parts of calls that came before their call (migration 0009; store/calls.py): a partial
# row as JSON text, by its call's key and its own digest (the same part twice is one).
pending_attachments = Table(
    "pending_attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("record", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("source", "source_id", "digest", name="ux_pending_attachments_key"),
)

# Which calls each connection brought, and the last full pass that listed them (migration
# 0011; store/sync_seen.py); `marked`: marked deleted at the source by a full pass.
sync_seen = Table(
    "sync_seen",
    metadata,
    Column("connection_id", Integer, ForeignKey("sync_connections.id", ondelete="CASCADE"),
           primary_key=True),
    Column("source", Text, primary_key=True),
    Column("source_id", Text, primary_key=True),
    Column("pass_number", Integer, nullable=False, server_default="0"),
    Column("marked", Boolean, nullable=False, server_default="0"),
)

# Each call's statistics from its timeline (migration 0014; store/stats_repository.py):
# one row per call, written with it by the code that inserts it (store/calls.py, since
# migration 0015), NULL until measured (`computed_at`) and set back to NULL by triggers
# when its transcript, length or recording changes or it is purged.
# `call_started_at` is the call's started_at, kept in step: the list's sort by talk share
# (ORDER BY customer_share, started_at, id) reads its pages from this table's index.
# The measures the list sorts by (columns.py), each with an index in the list's order.
SORTED_MEASURES = ("customer_share", "silence_ms", "longest_monologue_ms", "interruptions")

call_stats = Table(
    "call_stats",
    metadata,
    Column("call_id", Integer, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("call_started_at", BigInteger),
    Column("customer_share", Float),  # the customer's part of the talk, 0..1; NULL: none
    Column("agent_ms", BigInteger),
    Column("customer_ms", BigInteger),
    Column("silence_ms", BigInteger),
    Column("longest_monologue_ms", BigInteger),
    Column("longest_monologue_role", Text),
    Column("interruptions", Integer),
    Column("origin", Text),  # "transcript", "channels", "estimated" or "none"
    Column("computed_at", BigInteger),
    # NULLS FIRST on PostgreSQL (migration 0014), as the list's other indexes.
    *(Index(f"ix_call_stats_{measure}", measure, "call_started_at", "call_id")
      for measure in SORTED_MEASURES),
)
