"""Notes pinned to a moment of the recording: a note's place in it, in milliseconds.

Ctrl+Shift+N writes a note at the player's position; the note shows "at 1:42" and
takes the player there. Notes from before this version, and notes written without
a recording playing, have none (NULL).

On a team database only a note's author may change its place, as its text: the
guard of migration 0010 is made again with the new column among those it keeps.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Migration 0010's guard, with position_ms kept from another's change too.
GUARD = r"""
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
                NEW.updated_at, NEW.client_key{more}) IS DISTINCT FROM (OLD.body,
                OLD.call_id, OLD.created_at, OLD.updated_at, OLD.client_key{old}) THEN
            RAISE EXCEPTION 'only its author may change a note'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.add_column("notes", sa.Column("position_ms", sa.BigInteger()))
    if op.get_bind().dialect.name == "postgresql":
        _run(GUARD.format(more=", NEW.position_ms", old=", OLD.position_ms"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run(GUARD.format(more="", old=""))
    # In place, as 0007.
    op.drop_column("notes", "position_ms")


def _run(script: str) -> None:
    # Through the driver, as 0010: the function's body is SQL, not a statement with
    # parameters.
    op.get_bind().connection.cursor().execute(script)
