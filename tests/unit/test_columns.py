"""A column is declared once (callviewer/columns.py): the SQL, the model and the view read
it from there, and every sort it declares is read from an index."""

from __future__ import annotations

import subprocess
import sys

from callviewer import listing
from callviewer.columns import AT, COLUMNS, ROW_FIELDS


def test_the_sorts_and_the_row_come_from_the_declarations():
    assert {column.key: column.sort for column in COLUMNS} == listing.SORTS
    assert listing.ROW_COLUMNS == ROW_FIELDS
    assert ROW_FIELDS[:2] == ("id", "deleted_at")  # the model reads these two by place
    for column in COLUMNS:
        assert set(column.reads) <= set(ROW_FIELDS)
    assert len(ROW_FIELDS) == len(set(ROW_FIELDS))
    assert [COLUMNS[at].key for at in AT.values()] == list(AT)


def test_every_sort_is_read_from_an_index_in_the_lists_order():
    from callviewer.store.schema import CALL_INDEXES, call_stats

    indexes = [tuple(c.name for c in index.columns) for index in CALL_INDEXES]
    # A statistic's sort reads call_stats, whose started_at is call_started_at.
    stats_indexes = [tuple({"call_started_at": "started_at", "call_id": "id"}.get(c.name, c.name)
                           for c in index.columns) for index in call_stats.indexes]
    for column in COLUMNS:
        keys = ("started_at", "id") if column.sort == "started_at" \
            else (column.sort, "started_at", "id")
        found = stats_indexes if column.stats else indexes
        assert any(names[:len(keys)] == keys for names in found), column.key


def test_every_column_has_its_cells_words_and_the_view_one_stretching_column():
    from callviewer.ui import call_model

    assert len(call_model._CELLS) == len(COLUMNS)
    assert [column.key for column in COLUMNS if column.stretch] == ["who"]


def test_the_declarations_and_the_lists_queries_load_no_qt_and_no_sqlalchemy():
    code = ("import sys, callviewer.columns, callviewer.listing; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'sqlalchemy')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
