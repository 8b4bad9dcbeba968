"""Read model latency: one wall screen's tiles, a 36-point series and `ioc status`, at demo scale and 10M.

    python bench/bench_queries.py [--scales 300000,10000000] [--runs 15]

Uses the shared benchmark databases of bench/dataset.py (built once and kept; 10M takes ~15 min the
first time). For each scale it prints, with the load average beside every figure:

* tiles of the headline KPIs (one wall screen, ~12 KPIs, sparklines off) computed cold (a new cache:
  what the first of 36 screens pays after a load) and warm (the cache hit the other 35 get), with
  the number of SQL statements each sends;
* a 36-month series in one grouped query against the baseline of one `compute` per point;
* `ioc status` (source_status) — connector_run only.

Medians of --runs runs; the database is warm (one untimed run first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, event, text

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.dataset import ensure  # noqa: E402
from ioc.config import load_settings  # noqa: E402
from ioc.database import make_engine  # noqa: E402
from ioc.kpi import load_library  # noqa: E402
from ioc.kpi.engine import compute  # noqa: E402
from ioc.kpi.periods import current, previous_period  # noqa: E402
from ioc.kpi.timeseries import compute_series  # noqa: E402
from ioc.queries import ReadModel, VersionedCache  # noqa: E402
from ioc.runs import source_status  # noqa: E402


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def timed(runs: int, action: Callable[[], object]) -> float:
    action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def statements(engine: Engine, action: Callable[[], object]) -> int:
    count = 0

    def counter(*_: object) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


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


def bench_scale(rows: int, runs: int) -> None:
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

    months = [period]
    while len(months) < 36:
        months.append(previous_period(months[-1]))
    months.reverse()
    for kpi_id in ("dossiers_received", "dossiers_on_time_rate"):
        grouped_ms = timed(runs, lambda k=kpi_id: compute_series(engine, library, k, months, "66", now=now))
        grouped_n = statements(
            engine, lambda k=kpi_id: compute_series(engine, library, k, months, "66", now=now)
        )
        loop_ms = timed(
            max(3, runs // 5),
            lambda k=kpi_id: [compute(engine, library, k, m, "66", now=now).value for m in months],
        )
        print(
            f"series {kpi_id}, 36 months: grouped {grouped_ms:7.1f} ms ({grouped_n} SQL) vs one compute per "
            f"point {loop_ms:7.1f} ms (baseline) → {loop_ms / grouped_ms:5.1f}× faster  {load()}"
        )
    status_ms = timed(runs, lambda: source_status(engine, settings, datasets=True))
    print(f"ioc status (source_status):                    {status_ms:8.1f} ms  {load()}")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="300000,10000000")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {load()}")
    for rows in (int(value) for value in args.scales.split(",")):
        bench_scale(rows, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
