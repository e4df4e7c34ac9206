"""The window on a million calls, against Qt's own QSqlQueryModel in the same run.

    python tests/bench/bench_ui.py DB [--tries 50]

DB is a database made by `tests/bench/bigdb.py` (1,000,000 calls). Run it
under Xvfb (`xvfb-run -a`) or with QT_QPA_PLATFORM=offscreen. It prints, for
each target, our figure, the baseline's and their ratio:

- database open → window shown with its rows painted (≤ 100 ms);
- a new sort, filter or search → first rows painted (95th percentile of
  `--tries`, ≤ 50 ms); the baseline runs the same SQL through QSqlQueryModel;
- End → the last call current and painted (≤ 50 ms);
- the model's `data()` from its cache, per call, over the roles a view asks
  (≤ 20 µs);
- a 2,000-message transcript shown (≤ 100 ms), against a QListView of the
  same 2,000 lines as plain strings;
- resident memory at the end (≤ 150 MB), against a bare QApplication window.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QStringListModel, Qt
from PySide6.QtSql import QSqlDatabase, QSqlQuery, QSqlQueryModel
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QListView, QTableView

from callviewer import listing
from callviewer.listing import ListSpec
from callviewer.store import Store
from callviewer.ui.window import MainWindow

DAY = 86_400 * 1_000_000
ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole,
         Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole,
         Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole,
         Qt.ItemDataRole.CheckStateRole)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Painted(QObject):
    """Counts the paints of a view's viewport."""

    def __init__(self, view) -> None:
        super().__init__()
        self.count = 0
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def until_painted(app: QApplication, painted: Painted) -> None:
    seen = painted.count
    deadline = time.perf_counter() + 10
    while painted.count == seen and time.perf_counter() < deadline:
        app.processEvents()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def report(what: str, ours: float, base: float, target: float, unit: str = "ms") -> None:
    scale = 1000 if unit == "ms" else 1_000_000 if unit == "µs" else 1
    ok = "ok" if ours <= target else "OVER"
    print(f"{what:<44} ours {ours * scale:9.2f} {unit}   Qt {base * scale:9.2f} {unit}   "
          f"ratio {ours / base if base else float('inf'):6.2f}   target ≤ {target * scale:g} {unit}"
          f"  {ok}")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def specs(now: int, tries: int) -> list[ListSpec]:
    """A mix of sorts, filters and searches, as a person would click and type them."""
    base = ListSpec()
    pool = [base.sorted_by(sort, descending) for sort in listing.SORTS
            for descending in (True, False)]
    pool += [
        ListSpec(directions=frozenset({"outbound"})),
        ListSpec(outcomes=frozenset({"missed"})),
        ListSpec(outcomes=frozenset({"voicemail", "busy"})),
        ListSpec(done=False),
        ListSpec(has_recording=True),
        ListSpec(include_deleted=True),
        ListSpec(since=now - 7 * DAY),
        ListSpec(since=now - 30 * DAY, outcomes=frozenset({"answered"})),
        ListSpec(search="zebra"),
        ListSpec(search="appointment"),
        ListSpec(search="Haddad"),
        ListSpec(search="Priya Natarajan"),
        ListSpec(search="appoint"),
        ListSpec(search="refund", outcomes=frozenset({"answered"})),
    ]
    rng = random.Random(7)
    return [pool[i % len(pool)] for i in rng.sample(range(tries), tries)]


def baseline_sql(spec: ListSpec, conn) -> tuple[str, list]:
    where, params = listing.where_clause(spec, conn, plan=True)
    return (f"SELECT {', '.join(listing.ROW_COLUMNS)} FROM calls{where}"
            f"{listing.order_clause(spec)}", params)


def run_baseline(app: QApplication, path: Path, tries: list[ListSpec], conn) -> dict:
    """Qt's own model on the same database and queries."""
    figures: dict[str, float] = {}
    t0 = time.perf_counter()
    db = QSqlDatabase.addDatabase("QSQLITE", "baseline")
    db.setDatabaseName(str(path))
    db.setConnectOptions("QSQLITE_OPEN_READONLY")
    db.open()
    model = QSqlQueryModel()
    view = QTableView()
    painted = Painted(view)
    sql, params = baseline_sql(ListSpec(), conn)

    def show(sql: str, params: list) -> None:
        query = QSqlQuery(db)
        query.prepare(sql)
        for value in params:
            query.addBindValue(value)
        query.exec()
        model.setQuery(query)

    show(sql, params)
    view.setModel(model)
    view.resize(900, 700)
    view.show()
    until_painted(app, painted)
    figures["open"] = time.perf_counter() - t0

    times = []
    for spec in tries:
        t0 = time.perf_counter()
        show(*baseline_sql(spec, conn))
        view.viewport().repaint()
        times.append(time.perf_counter() - t0)
    figures["query"] = p95(times)

    show(sql, params)
    view.viewport().repaint()
    t0 = time.perf_counter()
    QTest.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    while model.canFetchMore():
        model.fetchMore()
    view.scrollToBottom()
    view.viewport().repaint()
    figures["end"] = time.perf_counter() - t0
    figures["end_rows"] = model.rowCount()
    figures["rss_after_end"] = rss_mb()

    show(sql, params)
    figures["data"] = time_data(model, 30)
    view.close()
    QSqlDatabase.database("baseline").close()
    return figures


def time_data(model, rows: int) -> float:
    indexes = [model.index(r, c) for r in range(rows) for c in range(model.columnCount())]
    for index in indexes:  # fill the cache
        model.data(index, Qt.ItemDataRole.DisplayRole)
    rounds = 20
    t0 = time.perf_counter()
    for _ in range(rounds):
        for index in indexes:
            for role in ROLES:
                model.data(index, role)
    return (time.perf_counter() - t0) / (rounds * len(indexes) * len(ROLES))


def transcript(count: int) -> list[dict]:
    rng = random.Random(3)
    words = ("please", "appointment", "Tuesday", "insurance", "thanks", "confirm", "address")
    return [{"role": ("agent", "customer")[i % 2] if i % 50 else "tool",
             "text": " ".join(rng.choices(words, k=rng.randint(3, 40))),
             "start_ms": i * 3000, "end_ms": i * 3000 + 2500} for i in range(count)]


def time_transcript(window: MainWindow) -> float:
    messages = transcript(2000)
    view = window.detail.transcript_view
    t0 = time.perf_counter()
    view.set_messages(messages)
    view.list_view.viewport().repaint()
    return time.perf_counter() - t0


def time_plain_transcript(app: QApplication) -> float:
    """The same 2,000 messages as plain strings in a bare word-wrapping QListView."""
    lines = [f"{m['role']}: {m['text']}" for m in transcript(2000)]
    plain = QListView()
    plain.setWordWrap(True)
    plain.resize(540, 300)
    plain.show()
    app.processEvents()
    t0 = time.perf_counter()
    plain.setModel(QStringListModel(lines))
    plain.viewport().repaint()
    seconds = time.perf_counter() - t0
    plain.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--tries", type=int, default=50)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    newest = conn.execute("SELECT max(started_at) FROM calls").fetchone()[0]
    tries = specs(newest, args.tries)
    if args.baseline:  # in a process of its own, so that its memory is not counted as ours
        bare = QListView()
        bare.show()
        app.processEvents()
        figures = {"bare_rss": rss_mb(), **run_baseline(app, args.db, tries, conn)}
        figures["plain_transcript"] = time_plain_transcript(app)
        print(json.dumps(figures))
        os._exit(0)
    base = json.loads(subprocess.run(
        [sys.executable, __file__, str(args.db), "--tries", str(args.tries), "--baseline"],
        check=True, capture_output=True, text=True).stdout)
    total = conn.execute("SELECT count(*) FROM calls WHERE deleted_at IS NULL").fetchone()[0]

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    t_store = time.perf_counter()
    store = Store(str(args.db))
    t0 = time.perf_counter()
    window = MainWindow.over(store, settings)
    painted = Painted(window.table)
    window.show()
    until_painted(app, painted)
    opened = time.perf_counter() - t0
    print(f"{total:,} calls listed; the Store opened in {ms(t0 - t_store).strip()} "
          f"(SQLAlchemy and the schema check, before the window)")
    report("open → window shown with rows", opened, base["open"], 0.100)

    times = []
    for spec in tries:
        t0 = time.perf_counter()
        window.model.set_spec(spec)
        window.table.viewport().repaint()
        times.append(time.perf_counter() - t0)
    slowest = sorted(zip(times, tries, strict=True), key=lambda pair: pair[0])[-3:]
    report(f"new sort/filter/search, p95 of {len(tries)}", p95(times), base["query"], 0.050)
    for seconds, spec in reversed(slowest):
        print(f"    slowest: {ms(seconds)}  {describe(spec)}")

    window.model.set_spec(ListSpec())
    window.model.ensure_counted()
    window.table.setFocus()
    app.processEvents()
    t0 = time.perf_counter()
    QTest.keyClick(window.table, Qt.Key.Key_End)
    window.table.viewport().repaint()
    ended = time.perf_counter() - t0
    assert window.table.currentIndex().row() == window.model.rowCount() - 1
    report("End → last call painted", ended, base["end"], 0.050)
    print(f"    (Qt's model has to fetch all {base['end_rows']:,} rows to get there)")

    window.model.set_spec(ListSpec(outcomes=frozenset({"missed"})))
    t0 = time.perf_counter()
    QTest.keyClick(window.table, Qt.Key.Key_End)
    window.table.viewport().repaint()
    print(f"    End right after a new filter, count not yet known: {ms(time.perf_counter() - t0)}")

    window.model.set_spec(ListSpec())
    report("data() per call, from the cache", time_data(window.model, 30), base["data"],
           20e-6, "µs")

    report("2,000-message transcript shown", time_transcript(window), base["plain_transcript"],
           0.100)

    rss = rss_mb()
    bare = base["bare_rss"]
    print(f"{'resident memory':<44} ours {rss:9.1f} MB   bare window {bare:6.1f} MB   "
          f"ratio {rss / bare:6.2f}   target ≤ 150 MB  {'ok' if rss <= 150 else 'OVER'}")
    window.close()
    os._exit(0)  # the count thread may still hold a connection: no need to wait for it


def describe(spec: ListSpec) -> str:
    default = ListSpec()
    parts = [f"{name}={getattr(spec, name)!r}" for name in spec.__dataclass_fields__
             if getattr(spec, name) != getattr(default, name)]
    return ", ".join(parts) or "newest first"


if __name__ == "__main__":
    main()
