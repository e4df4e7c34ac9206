"""Everything known about one call: header, summary, analysis, transcript bubbles, notes.

The call is read on the window's read lane (ui/tasks.py) and shown when it arrives, if it
is still the one asked for; a done flag asked for is shown at once, before it is written.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from callviewer.playback.follow import Timeline
from callviewer.playback.now_playing import PLAYING, NowPlaying
from callviewer.store import Store
from callviewer.store.records import Call, Draft
from callviewer.timeline.recording import peaks_file
from callviewer.ui.call_header import CallHeader
from callviewer.ui.labels import plain_label
from callviewer.ui.notes import NotesPanel
from callviewer.ui.player import CallPlayer
from callviewer.ui.preferences import login_name
from callviewer.ui.skip_silence import SilenceSkipper
from callviewer.ui.tasks import Lane, Task, TaskRunner
from callviewer.ui.timeline_view import TimelineView
from callviewer.ui.transcript import TranscriptView

LOADING_AFTER_MS = 150  # a read answered sooner shows no "Loading…" at all
# The notes grow with their text up to this share of the detail's height, then scroll;
# the overview takes what its text needs up to OVERVIEW_SHARE; the transcript the rest.
NOTES_SHARE = 0.4
OVERVIEW_SHARE = 1 / 3

class DoneMark:
    """A done flag asked for and not yet written: shown over what the database said."""

    __slots__ = ("call_id", "fields")

    def __init__(self, call_id: int, done: bool, by: str) -> None:
        self.call_id = call_id
        self.fields = {"done": done, "done_by": by if done else None,
                       "done_at": time.time_ns() // 1000 if done else None}


class DetailView(QWidget):
    """The detail of the list's current call."""

    call_shown = Signal(object)  # the id of the call now shown, or None

    def __init__(self, store: Store, now: NowPlaying, tasks: TaskRunner, author=None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._now = now
        self._tasks = tasks
        self._timeline: Timeline | None = None
        self._following = True
        self._spoken: int | None = None
        self._call: Call | None = None  # the call shown, as the database said
        self._wanted: int | None = None  # the call asked for (the list's current one)
        self._reading: Task | None = None
        self._then: tuple[int, Callable[[], None]] | None = None  # once the call is shown
        self._marks: dict[int, list[DoneMark]] = {}  # by call, oldest first
        self._loading = QTimer(self, singleShot=True, interval=LOADING_AFTER_MS)
        self._loading.timeout.connect(self._show_loading)
        self.setAccessibleName("Call detail")
        self.header = CallHeader()
        self._overview = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self._overview.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._overview.setAccessibleName("Call overview")
        self._overview.setWidget(self.header)
        self.transcript_view = TranscriptView()
        self.player = CallPlayer(now)
        # The timeline under the player: waveform, who spoke when; Skip silence's jumps.
        self.skipper = SilenceSkipper(now, self)
        self.timeline = TimelineView(
            now, tasks, lambda call_id: lambda: store.archive.source(call_id),
            lambda call_id: peaks_file(store.archive.folder, call_id), self.skipper)
        self.timeline.jumped.connect(self._jumped)
        self.timeline.lanes_changed.connect(self._lanes_measured)
        self.player.skip_button.toggled.connect(self.skipper.set_enabled)
        self.skipper.changed.connect(self._show_skipping)
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
        listening_layout.addWidget(self.timeline)
        listening_layout.addWidget(self.player.error)
        listening_layout.addWidget(self.transcript_view, 1)
        self.transcript_view.message_activated.connect(self._seek_to_message)
        self.transcript_view.list_view.verticalScrollBar().actionTriggered.connect(
            self._scrolled_by_hand)
        now.position_changed.connect(self._follow_position)
        now.call_changed.connect(self._follow_position)
        self.notes_panel = NotesPanel(store, author or login_name, tasks)
        self.notes_panel.notes_changed.connect(self._notes_written)
        self.notes_panel.notes_shown.connect(self._notes_shown)
        self.notes_panel.position_activated.connect(self._play_from)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        for part in (self._overview, listening, self.notes_panel):
            self.splitter.addWidget(part)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)  # a taller window: more conversation
        self.splitter.setStretchFactor(2, 0)
        self._fit_overview = True  # until the person sets the split by hand
        self.splitter.splitterMoved.connect(self._split_by_hand)
        self.placeholder = plain_label("No call selected", muted=True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack = QStackedWidget()
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(self.splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._problem_bar())
        layout.addWidget(self._stack)

    def _problem_bar(self) -> QWidget:
        """Where a failed read is said, with Retry."""
        self.problem = plain_label("")
        self.problem.setAccessibleName("Problem reading the call")
        self.retry_button = QPushButton("Retry")
        self.retry_button.setAccessibleName("Read the call again")
        self.retry_button.clicked.connect(self.refresh)
        bar = QWidget()
        bar.setAutoFillBackground(True)
        bar.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.problem, 1)
        row.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        bar.hide()
        self._problem_row = bar
        return bar

    @property
    def current_call_id(self) -> int | None:
        """The call shown (the one asked for may still be on its way)."""
        return self._call.id if self._call else None

    # The header's parts, named here too: the window's tests read them from the detail.
    @property
    def name(self) -> QLabel:
        return self.header.name

    @property
    def fields(self) -> dict[str, QLabel]:
        return self.header.fields

    @property
    def sections(self) -> dict[str, QWidget]:
        return self.header.sections

    def shown(self, call_id: int) -> Call | None:
        """The call as this view shows it (done flags asked for included), if it is the one
        shown."""
        if self._call is None or self._call.id != call_id:
            return None
        marks = self._marks.get(call_id)
        return dataclasses.replace(self._call, **marks[-1].fields) if marks else self._call

    def set_stats(self, call_id: int, stats) -> None:
        """A call's figures, measured just now (ui/timeline_pass.py): into the header if
        it is the call shown, without reading it again (its transcript can be 50 MB)."""
        if self._call is not None and self._call.id == call_id:
            self._call = dataclasses.replace(self._call, stats=stats)
            self._refill(call_id)

    def show_call(self, call_id: int | None) -> None:
        """Show a call (None: nothing selected). It is read in the background and shown
        when it arrives, if it is still the one asked for by then."""
        if call_id == self._wanted and (call_id == self.current_call_id or (
                self._reading is not None and self._reading.pending)):
            return  # shown, or on its way
        self._wanted = call_id
        self._then = None
        self._cancel_read()
        if call_id is None:
            self._show(None)
        elif call_id == self.current_call_id:  # back to the call still shown
            self._stack.setCurrentWidget(self.splitter)
        else:
            self._read(call_id, whole=True)

    def refresh(self) -> None:
        """Read the call again, keeping the note being typed and the transcript (Retry)."""
        if self._wanted is None:
            return
        self._cancel_read()
        self._read(self._wanted, whole=self._wanted != self.current_call_id)

    def on_shown(self, call_id: int, action: Callable[[], None]) -> None:
        """Do `action` once `call_id` is shown (now, if it is); forgotten on a move."""
        if call_id == self.current_call_id:
            action()
        elif call_id == self._wanted:
            self._then = (call_id, action)

    # --- reading ----------------------------------------------------------------------

    def _read(self, call_id: int, whole: bool) -> None:
        store = self._store

        def read() -> tuple[Call | None, dict[int, Draft]]:
            call = store.calls.get(call_id)
            return call, store.notes.drafts_of(call_id) if call is not None else {}

        self._reading = self._tasks.run(
            read, lambda found: self._arrived(call_id, whole, *found),
            failed=lambda sentence: self._not_read(call_id, sentence),
            lane=Lane.READ, name="reading the call")
        if whole:
            self._loading.start()

    def _cancel_read(self) -> None:
        self._loading.stop()
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    def _notes_written(self, call_id: int) -> None:
        # A read on its way may have been made before this write landed: read again.
        if call_id == self._wanted and self._reading is not None and self._reading.pending:
            self.refresh()

    def _show_loading(self) -> None:
        if self._reading is not None and self._reading.pending:
            self.placeholder.setText("Loading\u2026")
            self._stack.setCurrentWidget(self.placeholder)

    def _arrived(self, call_id: int, whole: bool, call: Call | None,
                 drafts: dict[int, Draft]) -> None:
        self._loading.stop()
        self._reading = None
        self._problem_row.hide()
        if call is None:  # gone meanwhile
            self._show(None)
        elif whole or call_id != self.current_call_id:
            self._show(call, drafts)
        else:
            self._call = call
            self.header.fill(self.shown(call_id))
            self.notes_panel.set_call(call_id, call.notes, drafts)
            self.player.set_call(call_id, bool(call.recording), call.duration_ms)

    def _not_read(self, call_id: int, sentence: str) -> None:
        """Say why the call could not be read, here, with Retry; another call's detail
        does not stay in its place."""
        self._loading.stop()
        self._reading = None
        self.problem.setText(sentence)
        self._problem_row.show()
        if call_id != self.current_call_id:
            self._show(None, shown_text="")

    def _show(self, call: Call | None, drafts: dict[int, Draft] | None = None,
              shown_text: str = "No call selected") -> None:
        self._call = call
        if call is None:
            self.notes_panel.set_call(None, [], {})
            self.transcript_view.clear()
            self._timeline = None
            self.player.set_call(None, False, None)
            self.timeline.set_call(None)
            self.placeholder.setText(shown_text)
            self._stack.setCurrentWidget(self.placeholder)
            if shown_text:
                self._problem_row.hide()
            self.call_shown.emit(None)
            return
        self.header.fill(self.shown(call.id))
        self._show_transcript(call)
        self.notes_panel.set_call(call.id, call.notes, drafts or {})
        self.player.set_call(call.id, bool(call.recording), call.duration_ms)
        self.timeline.set_call(call.id, call.transcript if isinstance(call.transcript, list)
                               else [], call.duration_ms, bool(call.recording))
        self._show_skipping()
        self._stack.setCurrentWidget(self.splitter)
        if self._fit_overview:
            self._fit()
        self.call_shown.emit(call.id)
        then, self._then = self._then, None
        if then is not None and then[0] == call.id:
            then[1]()

    # --- done, shown before it is written ---------------------------------------------

    def mark_done(self, call_id: int, done: bool, by: str) -> DoneMark:
        """Show a call done (or not) at once; `mark_settled` when the write has answered."""
        mark = DoneMark(call_id, done, by)
        self._marks.setdefault(call_id, []).append(mark)
        self._refill(call_id)
        return mark

    def mark_settled(self, mark: DoneMark, written: bool) -> None:
        """The write of `mark` answered: written (the call is read again, for the
        database's own time and name), or refused (shown as the database has it)."""
        marks = self._marks.get(mark.call_id, [])
        if mark in marks:
            marks.remove(mark)
        if not marks:
            self._marks.pop(mark.call_id, None)
        if written and self._call is not None and self._call.id == mark.call_id:
            self._call = dataclasses.replace(self._call, **mark.fields)
        self._refill(mark.call_id)
        if written and mark.call_id == self._wanted:
            self.refresh()

    def _refill(self, call_id: int) -> None:
        shown = self.shown(call_id)
        if shown is not None:
            self.header.fill(shown)

    def _split_by_hand(self, _pos: int, _index: int) -> None:
        self._fit_overview = False

    def split_state(self) -> QByteArray | None:
        """The split the person set by hand, to keep across restarts (None: the detail
        fits each call's text itself)."""
        return None if self._fit_overview else self.splitter.saveState()

    def restore_split(self, state: object) -> None:
        """Put back a split kept by `split_state`."""
        if isinstance(state, QByteArray) and not state.isEmpty() and \
                self.splitter.restoreState(state):
            self._fit_overview = False

    def _fit(self) -> None:
        """Give the overview the height its text needs, up to OVERVIEW_SHARE of the pane,
        the notes theirs up to NOTES_SHARE (then they scroll); the transcript the rest."""
        overview, transcript, notes = self.splitter.sizes()
        total = overview + transcript + notes
        if total <= 0:
            return
        width = self._overview.viewport().width() or self._overview.width()
        want = self.header.heightForWidth(width) if self.header.hasHeightForWidth() \
            else self.header.sizeHint().height()
        fitted = max(min(want + 2, int(total * OVERVIEW_SHARE)), 60)
        panel = self.notes_panel
        notes = min(max(panel.wanted_height(), panel.minimumSizeHint().height()),
                    int(total * NOTES_SHARE))
        self.splitter.setSizes([fitted, max(total - fitted - notes, 0), notes])

    def _notes_shown(self) -> None:
        """The notes changed: room for them, and their pins on the player's slider."""
        if self._fit_overview and self._call is not None:
            self._fit()
        marks = [(note.position_ms, note.body) for note in self.notes_panel.shown_notes
                 if note.position_ms is not None]
        self.player.set_marks(marks)
        self.timeline.set_notes(marks)

    def _play_from(self, call_id: int, position_ms: int) -> None:
        """A pinned note's "at 1:42": the player goes there (its call's recording, if
        another or none is loaded)."""
        self._now.play(call_id, position_ms)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_overview and self._call is not None:
            self._fit()

    def focus_in(self) -> None:
        """Take the keyboard: the transcript when there is one, else the call's overview."""
        bubbles = self.transcript_view.list_view
        target = bubbles if bubbles.isVisible() and bubbles.model().rowCount() else self._overview
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_highlight_terms(self, words: list[str]) -> None:
        """Highlight the search's words in the transcript, and mark them on the timeline."""
        self.transcript_view.set_highlight_terms(words)
        self.timeline.set_search_terms(words)

    def _show_transcript(self, call: Call) -> None:
        self._timeline = None
        self._spoken = None
        self._following = True
        self.follow_button.hide()
        if call.transcript:
            self.transcript_view.set_messages(call.transcript)
            self._timeline = Timeline(call.transcript, call.duration_ms)
            self.transcript_view.setToolTip(
                "Message times are estimated from the length of each message."
                if self._timeline.estimated and call.recording else "")
            self._follow_position()
        elif call.transcript_text:
            self.transcript_view.set_plain_text(call.transcript_text)
        else:
            self.transcript_view.set_messages([])

    # --- following the recording ----------------------------------------------------

    def _follow_position(self, *_args) -> None:
        """Mark the message being spoken, and keep it in view unless scrolled away from."""
        now = self._now
        listening = self._timeline is not None and self._call is not None \
            and now.call_id == self._call.id and (now.position > 0 or now.state == PLAYING)
        row = self._timeline.row_at(now.position) if listening else None
        if row == self._spoken:
            return
        self._spoken = row
        self.transcript_view.set_current_message(row)
        if row is not None and self._following:
            self.transcript_view.scroll_to_message(row)

    def _scrolled_by_hand(self, _action: int) -> None:
        if self._call is not None and self._now.call_id == self._call.id \
                and self._now.state == PLAYING:
            self._following = False
            self.follow_button.show()

    def follow(self) -> None:
        """Follow the recording again: back to the message being spoken."""
        self._following = True
        self.follow_button.hide()
        if self._spoken is not None:
            self.transcript_view.scroll_to_message(self._spoken)

    def _jumped(self, row: int) -> None:
        """The keys went to a message (next / previous message, next customer turn): it is
        the one highlighted, and in view."""
        self._spoken = row
        self.transcript_view.set_current_message(row)
        self._following = True
        self.follow_button.hide()
        self.transcript_view.scroll_to_message(row)

    def _lanes_measured(self, lanes) -> None:
        """Lanes measured from a stereo recording's channels: the follow-along takes their
        times in place of its estimate."""
        call = self._call
        if lanes.origin == "channels" and call is not None and call.transcript \
                and self.timeline.call_id == call.id:
            self._timeline = Timeline(lanes.timed(call.transcript), call.duration_ms)
            self._spoken = None
            self._follow_position()

    def _show_skipping(self) -> None:
        """The player says whether Skip silence is on, and what it saved on this call."""
        call_id = self.current_call_id
        known = call_id is None or self.skipper.skip_of(call_id) is not None \
            or not self.timeline.waiting
        self.player.show_skipping(self.skipper.enabled, self.skipper.saved_ms(call_id), known)

    def _seek_to_message(self, row: int) -> None:
        if self._timeline is not None and self._call is not None and self._call.recording:
            self._now.play(self._call.id, self._timeline.start_of(row))
