"""The words PostgreSQL's full-text index holds and matches, cut as SQLite's FTS5 cuts them.

SQLite's FTS5 tokenizer (unicode61, remove_diacritics 2) reads runs of letters
and digits as words and ignores case and accents. PostgreSQL's own parser
would keep an e-mail address, a host name or a signed number ("-010" of
"555-010-0123") as one word, and its case folding follows the server's
locale. So on PostgreSQL the words are cut and folded here, the same way for
the index and for what a person types, and the server only stores and
matches them: each row's tsvector is built from these words as they are
(``array_to_tsvector``), and a search is a ``tsquery`` of quoted words.

Imports no SQLAlchemy, as callviewer/listing.py does not.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

_WORD = re.compile(r"[^\W_]+")  # letters and digits, as unicode61 reads a word
# A tsvector's limits: each word at most 2,047 bytes, and 1 MB in all, counting 4 bytes of
# entry per word. Longer words are left out, and each of the index's five columns keeps
# its first words up to a fifth of the total (a transcript of ~20,000 distinct words).
MAX_WORD_BYTES = 2046
MAX_COLUMN_BYTES = 200_000


def words(text: str) -> list[str]:
    """The words of a text, in order: lower case, without accents."""
    if text.isascii():
        return _WORD.findall(text.lower())
    bare = unicodedata.normalize("NFKD", text.casefold()).translate(_marks())
    return _WORD.findall(unicodedata.normalize("NFC", bare))


def index_text(text: str | None) -> str | None:
    """One column of PostgreSQL's index: the distinct words of a text, space-separated."""
    if not text:
        return None
    distinct = list(dict.fromkeys(words(text)))
    joined = " ".join(distinct)
    if len(joined.encode()) + 4 * len(distinct) > MAX_COLUMN_BYTES or \
            max(map(len, distinct), default=0) * 4 > MAX_WORD_BYTES:
        joined = " ".join(_within_limits(distinct))
    return joined or None


def tsquery(user_text: str) -> str | None:
    """A PostgreSQL tsquery for what a person typed: every word must occur, and the last
    also matches as a prefix, so results narrow while typing (as listing.match_expression
    does for FTS5); None when there is no word in it."""
    found = [word for word in words(user_text) if len(word.encode()) <= MAX_WORD_BYTES]
    if not found:
        return None
    # Words are letters and digits only: nothing in them needs escaping in the quotes.
    quoted = [f"'{word}'" for word in found]
    quoted[-1] += ":*"
    return " & ".join(quoted)


def _within_limits(distinct: list[str]) -> list[str]:
    kept, size = [], 0
    for word in distinct:
        length = len(word.encode())
        if length > MAX_WORD_BYTES:
            continue
        size += length + 4
        if size > MAX_COLUMN_BYTES:
            break
        kept.append(word)
    return kept


@cache
def _marks() -> dict[int, None]:
    """str.translate's table that deletes combining marks (the accents NFKD splits off)."""
    return dict.fromkeys(code for code in range(sys.maxunicode + 1)
                         if unicodedata.combining(chr(code)))
