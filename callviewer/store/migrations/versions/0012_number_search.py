"""Numbers found as people write them: an index of each call's numbers as digits only.

A run of four digits or more typed in the search ("555-0101", "(415) 555-0101")
is looked for anywhere inside a call's numbers (callviewer/textsearch.py
`number_runs`), which the word index cannot do: it finds words and their
beginnings. So each call with a number gets a row of its numbers' digits,
space-separated, in an index made for finding text inside text: FTS5's trigram
tokenizer on SQLite, and on PostgreSQL a GIN index of pg_trgm (a contrib
extension Debian's postgresql package ships; PostgreSQL 13 and later let the
database's owner create it). store/search.py keeps it in step with each write.
The calls already stored are indexed here, BATCH at a time.
"""

import re

from alembic import op
from sqlalchemy import text

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLE = "calls_fts_numbers"
SQLITE_CREATE = f"CREATE VIRTUAL TABLE {TABLE} USING fts5(digits, tokenize = 'trigram')"
POSTGRESQL_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE TABLE {TABLE} (rowid integer PRIMARY KEY, digits text NOT NULL)",
    f"CREATE INDEX ix_{TABLE}_digits ON {TABLE} USING gin (digits gin_trgm_ops)",
)
BATCH = 20_000
_NOT_DIGIT = re.compile(r"[^0-9]+")


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    for statement in POSTGRESQL_CREATE if postgresql else (SQLITE_CREATE,):
        op.execute(statement)
    read = text("SELECT id, customer_number, from_number, to_number FROM calls "
                "WHERE id > :after ORDER BY id LIMIT :batch")
    write = text(f"INSERT INTO {TABLE} (rowid, digits) VALUES (:id, :digits)")
    after = 0
    while rows := bind.execute(read, {"after": after, "batch": BATCH}).all():
        after = rows[-1][0]
        entries = [{"id": row[0], "digits": digits} for row in rows
                   if (digits := _digits(row[1:])) is not None]
        if entries:
            bind.execute(write, entries)


def _digits(numbers) -> str | None:
    """A call's numbers as digits only, each once, space-separated (as
    textsearch.number_digits: a frozen copy, like every migration's)."""
    found: list[str] = []
    for number in numbers:
        digits = _NOT_DIGIT.sub("", number or "")
        if digits and digits not in found:
            found.append(digits)
    return " ".join(found) or None


def downgrade() -> None:
    op.execute(f"DROP TABLE {TABLE}")
