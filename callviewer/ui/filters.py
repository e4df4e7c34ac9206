"""The search and filter bar above the list; it turns what is chosen into a `ListSpec`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPushButton,
    QWidget,
)

from callviewer.listing import ListSpec
from callviewer.record import OUTCOMES
from callviewer.recording_state import ARCHIVED, AT_SOURCE, GONE, LINK_EXPIRED, PURGED, STATES
from callviewer.ui import formatting

SEARCH_DELAY_MS = 250
DATE_PRESETS = ("any", "today", "yesterday", "7d", "30d", "custom")
_DATE_LABELS = {"any": "Any time", "today": "Today", "yesterday": "Yesterday",
                "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom range…"}


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def date_range(preset: str, first: QDate | None = None,
               last: QDate | None = None) -> tuple[int | None, int | None]:
    """(since, until) in epoch microseconds for a preset, in local days."""
    midnight = datetime.combine(datetime.now().date(), time())
    if preset == "today":
        return _micros(midnight), None
    if preset == "yesterday":
        return _micros(midnight - timedelta(days=1)), _micros(midnight)
    if preset in ("7d", "30d"):
        return _micros(midnight - timedelta(days=6 if preset == "7d" else 29)), None
    if preset == "custom" and first is not None and last is not None:
        start = datetime.combine(first.toPython(), time())
        end = datetime.combine(last.toPython(), time()) + timedelta(days=1)
        return _micros(start), _micros(end)
    return None, None


# The recording filter: with or without one, or one recording state.
RECORDING_CHOICES = [
    ("With or without recording", {}),
    ("With recording", {"has_recording": True}),
    ("Without recording", {"has_recording": False}),
    *((STATES[state], {"recording_states": frozenset([state])})
      for state in (ARCHIVED, AT_SOURCE, LINK_EXPIRED, GONE, PURGED)),
]


class _TickMenu(QMenu):
    """A menu whose ticks do not close it: a click or Space ticks or unticks an outcome
    and the menu stays open for the next; Enter ticks and closes, Esc closes."""

    def mouseReleaseEvent(self, event) -> None:
        action = self.activeAction()
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        action = self.activeAction()
        if event.key() == Qt.Key.Key_Space and action is not None and action.isCheckable():
            action.trigger()
            return
        super().keyPressEvent(event)


class OutcomeFilter(QComboBox):
    """The outcome filter: it looks, and moves with Up/Down, like the bar's other
    choices (one outcome at a time), and its menu (Space, F4, Alt+Down or a click)
    ticks several outcomes at once."""

    changed = Signal()
    MAX_NAMED = 2  # more outcomes than this are counted, not named

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Outcome")
        self.setToolTip("Outcome: one, or several ticked in its menu")
        self.addItem("Any outcome")
        self.menu = _TickMenu(self)
        self.menu.setAccessibleName("Outcomes")
        self._any = self._tick(self.menu.addAction("Any outcome"))
        self._any.triggered.connect(lambda: self.set_chosen(frozenset(), say=True))
        self.menu.addSeparator()
        self.actions_by_outcome: dict[str, QAction] = {}
        for outcome in OUTCOMES:
            action = self._tick(self.menu.addAction(formatting.outcome_words(outcome)))
            action.setData(outcome)
            action.triggered.connect(self._ticked)
            self.actions_by_outcome[outcome] = action
        self._chosen: frozenset[str] = frozenset()
        self._show()

    @staticmethod
    def _tick(action: QAction) -> QAction:
        action.setCheckable(True)
        return action

    def chosen(self) -> frozenset[str]:
        """The outcomes ticked; none means any."""
        return self._chosen

    def set_chosen(self, outcomes, say: bool = False) -> None:
        """Tick exactly `outcomes` (unknown ones are left out); with `say`, emit `changed`
        when that is a change."""
        chosen = frozenset(outcome for outcome in outcomes if outcome in OUTCOMES)
        changed, self._chosen = chosen != self._chosen, chosen
        self._show()
        if say and changed:
            self.changed.emit()

    def _ticked(self) -> None:
        self.set_chosen([outcome for outcome, action in self.actions_by_outcome.items()
                         if action.isChecked()], say=True)

    def _show(self) -> None:
        for outcome, action in self.actions_by_outcome.items():
            action.setChecked(outcome in self._chosen)
        self._any.setChecked(not self._chosen)
        words = [formatting.outcome_words(o) for o in OUTCOMES if o in self._chosen]
        text = ("Any outcome" if not words else ", ".join(words)
                if len(words) <= self.MAX_NAMED else f"{len(words)} outcomes")
        self.setItemText(0, text)
        self.setAccessibleDescription(", ".join(words) or "Any outcome")

    def showPopup(self) -> None:
        self.menu.setMinimumWidth(self.width())
        self.menu.popup(self.mapToGlobal(self.rect().bottomLeft()))
        self.menu.setActiveAction(next(
            (action for action in self.actions_by_outcome.values() if action.isChecked()),
            self._any))

    def hidePopup(self) -> None:
        self.menu.hide()

    def keyPressEvent(self, event) -> None:
        step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()))
        if step is None or event.modifiers() & Qt.KeyboardModifier.AltModifier:
            super().keyPressEvent(event)
            return
        # One outcome at a time, in order, as the other choices move.
        order = [None, *OUTCOMES]
        at = order.index(next(iter(self._chosen))) if len(self._chosen) == 1 else 0
        at = min(max(at + step, 0), len(order) - 1)
        self.set_chosen([order[at]] if order[at] else [], say=True)

    def wheelEvent(self, event) -> None:
        event.ignore()  # scrolling past it changes nothing, as a menu of ticks


class FilterBar(QWidget):
    """Search field, date presets, direction, outcome, done, recording, include deleted."""

    changed = Signal()
    escape_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._custom = (QDate.currentDate().addDays(-7), QDate.currentDate())
        self.search = QLineEdit(placeholderText="Search calls, transcripts and notes  (Ctrl+F)")
        self.search.setAccessibleName("Search calls")
        self.search.setToolTip("Finds names, numbers, subjects, summaries, transcripts and notes")
        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.changed)
        self.search.textEdited.connect(lambda _text: self._debounce.start())
        self.search.textChanged.connect(self._cleared)
        self.dates = self._combo("Date range", [(_DATE_LABELS[p], p) for p in DATE_PRESETS])
        self.dates.activated.connect(self._date_chosen)
        self.direction = self._combo("Direction", [("Any direction", None),
                                                   ("Inbound", "inbound"),
                                                   ("Outbound", "outbound")])
        self.outcome = OutcomeFilter()
        self.outcome.changed.connect(self.changed)
        self.done = self._combo("Done", [("Done or not", None), ("Not done", False),
                                         ("Done", True)])
        self.recording = self._combo("Recording", RECORDING_CHOICES)
        self.deleted = QCheckBox("Include deleted")
        self.deleted.setAccessibleName("Include deleted calls")
        self.deleted.toggled.connect(self.changed)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setAccessibleName("Clear search and filters")
        self.clear_button.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 2)
        layout.addWidget(self.search, 3)
        for widget in (self.dates, self.direction, self.outcome, self.done, self.recording,
                       self.deleted, self.clear_button):
            layout.addWidget(widget)

    def _combo(self, name: str, choices: list[tuple[str, object]]) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.setToolTip(name)
        for label, value in choices:
            combo.addItem(label, value)
        if name != "Date range":
            combo.activated.connect(self.changed)
        return combo

    def _cleared(self, text: str) -> None:
        if not text:  # the clear button, Esc or Clear filters: no need to wait
            self._debounce.stop()
            self.changed.emit()

    def _date_chosen(self) -> None:
        if self.dates.currentData() == "custom" and not self._ask_range():
            self.dates.setCurrentIndex(0)
        self.changed.emit()

    def _ask_range(self) -> bool:
        from callviewer.ui.forms import ask

        first, last = QDateEdit(self._custom[0]), QDateEdit(self._custom[1])
        for edit, name in ((first, "From"), (last, "To")):
            edit.setCalendarPopup(True)
            edit.setAccessibleName(name)
        if not ask(self, "Custom date range", [("From", first), ("To", last)]):
            return False
        self._custom = (min(first.date(), last.date()), max(first.date(), last.date()))
        self.dates.setItemText(DATE_PRESETS.index("custom"), "{} – {}".format(
            *(d.toString("d MMM yyyy") for d in self._custom)))
        return True

    def spec(self, base: ListSpec) -> ListSpec:
        """`base` (its sort) with this bar's search and filters."""
        since, until = date_range(self.dates.currentData(), *self._custom)
        direction = self.direction.currentData()
        return replace(
            base, search=self.search.text().strip(), since=since, until=until,
            directions=frozenset([direction]) if direction else frozenset(),
            outcomes=self.outcome.chosen(),
            done=self.done.currentData(), include_deleted=self.deleted.isChecked(),
            **{"has_recording": None, "recording_states": frozenset(),
               **self.recording.currentData()})

    def clear(self) -> None:
        """Clear the search and every filter."""
        self.blockSignals(True)
        for combo in (self.dates, self.direction, self.done, self.recording):
            combo.setCurrentIndex(0)
        self.outcome.set_chosen(frozenset())
        self.deleted.setChecked(False)
        self.search.clear()
        self.blockSignals(False)
        self.changed.emit()

    def set_done(self, done: bool | None) -> None:
        """Show only calls not done (False: the review queue), done (True), or both (None);
        says `changed` when that is a change."""
        at = next(i for i in range(self.done.count()) if self.done.itemData(i) is done)
        if at != self.done.currentIndex():
            self.done.setCurrentIndex(at)
            self.changed.emit()

    def state(self) -> dict:
        """The filters, to remember between runs (not the search)."""
        return {"dates": self.dates.currentData(), "direction": self.direction.currentIndex(),
                "outcomes": sorted(self.outcome.chosen()), "done": self.done.currentIndex(),
                "recording": self.recording.currentIndex(),
                "deleted": self.deleted.isChecked(),
                "custom": [d.toString("yyyy-MM-dd") for d in self._custom]}

    def restore(self, state: dict) -> None:
        """Put back filters from `state()`; unknown or broken values are ignored."""
        try:
            custom = [QDate.fromString(d, "yyyy-MM-dd") for d in state.get("custom", [])]
            if len(custom) == 2 and all(d.isValid() for d in custom):
                self._custom = (custom[0], custom[1])
            preset = state.get("dates", "any")
            self.dates.setCurrentIndex(DATE_PRESETS.index(preset)
                                       if preset in DATE_PRESETS else 0)
            for combo, key in ((self.direction, "direction"), (self.done, "done"),
                               (self.recording, "recording")):
                index = int(state.get(key, 0))
                combo.setCurrentIndex(index if 0 <= index < combo.count() else 0)
            outcomes = state.get("outcomes")
            if outcomes is None:  # saved before several could be chosen: the menu's index
                index = int(state.get("outcome", 0))
                outcomes = [OUTCOMES[index - 1]] if 1 <= index <= len(OUTCOMES) else []
            if isinstance(outcomes, str):
                raise TypeError(outcomes)
            self.outcome.set_chosen(outcomes)
            self.deleted.setChecked(bool(state.get("deleted", False)))
        except (TypeError, ValueError):
            self.clear()
