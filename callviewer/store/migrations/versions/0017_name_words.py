"""The distinct names of the calls with a word index of their own, and on PostgreSQL the
other columns' words apart from the name's (issue 26).

A search for a name sorted by Who ("priya" by Who ↑, a tenth of a million calls, 800,000
calls into that order) was read neither by a walk of the Who index (it passes every call
before the first Priya) nor through its matches (100,000 of them read and sorted) in less
than 77-820 ms. The calls that match through their name are whole groups of the Who
index: with the names that match known (`call_names`, each customer name once, its words
indexed as the calls' are), a page reads those names' calls from the Who index in order,
and adds the few calls that match through another column. SQLite's FTS5 finds those in
its own index (a column filter, `{numbers summary transcript notes} : ...`: 1 ms for a
word in 100,000 names); on PostgreSQL the index's one `document` holds every column's
words, so `others` holds the words of all but the name, with a GIN index of its own.

The names already stored are written here; store/search.py keeps the table in step
with each call written (a name is never taken out: a name no call has any more reads
as an empty group).
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SQLITE = (
    "CREATE TABLE call_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    # Contentless: it gives the ids of the names that match, call_names holds their text.
    "CREATE VIRTUAL TABLE call_names_fts USING fts5(name, content = '', "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO call_names (name) SELECT DISTINCT customer_name FROM calls "
    "WHERE customer_name IS NOT NULL ORDER BY customer_name",
    "INSERT INTO call_names_fts (rowid, name) SELECT id, name FROM call_names",
)
# PostgreSQL: a name's words as textsearch.py cuts them (calls_fts.name holds them for
# each call already), and a tsvector of them as calls_fts.document is made.
POSTGRESQL = (
    "CREATE TABLE call_names (name text PRIMARY KEY, words text, document tsvector "
    "GENERATED ALWAYS AS (array_to_tsvector(array_remove(string_to_array("
    "coalesce(words, ''), ' '), ''))) STORED)",
    "INSERT INTO call_names (name, words) SELECT DISTINCT ON (calls.customer_name) "
    "calls.customer_name, calls_fts.name FROM calls JOIN calls_fts ON calls_fts.rowid = calls.id "
    "WHERE calls.customer_name IS NOT NULL ORDER BY calls.customer_name",
    "CREATE INDEX ix_call_names_document ON call_names USING gin (document)",
    "ALTER TABLE calls_fts ADD COLUMN others tsvector GENERATED ALWAYS AS (array_to_tsvector("
    "array_remove(string_to_array(coalesce(numbers, '') || ' ' || coalesce(summary, '') || "
    "' ' || coalesce(transcript, '') || ' ' || coalesce(notes, ''), ' '), ''))) STORED",
    "CREATE INDEX ix_calls_fts_others ON calls_fts USING gin (others)",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_calls_fts_others")
        op.execute("ALTER TABLE calls_fts DROP COLUMN others")
    else:
        op.execute("DROP TABLE call_names_fts")
    op.execute("DROP TABLE call_names")
