"""Each call's statistics, from its timeline: talk share, silence, longest monologue,
interruptions (callviewer/timeline/stats.py), in a table of their own.

``call_stats`` has one row per call, made with the call (a trigger) and kept by it:

- the statistics are NULL until measured (``computed_at`` NULL: the window's background
  pass, ui/timeline_pass.py, measures those); ``origin`` says where the times came
  from: "transcript", "channels" (a stereo recording, one party a channel),
  "estimated" (the length of each message), or "none" (nothing to measure: no
  recording and no spoken messages, or purged);
- a change of the call's transcript or length, its recording becoming archived, or a
  purge sets them back to NULL, to be measured again (a purged call then has none);
- ``call_started_at`` is the call's ``started_at``, kept in step, so that the list's
  sort by talk share (ORDER BY customer_share, started_at, id: callviewer/listing.py)
  reads its first page from this table's index alone, at a million calls as at ten.

A call deleted for good takes its row with it (ON DELETE CASCADE). The calls table and
its indexes are left as they were. On PostgreSQL the index sorts NULL first, as the
list's others (migration 0006), and a team's group may write the rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The measures the list sorts by, each with an index in the list's order (a copy of
# schema.SORTED_MEASURES as of this revision: a migration does not follow later code).
SORTED = ("customer_share", "silence_ms", "longest_monologue_ms", "interruptions")
MEASURES = ("customer_share", "agent_ms", "customer_ms", "silence_ms",
            "longest_monologue_ms", "longest_monologue_role", "interruptions", "origin",
            "computed_at")
_CLEARED = ", ".join(f"{name} = NULL" for name in MEASURES)
# What makes a call's statistics stale (as SQL over NEW and OLD, for either engine).
_STALE = ("NEW.transcript IS {differs} OLD.transcript "
          "OR NEW.duration_ms IS {differs} OLD.duration_ms "
          "OR NEW.is_purged IS {differs} OLD.is_purged "
          "OR (NEW.recording_state IS {differs} OLD.recording_state "
          "AND NEW.recording_state = 'archived')")

SQLITE_TRIGGERS = (
    """CREATE TRIGGER call_stats_new AFTER INSERT ON calls BEGIN
        INSERT OR IGNORE INTO call_stats (call_id, call_started_at)
        VALUES (NEW.id, NEW.started_at);
    END""",
    """CREATE TRIGGER call_stats_started AFTER UPDATE OF started_at ON calls
    WHEN NEW.started_at IS NOT OLD.started_at BEGIN
        UPDATE call_stats SET call_started_at = NEW.started_at WHERE call_id = NEW.id;
    END""",
    f"""CREATE TRIGGER call_stats_stale
    AFTER UPDATE OF transcript, duration_ms, is_purged, recording_state ON calls
    WHEN {_STALE.format(differs="NOT")} BEGIN
        UPDATE call_stats SET {_CLEARED} WHERE call_id = NEW.id;
    END""",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS call_stats_new", "DROP TRIGGER IF EXISTS call_stats_started",
               "DROP TRIGGER IF EXISTS call_stats_stale")

POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION callviewer_call_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO call_stats (call_id, call_started_at) VALUES (NEW.id, NEW.started_at)
            ON CONFLICT (call_id) DO NOTHING;
        RETURN NULL;
    END IF;
    IF NEW.started_at IS DISTINCT FROM OLD.started_at THEN
        UPDATE call_stats SET call_started_at = NEW.started_at WHERE call_id = NEW.id;
    END IF;
    IF {_STALE.format(differs="DISTINCT FROM")} THEN
        UPDATE call_stats SET {_CLEARED} WHERE call_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER calls_stats_insert AFTER INSERT ON calls
    FOR EACH ROW EXECUTE FUNCTION callviewer_call_stats();
CREATE TRIGGER calls_stats_update
    AFTER UPDATE OF started_at, transcript, duration_ms, is_purged, recording_state ON calls
    FOR EACH ROW EXECUTE FUNCTION callviewer_call_stats();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = callviewer_team_group()) THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON call_stats TO %I',
                       callviewer_team_group());
    END IF;
END $$;
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS calls_stats_insert ON calls;
DROP TRIGGER IF EXISTS calls_stats_update ON calls;
DROP FUNCTION IF EXISTS callviewer_call_stats();
"""


def upgrade() -> None:
    op.create_table(
        "call_stats",
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("calls.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("call_started_at", sa.BigInteger()),
        sa.Column("customer_share", sa.Float()),
        sa.Column("agent_ms", sa.BigInteger()),
        sa.Column("customer_ms", sa.BigInteger()),
        sa.Column("silence_ms", sa.BigInteger()),
        sa.Column("longest_monologue_ms", sa.BigInteger()),
        sa.Column("longest_monologue_role", sa.Text()),
        sa.Column("interruptions", sa.Integer()),
        sa.Column("origin", sa.Text()),
        sa.Column("computed_at", sa.BigInteger()),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    first = " NULLS FIRST" if postgresql else ""
    for measure in SORTED:
        op.execute(f"CREATE INDEX ix_call_stats_{measure} ON call_stats "
                   f"({measure}{first}, call_started_at{first}, call_id)")
    # Every call so far, not measured yet.
    op.execute("INSERT INTO call_stats (call_id, call_started_at) "
               "SELECT id, started_at FROM calls")
    if postgresql:
        _run(POSTGRESQL)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run(POSTGRESQL_DROP)
    else:
        for drop in SQLITE_DROP:
            op.execute(drop)
    for measure in SORTED:
        op.drop_index(f"ix_call_stats_{measure}", "call_stats")
    op.drop_table("call_stats")


def _run(script: str) -> None:
    # Through the driver, as 0010: the functions' bodies are SQL, not statements with
    # parameters.
    op.get_bind().connection.cursor().execute(script)
