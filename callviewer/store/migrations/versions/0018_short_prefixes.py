"""SQLite's word index keeps the calls of each word's first letter and first two letters
(FTS5's `prefix` option; issue 26).

The last word of a search is a prefix, so that results narrow while typing. FTS5 finds a
prefix's calls by merging the lists of every word it begins, and the shortest prefixes
begin the most: at a million calls "r" took 54 ms (620,000 calls), "c" 148 (every call),
each time a search ending in one is read through its matches. A search sorted far from
its matches' order ("mia r" by score ↑, the calls not answered first) is read by a walk
probing them, so it paid that merge on every page: 57-60 ms. With the index holding the
first one and two letters of each word as words of their own, those prefixes are read as
one word is: "r" 16 ms, "c" 26, "mia r" by score ↑ under 25 ms in all (measured with
tests/bench/bench_team.py --sweep). Longer prefixes begin fewer words and are merged as
before. The index's word lists grow from 114 to 270 MB (in a 1.4 GB file at a million
calls), and writing a call's words takes longer: 100,000 of the bench's calls 0.55 s →
0.92 s.

FTS5 takes the option only when a table is made, so the index is made again: a new
table, the calls' text copied into it (about 20 s at a million calls), merged into one
segment, then put in the old one's place. PostgreSQL's index is untouched (its prefixes
are read from the GIN index's ordered words).
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_COLUMNS = "name, numbers, summary, transcript, notes"
# The options before the tokenizer: callviewer/call_match.py reads the tokenizer as the
# declaration's last option.
_PREFIXES = "prefix = '1 2', "


def _rebuild(options: str) -> None:
    """calls_fts made again with `options` before its tokenizer, holding the same rows."""
    op.execute(f"CREATE VIRTUAL TABLE calls_fts_rebuilt USING fts5({_COLUMNS}, {options}"
               "tokenize = 'unicode61 remove_diacritics 2')")
    op.execute(f"INSERT INTO calls_fts_rebuilt (rowid, {_COLUMNS}) "
               f"SELECT rowid, {_COLUMNS} FROM calls_fts")
    op.execute("INSERT INTO calls_fts_rebuilt (calls_fts_rebuilt) VALUES ('optimize')")
    op.execute("DROP TABLE calls_fts")
    op.execute("ALTER TABLE calls_fts_rebuilt RENAME TO calls_fts")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _rebuild(_PREFIXES)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _rebuild("")
