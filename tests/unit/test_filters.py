"""The filter bar: Yesterday beside Today, several outcomes at once (from the keyboard too),
and its state kept between runs, old saved states included."""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from callviewer.listing import ListSpec
from callviewer.ui.filters import FilterBar, date_range


def micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


@pytest.fixture
def bar(qtbot):
    widget = FilterBar()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_yesterday_is_beside_today_and_is_the_whole_of_yesterday(bar):
    labels = [bar.dates.itemText(i) for i in range(bar.dates.count())]
    assert labels[labels.index("Today") + 1] == "Yesterday"
    midnight = datetime.combine(datetime.now().date(), time())
    assert date_range("yesterday") == (micros(midnight - timedelta(days=1)), micros(midnight))
    bar.dates.setCurrentIndex(labels.index("Yesterday"))
    spec = bar.spec(ListSpec())
    assert (spec.since, spec.until) == date_range("yesterday")


def test_several_outcomes_are_ticked_from_the_keyboard_and_the_menu_stays_open(qtbot, bar):
    said = []
    bar.changed.connect(lambda: said.append(bar.spec(ListSpec()).outcomes))
    bar.outcome.setFocus()
    qtbot.keyClick(bar.outcome, Qt.Key.Key_Space)  # opens its menu, as a combo's
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is bar.outcome.menu)
    menu = bar.outcome.menu
    assert menu.activeAction().text() == "Any outcome"
    for _ in range(2):
        qtbot.keyClick(menu, Qt.Key.Key_Down)
    assert menu.activeAction().text() == "Missed"
    qtbot.keyClick(menu, Qt.Key.Key_Space)
    assert menu.isVisible()  # ticking keeps it open for the next
    for _ in range(2):
        qtbot.keyClick(menu, Qt.Key.Key_Down)
    assert menu.activeAction().text() == "Failed"
    qtbot.keyClick(menu, Qt.Key.Key_Space)
    qtbot.keyClick(menu, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not menu.isVisible())
    assert said == [frozenset({"missed"}), frozenset({"missed", "failed"})]
    assert bar.spec(ListSpec()).outcomes == {"missed", "failed"}
    assert bar.outcome.currentText() == "Missed, Failed"
    assert bar.outcome.accessibleDescription() == "Missed, Failed"
    bar.outcome.set_chosen({"missed", "failed", "busy"})
    assert bar.outcome.currentText() == "3 outcomes"
    # "Any outcome" unticks them all.
    bar.outcome.menu.actions()[0].trigger()
    assert bar.spec(ListSpec()).outcomes == frozenset()
    assert bar.outcome.currentText() == "Any outcome"


def test_up_and_down_on_the_outcome_choose_one_at_a_time_like_the_other_choices(qtbot, bar):
    bar.outcome.setFocus()
    qtbot.keyClick(bar.outcome, Qt.Key.Key_Down)
    assert bar.spec(ListSpec()).outcomes == {"answered"}
    qtbot.keyClick(bar.outcome, Qt.Key.Key_Down)
    assert bar.spec(ListSpec()).outcomes == {"missed"}
    qtbot.keyClick(bar.outcome, Qt.Key.Key_Up)
    qtbot.keyClick(bar.outcome, Qt.Key.Key_Up)
    assert bar.spec(ListSpec()).outcomes == frozenset()


def test_the_filters_state_keeps_several_outcomes_and_yesterday(qtbot, bar):
    bar.dates.setCurrentIndex(bar.dates.findData("yesterday"))
    bar.outcome.set_chosen({"voicemail", "missed"})
    bar.done.setCurrentIndex(1)
    state = bar.state()
    assert state["outcomes"] == ["missed", "voicemail"]
    again = FilterBar()
    qtbot.addWidget(again)
    again.restore(state)
    assert again.spec(ListSpec()) == bar.spec(ListSpec())
    assert again.state() == state


@pytest.mark.parametrize(("saved", "outcomes"), [
    ({"outcome": 2}, {"missed"}),  # saved before several: the old menu's index
    ({"outcome": 0}, set()),
    ({"outcome": 99}, set()),
    ({"outcomes": ["failed", "no such outcome"]}, {"failed"}),
    ({"outcomes": "failed"}, set()),  # broken: cleared
    ({"outcomes": 7}, set()),
])
def test_old_and_broken_saved_outcomes_are_read_or_ignored(qtbot, bar, saved, outcomes):
    bar.restore(saved)
    assert bar.spec(ListSpec()).outcomes == outcomes
