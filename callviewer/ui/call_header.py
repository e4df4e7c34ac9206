"""The top of a call's detail: who called, a banner for a call deleted or purged at the
source, the grid of header fields, and the record's text sections (subject, summary,
analysis runs, the source's note), each cut with "Show all…" when too big to lay out."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from callviewer.recording_state import MEANINGS
from callviewer.store.records import Call, StoredStats
from callviewer.ui import big_text, formatting
from callviewer.ui.labels import plain_label, titled

PURGED_TEXT = "Transcript, recording and number were purged at the source."
# The header's grid: two label/value pairs a row; a single name spans the row.
HEADER_ROWS = (("Number", "Direction"), ("Started", "Duration"), ("Answered", "Ended"),
               ("Outcome",), ("Score", "Success"), ("Done", "Employee"), ("Agent",),
               ("Recording",), ("Talk",), ("Source",))
HEADER_FIELDS = tuple(name for row in HEADER_ROWS for name in row)
SECTIONS = ("Subject", "Summary", "Analysis", "Note from the source")


def _done(call: Call) -> str:
    """Whether a call is done, and who marked it done here and when."""
    if call.done and call.done_by:
        return f"Yes · marked by {call.done_by}, {formatting.local_time(call.done_at)}"
    return _yes_no(call.done)


_PARTY = {"agent": "agent", "customer": "customer"}
_ORIGIN = {"channels": "from the recording's two channels",
           "transcript": "from the transcript's times",
           "estimated": "estimated from the length of each message"}


def stats_line(stats: StoredStats | None, duration_ms: int | None = None) -> str:
    """A call's statistics in a line: "Agent 62 % · Customer 31 % · Silence 7 % ·
    Longest monologue 1 min 05 s (agent) · 2 interruptions"; "" when not measured or
    nothing was. Shares are of the call's length (its recording's, else the talk's and
    the silence's), so they add up to about 100 % with the silence."""
    if stats is None or stats.origin == "none" or stats.agent_ms is None:
        return ""
    whole = duration_ms or (stats.talk_ms + (stats.silence_ms or 0))
    if not whole:
        return ""
    parts = [f"Agent {formatting.percent(min(1.0, stats.agent_ms / whole))}",
             f"Customer {formatting.percent(min(1.0, (stats.customer_ms or 0) / whole))}",
             f"Silence {formatting.percent(min(1.0, (stats.silence_ms or 0) / whole))}"]
    if stats.longest_monologue_ms:
        who = _PARTY.get(stats.longest_monologue_role or "", "")
        parts.append(f"Longest monologue {formatting.duration(stats.longest_monologue_ms)}"
                     + (f" ({who})" if who else ""))
    if stats.origin != "estimated":  # an estimate has no overlaps: it says nothing
        count = stats.interruptions or 0
        parts.append(f"{count} interruption{'' if count == 1 else 's'}")
    return " · ".join(parts)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "Yes" if value else "No"


class _Section(QWidget):
    """A titled block of record text, hidden when there is none; cut when too big to lay out,
    with "Show all…" opening the whole text in a viewer."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self._text = ""
        self.title = titled(plain_label(title))
        self.body = plain_label("")
        self.body.setAccessibleName(title)
        self.show_all_button = QPushButton("Show all\u2026")
        self.show_all_button.setFlat(True)
        self.show_all_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.show_all_button.setStyleSheet("QPushButton { color: palette(link); border: none;"
                                           " padding: 0; text-align: left; }")
        self.show_all_button.setAccessibleName(f"Show all of the {title.lower()}")
        self.show_all_button.setToolTip(f"Open the whole {title.lower()} in a window of its own")
        self.show_all_button.clicked.connect(self.show_all)
        self.show_all_button.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addWidget(self.show_all_button, 0, Qt.AlignmentFlag.AlignLeft)

    def set_text(self, text: str | None) -> None:
        self._text = text or ""
        # Only the part shown is looked at: the direction scan is per character too.
        self.body.setText(formatting.paragraph(big_text.shown(self._text)))
        self.show_all_button.setVisible(big_text.is_cut(self._text))
        self.setVisible(bool(text))

    def show_all(self) -> big_text.TextViewer:
        """Open the whole text in a non-modal viewer."""
        return big_text.show_all(self.title.text(), self._text, self)


class CallHeader(QWidget):
    """A call's name, banner, header fields and text sections; `fill` shows a call."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = titled(plain_label(""), 1.35)
        self.banner = plain_label("")
        self.banner.setAutoFillBackground(True)
        self.banner.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.banner.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.banner.setContentsMargins(8, 4, 8, 4)
        self.fields: dict[str, QLabel] = {}
        self._titles: dict[str, QLabel] = {}
        self.sections = {title: _Section(title) for title in SECTIONS}
        column = QVBoxLayout(self)
        column.setContentsMargins(10, 8, 10, 8)
        column.addWidget(self.name)
        column.addWidget(self.banner)
        column.addLayout(self._grid())
        for section in self.sections.values():
            column.addWidget(section)
        column.addStretch()

    def _grid(self) -> QGridLayout:
        """The header fields, each a title and its value, as HEADER_ROWS lays them out."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        for row, names in enumerate(HEADER_ROWS):
            for pair, name in enumerate(names):
                title = plain_label(name, muted=True)
                title.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
                value = plain_label("")
                value.setAccessibleName(name)
                # Long IDs clip (the tooltip has them whole) rather than widen the pane.
                value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
                grid.addWidget(title, row, 2 * pair)
                grid.addWidget(value, row, 2 * pair + 1, 1, 3 if len(names) == 1 else 1)
                self.fields[name], self._titles[name] = value, title
        return grid

    def fill(self, call: Call) -> None:
        """Show `call`: a field or section with nothing to say is hidden."""
        number = call.customer_number or call.from_number
        self.name.setText(big_text.shown(call.customer_name or number or "Unknown caller"))
        banners = []
        if call.deleted_at is not None:
            banners.append("This call was deleted at the source on "
                           f"{formatting.full_time(call.deleted_at)}.")
        if call.is_purged:
            banners.append(PURGED_TEXT)
        self.banner.setText("\n".join(banners))
        self.banner.setVisible(bool(banners))
        for name, text in _field_texts(call, number).items():
            text = big_text.shown(text)
            self.fields[name].setText(text)
            self.fields[name].setToolTip(text)
            self.fields[name].setVisible(bool(text))
            self._titles[name].setVisible(bool(text))
        for title, text in _section_texts(call).items():
            self.sections[title].set_text(text)


def _field_texts(call: Call, number: str | None) -> dict[str, str]:
    """The header fields' values, in words."""
    outcome = formatting.outcome_words(call.outcome)
    why = formatting.end_reason_words(call.end_reason, call.ended_by)
    values = {
        "Number": number or "",
        "Direction": formatting.direction_words(call.direction),
        "Started": formatting.full_time(call.started_at) if call.started_at else "",
        "Answered": formatting.full_time(call.answered_at) if call.answered_at
        else "",
        "Ended": formatting.full_time(call.ended_at) if call.ended_at else "",
        "Duration": formatting.duration(call.duration_ms),
        "Outcome": f"{outcome} — {why}" if why and why != outcome else outcome,
        "Score": "" if call.score is None else f"{call.score:g} / 10",
        "Success": _yes_no(call.success),
        "Done": _done(call),
        "Employee": call.employee or "",
        "Agent": call.agent_id or "",
        "Recording": MEANINGS.get(call.recording_state, ""),
        "Talk": stats_line(call.stats, call.duration_ms),
        "Source": f"{call.source} · {call.source_id}",
    }
    if call.error:
        values["Outcome"] += f" ({call.error})"
    return values


def _section_texts(call: Call) -> dict[str, str | None]:
    """The sections' texts (None or "": the section is hidden)."""
    runs = call.analysis or []
    return {
        "Subject": call.subject,
        "Summary": call.summary,
        "Analysis": "\n\n".join(
            f"{run.get('analyzer') or 'Analysis'} · "
            f"{formatting.local_time(run.get('created_at'))}\n{run.get('text') or ''}"
            for run in runs),
        "Note from the source": call.source_note,
    }
