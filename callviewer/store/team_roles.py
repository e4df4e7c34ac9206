"""Who is who in a team database: each person's own PostgreSQL role (migration 0010).

A member of the database's group role writes notes and done flags as
``current_user``, as the server says, and the server's row-level security
refuses anything else. `add_user` and `remove_user` are the administrator's
(`callviewer team add-user NAME` / `remove-user NAME`): a login role in the
group, with a password made here and shown once. A role outside the group
(a superuser, the owner, a team still sharing one user) writes as the
desktop's Preferences name, as before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, text
from sqlalchemy.exc import DBAPIError

from callviewer.store.database import StoreError
from callviewer.store.schema import team_names

# PostgreSQL's SQLSTATE for "insufficient privilege": a refused policy, trigger or grant.
REFUSED = "42501"
# Names a person can type in Preferences' User field unquoted and read back.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}")
_SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)


@dataclass(frozen=True)
class Who:
    """This connection's identity: `role` when the server vouches for it (a team member),
    else None (the Preferences name is used); `admin` may hide notes."""

    role: str | None = None
    admin: bool = False


NOBODY = Who()


def who(conn: Connection) -> Who:
    """The identity of the role this PostgreSQL connection is logged in as."""
    user, member, admin = conn.execute(text(
        "SELECT current_user, callviewer_is_member(), callviewer_is_admin()")).one()
    return Who(user if member else None, bool(admin))


def is_refusal(exc: DBAPIError) -> bool:
    """True when the server refused a statement for want of privilege (a policy, a trigger
    or a grant of migration 0010's)."""
    return getattr(exc.orig, "sqlstate", None) == REFUSED


def groups(conn: Connection) -> tuple[str, str]:
    """This database's group roles: (members, administrators)."""
    return tuple(conn.execute(text(
        "SELECT callviewer_team_group(), callviewer_admin_group()")).one())


def add_user(conn: Connection, name: str, admin: bool, where: str) -> str:
    """Make `name` a login role of this team (an administrator with `admin`); returns its
    password, made here and kept nowhere. StoreError with a sentence when it cannot."""
    _check_name(name)
    _check_administrator(conn, where)
    if _role_exists(conn, name):
        raise StoreError(f"The database server of {where} already has a user named {name}; "
                         f"choose another name (or remove it first: callviewer team "
                         f"remove-user {name}).")
    team, admins = ensure_groups(conn)
    password = secrets.token_urlsafe(18)
    # The server is sent a SCRAM verifier, never the password: it is not in any statement
    # the server might log.
    conn.exec_driver_sql(f"CREATE ROLE {_ident(conn, name)} LOGIN PASSWORD "
                         f"{_literal(scram_verifier(password))} "
                         f"IN ROLE {_ident(conn, admins if admin else team)}")
    return password


def remove_user(conn: Connection, name: str, where: str) -> None:
    """Drop a team's login role; its notes stay, under its name. StoreError with a sentence
    when there is no such user of this team, or this role may not."""
    _check_administrator(conn, where)
    team, _admins = groups(conn)
    # A person: a login role in the group; never a superuser (a member of every role) nor
    # the groups themselves.
    member = conn.execute(text(
        "SELECT rolcanlogin AND NOT rolsuper AND pg_has_role(oid, :team, 'MEMBER') "
        "FROM pg_roles WHERE rolname = :name"), {"name": name, "team": team}).scalar()
    if not member:
        raise StoreError(f"{where} has no Call Viewer user named {name}; "
                         "nothing was removed.")
    if name == conn.execute(text("SELECT current_user")).scalar():
        raise StoreError(f"{name} is the user running this command; remove it as another "
                         "administrator.")
    _end_sessions(conn, name)
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(f"DROP ROLE {_ident(conn, name)}")
    except DBAPIError as exc:  # it owns something, or has rights granted elsewhere
        raise StoreError(f"The user {name} could not be removed from {where}: "
                         f"{_first_line(exc)}; remove what it owns or was granted "
                         "(DROP OWNED BY in each database), then try again.") from exc


def _end_sessions(conn: Connection, name: str) -> None:
    """Close the removed user's open connections, when this role may (a superuser or
    pg_signal_backend); else they end when their desktops close."""
    try:
        with conn.begin_nested():
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE usename = :name"), {"name": name})
    except DBAPIError:
        pass


def _first_line(exc: DBAPIError) -> str:
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__


def ensure_groups(conn: Connection) -> tuple[str, str]:
    """Make this database's group roles if absent, and give the members' group what the
    app needs of every table (again: tables added since)."""
    team, admins = groups(conn)
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    if not _role_exists(conn, team):
        conn.exec_driver_sql(f"CREATE ROLE {_ident(conn, team)} NOLOGIN")
    if not _role_exists(conn, admins):
        conn.exec_driver_sql(f"CREATE ROLE {_ident(conn, admins)} NOLOGIN "
                             f"IN ROLE {_ident(conn, team)}")
    group, where = _ident(conn, team), _ident(conn, schema)
    for statement in (
            f"GRANT USAGE ON SCHEMA {where} TO {group}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {where} TO {group}",
            # The schema's version is the administrator's to change (migrations).
            f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {group}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {where} TO {group}",
            # Tables later migrations make (as this role) are the members' too.
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT SELECT, INSERT, UPDATE, DELETE "
            f"ON TABLES TO {group}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT USAGE, SELECT, UPDATE "
            f"ON SEQUENCES TO {group}"):
        conn.exec_driver_sql(statement)
    return team, admins


def set_display_name(conn: Connection, role: str, name: str) -> None:
    """The name shown beside `role` (the connection's own: the server refuses another's)."""
    conn.execute(delete(team_names).where(team_names.c.role == role))
    if name.strip():
        conn.execute(insert(team_names).values(role=role, display_name=name.strip()))


def display_names(conn: Connection) -> dict[str, str]:
    """Every role's display name."""
    return dict(conn.execute(select(team_names.c.role, team_names.c.display_name)).all())


def scram_verifier(password: str) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of a password (RFC 5802/7677), as
    pg_authid.rolpassword keeps it. (`password` is ASCII: SASLprep leaves it as it is.)"""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return (f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{b64(salt)}"
            f"${b64(stored_key)}:{b64(server_key)}")


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise StoreError(f"“{name}” cannot be a user name here: use up to 63 letters, digits "
                         "and _ . @ -, starting with a letter, digit or _.")


def _check_administrator(conn: Connection, where: str) -> None:
    user, allowed = conn.execute(text(
        "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles "
        "WHERE rolname = current_user")).one()
    if not allowed:
        raise StoreError(f"The database user {user} may not add or remove users of {where}; "
                         "run this as the database's administrator (a role with CREATEROLE).")


def _role_exists(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :name"),
                        {"name": name}).first() is not None


def _ident(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _literal(value: str) -> str:
    # A verifier is base64 and $ : only; quoted as a string literal all the same.
    return "'" + value.replace("'", "''") + "'"
