"""Read model latency: one wall screen's tiles, a 36-point series and `ioc status`, at demo scale and 10M.

    python bench/bench_queries.py [--scales 300000,10000000] [--runs 15] [--baseline-runs 3]

Uses the shared benchmark databases of bench/dataset.py (built once and kept; 10M takes ~15 min the
first time). For each scale it prints, with the load average beside every figure:

* tiles of the headline KPIs (one wall screen, ~12 KPIs, sparklines off) computed cold (a new cache:
  what the first of 36 screens pays after a load) and warm (the cache hit the other 35 get), with
  the number of SQL statements each sends;
* the same tiles with their 12-point sparklines, cold, against the baseline of one `compute` per
  sparkline point (the read model's series swapped for that loop, in the same run);
* series against the baseline of one `compute` per point: 36 months of a count and a ratio (one
  grouped query), and snapshot (open overdue, due soon; incidents by day), indicator, growth and
  derived series — 12 points of the KPI's grain, and 36 months for open overdue;
* `ioc status` (source_status) — connector_run only.

Medians of --runs runs; the database is warm (one untimed run first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

from sqlalchemy import Engine, event, text

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.dataset import ensure  # noqa: E402
from ioc.config import load_settings  # noqa: E402
from ioc.database import make_engine  # noqa: E402
from ioc.kpi import load_library  # noqa: E402
from ioc.kpi.engine import compute  # noqa: E402
from ioc.kpi.periods import Period, current, previous_period  # noqa: E402
from ioc.kpi.timeseries import compute_series  # noqa: E402
from ioc.queries import ReadModel, VersionedCache  # noqa: E402
from ioc.runs import source_status  # noqa: E402

T = TypeVar("T")


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def timed(runs: int, action: Callable[[], object], *, warm: bool = True) -> float:
    """Median milliseconds of `runs` runs (after one untimed run unless `warm` is False)."""
    if warm:
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def counted(engine: Engine, action: Callable[[], T]) -> tuple[int, T]:
    """(SQL statements the action sent, its result)."""
    count = 0

    def counter(*_: object) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        result = action()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count, result


def statements(engine: Engine, action: Callable[[], object]) -> int:
    return counted(engine, action)[0]


def ensure_a_run(engine: Engine) -> None:
    """The generated data has no connector run: record one so freshness has something to read."""
    with engine.begin() as connection:
        if not connection.execute(text("SELECT EXISTS (SELECT 1 FROM connector_run)")).scalar():
            connection.execute(
                text(
                    "INSERT INTO connector_run (source, connector, status, finished_at) "
                    "VALUES ('demo', 'demo', 'success', now())"
                )
            )


def per_point(
    target: Any, library: Any, kpi_id: str, periods: Sequence[Period], area: str, **options: Any
) -> list[float | None]:
    """The baseline: one `compute` per point (what a series cost before it was grouped)."""
    return [compute(target, library, kpi_id, period, area, **options).value for period in periods]


def ending_at(last: Period, count: int) -> list[Period]:
    periods = [last]
    while len(periods) < count:
        periods.append(previous_period(periods[-1]))
    return periods[::-1]


#: Series compared with one `compute` per point: (KPI, number of points of its grain, rollups on);
#: rollups off is the path of a filter the rollups do not have (a department on the desktop).
SERIES = (
    ("dossiers_received", 36, True),
    ("dossiers_on_time_rate", 36, True),
    ("dossiers_open_overdue", 12, True),
    ("dossiers_open_overdue", 36, True),
    ("dossiers_open_overdue", 12, False),
    ("dossiers_due_soon", 12, True),
    ("incidents_open_overdue", 12, True),
    ("vneid_level2_activations", 12, True),
    ("budget_revenue_ytd", 12, True),
    ("grdp_growth", 12, True),
    ("dvc_accounts_growth", 12, True),
    ("vneid_level2_rate", 12, True),
    ("budget_revenue_vs_plan", 12, True),
)


def bench_series(
    engine: Engine, library: Any, zone: Any, now: datetime, runs: int, baseline_runs: int
) -> None:
    """Each series of SERIES (snapshot, indicator, growth, derived) grouped vs one compute per point."""
    today = now.astimezone(zone).date()
    for kpi_id, count, use_rollups in SERIES:
        kpi = library.get(kpi_id)
        periods = ending_at(current(kpi.grain, today), count)
        options = {"now": now, "zone": zone, "use_rollups": use_rollups}
        grouped = partial(compute_series, engine, library, kpi_id, periods, "66", **options)
        baseline = partial(per_point, engine, library, kpi_id, periods, "66", **options)
        grouped_ms, (grouped_n, values) = timed(runs, grouped), counted(engine, grouped)
        loop_n, expected = counted(engine, baseline)  # also the baseline's untimed first run
        assert values == expected, (kpi_id, values, expected)  # the same numbers, point by point
        loop_ms = timed(baseline_runs, baseline, warm=False)
        print(
            f"series {kpi_id} ({kpi.type}), {count} × {kpi.grain}{'' if use_rollups else ', rollups off'}: "
            f"{grouped_ms:8.1f} ms "
            f"({grouped_n} SQL) vs one compute per point {loop_ms:8.1f} ms ({loop_n} SQL) "
            f"→ {loop_ms / grouped_ms:5.1f}× faster  {load()}"
        )


def bench_scale(rows: int, runs: int, baseline_runs: int) -> None:
    name = "ioc_bench_10m" if rows == 10_000_000 else f"ioc_bench_{rows}"
    url = ensure(name, dossiers=rows, incidents=max(rows // 50, 1000))
    engine = make_engine(url)
    ensure_a_run(engine)
    settings = load_settings(REPO_ROOT / "config.yaml")
    library = load_library(REPO_ROOT / settings.kpi_dir)
    kpis = [kpi.id for kpi in library.headline()]
    now = datetime.now(UTC)
    period = current("month", now.astimezone(settings.zone).date())

    def cold_tiles() -> object:
        model = ReadModel(engine, library, settings, cache=VersionedCache())
        return model.tiles(kpis, area="66", period=period, sparkline=0)

    warm_model = ReadModel(engine, library, settings)
    cold_ms = timed(runs, cold_tiles)
    cold_n = statements(engine, cold_tiles)
    warm_ms = timed(runs, lambda: warm_model.tiles(kpis, area="66", period=period, sparkline=0))
    warm_n = statements(engine, lambda: warm_model.tiles(kpis, area="66", period=period, sparkline=0))
    print(f"\n== {rows:,} dossiers ({name})")
    print(
        f"tiles, {len(kpis)} KPIs, cold (first screen after a load): {cold_ms:8.1f} ms "
        f"{cold_n:3d} SQL  {load()}"
    )
    print(
        f"tiles, {len(kpis)} KPIs, warm (the other screens):        {warm_ms:8.1f} ms "
        f"{warm_n:3d} SQL  {load()}"
    )

    def cold_sparklines() -> object:
        model = ReadModel(engine, library, settings, cache=VersionedCache())
        return model.tiles(kpis, area="66", period=period, sparkline=12)

    spark_ms, spark_n = timed(runs, cold_sparklines), statements(engine, cold_sparklines)
    with mock.patch("ioc.queries.model.compute_series", per_point):
        before_n = statements(engine, cold_sparklines)
        before_ms = timed(baseline_runs, cold_sparklines, warm=False)
    print(
        f"tiles + 12-point sparklines, cold: {spark_ms:8.1f} ms {spark_n:3d} SQL vs one compute per point "
        f"{before_ms:8.1f} ms {before_n:3d} SQL (baseline) → {before_ms / spark_ms:5.1f}× faster  {load()}"
    )

    bench_series(engine, library, settings.zone, now, runs, baseline_runs)
    status_ms = timed(runs, lambda: source_status(engine, settings, datasets=True))
    print(f"ioc status (source_status):                    {status_ms:8.1f} ms  {load()}")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="300000,10000000")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--baseline-runs", type=int, default=3, help="runs of the one-compute-per-point baselines"
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {load()}")
    for rows in (int(value) for value in args.scales.split(",")):
        bench_scale(rows, args.runs, args.baseline_runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
