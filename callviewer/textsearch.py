"""The words PostgreSQL's full-text index holds and matches, cut as SQLite's FTS5 cuts them.

SQLite's FTS5 tokenizer (unicode61, remove_diacritics 2) reads runs of letters
and digits as words and ignores case and accents. PostgreSQL's own parser
would keep an e-mail address, a host name or a signed number ("-010" of
"555-010-0123") as one word, and its case folding follows the server's
locale. So on PostgreSQL the words are cut and folded here, the same way for
the index and for what a person types, and the server only stores and
matches them: each row's tsvector is built from these words as they are
(``array_to_tsvector``), and a search is a ``tsquery`` of quoted words.

Numbers are also searched as people write them (migration 0012): a run of four
digits or more in what was typed, whatever its spaces, dashes, dots and brackets
(`number_runs`), is looked for anywhere inside each call's numbers, kept as
digits only in an index of their own (`number_digits`, in NUMBERS_TABLE: FTS5's
trigram tokenizer on SQLite, pg_trgm's GIN index on PostgreSQL).

Imports no SQLAlchemy, as callviewer/listing.py does not.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
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


def tsquery(user_text: str, prefix: bool = True, any_word: bool = False) -> str | None:
    """A PostgreSQL tsquery for what a person typed: every word must occur (with
    `any_word`, one of them), and the last also matches as a prefix (unless not `prefix`),
    so results narrow while typing (as listing.match_expression does for FTS5); None when
    there is no word in it."""
    found = [word for word in words(user_text) if len(word.encode()) <= MAX_WORD_BYTES]
    if not found:
        return None
    # Words are letters and digits only: nothing in them needs escaping in the quotes.
    quoted = [f"'{word}'" for word in found]
    if prefix:
        quoted[-1] += ":*"
    return (" | " if any_word else " & ").join(quoted)


# The index of each call's numbers as digits: its rowid is the call's id, its one column
# `digits` (a row only for calls with a number). Named so as to go with calls_fts.
NUMBERS_TABLE = "calls_fts_numbers"
# The fewest digits that search inside numbers: three would match too much to mean much.
MIN_NUMBER_DIGITS = 4
_NOT_DIGIT = re.compile(r"[^0-9]+")
# A number as people write it: digits with spaces, dashes, dots, slashes or brackets
# between them, maybe a leading + or bracket; not part of a word ("ab1234", "1234th").
_NUMBER_RUN = re.compile(r"(?<!\w)[+(]*[0-9](?:[\s.\-()/]*[0-9])*\)?(?!\w)")


@dataclass(frozen=True)
class NumberRun:
    """A number in what a person typed: `digits`, what to find inside a call's numbers
    (the leading 00 or national 0 dropped: +, 00 and the national trunk 0 come before
    the digits an E.164 number keeps), and `text`, the run as typed (its words are also
    looked for in the rest of the call)."""

    digits: str
    text: str


def number_runs(user_text: str) -> tuple[str, list[NumberRun]]:
    """The numbers in what a person typed (runs of MIN_NUMBER_DIGITS digits or more),
    and the rest of the text, whose words are searched as words.

    ``(415) 555-0101``, ``415.555.0101`` and ``+1 415 555 0101`` are each one run;
    ``0415 555 0101`` (a national form) and ``0014155550101`` look for ``415…`` and
    ``1415…``, which the E.164 number ``+14155550101`` holds."""
    runs: list[NumberRun] = []
    rest: list[str] = []
    last = 0
    for found in _NUMBER_RUN.finditer(user_text):
        digits = _NOT_DIGIT.sub("", found.group())
        if len(digits) < MIN_NUMBER_DIGITS:
            continue
        runs.append(NumberRun(_without_prefix(digits), found.group()))
        rest.append(user_text[last:found.start()])
        last = found.end()
    rest.append(user_text[last:])
    return " ".join(rest), runs


def _without_prefix(digits: str) -> str:
    """The digits without an international 00 or a national trunk 0 in front, if as many
    as MIN_NUMBER_DIGITS remain (a call that holds the whole run holds these too)."""
    for zeros in (2, 1):
        if digits.startswith("0" * zeros) and len(digits) - zeros >= MIN_NUMBER_DIGITS:
            return digits[zeros:]
    return digits


def number_digits(numbers: Iterable[str | None]) -> str | None:
    """A call's row of the numbers index: each of its distinct numbers as digits only,
    space-separated (so that no run found spans two numbers); None when it has none."""
    found: list[str] = []
    for number in numbers:
        digits = _NOT_DIGIT.sub("", number or "")
        if digits and digits not in found:
            found.append(digits)
    return " ".join(found) or None


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
