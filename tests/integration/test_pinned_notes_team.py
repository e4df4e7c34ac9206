"""A pinned note on a team database (issue 24): its place is its author's, like its text;
migration 0013 keeps the server's guard over it."""

from __future__ import annotations

import psycopg
import pytest
from test_team_identity import add_user, member_url, raw, team  # noqa: F401 (a fixture)

from callviewer.store import Store


def test_a_members_pinned_note_is_theirs_to_move(team):  # noqa: F811
    postgres, database, admin_url = team
    ann_password = add_user(admin_url, "ann")
    bob_password = add_user(admin_url, "bob", "--admin")
    with Store(member_url(postgres, database, "ann", ann_password)) as ann, \
            Store(member_url(postgres, database, "bob", bob_password)) as bob:
        call_id = ann.calls.id_of("agent-platform", "c1")
        note_id = ann.notes.add(call_id, "ann", "asked for a refund here", position_ms=61_000)
        assert [(n.author, n.position_ms) for n in bob.notes.of(call_id)] == [("ann", 61_000)]
        ann.notes.update(note_id, "ann", "asked for a refund here", position_ms=58_000)
        assert bob.notes.of(call_id)[0].position_ms == 58_000
        # Even an administrator cannot move another person's note.
        with raw(postgres, database, "bob", bob_password) as forged, \
                pytest.raises(psycopg.errors.InsufficientPrivilege, match="only its author"):
            forged.execute("UPDATE notes SET position_ms = 1 WHERE id = %s", (note_id,))
        assert ann.notes.of(call_id)[0].position_ms == 58_000
