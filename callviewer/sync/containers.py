"""Turn a file of call records (JSON lines, an array, a page, one object) into JSON values."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from ijson.common import JSONError

from callviewer.jsontext import loads

try:
    import ijson.backends.yajl2_c as ijson
except ImportError:  # no compiled backend on this platform: slower, same events
    import ijson

JSON_SUFFIXES = (".json", ".ndjson", ".jsonl")
# The list of a page: the agent platform's data, Twilio's and Bland's calls, Vapi's results,
# VoIPBIN's result, ElevenLabs' conversations, Twilio's recordings.
PAGE_KEYS = ("data", "calls", "results", "result", "items", "records", "conversations",
             "recordings")
MAX_DEPTH = 1024  # orjson's own limit, so that both readers agree
TOO_DEEP = "nested deeper than 1,024 levels"
TRUNCATED = "the JSON ends too early (truncated?)"

_BOM = b"\xef\xbb\xbf"
_SNIFF = 2**20  # bytes read at once while looking for the end of a first line
_INT_DIGITS = 4300  # Python's limit for int("...")
_DIGIT_MARKS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))  # "0" or " "
_TOO_MANY_DIGITS = b"0" * (_INT_DIGITS + 1)
_INCOMPLETE = object()  # a line that ends before its JSON value does, or is too long to try
_INVALID = object()  # a line that is bad within itself
_NOT_VALUES = (_INCOMPLETE, _INVALID)
_SKIPPED = object()  # a value nested too deep, consumed without being built


@dataclass(frozen=True, slots=True)
class Item:
    """One decoded JSON value and where in its file it was found."""

    locator: str
    value: Any


@dataclass(frozen=True, slots=True)
class BadItem:
    """A value that could not be decoded, and why; the rest of the file is still read."""

    locator: str
    reason: str


_SPECIAL = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class UnreadableFile(Exception):
    """The file as a whole cannot be read (missing, a folder, not UTF-8, not JSON, empty)."""


Events = Iterator[tuple[str, Any]]  # ijson's basic_parse events
Stream = Generator[Item | BadItem, None, Any]  # yields records, returns what it built


def find_files(paths: Iterable[Path], empty: list[Path] | None = None) -> Iterator[Path]:
    """Files as given, and the JSON files inside folders (recursively, sorted, hidden skipped).

    Folders that hold no JSON file are appended to `empty`, when given, as they are met.
    """
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        found = False
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(name for name in dirs if not name.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and name.lower().endswith(JSON_SUFFIXES):
                    found = True
                    yield Path(root, name)
        if not found and empty is not None:
            empty.append(path)


def read_items(path: Path, *, whole_file_limit: int = 64 * 2**20) -> Iterator[Item | BadItem]:
    """Every record's JSON value in one file; UnreadableFile if the file cannot be read at all.

    `whole_file_limit` is the most bytes decoded at once: a whole file, or one NDJSON line.
    """
    try:
        with open_regular(path) as file:
            yield from _read(file, path, whole_file_limit)
    except OSError as exc:
        raise UnreadableFile(f"{path} could not be read: {exc.strerror or exc}.") from exc


def special_kind(mode: int) -> str | None:
    """What a file of this `st_mode` is when it is no regular file or folder, in words
    ("a named pipe (FIFO)"); None for a regular file or a folder."""
    for test, words in _SPECIAL:
        if test(mode):
            return words
    return None


def not_regular(path: Path, kind: str) -> str:
    """The sentence for a file skipped because it is no regular file."""
    return f"{path} is {kind}, not a regular file; it was skipped."


def open_regular(path: Path) -> IO[bytes]:
    """`path` opened for reading if it is a regular file (or a folder, for open's own error);
    UnreadableFile for a FIFO, a device or a socket, found by `stat` before opening: reading
    one would wait forever (a FIFO) or never end (/dev/zero)."""
    kind = special_kind(os.stat(path).st_mode)  # follows links: a link to /dev/zero is one
    if kind is not None:
        raise UnreadableFile(not_regular(path, kind))
    # Non-blocking, so that a file swapped for a FIFO since the stat cannot hang the open.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                         | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        kind = special_kind(mode)
        if kind is not None:
            raise UnreadableFile(not_regular(path, kind))
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _read(file: IO[bytes], path: Path, limit: int) -> Iterator[Item | BadItem]:
    bom = file.read(3)
    if bom[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise UnreadableFile(f"{path} could not be read: it is UTF-16 text; save it as UTF-8.")
    start = 3 if bom == _BOM else 0
    file.seek(start)
    first = _sniff_line(file, limit)
    if first is None:
        raise UnreadableFile(f"{path} is empty.")
    head, value = first
    if head.lstrip()[:1] not in (b"{", b"["):
        raise UnreadableFile(f"{path} could not be read: it does not start with '{{' or '[', "
                             "so it holds no JSON records.")
    if value is not _INCOMPLETE:
        following = _sniff_line(file, limit)
        if following is None and value is not _INVALID:
            return _document(value)  # a one-line file, already decoded
        # A bad first line is still JSON lines if the next line is a whole value: the first
        # line of a pretty-printed document is never complete, and rarely is its second.
        if following is not None and (value is not _INVALID or following[1] not in _NOT_VALUES):
            file.seek(start)
            return _json_lines(file, limit)
    file.seek(start)
    if os.fstat(file.fileno()).st_size - start <= limit:
        return _document(_load_whole(file, path))
    return _stream(file)


def _sniff_line(file: IO[bytes], limit: int) -> tuple[bytes, Any] | None:
    """The next non-blank line's start and its value, _INCOMPLETE or _INVALID; None at the end."""
    piece = min(limit, _SNIFF) + 1
    while line := file.readline(piece):
        if line.isspace():
            continue
        if len(line) == piece and not line.endswith(b"\n"):  # a long line, often a whole file
            if not _newline_within(file, limit + 1 - len(line)):
                return line, _INCOMPLETE  # too long to be a JSON line: not read on
            line += file.readline(limit + 1 - len(line))
        try:
            return line, loads(line)
        except orjson.JSONDecodeError as exc:
            ends_early = exc.msg.startswith("unexpected end of data")
            return line, _INCOMPLETE if ends_early else _INVALID
    return None


def _newline_within(file: IO[bytes], budget: int) -> bool:
    """Whether the line goes on for at most `budget` bytes, found without holding them."""
    mark = file.tell()
    try:
        while budget > 0:
            chunk = file.read(min(budget, _SNIFF))
            if not chunk or b"\n" in chunk:
                return True
            budget -= len(chunk)
        return False
    finally:
        file.seek(mark)


def _json_lines(file: IO[bytes], limit: int) -> Iterator[Item | BadItem]:
    """One item per line, or per element of a line's list; a bad line costs only itself."""
    readline = file.readline
    number = 0
    while line := readline(limit + 1):
        number += 1
        if line.isspace():
            continue
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := readline(limit + 1)) and not rest.endswith(b"\n"):
                pass
            yield BadItem(f"line {number}", f"longer than {limit:,} bytes")
            continue
        try:
            value = loads(line)
        except orjson.JSONDecodeError as exc:
            yield BadItem(f"line {number}", _orjson_problem(exc, f"column {exc.colno}"))
            continue
        if type(value) is list:
            for index, element in enumerate(value, 1):
                yield Item(f"line {number} item {index}", element)
        else:
            yield Item(f"line {number}", value)


def _load_whole(file: IO[bytes], path: Path) -> Any:
    try:
        return loads(file.read())
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise UnreadableFile(f"{path} could not be read: {_orjson_problem(exc, where)}.") from None


def _orjson_problem(exc: orjson.JSONDecodeError, where: str) -> str:
    if exc.msg.startswith("depth limit"):
        return TOO_DEEP
    if exc.msg.startswith("unexpected end of data"):
        return TRUNCATED
    if "UTF-8" in exc.msg:
        return "not UTF-8 text"  # orjson reports no useful position for this
    if exc.msg.startswith("number is infinity"):
        return f"a number too large to read, at {where}"
    return f"not valid JSON: {exc.msg} at {where}"


def _document(value: dict | list) -> Iterator[Item]:
    """A decoded file's records: an array's elements, a page's list, or the one object."""
    label, records = ("item", value) if type(value) is list else _find_page(value)
    if records is None:
        return iter((Item("", value),))
    return (Item(f"{label} {n}", record) for n, record in enumerate(records, 1))


def _find_page(obj: dict, prefix: str = "", descend: bool = True) -> tuple[str, list | None]:
    """The first list under a page key, in file order as the streaming reader meets it."""
    for key, value in obj.items():
        if key in PAGE_KEYS and type(value) is list:
            return f"{prefix}{key} item", value
        if key in PAGE_KEYS and descend and type(value) is dict:
            label, records = _find_page(value, f"{key}.", descend=False)
            if records is not None:
                return label, records
    return "", None


class _DigitGuard:
    """A reader that ends the input before a run of digits too long for Python's int().

    yajl2_c turns such a number into a stray pending exception that surfaces in whatever C
    call comes next, so the parser must never see one. A string of that many digits stops
    reading too: a fair price, as call records never hold one.
    """

    def __init__(self, file: IO[bytes]) -> None:
        self.file, self.tail, self.tripped = file, b"", False

    def read(self, size: int = -1) -> bytes:
        if self.tripped:
            return b""
        chunk = self.file.read(size)
        # translate + find is linear and C-fast; a regex for long digit runs is quadratic.
        marks = self.tail + chunk.translate(_DIGIT_MARKS)  # a run may straddle two chunks
        at = marks.find(_TOO_MANY_DIGITS)
        if at >= 0:
            self.tripped = True
            chunk = chunk[: max(0, at - len(self.tail))]
        self.tail = marks[-_INT_DIGITS:]
        return chunk


@dataclass
class _Where:
    locator: str = ""  # the record being read, named when the parser gives up


def _stream(file: IO[bytes]) -> Iterator[Item | BadItem]:
    """Read a file too big to hold, record by record; a parse error ends it with one BadItem."""
    where, guard = _Where(), _DigitGuard(file)
    events = ijson.basic_parse(guard)
    try:
        event, _ = next(events, ("", None))
        if event == "start_array":
            yield from _stream_list(events, where, "item", 2)
        elif event == "start_map":
            record = yield from _stream_map(events, where, "", 1)
            if record is not None:
                yield BadItem("", TOO_DEEP) if record is _SKIPPED else Item("", record)
        where.locator = ""
        for _ in events:  # only to notice garbage after the document
            pass
    except JSONError as exc:
        too_long = "a number longer than 4,300 digits; reading stopped"
        yield BadItem(where.locator, too_long if guard.tripped else _ijson_problem(exc))
    except (ValueError, ArithmeticError, SystemError) as exc:  # a number yajl2_c cannot convert
        reason = f"a number that cannot be read ({type(exc).__name__}); reading stopped"
        yield BadItem(where.locator, reason)


def _stream_list(events: Events, where: _Where, label: str, depth: int) -> Stream:
    """One item per element of the array just started (its elements at `depth`)."""
    for number, (event, value) in enumerate(events, 1):  # _build consumes the rest of each
        if event == "end_array":
            return
        where.locator = f"{label} {number}"
        built = _build(events, event, value, depth)
        yield BadItem(where.locator, TOO_DEEP) if built is _SKIPPED else Item(where.locator, built)
        where.locator = f"{label} {number + 1}"


def _stream_map(events: Events, where: _Where, prefix: str, depth: int) -> Stream:
    """Build the object just started, streaming out the first page list; None if it was a page."""
    record: dict = {}
    key, paged, skipped = None, False, False
    for event, value in events:
        if event == "map_key":
            key = value
        elif event == "end_map":
            return None if paged else _SKIPPED if skipped else record
        elif paged:  # paging metadata, or a second list: not needed, so skipped unbuilt
            _build(events, event, value, MAX_DEPTH + 1)
        elif key in PAGE_KEYS and event == "start_array":
            yield from _stream_list(events, where, f"{prefix}{key} item", depth + 2)
            paged = True
        elif key in PAGE_KEYS and event == "start_map" and depth == 1:
            record[key] = yield from _stream_map(events, where, f"{key}.", depth + 1)
            paged = record[key] is None
            skipped = skipped or record[key] is _SKIPPED
        else:
            record[key] = _build(events, event, value, depth + 1)
            skipped = skipped or record[key] is _SKIPPED
    return record


def _build(events: Events, event: str, value: Any, depth: int) -> Any:
    """The value that begins with this event (a container at `depth`), or _SKIPPED."""
    if event == "start_map":
        root: Any = {}
    elif event == "start_array":
        root = []
    else:
        return float(value) if event == "number" and type(value) is not int else value
    if depth > MAX_DEPTH:
        return _skip(events, 1)
    stack = [root]
    top, key, in_map = root, None, event == "start_map"
    for event, value in events:  # the hot loop of streaming: tests in order of frequency
        if event == "map_key":
            key = value
            continue
        if event == "number":
            if type(value) is not int:
                value = float(value)  # a Decimal: records want floats, as orjson gives them
        elif event == "start_map" or event == "start_array":
            if depth + len(stack) > MAX_DEPTH:
                return _skip(events, len(stack) + 1)
            child, child_is_map = ({}, True) if event == "start_map" else ([], False)
            if in_map:
                top[key] = child
            else:
                top.append(child)
            stack.append(child)
            top, in_map = child, child_is_map
            continue
        elif event == "end_map" or event == "end_array":
            stack.pop()
            if not stack:
                return root
            top = stack[-1]
            in_map = type(top) is dict
            continue
        if in_map:
            top[key] = value
        else:
            top.append(value)
    return root


def _skip(events: Events, open_containers: int) -> object:
    """Consume events until that many open containers have closed."""
    for event, _ in events:
        if event == "start_map" or event == "start_array":
            open_containers += 1
        elif event == "end_map" or event == "end_array":
            open_containers -= 1
            if not open_containers:
                break
    return _SKIPPED


def _ijson_problem(exc: JSONError) -> str:
    """The first line of yajl's message (the rest quotes the file) as a plain phrase."""
    text = exc.args[0] if exc.args else ""
    first = (text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))
    first = first.split("\n", 1)[0]
    if "premature EOF" in first or "Incomplete" in first:
        return TRUNCATED
    if "UTF8" in first:
        return "not UTF-8 text"
    return "not valid JSON: " + first.removeprefix("parse error: ").removeprefix("lexical error: ")
