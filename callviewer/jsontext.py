"""JSON text that keeps integers exact: orjson, except for integers beyond 64 bits.

orjson reads an integer outside -2**63..2**64-1 as a float (losing digits) and refuses to
write one. Records from elsewhere can hold such numbers in fields Call Viewer does not
know (kept in `extras`), so they are read as Python ints and written with their digits.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_DIGIT_MARKS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))  # "0" or " "
# orjson reads integers from -2**63 to 2**64-1 exactly; longer ones (19 digits and up)
# may become floats. A number follows one of "[:," and blanks, never a quote.
_LONG_DIGITS = b"0" * 19
_BIG_NUMBER = re.compile(rb"[\[:,]\s*-?\d{19}")
_SMALLEST, _LARGEST = -(2**63), 2**64 - 1


def loads(data: bytes | str) -> Any:
    """A JSON value as orjson decodes it, except that integers beyond 64 bits keep their
    exact digits (Python ints) where orjson would round them to floats."""
    value = orjson.loads(data)
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_DIGITS in raw.translate(_DIGIT_MARKS) and _BIG_NUMBER.search(raw):
        try:  # rare: an id or an amount past 2**63; the standard library keeps it exact
            return json.loads(raw)
        except (ValueError, RecursionError):  # over 4,300 digits, or nested very deep
            return value
    return value


def dumps(value: Any, option: int = 0) -> bytes:
    """orjson.dumps, writing integers beyond 64 bits with their digits instead of failing."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
        return orjson.dumps(_exact(value), option=option)


def _exact(value: Any) -> Any:
    """The value with every integer orjson cannot write as raw JSON digits."""
    if type(value) is dict:
        return {key: _exact(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return [_exact(item) for item in value]
    if type(value) is int and not _SMALLEST <= value <= _LARGEST:
        return orjson.Fragment(str(value).encode())
    return value
