"""The call transcript as chat bubbles, painted as plain text (never as rich text)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
    QTextCharFormat,
    QTextCursor,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QListView,
    QMenu,
    QPlainTextEdit,
    QStackedLayout,
    QStyle,
    QStyledItemDelegate,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from callviewer.ui import big_text, formatting

SPEAKER_ROLE = int(Qt.ItemDataRole.UserRole) + 1
START_MS_ROLE = SPEAKER_ROLE + 1
TIME_TEXT_ROLE = SPEAKER_ROLE + 2
RUN_START_ROLE = SPEAKER_ROLE + 3
PLAYING_ROLE = SPEAKER_ROLE + 4

LABELS = {"agent": "Agent", "customer": "Customer", "system": "System", "tool": "Tool"}
EMPTY_TEXT = "No transcript for this call."
NOTICE_TEXT = (
    "This transcript could not be split into messages; it is shown as the source sent it."
)

MARGIN, PAD_H, PAD_V, RADIUS = 16, 10, 7, 12
RUN_GAP, GAP, LABEL_GAP, TIME_GAP, LINE_GAP = 12, 3, 3, 6, 2
WIDTH_SHARE = 0.7
# QTextLayout ignores "\n"; a line separator of the same UTF-16 length keeps offsets valid.
_BREAKS = str.maketrans({"\n": "\u2028", "\r": "\u200b"})
_DIGITS = str.maketrans("123456789", "000000000")
_PAINT_CACHE = 400  # laid-out bubbles kept for repaints: a few screens' worth
# A tool call's bubble: a header line, then the arguments and the result, a few lines each.
TOOL_MARK, ARROW, NO_RESULT = "\u2699", "\u2192\u00a0", "(no result)"
ARGUMENT_LINES, RESULT_LINES = 3, 4
TOOL_RADIUS, TOOL_PAD_V, HEADER_GAP = 6, 5, 2
_TOOL_CHARS = 2000  # more than a few lines can show: the rest is never laid out
SHOW_ALL_HINT = "double-click or F2 shows all"


def message_line(role: str, text: str, start_ms: int | None) -> str:
    """One message as a plain-text line, e.g. ``Agent [0:42]: text``."""
    time = formatting.position(start_ms)
    return f"{LABELS.get(role, role)}{f' [{time}]' if time else ''}: {text}"


def _term_pattern(words: list[str]) -> re.Pattern[str] | None:
    terms = {w.strip().strip('"*').strip().casefold() for w in words} - {""}
    if not terms:
        return None
    # Longest first so "cleaning" wins over "clean"; \w* runs on to the end of the word that
    # the prefix search matched.
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})\w*", re.IGNORECASE)


def _match_ranges(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    if pattern is None:
        return []
    return [(m.start(), m.end() - m.start()) for m in pattern.finditer(text)]


def highlight_ranges(text: str, words: list[str]) -> list[tuple[int, int]]:
    """(start, length) of each word in ``text`` that starts with one of ``words``, any case."""
    return _match_ranges(_term_pattern(words), text)


def _utf16(text: str, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    # Qt counts UTF-16 units; a character beyond the BMP (an emoji) takes two.
    if not ranges or max(text) <= "\uffff":
        return ranges

    def at(i: int) -> int:
        return len(text[:i].encode("utf-16-le")) // 2

    return [(at(s), at(s + n) - at(s)) for s, n in ranges]


def _json_value(value: Any) -> Any:
    """A string that holds a JSON object or array as that value; anything else as it is."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


def _tool_text(value: Any, indent: int | None = None) -> str:
    """A tool's arguments or result as text: strings as they are, the rest as JSON."""
    value = _json_value(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    separators = None if indent else (", ", ": ")  # spaces give the wrap somewhere to break
    try:
        return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators,
                          default=str)
    except (TypeError, ValueError):  # a circular or otherwise odd value
        return repr(value)


@dataclass(slots=True)
class _ToolCall:
    name: str
    arguments: str  # compact, "" when none
    result: str | None  # compact, None when the source has no result
    raw: dict

    @classmethod
    def of(cls, part: dict) -> _ToolCall:
        name = " ".join(str(part.get("name") or "").split()) or "tool"
        result = _tool_text(part.get("result"))
        return cls(name, _tool_text(part.get("arguments")), result or None, part)

    def detail(self) -> str:
        """The whole call, JSON indented, for reading and selecting in full."""
        result = _tool_text(self.raw.get("result"), 2) or NO_RESULT
        arguments = _tool_text(self.raw.get("arguments"), 2)
        return "\n".join(p for p in (self.name, arguments, f"\u2192 {result}") if p)


@dataclass(slots=True)
class _Message:
    role: str
    text: str
    start_ms: int | None
    time: str
    run_start: bool
    tool: _ToolCall | None = None


def _normalise(messages: list[dict]) -> list[_Message]:
    out: list[_Message] = []
    previous = None
    for entry in messages:
        role = entry.get("role") if entry.get("role") in LABELS else "system"
        text, start = entry.get("text"), entry.get("start_ms")
        start = int(start) if isinstance(start, int | float) else None
        text = "" if text is None else str(text)
        part = entry.get("tool") if role == "tool" else None
        tool = _ToolCall.of(part) if isinstance(part, dict) else None
        out.append(_Message(role, text, start, formatting.position(start), role != previous, tool))
        previous = role
    return out


class TranscriptModel(QAbstractListModel):
    """The messages of one transcript; the row being spoken is marked by ``PLAYING_ROLE``."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._messages: list[_Message] = []
        self._playing: int | None = None

    def set_messages(self, messages: list[dict]) -> None:
        """Replace the transcript with canonical messages (dicts with role, text, start_ms)."""
        self.beginResetModel()
        self._messages, self._playing = _normalise(messages), None
        self.endResetModel()

    def set_playing_row(self, row: int | None) -> None:
        """Mark ``row`` as the message being spoken (None: none)."""
        if row is not None and not 0 <= row < len(self._messages):
            row = None
        old, self._playing = self._playing, row
        for changed in {old, row} - {None}:
            self.dataChanged.emit(self.index(changed), self.index(changed), [PLAYING_ROLE])

    def playing_row(self) -> int | None:
        """The row marked as being spoken, if any."""
        return self._playing

    def message(self, row: int) -> _Message:
        """Message ``row`` (for the delegate: one call instead of a data() call per role)."""
        return self._messages[row]

    def line(self, row: int) -> str:
        """Message ``row`` as a plain-text line."""
        m = self._messages[row]
        return message_line(m.role, m.text, m.start_ms)

    def detail(self, row: int) -> str:
        """Message ``row`` in full: its text, or a tool call's name, arguments and result."""
        m = self._messages[row]
        return m.text if m.tool is None else m.tool.detail()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._messages)

    def flags(self, index):
        if not index.isValid():
            return super().flags(index)
        # "Editable" only so that double-click and F2 open the read-only text editor.
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._messages):
            return None
        m = self._messages[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return m.text
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.line(index.row())
        fields = {SPEAKER_ROLE: m.role, START_MS_ROLE: m.start_ms, TIME_TEXT_ROLE: m.time,
                  RUN_START_ROLE: m.run_start, PLAYING_ROLE: index.row() == self._playing}
        return fields.get(role)


def _mix(a: QColor, b: QColor, share: float) -> QColor:
    return QColor.fromRgbF(*(x + (y - x) * share for x, y in zip(
        a.getRgbF()[:3], b.getRgbF()[:3], strict=True)))


class _Colours:
    """Bubble colours blended from the palette, so that light and dark themes both read."""

    def __init__(self, palette: QPalette) -> None:
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        dark = base.lightness() < 128
        self.key, self.text = palette.cacheKey(), text
        self.accent = palette.color(QPalette.ColorRole.Highlight)
        self.fill = {"agent": _mix(base, self.accent, 0.26 if dark else 0.15),
                     "customer": _mix(base, text, 0.13 if dark else 0.075),
                     "tool_call": _mix(base, text, 0.035 if dark else 0.02)}
        self.faint = _mix(base, text, 0.07 if dark else 0.045)
        self.outline = _mix(base, text, 0.3 if dark else 0.22)
        self.muted = _mix(text, base, 0.38)
        self.mark = QTextCharFormat()
        self.mark.setBackground(QColor("#9c7a00") if dark else QColor("#ffd95a"))
        self.mark.setForeground(QColor("#ffffff") if dark else QColor("#000000"))
        # The hit F3 went to: the same mark, stronger and underlined (not colour alone).
        self.current = QTextCharFormat(self.mark)
        self.current.setBackground(QColor("#d35400") if dark else QColor("#ff8c1a"))
        self.current.setFontUnderline(True)

    def bubble(self, role: str, selected: bool, playing: bool) -> QColor:
        colour = self.fill.get(role, self.faint)
        if playing:
            colour = _mix(colour, self.accent, 0.22)
        return _mix(colour, self.accent, 0.4) if selected else colour


class _Fonts:
    """The fonts and metrics of one view font."""

    def __init__(self, body: QFont) -> None:
        self.body, self.small = body, QFont(body)
        if body.pointSizeF() > 0:
            self.small.setPointSizeF(body.pointSizeF() * 0.86)
        else:
            self.small.setPixelSize(round(body.pixelSize() * 0.86))
        self.label, self.system = QFont(self.small), QFont(self.small)
        self.label.setWeight(QFont.Weight.DemiBold)
        self.system.setItalic(True)
        self.tool = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if self.small.pointSizeF() > 0:
            self.tool.setPointSizeF(self.small.pointSizeF())
        else:
            self.tool.setPixelSize(self.small.pixelSize())
        self.arrow_width = QFontMetricsF(self.tool).horizontalAdvance(ARROW)
        self.small_metrics = QFontMetricsF(self.small)
        self.small_height = self.small_metrics.height()
        self.label_height = QFontMetricsF(self.label).height()
        self._metrics = {r: QFontMetricsF(self.text_font(r)) for r in ("agent", "system", "tool")}
        self.average_width = self._metrics["agent"].averageCharWidth()
        self._time_widths: dict[str, float] = {}

    def text_font(self, role: str) -> QFont:
        return {"system": self.system, "tool": self.tool}.get(role, self.body)

    def time_width(self, time: str) -> float:
        # UI fonts have digits of one width, so "1:07" measures as "0:00" does.
        shape = time.translate(_DIGITS)
        if shape not in self._time_widths:
            self._time_widths[shape] = self.small_metrics.horizontalAdvance(time) if time else 0.0
        return self._time_widths[shape]

    def metrics(self, role: str) -> QFontMetricsF:
        return self._metrics[role if role in self._metrics else "agent"]


@dataclass(slots=True)
class _Bubble:
    layout: QTextLayout
    rect: QRectF
    origin: QPointF
    label_rect: QRectF | None
    time_rect: QRectF | None
    height: int
    text: str  # as laid out: the message's text, or a tool call's shortened parts
    muted: tuple[tuple[int, int], ...] = ()  # (start, length) in UTF-16 units, drawn faint


def _wrapping() -> QTextOption:
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    return option


def _units(text: str) -> int:
    """The length of ``text`` in UTF-16 units, as Qt counts it."""
    return len(text) if max(text, default="") <= "\uffff" else len(text.encode("utf-16-le")) // 2


def _index(text: str, units: int) -> int:
    """The Python offset in ``text`` of the UTF-16 offset ``units``."""
    if max(text, default="") <= "\uffff":
        return units
    return len(text.encode("utf-16-le")[:2 * units].decode("utf-16-le", "ignore"))


def _elide_lines(text: str, font: QFont, width: float, lines: int) -> str:
    """``text`` cut to at most ``lines`` lines when wrapped to ``width``, ending in "…" if cut."""
    cut = len(text) > _TOOL_CHARS
    text = text[:_TOOL_CHARS]
    layout = QTextLayout(text.translate(_BREAKS), font)
    layout.setTextOption(_wrapping())
    layout.beginLayout()
    starts: list[int] = []
    while len(starts) <= lines and (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        starts.append(line.textStart())
    layout.endLayout()
    if len(starts) <= lines:
        return text + "\u2026" if cut else text
    start = _index(text, starts[lines - 1])
    tail = text[start:].translate({10: " ", 13: " "})
    elided = QFontMetricsF(font).elidedText(tail, Qt.TextElideMode.ElideRight, width - 1)
    return text[:start] + elided


def _layout_text(text: str, font: QFont, width: float) -> tuple[QTextLayout, float, float, float]:
    """Wrap ``text`` to ``width``: the layout, its used width and height, and its left inset."""
    layout = QTextLayout(text.translate(_BREAKS), font)
    layout.setTextOption(_wrapping())
    layout.beginLayout()
    height, left, right = -LINE_GAP, width, 0.0
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        line.setPosition(QPointF(0, height + LINE_GAP))
        height += LINE_GAP + line.height()
        natural = line.naturalTextRect()
        left, right = min(left, natural.left()), max(right, natural.right())
    layout.endLayout()
    # Right-to-left lines sit at the right of `width`: the inset lets the bubble hug them.
    return layout, max(right - left, 0.0), height, min(left, right)


@dataclass(slots=True)
class _Frame:
    time_w: float
    room: float
    top: float
    y: float
    pad_v: float


def _frame(m: _Message, fonts: _Fonts, width: int) -> _Frame:
    """The parts of a row's geometry that need no text layout."""
    centred = m.role not in ("agent", "customer")
    time_w = fonts.time_width(m.time)
    room = min(width * WIDTH_SHARE, width - 2 * MARGIN - time_w - TIME_GAP) - 2 * PAD_H
    top = float(RUN_GAP if m.run_start else GAP)
    y = top + (fonts.label_height + LABEL_GAP if m.run_start and not centred else 0)
    return _Frame(time_w, max(room, 40.0), top, y, 3 if centred else PAD_V)


def _row_height(m: _Message, fonts: _Fonts, width: int, last: bool) -> int:
    """The height of a row, without a text layout when the text surely fits on one line."""
    f = _frame(m, fonts, width)
    metrics = fonts.metrics(m.role)
    # Other scripts may take glyphs from a fallback font with a taller line: they, and text
    # with breaks or tabs, get the real layout.
    # Measuring costs a third of a layout: skip it for text that will likely wrap anyway.
    likely_fits = len(m.text) * fonts.average_width < f.room
    plain = likely_fits and m.text.isascii() and m.text.isprintable() and m.tool is None
    if plain and metrics.horizontalAdvance(m.text) < f.room - 1:
        return _bottom(f.y + metrics.height() + 2 * f.pad_v, last)
    return _lay_out(m, fonts, width, last).height


def _bottom(y: float, last: bool) -> int:
    return int(y + 0.999) + (MARGIN if last else 0)


def _lay_out(m: _Message, fonts: _Fonts, width: int, last: bool) -> _Bubble:
    """Where the parts of message ``m`` go in a row ``width`` wide."""
    if m.tool is not None:
        return _lay_out_tool(m, m.tool, fonts, width, last)
    f = _frame(m, fonts, width)
    # A huge message is laid out cut (minutes, otherwise); F2 opens it whole.
    text = big_text.shown(m.text, SHOW_ALL_HINT)
    layout, text_w, text_h, inset = _layout_text(text, fonts.text_font(m.role), f.room)
    w, h = text_w + 2 * PAD_H, text_h + 2 * f.pad_v
    x = {"agent": MARGIN, "customer": width - MARGIN - w}.get(m.role, (width - w) / 2)
    rect = QRectF(x, f.y, w, h)
    label_rect = None
    if f.y > f.top:  # as wide as the row allows, so a one-word bubble keeps its whole name
        left, right = (x + 4, width - MARGIN) if m.role == "agent" else (MARGIN, rect.right() - 4)
        label_rect = QRectF(left, f.top, right - left, fonts.label_height)
    time_rect = None
    if m.time:
        time_x = x - TIME_GAP - f.time_w if m.role == "customer" else rect.right() + TIME_GAP
        time_y = rect.bottom() - f.pad_v - fonts.small_height
        time_rect = QRectF(time_x, time_y, f.time_w, fonts.small_height)
    origin = QPointF(x + PAD_H - inset, f.y + f.pad_v)
    return _Bubble(layout, rect, origin, label_rect, time_rect, _bottom(rect.bottom(), last),
                   text)


def _lay_out_tool(m: _Message, call: _ToolCall, fonts: _Fonts, width: int, last: bool) -> _Bubble:
    """A tool call's bubble: "⚙ name", then its arguments and "→ result" in the fixed font.

    Each part is cut to a few lines; the whole call stays in the model for copy and F2.
    """
    f = _frame(m, fonts, width)
    header = _elide_lines(f"{TOOL_MARK} {call.name}", fonts.label, f.room, 1)
    parts = [header]
    if call.arguments:
        parts.append(_elide_lines(call.arguments, fonts.tool, f.room, ARGUMENT_LINES))
    result = NO_RESULT if call.result is None else _elide_lines(
        call.result, fonts.tool, f.room - fonts.arrow_width, RESULT_LINES)
    parts.append(ARROW + result)
    text = "\n".join(parts)
    header_end, result_at = _units(header), _units(text) - _units(ARROW + result)
    muted = [(0, _units(TOOL_MARK)), (result_at, _units(ARROW))]
    if call.result is None:
        muted.append((result_at + _units(ARROW), _units(NO_RESULT)))

    layout = QTextLayout(text.translate(_BREAKS), fonts.tool)
    layout.setTextOption(_wrapping())
    bold = QTextLayout.FormatRange()
    bold.start, bold.length, bold.format = 0, header_end, QTextCharFormat()
    bold.format.setFont(fonts.label)
    layout.setFormats([bold])
    layout.beginLayout()
    y, left, right = 0.0, f.room, 0.0
    while (line := layout.createLine()).isValid():
        # A result's wrapped lines hang under the arrow, so that it reads as one answer.
        x = fonts.arrow_width if line.textStart() > result_at else 0.0
        line.setLineWidth(f.room - x)
        if line.textStart() > 0:
            y += LINE_GAP + (HEADER_GAP if line.textStart() == header_end + 1 else 0)
        line.setPosition(QPointF(x, y))
        y += line.height()
        natural = line.naturalTextRect()
        left, right = min(left, natural.left()), max(right, natural.right())
    layout.endLayout()

    w, h = max(right - left, 0.0) + 2 * PAD_H, y + 2 * TOOL_PAD_V
    x = (width - w) / 2
    rect = QRectF(x, f.y, w, h)
    time_rect = None
    if m.time:
        time_y = rect.bottom() - TOOL_PAD_V - fonts.small_height
        time_rect = QRectF(rect.right() + TIME_GAP, time_y, f.time_w, fonts.small_height)
    origin = QPointF(x + PAD_H - min(left, right), f.y + TOOL_PAD_V)
    return _Bubble(layout, rect, origin, None, time_rect, _bottom(rect.bottom(), last), text,
                   tuple(muted))


class BubbleDelegate(QStyledItemDelegate):
    """Paints each message as a bubble; caches sizes per (row, width)."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        self._sizes: dict[tuple[int, int], QSize] = {}
        self._bubbles: dict[tuple[int, int], _Bubble] = {}
        self._fonts: _Fonts | None = None
        self._colours: _Colours | None = None
        self._pattern: re.Pattern[str] | None = None
        self.current_hit: tuple[int, int] | None = None  # (row, which match in it)
        self.viewer: big_text.TextViewer | None = None  # the last "show all" of a big message

    def clear_cache(self) -> None:
        """Forget sizes, layouts and fonts (after a reset, resize or font change)."""
        self._sizes.clear()
        self._bubbles.clear()
        self._fonts = None

    def set_highlight_terms(self, words: list[str]) -> None:
        """Mark words starting with any of ``words`` in every bubble."""
        self._pattern = _term_pattern(words)

    def ranges(self, text: str) -> list[tuple[int, int]]:
        """The highlighted (start, length) ranges of ``text``, in Python string offsets."""
        return _match_ranges(self._pattern, text)

    def terms(self) -> str | None:
        """What is highlighted, as a pattern (None: nothing)."""
        return None if self._pattern is None else self._pattern.pattern

    def _row(self, index: QModelIndex) -> tuple[_Message, _Fonts, int, bool]:
        if self._fonts is None:
            self._fonts = _Fonts(self._view.font())
        model, row = index.model(), index.row()
        return model.message(row), self._fonts, self._view.viewport().width(), (
            row == model.rowCount() - 1)

    def bubble(self, index: QModelIndex) -> _Bubble:
        """The laid-out bubble of ``index`` at the view's current width."""
        key = (index.row(), self._view.viewport().width())
        if (found := self._bubbles.get(key)) is None:
            if len(self._bubbles) >= _PAINT_CACHE:
                self._bubbles.clear()
            found = self._bubbles[key] = _lay_out(*self._row(index))
        return found

    def sizeHint(self, option, index) -> QSize:
        width = self._view.viewport().width()
        key = (index.row(), width)
        if (size := self._sizes.get(key)) is None:
            # Not through bubble(): a whole-list layout must not churn the paint cache.
            size = self._sizes[key] = QSize(width, _row_height(*self._row(index)))
        return size

    def _palette_colours(self, palette: QPalette) -> _Colours:
        if self._colours is None or self._colours.key != palette.cacheKey():
            self._colours = _Colours(palette)
        return self._colours

    def paint(self, painter: QPainter, option, index) -> None:
        b, m = self.bubble(index), index.model().message(index.row())
        colours = self._palette_colours(option.palette)
        playing = index.model().playing_row() == index.row()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(option.rect.topLeft())
        tool = m.tool is not None
        radius = min(TOOL_RADIUS if tool else RADIUS, b.rect.height() / 2)
        fill = colours.bubble("tool_call" if tool else m.role, selected, playing)
        if playing:
            painter.setPen(QPen(colours.accent, 2))
        else:
            painter.setPen(QPen(colours.outline, 1) if tool else Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        # A one-pixel outline is sharp on the pixel grid's centres.
        painter.drawRoundedRect(b.rect.adjusted(0.5, 0.5, -0.5, -0.5) if tool and not playing
                                else b.rect, radius, radius)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(colours.text, 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(b.rect.adjusted(-3, -3, 3, 3), radius + 3, radius + 3)
        self._paint_small(painter, b, colours, m)
        faint = m.role in ("system", "tool") and not tool
        painter.setPen(colours.muted if faint else colours.text)
        current = self.current_hit[1] if self.current_hit is not None \
            and self.current_hit[0] == index.row() else None
        b.layout.draw(painter, b.origin, self._muted(b.muted, colours, fill)
                      + self._formats(b.text, colours, current))
        painter.restore()

    @staticmethod
    def _muted(ranges, colours: _Colours, fill: QColor) -> list[QTextLayout.FormatRange]:
        # Drawn over the text: the fill first, so no darker edge shows round the faint glyphs.
        formats = []
        for start, length in ranges:
            fr = QTextLayout.FormatRange()
            fr.start, fr.length, fr.format = start, length, QTextCharFormat()
            fr.format.setForeground(colours.muted)
            fr.format.setBackground(fill)
            formats.append(fr)
        return formats

    def _paint_small(self, painter: QPainter, b: _Bubble, colours: _Colours, m: _Message) -> None:
        painter.setPen(colours.muted)
        if b.label_rect is not None:
            painter.setFont(self._fonts.label)
            right = m.role == "customer"
            side = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
            painter.drawText(b.label_rect, side, LABELS[m.role])
        if b.time_rect is not None:
            painter.setFont(self._fonts.small)
            painter.drawText(b.time_rect, Qt.TextFlag.TextDontClip, m.time)

    def _formats(self, text: str, colours: _Colours,
                 current: int | None = None) -> list[QTextLayout.FormatRange]:
        formats = []
        for at, (start, length) in enumerate(_utf16(text, self.ranges(text))):
            fr = QTextLayout.FormatRange()
            fr.start, fr.length = start, length
            fr.format = colours.current if at == current else colours.mark
            formats.append(fr)
        return formats

    def createEditor(self, parent, option, index) -> QPlainTextEdit | None:
        text = index.model().detail(index.row())
        if big_text.is_cut(text):
            # Too big for an editor over the bubble: the whole text in a viewer of its own.
            self.viewer = big_text.show_all("Message text", text, self._view)
            return None
        editor = QPlainTextEdit(parent, readOnly=True)
        editor.setAccessibleName("Message text")
        editor.setPlainText(text)
        return editor

    def setEditorData(self, editor, index) -> None:
        """Nothing: the editor is read-only and got its text when created."""

    def setModelData(self, editor, model, index) -> None:
        """Nothing: messages are never changed here."""

    def updateEditorGeometry(self, editor, option, index) -> None:
        rect = self.bubble(index).rect.adjusted(-4, -4, 4, 4)
        rect.translate(QPointF(option.rect.topLeft()))
        rect.setHeight(max(rect.height(), 3.5 * editor.fontMetrics().height()))
        editor.setGeometry(rect.toAlignedRect())


class _MessageList(QListView):
    """The bubble list: copy, Enter and the size cache on resize or font change."""

    copy_requested = Signal()
    row_activated = Signal(int)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAccessibleName("Transcript messages")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Sizes differ per message; batches lay out the first screenful first.
        self.setUniformItemSizes(False)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(50)  # ~8 ms of sizing per turn of the event loop
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalScrollBar().setSingleStep(24)

    def lay_out_now(self) -> None:
        """Lay out every row at once (a batched layout may not have reached a far row yet)."""
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.doItemsLayout()
        self.setLayoutMode(QListView.LayoutMode.Batched)

    def _relayout(self) -> None:
        delegate = self.itemDelegate()
        if isinstance(delegate, BubbleDelegate):
            delegate.clear_cache()
        self.scheduleDelayedItemsLayout()

    def event(self, event: QEvent) -> bool:
        # Claim Ctrl+C before a window-wide shortcut can take it.
        copy = QKeySequence.StandardKey.Copy
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(copy):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.row_activated.emit(self.currentIndex().row())
        elif event.key() == Qt.Key.Key_Space and not event.modifiers():
            event.ignore()  # not a search by typing: the window's Space plays
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:
        # QListView re-lays out a top-to-bottom list only when its height changes.
        if event.size().width() != event.oldSize().width():
            self._relayout()
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._relayout()
        super().changeEvent(event)


class _PlainTranscript(QPlainTextEdit):
    """The source's transcript text, read-only; Space plays, as on the bubbles."""

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            event.ignore()  # not a page down: the window's Space plays
        else:
            super().keyPressEvent(event)


def _plain_label(text: str, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if muted:  # on the list's background, so that a call without a transcript does not flash
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        label.setBackgroundRole(QPalette.ColorRole.Base)
        label.setAutoFillBackground(True)
    return label


class TranscriptView(QWidget):
    """A call's transcript: chat bubbles, or the source's text when it had no messages."""

    message_activated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Transcript")
        self._model = TranscriptModel(self)
        self._list = _MessageList(self)
        self._list.setModel(self._model)
        self._delegate = BubbleDelegate(self._list)
        self._list.setItemDelegate(self._delegate)
        self._model.modelReset.connect(self._delegate.clear_cache)
        self._empty = _plain_label(EMPTY_TEXT, muted=True)
        self._plain = _PlainTranscript(readOnly=True)
        self._plain.setAccessibleName("Transcript text")
        plain_page = QWidget()
        column = QVBoxLayout(plain_page)
        column.addWidget(_plain_label(NOTICE_TEXT))
        column.addWidget(self._plain)
        # The search's hits: "2 of 5", over the messages, while a search finds some here.
        self.hit_label = _plain_label("")
        self.hit_label.setAccessibleName("Search hits in the transcript")
        self.hit_label.setContentsMargins(8, 3, 8, 3)
        self.hit_label.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.hit_label.setAutoFillBackground(True)
        self.hit_label.hide()
        self._hits: list[tuple[int, int]] = []  # (row, match) or, in plain text, (start, length)
        self._hit = 0
        pages = QWidget()
        self._stack = QStackedLayout(pages)
        for page in (self._list, self._empty, plain_page):
            self._stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.hit_label)
        layout.addWidget(pages, 1)
        self._list.clicked.connect(self._on_clicked)
        self._list.row_activated.connect(self.message_activated)
        self._list.copy_requested.connect(self.copy_selection)
        self._list.customContextMenuRequested.connect(self._show_menu)

    @property
    def list_view(self) -> QListView:
        """The bubble list (for focus and tests)."""
        return self._list

    @property
    def model(self) -> TranscriptModel:
        """The messages shown."""
        return self._model

    def set_messages(self, messages: list[dict]) -> None:
        """Show canonical transcript messages as bubbles ("No transcript" when empty); the
        search's first hit, if any, is current and in view."""
        self._model.set_messages(messages)
        self._show(self._list if messages else self._empty)
        self._find_hits()

    def set_plain_text(self, text: str) -> None:
        """Show a transcript that could not be split into messages, as plain text."""
        self._model.set_messages([])
        # Qt turns "\r\n" into one break; normalising first keeps highlight offsets right.
        self._plain.setPlainText(text.replace("\r\n", "\n"))
        self._highlight_plain()
        self._show(self._plain.parentWidget())
        self._find_hits()

    def clear(self) -> None:
        """Show nothing (no call selected)."""
        self._model.set_messages([])
        self._plain.clear()
        self._show(self._list)
        self._find_hits()

    def set_highlight_terms(self, words: list[str]) -> None:
        """Highlight words starting with any of ``words`` (case-insensitive), as search does;
        a new search makes its first hit current and brings it into view."""
        before = self._delegate.terms()
        self._delegate.set_highlight_terms(words)
        self._list.viewport().update()
        self._highlight_plain()
        if self._delegate.terms() != before:  # another filter changed: the hit stays
            self._find_hits()

    def set_current_message(self, row: int | None) -> None:
        """Emphasise the message being spoken (None: none)."""
        self._model.set_playing_row(row)

    def scroll_to_message(self, row: int, centre: bool = False) -> None:
        """Scroll so that message ``row`` is in view (in the middle, with what was said
        around it, when ``centre``)."""
        index = self._model.index(row)
        if not index.isValid():
            return
        if not self._list.visualRect(index).isValid():
            self._list.lay_out_now()
        self._list.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter if centre
                            else QAbstractItemView.ScrollHint.EnsureVisible)

    def selected_text(self) -> str:
        """The selected messages as plain-text lines, in transcript order."""
        rows = sorted(i.row() for i in self._list.selectionModel().selectedIndexes())
        return "\n".join(self._model.line(row) for row in rows)

    def transcript_text(self) -> str:
        """The whole transcript as plain-text lines (or the plain text shown)."""
        if self._stack.currentWidget() is self._plain.parentWidget():
            return self._plain.toPlainText()
        return "\n".join(self._model.line(row) for row in range(self._model.rowCount()))

    def copy_selection(self) -> None:
        """Copy the selected messages to the clipboard."""
        if text := self.selected_text():
            QGuiApplication.clipboard().setText(text)

    def copy_transcript(self) -> None:
        """Copy the whole transcript to the clipboard."""
        QGuiApplication.clipboard().setText(self.transcript_text())

    def _show(self, page: QWidget) -> None:
        self._stack.setCurrentWidget(page)
        focus = {self._list: self._list, self._plain.parentWidget(): self._plain}.get(page)
        self.setFocusProxy(focus)

    def _on_clicked(self, index: QModelIndex) -> None:
        # A Ctrl or Shift click extends the selection; it is not a request to seek.
        if not QGuiApplication.keyboardModifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self.message_activated.emit(index.row())

    def _show_menu(self, pos: QPoint) -> None:
        self.context_menu(pos).exec(self._list.viewport().mapToGlobal(pos))

    def context_menu(self, pos: QPoint) -> QMenu:
        """The context menu for a right-click at ``pos`` in the list's viewport."""
        count = len(self._list.selectionModel().selectedIndexes())
        row = self._list.indexAt(pos).row()
        menu = QMenu(self)
        copy = menu.addAction("Copy message" if count < 2 else f"Copy {count} messages")
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setEnabled(count > 0)
        copy.triggered.connect(self.copy_selection)
        select = menu.addAction("Select text in message…")
        select.setShortcut(QKeySequence(Qt.Key.Key_F2))
        select.setEnabled(row >= 0)
        select.triggered.connect(lambda: self._list.edit(self._model.index(row)))
        menu.addAction("Copy whole transcript").triggered.connect(self.copy_transcript)
        return menu

    # --- search hits -------------------------------------------------------------------

    def hit_count(self) -> int:
        """How many search hits the transcript shown has."""
        return len(self._hits)

    def go_to_hit(self, by: int) -> bool:
        """Make the next (1) or previous (-1) hit current, wrapping round, in view and with
        the keyboard (Enter on a message plays from it); False when there is no hit."""
        if not self._hits:
            return False
        self._hit = (self._hit + by) % len(self._hits)
        self._show_hit()
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)  # the page shown (focus proxy)
        return True

    def _find_hits(self) -> None:
        """Find the search's hits in what is shown; the first is current and in view."""
        delegate = self._delegate
        if self._stack.currentWidget() is self._plain.parentWidget():
            text = self._plain.toPlainText()
            self._hits = _utf16(text, delegate.ranges(text)) if delegate.terms() else []
        elif delegate.terms():
            # As far as a bubble shows a message (a huge one is cut: big_text).
            self._hits = [(row, at) for row in range(self._model.rowCount()) for at in range(
                len(delegate.ranges(self._model.message(row).text[:big_text.SHOWN_MAX])))]
        else:
            self._hits = []
        self._hit = 0
        self._delegate.current_hit = None
        if self._hits:
            self._show_hit(select=False)  # current (Enter plays from it), not selected
        else:
            self.hit_label.hide()

    def _show_hit(self, select: bool = True) -> None:
        where, at = self._hits[self._hit]
        count = len(self._hits)
        self.hit_label.setText(f"{self._hit + 1} of {count} match{'' if count == 1 else 'es'}"
                               " in the transcript · F3 next · Shift+F3 previous"
                               + (" · Enter plays from it" if self._model.rowCount() else ""))
        self.hit_label.show()
        if self._stack.currentWidget() is self._plain.parentWidget():
            cursor = QTextCursor(self._plain.document())
            cursor.setPosition(where)
            cursor.setPosition(where + at, QTextCursor.MoveMode.KeepAnchor)
            self._plain.setTextCursor(cursor)
            self._plain.ensureCursorVisible()
            return
        self._delegate.current_hit = (where, at)
        index = self._model.index(where)
        self._list.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect if select
            else QItemSelectionModel.SelectionFlag.NoUpdate)
        self.scroll_to_message(where, centre=True)
        self._list.viewport().update()

    def _highlight_plain(self) -> None:
        text, selections = self._plain.toPlainText(), []
        for start, length in _utf16(text, self._delegate.ranges(text)):
            selection = QTextEdit.ExtraSelection()
            selection.cursor = QTextCursor(self._plain.document())
            selection.cursor.setPosition(start)
            selection.cursor.setPosition(start + length, QTextCursor.MoveMode.KeepAnchor)
            selection.format = _Colours(self.palette()).mark
            selections.append(selection)
        self._plain.setExtraSelections(selections)
