"""A new call's row of call_stats is written by the code that inserts the call, in the
same statement batch, no longer by a trigger (issue 26: the import's speed).

Migration 0014 made each call's row with an AFTER INSERT trigger on calls. A trigger
runs its program once per row: importing 20,000 records, the calls' inserts took 2.3 s
with it and 0.7 s without, and one executemany of the same call_stats rows, in the same
transaction (store/calls.py `_insert`), takes 0.15 s. So the insert trigger goes; every
call is still made with its row, as before.

The update triggers stay: a call's time kept in step, and its statistics set back to
unmeasured when its transcript, length or recording changes or it is purged. Updates
are rarer than inserts, and their rows are those the triggers compare.

On PostgreSQL the trigger function loses its INSERT branch (the update trigger keeps
using it). A downgrade makes the insert trigger again and gives any call without a row
one.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# 0014's insert trigger and the rows it made (copies: a migration does not follow
# later code).
SQLITE_INSERT_TRIGGER = """CREATE TRIGGER call_stats_new AFTER INSERT ON calls BEGIN
        INSERT OR IGNORE INTO call_stats (call_id, call_started_at)
        VALUES (NEW.id, NEW.started_at);
    END"""
MISSING_ROWS = ("INSERT INTO call_stats (call_id, call_started_at) "
                "SELECT id, started_at FROM calls "
                "WHERE NOT EXISTS (SELECT 1 FROM call_stats WHERE call_id = calls.id)")

MEASURES = ("customer_share", "agent_ms", "customer_ms", "silence_ms",
            "longest_monologue_ms", "longest_monologue_role", "interruptions", "origin",
            "computed_at")
_CLEARED = ", ".join(f"{name} = NULL" for name in MEASURES)
_STALE = ("NEW.transcript IS DISTINCT FROM OLD.transcript "
          "OR NEW.duration_ms IS DISTINCT FROM OLD.duration_ms "
          "OR NEW.is_purged IS DISTINCT FROM OLD.is_purged "
          "OR (NEW.recording_state IS DISTINCT FROM OLD.recording_state "
          "AND NEW.recording_state = 'archived')")
_UPDATE_BRANCH = f"""
    IF NEW.started_at IS DISTINCT FROM OLD.started_at THEN
        UPDATE call_stats SET call_started_at = NEW.started_at WHERE call_id = NEW.id;
    END IF;
    IF {_STALE} THEN
        UPDATE call_stats SET {_CLEARED} WHERE call_id = NEW.id;
    END IF;
    RETURN NULL;"""
_INSERT_BRANCH = """
    IF TG_OP = 'INSERT' THEN
        INSERT INTO call_stats (call_id, call_started_at) VALUES (NEW.id, NEW.started_at)
            ON CONFLICT (call_id) DO NOTHING;
        RETURN NULL;
    END IF;"""
_FUNCTION = """
CREATE OR REPLACE FUNCTION callviewer_call_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN{body}
END $$;
"""

POSTGRESQL = ("DROP TRIGGER IF EXISTS calls_stats_insert ON calls;"
              + _FUNCTION.format(body=_UPDATE_BRANCH))
POSTGRESQL_DOWN = (_FUNCTION.format(body=_INSERT_BRANCH + _UPDATE_BRANCH) + """
CREATE TRIGGER calls_stats_insert AFTER INSERT ON calls
    FOR EACH ROW EXECUTE FUNCTION callviewer_call_stats();
""")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run(POSTGRESQL)
    else:
        op.execute("DROP TRIGGER IF EXISTS call_stats_new")


def downgrade() -> None:
    op.execute(MISSING_ROWS)
    if op.get_bind().dialect.name == "postgresql":
        _run(POSTGRESQL_DOWN)
    else:
        op.execute(SQLITE_INSERT_TRIGGER)


def _run(script: str) -> None:
    # Through the driver, as 0010 and 0014: the function's body is SQL, not a statement
    # with parameters.
    op.get_bind().connection.cursor().execute(script)
