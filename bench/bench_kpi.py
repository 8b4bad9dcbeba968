"""KPI engine latency per headline KPI at demo scale and at 10 million dossiers, and the cost of
keeping the rollups up to date after a load.

    python bench/bench_kpi.py [--name ioc_bench_10m] [--rows 10000000] [--demo-rows 50000] [--runs 15]
    python bench/bench_kpi.py --by-department [--name ioc_bench_10m] [--department D3]

Demo scale: a scratch database (dropped at the end) with --demo-rows dossiers. Full scale: the shared
database built by `bench/dataset.py` (built first if missing, migrated to head, rollups caught up; the
benchmark reverts every change it makes to it). At full scale it prints:

* the full rollup refresh (the baseline) and the after-load refresh (`rollup.catch_up`) after a load
  changed 1,000 dossiers — recent ones; recent ones and one received two years ago; 1,000 spread over
  the three years — with the seconds per step and the load average beside each figure;
* for every headline KPI, the value from the rollups and from the fact tables at the same fixed `now`
  (they must be equal) and the latency of each (median of --runs on a warm connection).

With --by-department it only reads the shared database as it is (no build, migration or refresh):
the snapshot KPIs (open overdue, due soon) of the current month narrowed to one department — what a
department-scoped staff member asks — and broken down by department, from the open-rows rollup
(migration 0017 made department_code one of its dimensions) and from the fact table (the baseline),
in the same run at the same fixed `now`, median of --runs (rollup) and --raw-runs (raw).

Not part of the test suite.
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
from typing import Any

from sqlalchemy import Engine, text

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench import dataset  # noqa: E402
from ioc.database import make_engine, temporary_database  # noqa: E402
from ioc.kpi import KpiLibrary, load_library  # noqa: E402
from ioc.kpi import rollup as rollups  # noqa: E402
from ioc.kpi.engine import compute  # noqa: E402
from ioc.kpi.periods import LOCAL_TZ  # noqa: E402
from ioc.kpi.result import KpiResult  # noqa: E402
from ioc.migrate import upgrade  # noqa: E402
from ioc.queries.narrow import narrowed  # noqa: E402

CHANGED_BY_A_LOAD = 1_000


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}/{fifteen:.1f}"


def measure(
    engine: Engine, library: KpiLibrary, kpi_ids: list[str], period: str, runs: int, **options: Any
) -> dict[str, tuple[float, KpiResult]]:
    timings = {}
    with engine.connect() as connection:
        for kpi_id in kpi_ids:
            compute(connection, library, kpi_id, period, "66", **options)  # warm-up
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                result = compute(connection, library, kpi_id, period, "66", **options)
                samples.append((time.perf_counter() - started) * 1000)
            timings[kpi_id] = (statistics.median(samples), result)
    return timings


# What a load changes (SQL, as a load's upsert would: the triggers log both images of each row).
RECENT = (
    "SELECT source, code FROM dossier WHERE finished_at IS NULL AND received_at > now() - interval '10 days' "
    "LIMIT :n"
)
TWO_YEARS_AGO = (
    "SELECT source, code FROM dossier WHERE received_at BETWEEN now() - interval '731 days' "
    "AND now() - interval '730 days' LIMIT 1"
)
SPREAD = "SELECT source, code FROM dossier TABLESAMPLE SYSTEM (0.05) LIMIT :n"
CHANGE = """
UPDATE dossier d SET received_at = m.received_at, status = 9, updated_at = now(),
                     finished_at = greatest(coalesce(d.finished_at, now()), m.received_at)
FROM (SELECT source, code, received_at + CASE WHEN received_at < now() - interval '30 days'
                                              THEN interval '1 day' ELSE interval '0' END AS received_at
      FROM bench_changed) m
WHERE d.source = m.source AND d.code = m.code
"""


def change(engine: Engine, *selects: str) -> None:
    """Save, then change, the dossiers the selects pick: finish them; move the old ones a day later
    (a correction: their old days and months lose them, the new ones gain them)."""
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_changed"))
        connection.execute(text("CREATE UNLOGGED TABLE bench_changed AS SELECT * FROM dossier WHERE false"))
        for select in selects:
            connection.execute(
                text(
                    f"INSERT INTO bench_changed SELECT * FROM dossier WHERE (source, code) IN ({select}) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"n": CHANGED_BY_A_LOAD},
            )
        connection.execute(text(CHANGE))


def revert(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE dossier d SET received_at = c.received_at, finished_at = c.finished_at, "
                "status = c.status, updated_at = c.updated_at FROM bench_changed c "
                "WHERE d.source = c.source AND d.code = c.code"
            )
        )
        connection.execute(text("DROP TABLE bench_changed"))
    rollups.catch_up(engine)


def timed_catch_up(engine: Engine) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    steps = rollups.catch_up(engine)
    return time.perf_counter() - started, steps["dossier"]


def full_refresh(engine: Engine) -> float:
    started = time.perf_counter()
    with engine.begin() as connection:
        rollups.refresh(connection)
    return time.perf_counter() - started


def after_a_load(engine: Engine) -> list[tuple[str, float, dict[str, float], str]]:
    with engine.connect() as connection:
        if connection.execute(text("SELECT to_regclass('bench_changed')")).scalar() is not None:
            revert(engine)  # an interrupted run's changes
    scenarios: list[tuple[str, Callable[[], None]]] = [
        (f"{CHANGED_BY_A_LOAD:,} recent dossiers finished", lambda: change(engine, RECENT)),
        (
            f"{CHANGED_BY_A_LOAD - 1:,} recent + 1 received two years ago",
            lambda: change(engine, RECENT.replace(":n", ":n - 1"), TWO_YEARS_AGO),
        ),
        (f"{CHANGED_BY_A_LOAD:,} spread over three years", lambda: change(engine, SPREAD)),
    ]
    figures = []
    for label, make in scenarios:
        make()
        seconds, steps = timed_catch_up(engine)
        figures.append((label, seconds, steps, load()))
        print(f"  after-load refresh, {label}: {seconds:.2f} s ({figures[-1][3]})", flush=True)
        revert(engine)
    return figures


SNAPSHOT_KPIS = ("dossiers_open_overdue", "dossiers_due_soon")


def by_department(engine: Engine, library: KpiLibrary, department: str, runs: int, raw_runs: int) -> int:
    """Snapshot KPIs narrowed to a department and by department: rollup against raw, same `now`."""
    now = datetime.now(UTC)
    period = now.astimezone(LOCAL_TZ).strftime("%Y-%m")
    scoped = narrowed(library, (("department", (department,)),))
    questions = [(f"{kpi_id} department {department}", scoped, kpi_id, None) for kpi_id in SNAPSHOT_KPIS] + [
        (f"{kpi_id} by department", library, kpi_id, "department") for kpi_id in SNAPSHOT_KPIS
    ]
    print(f"period {period}, area 66, at now = {now.isoformat(timespec='seconds')} for both paths")
    header = f"{'question':<44} {'rollup ms':>10} {'raw ms':>10} {'path':>7} {'same':>5}  load (rollup; raw)"
    print(header)
    print("-" * len(header))
    mismatches = 0
    with engine.connect() as connection:
        for label, kpis, kpi_id, breakdown in questions:
            answers = {}
            for use_rollups, count in ((True, runs), (False, raw_runs)):
                options: dict[str, Any] = {"use_rollups": use_rollups, "now": now}
                result = compute(connection, kpis, kpi_id, period, "66", breakdown, **options)  # warm-up
                samples = []
                for _ in range(count):
                    started = time.perf_counter()
                    result = compute(connection, kpis, kpi_id, period, "66", breakdown, **options)
                    samples.append((time.perf_counter() - started) * 1000)
                answers[use_rollups] = (statistics.median(samples), result, load())
            (fast, served, fast_load), (slow, raw, slow_load) = answers[True], answers[False]
            same = served.value == raw.value and [(r.key, r.value) for r in served.rows] == [
                (r.key, r.value) for r in raw.rows
            ]
            mismatches += not same
            print(
                f"{label:<44} {fast:10.1f} {slow:10.1f} {served.path:>7} {'yes' if same else 'NO':>5}  "
                f"{fast_load}; {slow_load}  value {_number(served.value)}"
            )
    print(f"rollup and raw answers differ for {mismatches} question(s)")
    return 0 if mismatches == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--name", default=dataset.SHARED_NAME, help="the shared full-scale database")
    parser.add_argument("--rows", type=int, default=10_000_000, help="dossiers at full scale")
    parser.add_argument("--incidents", type=int, default=200_000, help="incidents at full scale")
    parser.add_argument("--demo-rows", type=int, default=50_000, help="dossiers at demo scale")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per KPI (median)")
    parser.add_argument("--raw-runs", type=int, default=3, help="runs without rollups at full scale")
    parser.add_argument("--admin-url", default=dataset.ADMIN_URL)
    parser.add_argument(
        "--no-full-refresh", action="store_true", help="skip the full-refresh baseline at full scale"
    )
    parser.add_argument(
        "--by-department",
        action="store_true",
        help="only the snapshot KPIs by department on the shared database as it is",
    )
    parser.add_argument("--department", default="D3", help="the department --by-department narrows to")
    args = parser.parse_args()

    library = load_library(REPO_ROOT / "kpi_definitions")
    if args.by_department:
        engine = make_engine(dataset.database_url(args.name, args.admin_url))
        try:
            return by_department(engine, library, args.department, args.runs, args.raw_runs)
        finally:
            engine.dispose()
    headline = [kpi.id for kpi in library.headline()]
    now = datetime.now(UTC)
    period = now.astimezone(LOCAL_TZ).strftime("%Y-%m")

    print(f"demo scale: {args.demo_rows:,} dossiers, {args.demo_rows // 50:,} incidents", flush=True)
    with temporary_database(args.admin_url, prefix="ioc_bench") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            dataset.populate(engine, args.demo_rows, args.demo_rows // 50)
            demo_refresh = dataset.refresh_rollups(engine)
            demo = measure(engine, library, headline, period, args.runs)
        finally:
            engine.dispose()

    url = dataset.ensure(args.name, dossiers=args.rows, incidents=args.incidents, admin_url=args.admin_url)
    engine = make_engine(url)
    try:
        print(f"full scale: {args.name}", flush=True)
        refresh_seconds = float("nan")
        if not args.no_full_refresh:
            refresh_seconds, refresh_load = full_refresh(engine), load()
            print(f"  full refresh: {refresh_seconds:.1f} s ({refresh_load})", flush=True)
        loads = after_a_load(engine)
        now = datetime.now(UTC)  # one moment for both paths: snapshot KPIs move with it
        full = measure(engine, library, headline, period, args.runs, now=now)
        full_load = load()
        raw = measure(engine, library, headline, period, args.raw_runs, use_rollups=False, now=now)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT dossiers FROM bench_dataset")).scalar_one()
            sizes = {
                row.relname: row.n
                for row in connection.execute(
                    text("SELECT relname, n_live_tup AS n FROM pg_stat_user_tables WHERE schemaname = 'kpi'")
                )
            }
    finally:
        engine.dispose()

    print()
    print(f"period {period}, area 66 (province), median of {args.runs} runs, warm connection")
    print(f"rollup refresh: {demo_refresh:.2f} s at demo scale; full {refresh_seconds:.1f} s at {rows:,}")
    print(f"after-load refresh at {rows:,} dossiers (rollup.catch_up), vs the full refresh:")
    for label, seconds, steps, when in loads:
        detail = ", ".join(f"{step} {value:.2f}" for step, value in steps.items() if value >= 0.005)
        print(
            f"  {label:<42} {seconds:6.2f} s  {refresh_seconds / seconds:6.0f}× faster  ({when})  [{detail}]"
        )
    print("rollup rows: " + ", ".join(f"{k} {v:,}" for k, v in sorted(sizes.items())))
    header = (
        f"{'KPI':<30} {'rollup value':>13} {'raw value':>13} {'demo ms':>8} {'full ms':>8} {'ratio':>6} "
        f"{'raw ms':>9} {'path':>7}"
    )
    print(f"at now = {now.isoformat(timespec='seconds')} for both paths; latency {full_load}")
    print(header)
    print("-" * len(header))
    worst, mismatches = 0.0, 0
    for kpi_id in headline:
        demo_ms = demo[kpi_id][0]
        full_ms, result = full[kpi_id]
        raw_ms, raw_result = raw[kpi_id]
        worst = max(worst, full_ms)
        same = result.value == raw_result.value
        mismatches += not same
        print(
            f"{kpi_id:<30} {_number(result.value):>13} {_number(raw_result.value):>13} {demo_ms:8.2f} "
            f"{full_ms:8.2f} {full_ms / demo_ms:6.2f} {raw_ms:9.1f} {result.path:>7}{'' if same else '  ≠'}"
        )
    print(f"slowest headline KPI at {rows:,} dossiers: {worst:.1f} ms (target ≤ 50 ms)")
    print(f"rollup and raw values differ for {mismatches} headline KPI(s)")
    return 0 if worst <= 50 and mismatches == 0 else 1


def _number(value: float | None) -> str:
    return "no data" if value is None else f"{value:,.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
