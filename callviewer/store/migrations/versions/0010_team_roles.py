"""Team identity from the database: each person's own role, and the server as the judge.

On PostgreSQL each person of a team connects as a login role of their own, a
member of the database's group role ``callviewer_<database>`` (an administrator
also of ``callviewer_admin_<database>``); `callviewer team add-user` makes them.
For those members the server, not the desktop, says who wrote what:

- a note's author is ``current_user`` (the column's default), and row-level
  security refuses a note with another author, and an edit or delete of
  another person's note (it sees no such row), whatever SQL the desktop sends;
- who marked a call done is ``current_user`` (a trigger sets it);
- an administrator may hide a note: it is kept, with who hid it and when
  (set by a trigger from the server's own clock and ``current_user``);
- ``team_names`` maps each role to the display name its person chose, and
  each person may set only their own.

Roles that are not members (a superuser, the database's owner, or a team
that still shares one user) write as before: the name in Preferences.
The group roles are made here when the role migrating may create roles, else
by the first `team add-user`.

On SQLite (one person) only the two columns and the (unused) table are added,
so both engines keep one schema.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The group roles are per database: a member of one team database is no member of
# another on the same server. (Role names are at most 63 bytes.)
FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION callviewer_team_group() RETURNS name
LANGUAGE sql STABLE AS $$ SELECT left('callviewer_' || current_database(), 63)::name $$;

CREATE OR REPLACE FUNCTION callviewer_admin_group() RETURNS name
LANGUAGE sql STABLE AS $$ SELECT left('callviewer_admin_' || current_database(), 63)::name $$;

-- A member writes as itself; a superuser (who passes every policy anyway) or a role
-- outside the team's group writes as the desktop says, as before this version.
CREATE OR REPLACE FUNCTION callviewer_is_member() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = callviewer_team_group()) THEN
        RETURN false;
    END IF;
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN false;
    END IF;
    RETURN pg_has_role(current_user, callviewer_team_group(), 'MEMBER');
END $$;

CREATE OR REPLACE FUNCTION callviewer_is_admin() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = callviewer_admin_group()) THEN
        RETURN false;
    END IF;
    RETURN pg_has_role(current_user, callviewer_admin_group(), 'MEMBER');
END $$;

CREATE OR REPLACE FUNCTION callviewer_now_us() RETURNS bigint
LANGUAGE sql VOLATILE AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint $$;

-- Hiding is an administrator's, stamped by the server; a member's note keeps its author,
-- and an administrator changes nothing else of another person's note.
CREATE OR REPLACE FUNCTION callviewer_note_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.hidden_at IS DISTINCT FROM OLD.hidden_at
            OR NEW.hidden_by IS DISTINCT FROM OLD.hidden_by THEN
        IF NOT callviewer_is_admin() THEN
            RAISE EXCEPTION 'only a team administrator may hide a note'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.hidden_at IS NULL THEN
            NEW.hidden_by := NULL;
        ELSE
            NEW.hidden_by := current_user;
            NEW.hidden_at := callviewer_now_us();
        END IF;
    END IF;
    IF callviewer_is_member() THEN
        IF NEW.author IS DISTINCT FROM OLD.author THEN
            RAISE EXCEPTION 'a note''s author cannot be changed'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.author <> current_user AND (NEW.body, NEW.call_id, NEW.created_at,
                NEW.updated_at, NEW.client_key) IS DISTINCT FROM (OLD.body, OLD.call_id,
                OLD.created_at, OLD.updated_at, OLD.client_key) THEN
            RAISE EXCEPTION 'only its author may change a note'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION callviewer_done_by() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF callviewer_is_member() THEN
        NEW.done_by := current_user;
    END IF;
    RETURN NEW;
END $$;
"""

# Permissive policies are OR'd: a member passes only the first branch of each.
POLICIES = r"""
ALTER TABLE notes ALTER COLUMN author SET DEFAULT current_user;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_read ON notes FOR SELECT USING (true);
CREATE POLICY notes_write ON notes FOR INSERT WITH CHECK (
    NOT callviewer_is_member()
    OR (author = current_user AND hidden_at IS NULL AND hidden_by IS NULL));
CREATE POLICY notes_change ON notes FOR UPDATE
    USING (NOT callviewer_is_member() OR callviewer_is_admin()
           OR (author = current_user AND hidden_at IS NULL))
    WITH CHECK (NOT callviewer_is_member() OR callviewer_is_admin()
                OR (author = current_user AND hidden_at IS NULL));
CREATE POLICY notes_delete ON notes FOR DELETE
    USING (NOT callviewer_is_member() OR (author = current_user AND hidden_at IS NULL));
CREATE TRIGGER notes_guard BEFORE UPDATE ON notes
    FOR EACH ROW EXECUTE FUNCTION callviewer_note_update();

CREATE TRIGGER calls_done_by_insert BEFORE INSERT ON calls
    FOR EACH ROW WHEN (NEW.done_by IS NOT NULL) EXECUTE FUNCTION callviewer_done_by();
CREATE TRIGGER calls_done_by BEFORE UPDATE OF done, done_by, done_at ON calls
    FOR EACH ROW WHEN (NEW.done_by IS NOT NULL AND (NEW.done IS DISTINCT FROM OLD.done
        OR NEW.done_by IS DISTINCT FROM OLD.done_by OR NEW.done_at IS DISTINCT FROM OLD.done_at))
    EXECUTE FUNCTION callviewer_done_by();

ALTER TABLE team_names ALTER COLUMN role SET DEFAULT current_user;
ALTER TABLE team_names ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_names FORCE ROW LEVEL SECURITY;
CREATE POLICY team_names_read ON team_names FOR SELECT USING (true);
CREATE POLICY team_names_own ON team_names FOR ALL
    USING (role = current_user OR NOT callviewer_is_member())
    WITH CHECK (role = current_user OR NOT callviewer_is_member());
"""

# The group roles, when the role migrating may make them (else `team add-user` does).
GROUPS = r"""
DO $$
DECLARE
    team name := callviewer_team_group();
    admin name := callviewer_admin_group();
BEGIN
    IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = team) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', team);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = admin) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE %I', admin, team);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), team);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I',
                   current_schema(), team);
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM %I', team);
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I',
                   current_schema(), team);
    -- Tables later migrations make (as this role) are the members' too.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, '
                   'DELETE ON TABLES TO %I', current_schema(), team);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON '
                   'SEQUENCES TO %I', current_schema(), team);
END $$;
"""

DROP = r"""
DROP POLICY IF EXISTS team_names_own ON team_names;
DROP POLICY IF EXISTS team_names_read ON team_names;
DROP TRIGGER IF EXISTS calls_done_by ON calls;
DROP TRIGGER IF EXISTS calls_done_by_insert ON calls;
DROP TRIGGER IF EXISTS notes_guard ON notes;
DROP POLICY IF EXISTS notes_delete ON notes;
DROP POLICY IF EXISTS notes_change ON notes;
DROP POLICY IF EXISTS notes_write ON notes;
DROP POLICY IF EXISTS notes_read ON notes;
ALTER TABLE notes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE notes DISABLE ROW LEVEL SECURITY;
ALTER TABLE notes ALTER COLUMN author DROP DEFAULT;
DROP FUNCTION IF EXISTS callviewer_done_by();
DROP FUNCTION IF EXISTS callviewer_note_update();
DROP FUNCTION IF EXISTS callviewer_now_us();
DROP FUNCTION IF EXISTS callviewer_is_admin();
DROP FUNCTION IF EXISTS callviewer_is_member();
"""


def upgrade() -> None:
    op.add_column("notes", sa.Column("hidden_by", sa.Text()))
    op.add_column("notes", sa.Column("hidden_at", sa.BigInteger()))
    op.create_table(
        "team_names",
        sa.Column("role", sa.Text(), primary_key=True),
        sa.Column("display_name", sa.Text(), nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for script in (FUNCTIONS, POLICIES, GROUPS):
        _run(script)


def downgrade() -> None:
    # The group roles stay: they are the server's, and members may still be in them.
    if op.get_bind().dialect.name == "postgresql":
        _run(DROP)
    op.drop_table("team_names")
    # In place, as 0007.
    op.drop_column("notes", "hidden_at")
    op.drop_column("notes", "hidden_by")


def _run(script: str) -> None:
    # Through the driver without parameters: several statements at once, and format()'s
    # %I taken as SQL, not as a placeholder.
    op.get_bind().connection.cursor().execute(script)
