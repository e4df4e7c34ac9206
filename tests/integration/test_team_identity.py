"""Team identity: each person connects as a PostgreSQL role of their own, made by
`callviewer team add-user`, and the server decides whose note is whose.

A real server (tests/pg_server.py), the real command in a subprocess, and raw
SQL through psycopg trying to write as a colleague.
"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from sqlalchemy import text

from callviewer.store import Store, StoreError

CALL = {"source": "agent-platform", "source_id": "c1", "started_at": 1_700_000_000_000_000,
        "outcome": "completed", "summary": "leaking tap"}


def callviewer(*args: str) -> subprocess.CompletedProcess:
    """The real command line, as an administrator runs it."""
    return subprocess.run([sys.executable, "-m", "callviewer", *args], capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def team(postgres):
    """A fresh team database, migrated by its administrator (the test server's superuser);
    the roles made in it are dropped afterwards (roles are the whole server's)."""
    name = postgres.database()
    admin_url = postgres.url(name)
    with Store(admin_url) as store:
        store.calls.write_records([dict(CALL)])
    yield postgres, name, admin_url
    postgres.drop(name)
    for role in ("ann", "bob", f"callviewer_admin_{name}", f"callviewer_{name}"):
        postgres.sql(f'DROP ROLE IF EXISTS "{role}"')


def add_user(admin_url: str, name: str, *flags: str) -> str:
    """`team add-user NAME` through the real command; the password it printed."""
    done = callviewer("team", "add-user", name, *flags, "--db", admin_url)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("Password")]
    assert len(lines) == 1 and "shown only now" in lines[0]
    password = lines[0].rsplit(" ", 1)[1]
    assert done.stdout.count(password) == 1 and password not in done.stderr
    return password


def member_url(postgres, database: str, role: str, password: str) -> str:
    return f"postgresql+psycopg://{role}:{password}@127.0.0.1:{postgres.port}/{database}"


def raw(postgres, database: str, role: str, password: str) -> psycopg.Connection:
    """A psycopg connection as `role`, outside the app: what a forged desktop could send."""
    return psycopg.connect(host="127.0.0.1", port=postgres.port, dbname=database, user=role,
                           password=password, autocommit=True)


def test_each_person_writes_as_their_own_role_and_the_server_refuses_forgeries(team):
    postgres, database, admin_url = team
    ann_password = add_user(admin_url, "ann")
    bob_password = add_user(admin_url, "bob")
    assert ann_password != bob_password

    with Store(member_url(postgres, database, "ann", ann_password)) as ann, \
            Store(member_url(postgres, database, "bob", bob_password)) as bob:
        assert (ann.identity, bob.identity) == ("ann", "bob")
        call_id = ann.calls.id_of("agent-platform", "c1")
        # Whatever name the desktop passes, the note is the role's.
        note_id = ann.notes.add(call_id, "Bob", "Called back")
        assert [(n.author, n.body) for n in bob.notes.of(call_id)] == [
            ("ann", "Called back")]

        with raw(postgres, database, "bob", bob_password) as forged:
            with pytest.raises(psycopg.errors.InsufficientPrivilege,
                               match="row-level security"):
                forged.execute("INSERT INTO notes (call_id, author, body, created_at, "
                               "updated_at) VALUES (%s, 'ann', 'I quit', 0, 0)", (call_id,))
            changed = forged.execute("UPDATE notes SET body = 'I quit' WHERE id = %s",
                                     (note_id,))
            assert changed.rowcount == 0
            deleted = forged.execute("DELETE FROM notes WHERE id = %s", (note_id,))
            assert deleted.rowcount == 0
            hidden = forged.execute("UPDATE notes SET hidden_at = 1 WHERE id = %s", (note_id,))
            assert hidden.rowcount == 0
            # Without an author the server writes bob's own name.
            forged.execute("INSERT INTO notes (call_id, body, created_at, updated_at) "
                           "VALUES (%s, 'mine', 0, 0)", (call_id,))
            # Hiding is an administrator's, even of one's own note.
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="administrator"):
                forged.execute("UPDATE notes SET hidden_at = 1 WHERE author = 'bob'")
        with ann.reading() as conn:
            assert conn.execute(text("SELECT author, body FROM notes ORDER BY id")).all() == [
                ("ann", "Called back"), ("bob", "mine")]

        # Through the app: bob's desktop calling itself ann changes nothing either.
        with pytest.raises(StoreError, match="This note is ann's; only ann can change"):
            bob.notes.update(note_id, "ann", "I quit")
        with pytest.raises(StoreError, match="only ann can change or delete it"):
            bob.notes.delete(note_id, "ann")
        ann.notes.update(note_id, "whoever", "Called back twice")
        assert {n.id: n.body for n in bob.notes.of(call_id)}[note_id] == \
            "Called back twice"

        # Done is recorded as the role, whatever the desktop says.
        bob.calls.set_done(call_id, True, "ann")
        assert ann.calls.get(call_id).done_by == "bob"
        with raw(postgres, database, "bob", bob_password) as forged:
            forged.execute("UPDATE calls SET done_by = 'ann', done_at = 5 WHERE id = %s",
                           (call_id,))
        assert ann.calls.get(call_id).done_by == "bob"


def test_an_administrator_hides_a_note_which_is_kept_and_marked(team):
    postgres, database, admin_url = team
    ann_password = add_user(admin_url, "ann")
    bob_password = add_user(admin_url, "bob", "--admin")
    with Store(member_url(postgres, database, "ann", ann_password)) as ann, \
            Store(member_url(postgres, database, "bob", bob_password)) as bob:
        assert (ann.who.admin, bob.who.admin) == (False, True)
        call_id = ann.calls.id_of("agent-platform", "c1")
        note_id = ann.notes.add(call_id, "ann", "rude words")
        with pytest.raises(StoreError, match="Only a team database's administrator"):
            ann.notes.hide(note_id)
        bob.notes.hide(note_id)
        # Kept, marked by the server with who and when; gone from others' view and export.
        with raw(postgres, database, "ann", ann_password) as conn:
            body, hidden_by, hidden_at = conn.execute(
                "SELECT body, hidden_by, hidden_at FROM notes WHERE id = %s",
                (note_id,)).fetchone()
        assert (body, hidden_by) == ("rude words", "bob") and hidden_at > 0
        assert ann.notes.of(call_id) == [] and ann.calls.get(call_id).note_count == 0
        assert [record["notes"] for record in ann.calls.export()] == [[]]
        assert [n.hidden_by for n in bob.notes.of(call_id)] == ["bob"]
        # Its author can no longer change or delete it, not even with raw SQL.
        with pytest.raises(StoreError, match="hidden by bob"):
            ann.notes.update(note_id, "ann", "nice words")
        with raw(postgres, database, "ann", ann_password) as forged:
            assert forged.execute("DELETE FROM notes WHERE id = %s", (note_id,)).rowcount == 0
        # The administrator changed nothing but the mark.
        with raw(postgres, database, "bob", bob_password) as forged, \
                pytest.raises(psycopg.errors.InsufficientPrivilege, match="only its author"):
            forged.execute("UPDATE notes SET body = 'x' WHERE id = %s", (note_id,))


def test_display_names_are_each_persons_own(team):
    postgres, database, admin_url = team
    ann_password = add_user(admin_url, "ann")
    bob_password = add_user(admin_url, "bob")
    with Store(member_url(postgres, database, "ann", ann_password)) as ann:
        ann.notes.set_display_name("Ann Lee")
        ann.notes.add(ann.calls.id_of("agent-platform", "c1"), "ignored", "hello")
        assert [(n.author, n.display_name) for n in ann.notes.of(1)] == [
            ("ann", "Ann Lee")]
    with raw(postgres, database, "bob", bob_password) as forged:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            forged.execute("INSERT INTO team_names VALUES ('ann', 'Bob really')")
        assert forged.execute("UPDATE team_names SET display_name = 'x'").rowcount == 0


def test_team_commands_say_what_went_wrong_in_a_sentence(team, tmp_path):
    postgres, database, admin_url = team
    bob_password = add_user(admin_url, "bob")
    bob_url = member_url(postgres, database, "bob", bob_password)

    taken = callviewer("team", "add-user", "bob", "--db", admin_url)
    assert taken.returncode == 2 and "already has a user named bob" in taken.stderr
    not_admin = callviewer("team", "add-user", "ann", "--db", bob_url)
    assert not_admin.returncode == 2 and "may not add or remove users" in not_admin.stderr
    missing = callviewer("team", "remove-user", "ann", "--db", admin_url)
    assert missing.returncode == 2 and "has no Call Viewer user named ann" in missing.stderr
    # Not a person of this team: a server role the command must not touch.
    outsider = callviewer("team", "remove-user", "callviewer", "--db", admin_url)
    assert outsider.returncode == 2 and "no Call Viewer user named callviewer" in outsider.stderr
    bad = callviewer("team", "add-user", "ann; DROP TABLE notes", "--db", admin_url)
    assert bad.returncode == 2 and "cannot be a user name" in bad.stderr
    alone = callviewer("team", "add-user", "ann", "--db", str(tmp_path / "calls.sqlite3"))
    assert alone.returncode == 2 and "this computer's own file" in alone.stderr
    for done in (taken, not_admin, missing, outsider, bad, alone):
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_removed_user_cannot_connect_and_their_notes_stay(team):
    postgres, database, admin_url = team
    bob_password = add_user(admin_url, "bob")
    with Store(member_url(postgres, database, "bob", bob_password)) as bob:
        bob.notes.add(1, "bob", "from bob")
    removed = callviewer("team", "remove-user", "bob", "--db", admin_url)
    assert removed.returncode == 0, removed.stderr
    assert "Removed the user bob" in removed.stdout
    with pytest.raises(StoreError, match="refused the user name or password"):
        Store(member_url(postgres, database, "bob", bob_password))
    with Store(admin_url) as admin:
        assert [(n.author, n.body) for n in admin.notes.of(1)] == [("bob", "from bob")]


def test_one_shared_user_and_sqlite_write_as_the_preferences_name(team, tmp_path):
    # A team that has not made users yet (everyone as one role) and one person's file
    # keep the name passed in, as before.
    _postgres, _database, admin_url = team
    for url in (admin_url, str(tmp_path / "calls.sqlite3")):
        with Store(url) as store:
            store.calls.write_records([dict(CALL, source_id="c2")])
            call_id = store.calls.id_of("agent-platform", "c2")
            assert store.identity is None
            store.notes.add(call_id, "Maria", "hi")
            store.calls.set_done(call_id, True, "Maria")
            assert store.notes.of(call_id)[0].author == "Maria"
            assert store.calls.get(call_id).done_by == "Maria"
