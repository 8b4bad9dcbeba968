"""Desktop pages at 10 million dossiers: server time of each page's callbacks, a list page deep in the
results (page 500) against page 1, the open lists (overdue, due soon: page 1 and a deep page, for the
province, a department and a commune), the peak memory of a 1,000,000-row export, and a whole list
as CSV by PostgreSQL's COPY against the Python writer it replaced (rows/s, CPU time of the process).

    python bench/bench_desk.py [--database ioc_bench_10m] [--runs 7] [--export-rows 1000000]
    python bench/bench_desk.py --only-lists [--list-runs 21] [--deep-page 100]
    python bench/bench_desk.py --only-exports [--csv-period 2026-10]

Uses the shared benchmark database (built by bench/dataset.py; migrated here if it is behind). Each
page is drawn as Dash draws it: the page's `layout(**query)` (what the page-container callback runs)
inside a Flask request context of the real app, cold (first call) and warm (median of --runs). The
baseline measured in the same run is one read-model round trip (`ReadModel.data_version()`), so the
page times are also given as multiples of it. Load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, text

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import dash  # noqa: E402
from dash import Dash  # noqa: E402
from flask import g  # noqa: E402

from dashboard.app import create_app  # noqa: E402
from dashboard.desk import ids, numbers, services  # noqa: E402
from dashboard.desk.export_route import file_columns  # noqa: E402
from dashboard.exports import csv_file, iter_rows, xlsx_stream  # noqa: E402
from dashboard.url import Filters, ListState  # noqa: E402
from ioc.config import load_settings  # noqa: E402
from ioc.database import Database, make_engine  # noqa: E402
from ioc.migrate import upgrade  # noqa: E402
from ioc.queries import EVERYTHING  # noqa: E402
from tests.csv_reference import python_csv  # noqa: E402  (the Python writer the COPY path replaced)

PAGES = {
    "overview": ("/", {}),
    "services": ("/desk/services", {"by": "department"}),
    "services by commune": ("/desk/services", {"by": "area"}),
    "socio-economic": ("/desk/socio", {}),
    "incidents": ("/desk/incidents", {}),
    "digital citizens": ("/desk/digital", {}),
    "sources": ("/desk/sources", {}),
    "KPI catalogue": ("/desk/kpi", {}),
    "KPI page": ("/desk/kpi/<kpi_id>", {"kpi_id": "dossiers_on_time_rate"}),
    "list page 1": ("/desk/list", {"kpi": "dossiers_received", "sort": "received_at"}),
}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def median_ms(function: Callable[[], Any], runs: int) -> float:
    return statistics.median(timed(function) for _ in range(runs))


def median_p95(function: Callable[[], Any], runs: int) -> tuple[float, float]:
    times = sorted(timed(function) for _ in range(runs))
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


#: the baselines of the open lists: the same LIMIT on the primary key, and on the open rows' index alone
LIST_BASELINES = {
    "SELECT … ORDER BY pk LIMIT 51": "SELECT source, code FROM dossier ORDER BY source, code LIMIT 51",
    "open index only, LIMIT 51": (
        "SELECT due_at, source, code FROM dossier WHERE finished_at IS NULL "
        "ORDER BY due_at, source, code LIMIT 51"
    ),
}


def previous_month(period: str) -> str:
    year, month = (int(part) for part in period.split("-")[:2])
    return f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"


def open_lists(rm: Any, engine: Engine, period: str, runs: int, deep_page: int) -> None:
    """Overdue and due-soon lists (the services page's and the list page's sorts): page 1 and page
    `deep_page` (cursor reached by walking), for the province, one department and one commune, and
    the province's at the end of last month (a past moment: the rows closed since then count too)."""
    for label, sql in LIST_BASELINES.items():

        def baseline(sql: str = sql) -> None:
            with engine.connect() as connection:
                connection.execute(text(sql)).all()

        median, p95 = median_p95(baseline, runs)
        print(f"baseline {label:34} median {median:7.1f} ms  p95 {p95:7.1f} ms   ({load()})")
    print(f"{'list':52} {'page':>5} {'rows':>5} {'median ms':>10} {'p95 ms':>8}")
    worst = 0.0
    for kpi_id in ("dossiers_open_overdue", "dossiers_due_soon"):
        for sort in ("due_at", "received_at"):
            for where, area, filters, when in (
                ("province", "66", {}, period),
                ("department D3", "66", {"department": "D3"}, period),
                ("commune 66042", "66042", {}, period),
                ("province, last month", "66", {}, previous_month(period)),
            ):
                query = {"area": area, "period": when, "sort": sort, "filters": filters}
                name = f"{kpi_id} by {sort}, {where}"
                worst = max(worst, _list_pages(rm, kpi_id, query, name, runs, deep_page))
    print(f"open lists: worst p95 {worst:.1f} ms (goal ≤ 300 ms)   ({load()})")


def _list_pages(rm: Any, kpi_id: str, query: dict[str, Any], name: str, runs: int, deep_page: int) -> float:
    """Times page 1 and the deepest page up to `deep_page`; prints both; returns the worse p95."""
    cursor, number = None, 1
    while number < deep_page:  # walk to the deep page's cursor
        following = rm.rows(kpi_id, limit=50, after=cursor, **query).next_after
        if following is None:
            break
        cursor, number = following, number + 1
    worst = 0.0
    for page, after in ((1, None), (number, cursor)):

        def read(after: str | None = after) -> Any:
            return rm.rows(kpi_id, limit=50, after=after, **query)

        size = len(read().rows)
        median, p95 = median_p95(read, runs)
        worst = max(worst, p95)
        print(f"{name:52} {page:5} {size:5} {median:10.1f} {p95:8.1f}   ({load()})")
    return worst


class PeakRss:
    """Peak resident memory of this process while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> PeakRss:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *_: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def grew_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def desk_app(url: str) -> tuple[Dash, Engine, dict[str, Any]]:
    """The web app on the benchmark database (migrated here if it is behind), with each page's
    layout function by its path template, as Dash's page container calls them."""
    engine = make_engine(url)
    upgrade(engine)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.yaml"
        config.write_text(
            f"province:\n  code: '66'\nkpi_dir: {REPO_ROOT / 'kpi_definitions'}\n", encoding="utf-8"
        )
        settings = load_settings(config)
    app = create_app(settings, Database(url=url, engine=engine, read_engine=engine))
    layouts = {page["path_template"] or page["path"]: page["layout"] for page in dash.page_registry.values()}
    return app, engine, layouts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="ioc_bench_10m")
    parser.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432/")
    parser.add_argument("--period", default=None, help="default: the current month (the desk's default view)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--export-period", default="2026-04-01..2026-08-31")
    parser.add_argument(
        "--csv-period", default=None, help="the whole list compared as CSV both ways (default: last month)"
    )
    parser.add_argument("--only-exports", action="store_true", help="only the exports")
    parser.add_argument("--skip-pages", action="store_true", help="only lists, paging and exports")
    parser.add_argument("--only-lists", action="store_true", help="only the open lists (overdue, due soon)")
    parser.add_argument("--list-runs", type=int, default=21, help="timed runs of each open list page")
    parser.add_argument("--deep-page", type=int, default=100, help="the open lists' deep page")
    args = parser.parse_args()

    app, engine, layouts = desk_app(args.server + args.database)
    rm = app.server.config["IOC_READ_MODEL"]
    args.period = args.period or rm.current_period("month").label
    args.csv_period = args.csv_period or previous_month(args.period)
    print(f"# desk bench on {args.database}, period {args.period}, {args.runs} warm runs; {load()}")

    with app.server.test_request_context():
        g.ioc_scope = EVERYTHING  # measured as a leader reads (logins are on by default)
        if args.only_lists:
            open_lists(rm, engine, args.period, args.list_runs, args.deep_page)
            return
        if args.only_exports:
            exports(rm, args)
            return
        baseline = median_ms(rm.data_version, args.runs)
        print(f"baseline: ReadModel.data_version() round trip  median {baseline:8.1f} ms   ({load()})")
        print(f"{'page':24} {'cold ms':>9} {'warm median ms':>15} {'× baseline':>11}")
        warm_times: list[float] = []
        for name, (path, extra) in () if args.skip_pages else PAGES.items():
            query = {"period": args.period, **extra}

            def draw(path: str = path, query: dict[str, str] = query) -> Any:
                return layouts[path](**query)

            cold = timed(draw)
            warm = median_ms(draw, args.runs)
            warm_times.append(warm)
            print(f"{name:24} {cold:9.0f} {warm:15.1f} {warm / baseline:11.1f}   ({load()})")
        if warm_times:
            print(f"median warm page: {statistics.median(warm_times):.1f} ms (goal ≤ 200 ms)   ({load()})")

        state = {"search": f"?period={args.period}"}
        for kpi_id in ("dossiers_open_overdue", "dossiers_due_soon"):  # the services page's lazy lists
            cold = timed(lambda kpi_id=kpi_id: services.load_list(ids.lazy_list(kpi_id), state))
            warm = median_ms(lambda kpi_id=kpi_id: services.load_list(ids.lazy_list(kpi_id), state), 3)
            print(f"services list {kpi_id:22} cold {cold:8.0f} ms, warm median {warm:8.1f} ms   ({load()})")

        open_lists(rm, engine, args.period, args.list_runs, args.deep_page)

        lineage = median_ms(
            lambda: rm.lineage("dossiers_on_time_rate", area="66", period=args.period), args.runs
        )
        print(f"lineage panel callback (read model part)  median {lineage:8.1f} ms   ({load()})")

        # keyset paging: page 500 against page 1 (50 rows a page, sorted by due date)
        query = {"area": "66", "period": "2026", "sort": "received_at", "filters": {}}
        cursor = None
        walk_started = time.perf_counter()
        for _ in range(499):
            cursor = rm.rows("dossiers_received", limit=50, after=cursor, **query).next_after
        walk = time.perf_counter() - walk_started
        first = median_ms(lambda: rm.rows("dossiers_received", limit=50, **query), args.runs)
        deep = median_ms(lambda: rm.rows("dossiers_received", limit=50, after=cursor, **query), args.runs)
        print(
            f"list page 1 {first:.1f} ms · page 500 {deep:.1f} ms · ratio {deep / first:.2f} "
            f"(walking 499 pages took {walk:.1f} s)   ({load()})"
        )
        page_500 = median_ms(
            lambda: layouts["/desk/list"](
                period="2026", kpi="dossiers_received", sort="received_at", after=cursor, page="500"
            ),
            args.runs,
        )
        print(f"list page 500 drawn (layout) median {page_500:.1f} ms   ({load()})")

        exports(rm, args)


def exports(rm: Any, args: argparse.Namespace) -> None:
    """Peak memory of large exports (CSV by the Python writer and by COPY, XLSX), then one whole list
    as CSV both ways: wall time, rows/s and this process's CPU time (all threads: the GIL's share)."""
    filters = Filters(period=args.export_period)
    listing = ListState(kpi="dossiers_received")
    rows_query = numbers.rows_query(filters, listing, "66")
    columns = file_columns("dossier", "vi")
    keys = [column.key for column in columns]
    header = [("Kỳ báo cáo", args.export_period)]
    for label, stream, count in (
        ("CSV (Python) 10,000 rows", python_csv, 10_000),
        (f"CSV (Python) {args.export_rows:,} rows", python_csv, args.export_rows),
        ("XLSX 10,000 rows", xlsx_stream, 10_000),
        (f"XLSX {args.xlsx_rows:,} rows", xlsx_stream, args.xlsx_rows),
    ):
        rows = itertools.islice(iter_rows(rm, "dossiers_received", **rows_query), count)
        started = time.perf_counter()
        with PeakRss() as memory:
            size = sum(len(chunk) for chunk in stream(header, columns, rows))
        seconds = time.perf_counter() - started
        print(
            f"export {label:28} {size / 2**20:8.1f} MB in {seconds:6.1f} s, "
            f"peak RSS +{memory.grew_mb:6.1f} MB   ({load()})"
        )
    started = time.perf_counter()
    with PeakRss() as memory:
        copied = rm.rows_csv("dossiers_received", columns=keys, **rows_query)
        size = sum(len(chunk) for chunk in csv_file(header, columns, copied))
    seconds = time.perf_counter() - started
    print(
        f"export {'CSV (COPY) whole list':28} {size / 2**20:8.1f} MB in {seconds:6.1f} s, "
        f"peak RSS +{memory.grew_mb:6.1f} MB, {copied.rows:,} rows   ({load()})"
    )

    query = numbers.rows_query(Filters(period=args.csv_period), listing, "66")
    ways = {
        "Python writer": lambda: python_csv(header, columns, iter_rows(rm, "dossiers_received", **query)),
        "COPY": lambda: csv_file(header, columns, rm.rows_csv("dossiers_received", columns=keys, **query)),
    }
    figures: dict[str, tuple[float, float, bytes]] = {}
    for way, produce in ways.items():
        wall, cpu = time.perf_counter(), time.process_time()
        data = b"".join(produce())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows = data.count(b"\r\n") - len(header) - 2
        figures[way] = (wall, cpu, data)
        print(
            f"CSV of {args.csv_period} by {way:13} {rows:9,} rows in {wall:6.2f} s "
            f"= {rows / wall:9,.0f} rows/s, CPU of this process {cpu:6.2f} s ({cpu / wall:4.0%} of a core)"
            f"   ({load()})"
        )
    (old_wall, old_cpu, old), (new_wall, new_cpu, new) = figures.values()
    print(
        f"CSV of {args.csv_period}: COPY {old_wall / new_wall:.1f}× faster, "
        f"{old_cpu / max(new_cpu, 1e-6):.1f}× less CPU here; the same bytes: {old == new}   ({load()})"
    )


if __name__ == "__main__":
    main()
