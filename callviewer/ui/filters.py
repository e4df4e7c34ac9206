"""The search and filter bar above the list; it turns what is chosen into a `ListSpec`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from callviewer.listing import ListSpec
from callviewer.record import OUTCOMES
from callviewer.recording_state import ARCHIVED, AT_SOURCE, GONE, LINK_EXPIRED, PURGED, STATES
from callviewer.ui import formatting

SEARCH_DELAY_MS = 250
DATE_PRESETS = ("any", "today", "7d", "30d", "custom")
_DATE_LABELS = {"any": "Any time", "today": "Today", "7d": "Last 7 days",
                "30d": "Last 30 days", "custom": "Custom range…"}


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def date_range(preset: str, first: QDate | None = None,
               last: QDate | None = None) -> tuple[int | None, int | None]:
    """(since, until) in epoch microseconds for a preset, in local days."""
    midnight = datetime.combine(datetime.now().date(), time())
    if preset == "today":
        return _micros(midnight), None
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
        self.outcome = self._combo("Outcome", [("Any outcome", None)] + [
            (formatting.outcome_words(o), o) for o in OUTCOMES])
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
        direction, outcome = self.direction.currentData(), self.outcome.currentData()
        return replace(
            base, search=self.search.text().strip(), since=since, until=until,
            directions=frozenset([direction]) if direction else frozenset(),
            outcomes=frozenset([outcome]) if outcome else frozenset(),
            done=self.done.currentData(), include_deleted=self.deleted.isChecked(),
            **{"has_recording": None, "recording_states": frozenset(),
               **self.recording.currentData()})

    def clear(self) -> None:
        """Clear the search and every filter."""
        self.blockSignals(True)
        for combo in (self.dates, self.direction, self.outcome, self.done, self.recording):
            combo.setCurrentIndex(0)
        self.deleted.setChecked(False)
        self.search.clear()
        self.blockSignals(False)
        self.changed.emit()

    def state(self) -> dict:
        """The filters, to remember between runs (not the search)."""
        return {"dates": self.dates.currentData(), "direction": self.direction.currentIndex(),
                "outcome": self.outcome.currentIndex(), "done": self.done.currentIndex(),
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
            for combo, key in ((self.direction, "direction"), (self.outcome, "outcome"),
                               (self.done, "done"), (self.recording, "recording")):
                index = int(state.get(key, 0))
                combo.setCurrentIndex(index if 0 <= index < combo.count() else 0)
            self.deleted.setChecked(bool(state.get("deleted", False)))
        except (TypeError, ValueError):
            self.clear()
