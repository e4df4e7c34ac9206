"""A list people read at a glance (issue 24): every row's day and time of day, lengths
that cannot be read as a clock and agree everywhere, outcomes as badges that differ in
more than colour, named glyph columns, three play marks, the player bar's speed, and
the outcome filter's several choices kept between runs. The real window, real VLC."""

from __future__ import annotations

import re

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAccessible, QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem
from windows import detail_follows, open_window

from callviewer.columns import AT
from callviewer.playback.now_playing import PAUSED, PLAYING
from callviewer.ui.badges import OutcomeBadgeDelegate
from callviewer.ui.call_model import BADGE_ROLE
from callviewer.ui.theme import outcome_colors

DAY_AND_TIME = re.compile(
    r"(Today|Yesterday|Mon|Tue|Wed|Thu|Fri|Sat|Sun|\d{1,2} [A-Z][a-z]{2}( \d{4})?) \d\d:\d\d")
LENGTH = re.compile(r"\d+ s|\d+ min \d\d s|\d+ h \d\d min")


def column_texts(window, key: str) -> list[str]:
    model = window.model
    return [model.index(row, AT[key]).data() for row in range(model.rowCount())]


def test_every_row_says_its_day_and_time_of_day_and_a_length_in_units(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    started = column_texts(window, "started")
    assert len(started) > 10
    assert [text for text in started if not DAY_AND_TIME.fullmatch(text)] == []
    lengths = [text for text in column_texts(window, "duration") if text]
    assert lengths and [text for text in lengths if not LENGTH.fullmatch(text)] == []
    assert "21 min 00 s" in lengths  # the call that read "21:00", like a clock


def test_the_list_the_detail_and_the_player_give_a_call_one_length(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    model = window.model
    for row in range(0, min(model.rowCount(), 12)):
        window.table.setCurrentIndex(model.index(row, 0))
        detail_follows(qtbot, window)
        listed = model.index(row, AT["duration"]).data()
        assert window.detail.fields["Duration"].text() == listed
        if window.detail.player.isVisible():
            assert window.detail.player.total.text() == listed


def paint_cell(window, delegate, row: int, column: int) -> QImage:
    """A cell as its delegate paints it, not selected, on the list's background."""
    table = window.table
    option = QStyleOptionViewItem()
    option.initFrom(table)
    option.rect = QRect(0, 0, table.columnWidth(column), table.rowHeight(row))
    option.state &= ~option.state.State_Selected
    option.widget = table
    image = QImage(option.rect.size(), QImage.Format.Format_RGB32)
    image.fill(table.palette().base().color())
    painter = QPainter(image)
    delegate.paint(painter, option, window.model.index(row, column))
    painter.end()
    return image


def share_of(image: QImage, color: QColor) -> float:
    same = sum(image.pixelColor(x, y) == color
               for x in range(image.width()) for y in range(image.height()))
    return same / (image.width() * image.height())


def test_outcomes_are_badges_that_differ_in_shape_and_glyph_not_colour_alone(
        qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    model, column = window.model, AT["outcome"]
    delegate = window.table.itemDelegateForColumn(column)
    assert isinstance(delegate, OutcomeBadgeDelegate)
    rows = {}
    for row in range(model.rowCount()):
        rows.setdefault(model.index(row, column).data(BADGE_ROLE), row)
    assert {"answered", "missed", "failed", "voicemail"} <= set(rows)
    for row in rows.values():
        index = model.index(row, column)
        words = index.data()
        # A screen reader and a tooltip get the words, not the glyphs.
        assert index.data(Qt.ItemDataRole.AccessibleTextRole).startswith(words)
        assert not re.search(r"[^\w\s·-]", index.data(Qt.ItemDataRole.AccessibleTextRole))
    answered, missed = (paint_cell(window, delegate, rows[o], column)
                        for o in ("answered", "missed"))
    palette = window.table.palette()
    # A missed call's badge is filled; an answered call's is an outline (no fill).
    assert share_of(missed, outcome_colors("missed", palette)[1]) > 0.15
    assert share_of(answered, outcome_colors("answered", palette)[1]) == 0
    # Each outcome its own glyph and word: no two badges paint alike, in grey too.
    greys = {}
    for outcome, row in rows.items():
        image = paint_cell(window, delegate, row, column).convertToFormat(
            QImage.Format.Format_Grayscale8)
        greys[outcome] = bytes(image.constBits())
    assert len(set(greys.values())) == len(greys)


def test_the_glyph_columns_are_named_for_a_screen_reader_and_in_a_tooltip(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    model = window.model
    for key, name in (("recording", "Recording"), ("direction", "Direction")):
        at = AT[key]
        assert model.headerData(at, Qt.Orientation.Horizontal,
                                Qt.ItemDataRole.AccessibleTextRole) == name
        assert model.headerData(at, Qt.Orientation.Horizontal,
                                Qt.ItemDataRole.ToolTipRole).startswith(name + ":")
    table = QAccessible.queryAccessibleInterface(window.table)
    names = {table.child(i).text(QAccessible.Text.Name) for i in range(table.childCount())}
    assert {"Recording", "Direction", "Started", "Outcome"} <= names


def test_playing_paused_and_not_played_are_three_marks(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    call_id = window.store.calls.id_of("agent-platform", "ap-1001")
    window.show_in_list(call_id)
    qtbot.waitUntil(lambda: window.current_call_id() == call_id)
    row = window.model.row_of(call_id)
    delegate = window.table.itemDelegateForColumn(AT["recording"])
    now = window.now_playing

    def mark():
        # The mark without the progress along the bottom of the cell.
        image = paint_cell(window, delegate, row, AT["recording"])
        return bytes(image.copy(0, 0, image.width(), image.height() - 5).constBits())

    not_played = mark()
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=6000)
    playing = mark()
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert now.state == PAUSED
    paused = mark()
    assert len({not_played, playing, paused}) == 3  # paused was ▶, as not played
    assert delegate.mark(row) == "paused"
    assert window.model.index(row + 1, AT["recording"]).data() in ("▶", "")
    assert delegate.mark(row + 1) == ""


def test_the_player_bar_shows_the_speed_and_follows_the_keys(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    now = window.now_playing
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: now.state == PLAYING, timeout=6000)
    speed = window.player_bar.speed
    assert (speed.text(), speed.accessibleName()) == ("1×", "Speed")
    qtbot.keyClick(window.table, Qt.Key.Key_BracketRight)
    assert speed.text() == "1.25×"
    for _ in range(2):
        qtbot.keyClick(window.table, Qt.Key.Key_BracketLeft)
    assert speed.text() == "0.75×"
    assert window.player_bar.where.text().endswith(
        " of " + window.model.index(window.table.currentIndex().row(), AT["duration"]).data())


def test_several_outcomes_and_yesterday_are_kept_between_runs(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    window.filters.dates.setCurrentIndex(window.filters.dates.findData("yesterday"))
    window.filters.outcome.set_chosen({"missed", "failed"}, say=True)
    qtbot.waitUntil(lambda: window.model.spec.outcomes == {"missed", "failed"})
    window.close()
    again = open_window(qtbot, db, tmp_path)
    assert again.model.spec.outcomes == {"missed", "failed"}
    assert again.filters.outcome.currentText() == "Missed, Failed"
    assert again.filters.dates.currentData() == "yesterday"


def test_view_columns_shows_a_hidden_column_and_the_choice_is_kept(qtbot, db, tmp_path):
    """The talk share starts hidden (the list's Who column keeps its room at 1280×800);
    View ▸ Columns shows it, and the next start still shows it."""
    window = open_window(qtbot, db, tmp_path)
    talk = AT["talk"]
    assert window.table.isColumnHidden(talk)
    assert not window.table.isColumnHidden(AT["who"])
    who_width = window.table.columnWidth(AT["who"])
    assert who_width >= 160, who_width  # a name and a number, not "Sam Okafor · …"
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    columns = next(a.menu() for a in view.actions() if a.menu() and a.text() == "&Columns")
    columns.aboutToShow.emit()
    item = next(a for a in columns.actions() if a.text() == "Customer talk share")
    assert not item.isChecked()
    item.trigger()
    assert not window.table.isColumnHidden(talk)
    assert "who" not in {a.text() for a in columns.actions()}  # never hidden
    window.close()
    again = open_window(qtbot, db, tmp_path)  # the same settings file
    assert not again.table.isColumnHidden(talk)
