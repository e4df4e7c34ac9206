"""Everything known about one call: header, summary, analysis, transcript bubbles, notes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from callviewer.playback.follow import Timeline
from callviewer.playback.now_playing import PLAYING, NowPlaying
from callviewer.recording_state import MEANINGS
from callviewer.store import Store
from callviewer.ui import big_text, formatting
from callviewer.ui.notes import NotesPanel, plain_label
from callviewer.ui.player import CallPlayer
from callviewer.ui.preferences import login_name
from callviewer.ui.transcript import TranscriptView

PURGED_TEXT = "Transcript, recording and number were purged at the source."
# The header's grid: two label/value pairs a row; a single name spans the row.
HEADER_ROWS = (("Number", "Direction"), ("Started", "Duration"), ("Answered", "Ended"),
               ("Outcome",), ("Score", "Success"), ("Done", "Employee"), ("Agent",),
               ("Recording",), ("Source",))
HEADER_FIELDS = tuple(name for row in HEADER_ROWS for name in row)


def _done(call: dict) -> str:
    """Whether a call is done, and who marked it done here and when."""
    if call["done"] and call["done_by"]:
        return f"Yes · marked by {call['done_by']}, {formatting.local_time(call['done_at'])}"
    return _yes_no(call["done"])


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "Yes" if value else "No"


SECTIONS = ("Subject", "Summary", "Analysis", "Note from the source")


class _Section(QWidget):
    """A titled block of record text, hidden when there is none; cut when too big to lay out,
    with "Show all…" opening the whole text in a viewer."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self._text = ""
        self.title = plain_label(title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
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


class DetailView(QWidget):
    """The detail of the list's current call."""

    def __init__(self, store: Store, now: NowPlaying, author=None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._now = now
        self._timeline: Timeline | None = None
        self._following = True
        self._spoken: int | None = None
        self._call: dict | None = None
        self.setAccessibleName("Call detail")
        self.name = plain_label("")
        font = self.name.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.name.setFont(font)
        self.banner = plain_label("")
        self.banner.setAutoFillBackground(True)
        self.banner.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.banner.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.banner.setContentsMargins(8, 4, 8, 4)
        self.fields: dict[str, QLabel] = {}
        self._titles: dict[str, QLabel] = {}
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
        self.sections = {title: _Section(title) for title in SECTIONS}
        header = QWidget()
        column = QVBoxLayout(header)
        column.setContentsMargins(10, 8, 10, 8)
        column.addWidget(self.name)
        column.addWidget(self.banner)
        column.addLayout(grid)
        for section in self.sections.values():
            column.addWidget(section)
        column.addStretch()
        self._overview = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self._overview.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._overview.setAccessibleName("Call overview")
        self._overview.setWidget(header)
        self.transcript_view = TranscriptView()
        self.player = CallPlayer(now)
        self.follow_button = QPushButton("Follow")
        self.follow_button.setToolTip("Keep the message being spoken in view")
        self.follow_button.clicked.connect(self.follow)
        self.follow_button.hide()
        self.player.layout().addWidget(self.follow_button)
        listening = QWidget()
        listening_layout = QVBoxLayout(listening)
        listening_layout.setContentsMargins(0, 0, 0, 0)
        listening_layout.setSpacing(0)
        listening_layout.addWidget(self.player)
        listening_layout.addWidget(self.player.error)
        listening_layout.addWidget(self.transcript_view, 1)
        self.transcript_view.message_activated.connect(self._seek_to_message)
        self.transcript_view.list_view.verticalScrollBar().actionTriggered.connect(
            self._scrolled_by_hand)
        now.position_changed.connect(self._follow_position)
        now.call_changed.connect(self._follow_position)
        self.notes_panel = NotesPanel(store, author or login_name)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        for part in (self._overview, listening, self.notes_panel):
            self.splitter.addWidget(part)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 1)
        self._header = header
        self._fit_overview = True  # until the person sets the split by hand
        self.splitter.splitterMoved.connect(self._split_by_hand)
        self.placeholder = plain_label("No call selected", muted=True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack = QStackedWidget()
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(self.splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

    @property
    def current_call_id(self) -> int | None:
        return self._call["id"] if self._call else None

    def shown(self, call_id: int) -> dict | None:
        """The call as this view last read it from the store, if it is the one shown."""
        return self._call if self._call is not None and self._call["id"] == call_id else None

    def show_call(self, call_id: int | None) -> None:
        """Show a call (None: nothing selected)."""
        self._call = self._store.call(call_id) if call_id is not None else None
        if self._call is None:
            self.notes_panel.set_call(None, [])
            self.transcript_view.clear()
            self._timeline = None
            self.player.set_call(None, False, None)
            self._stack.setCurrentWidget(self.placeholder)
            return
        self._fill(self._call)
        self._show_transcript(self._call)
        self.notes_panel.set_call(self._call["id"], self._call["notes"])
        self.player.set_call(self._call["id"], bool(self._call["recording"]),
                             self._call["duration_ms"])
        self._stack.setCurrentWidget(self.splitter)
        if self._fit_overview:
            self._fit()

    def _split_by_hand(self, _pos: int, _index: int) -> None:
        self._fit_overview = False

    def _fit(self) -> None:
        """Give the overview the height its text needs, up to half the pane; the transcript
        takes the rest."""
        overview, transcript, notes = self.splitter.sizes()
        total = overview + transcript + notes
        if total <= 0:
            return
        width = self._overview.viewport().width() or self._overview.width()
        want = self._header.heightForWidth(width) if self._header.hasHeightForWidth() \
            else self._header.sizeHint().height()
        fitted = max(min(want + 2, total // 2), 60)
        notes = min(max(self.notes_panel.minimumSizeHint().height(), notes // 2), total // 3)
        self.splitter.setSizes([fitted, max(total - fitted - notes, 0), notes])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_overview and self._call is not None:
            self._fit()

    def refresh(self) -> None:
        """Read the current call again, keeping the note being typed and the transcript."""
        if self._call is None:
            return
        self._call = self._store.call(self._call["id"])
        if self._call is None:
            self.show_call(None)
            return
        self._fill(self._call)
        self.notes_panel.set_call(self._call["id"], self._call["notes"])
        self.player.set_call(self._call["id"], bool(self._call["recording"]),
                             self._call["duration_ms"])

    def focus_in(self) -> None:
        """Take the keyboard: the transcript when there is one, else the call's overview."""
        bubbles = self.transcript_view.list_view
        target = bubbles if bubbles.isVisible() and bubbles.model().rowCount() else self._overview
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_highlight_terms(self, words: list[str]) -> None:
        """Highlight the search's words in the transcript."""
        self.transcript_view.set_highlight_terms(words)

    def _fill(self, call: dict) -> None:
        number = call["customer_number"] or call["from_number"]
        self.name.setText(big_text.shown(call["customer_name"] or number or "Unknown caller"))
        banners = []
        if call["deleted_at"] is not None:
            banners.append("This call was deleted at the source on "
                           f"{formatting.full_time(call['deleted_at'])}.")
        if call["is_purged"]:
            banners.append(PURGED_TEXT)
        self.banner.setText("\n".join(banners))
        self.banner.setVisible(bool(banners))
        outcome = formatting.outcome_words(call["outcome"])
        why = formatting.end_reason_words(call["end_reason"], call["ended_by"])
        values = {
            "Number": number or "",
            "Direction": formatting.direction_words(call["direction"]),
            "Started": formatting.full_time(call["started_at"]) if call["started_at"] else "",
            "Answered": formatting.full_time(call["answered_at"]) if call["answered_at"]
            else "",
            "Ended": formatting.full_time(call["ended_at"]) if call["ended_at"] else "",
            "Duration": formatting.duration(call["duration_ms"]),
            "Outcome": f"{outcome} — {why}" if why and why != outcome else outcome,
            "Score": "" if call["score"] is None else f"{call['score']:g} / 10",
            "Success": _yes_no(call["success"]),
            "Done": _done(call),
            "Employee": call["employee"] or "",
            "Agent": call["agent_id"] or "",
            "Recording": MEANINGS.get(call["recording_state"], ""),
            "Source": f"{call['source']} · {call['source_id']}",
        }
        if call["error"]:
            values["Outcome"] += f" ({call['error']})"
        for name, text in values.items():
            text = big_text.shown(text)
            self.fields[name].setText(text)
            self.fields[name].setToolTip(text)
            self.fields[name].setVisible(bool(text))
            self._titles[name].setVisible(bool(text))
        runs = call["analysis"] or []
        texts = {
            "Subject": call["subject"],
            "Summary": call["summary"],
            "Analysis": "\n\n".join(
                f"{run.get('analyzer') or 'Analysis'} · "
                f"{formatting.local_time(run.get('created_at'))}\n{run.get('text') or ''}"
                for run in runs),
            "Note from the source": call["source_note"],
        }
        for title, text in texts.items():
            self.sections[title].set_text(text)

    def _show_transcript(self, call: dict) -> None:
        self._timeline = None
        self._spoken = None
        self._following = True
        self.follow_button.hide()
        if call["transcript"]:
            self.transcript_view.set_messages(call["transcript"])
            self._timeline = Timeline(call["transcript"], call["duration_ms"])
            self.transcript_view.setToolTip(
                "Message times are estimated from the length of each message."
                if self._timeline.estimated and call["recording"] else "")
            self._follow_position()
        elif call["transcript_text"]:
            self.transcript_view.set_plain_text(call["transcript_text"])
        else:
            self.transcript_view.set_messages([])

    # --- following the recording ----------------------------------------------------

    def _follow_position(self, *_args) -> None:
        """Mark the message being spoken, and keep it in view unless scrolled away from."""
        now = self._now
        listening = self._timeline is not None and self._call is not None \
            and now.call_id == self._call["id"] and (now.position > 0 or now.state == PLAYING)
        row = self._timeline.row_at(now.position) if listening else None
        if row == self._spoken:
            return
        self._spoken = row
        self.transcript_view.set_current_message(row)
        if row is not None and self._following:
            self.transcript_view.scroll_to_message(row)

    def _scrolled_by_hand(self, _action: int) -> None:
        if self._call is not None and self._now.call_id == self._call["id"] \
                and self._now.state == PLAYING:
            self._following = False
            self.follow_button.show()

    def follow(self) -> None:
        """Follow the recording again: back to the message being spoken."""
        self._following = True
        self.follow_button.hide()
        if self._spoken is not None:
            self.transcript_view.scroll_to_message(self._spoken)

    def _seek_to_message(self, row: int) -> None:
        if self._timeline is not None and self._call is not None and self._call["recording"]:
            self._now.play(self._call["id"], self._timeline.start_of(row))
