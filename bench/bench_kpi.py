"""KPI engine latency per headline KPI at demo scale and at 10 million dossiers.

    python bench/bench_kpi.py [--rows 10000000] [--demo-rows 50000] [--runs 15]

Creates a scratch database on the local server (dropped at the end), migrates it, generates areas,
departments, procedures, dossiers (generate_series in SQL), incidents and indicator series, refreshes
the KPI rollups and times `ioc.kpi.engine.compute` for every headline KPI (median of --runs runs on a
warm connection), first at demo scale and then at --rows. Prints a table and the ratios. Not part of
the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, make_url, text

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from ioc.database import make_engine  # noqa: E402
from ioc.kpi import load_library  # noqa: E402
from ioc.kpi import rollup as rollups  # noqa: E402
from ioc.kpi.engine import compute  # noqa: E402
from ioc.kpi.periods import LOCAL_TZ  # noqa: E402
from ioc.migrate import upgrade  # noqa: E402

COMMUNES = 102
DEPARTMENTS = 20
PROCEDURES = 300

REFERENCE_SQL = f"""
INSERT INTO org_unit (code, name, kind, level, parent_code) VALUES ('66', 'Tỉnh Đắk Lắk', 'tỉnh', 1, NULL);
INSERT INTO org_unit (code, name, kind, level, parent_code)
  SELECT '66' || lpad(g::text, 3, '0'), 'Xã ' || g, 'xã', 2, '66' FROM generate_series(1, {COMMUNES}) g;
INSERT INTO department (code, name, kind)
  SELECT 'D' || g, 'Sở ' || g, 'so' FROM generate_series(0, {DEPARTMENTS - 1}) g;
INSERT INTO procedure (code, name, department_code, processing_days)
  SELECT 'P' || g, 'Thủ tục ' || g, 'D' || (g % {DEPARTMENTS}), 3 + g % 13
  FROM generate_series(0, {PROCEDURES - 1}) g;
"""

# Dossiers over the 3 years before now: 90 % of those older than their deadline finished (85 % of
# them on time), the rest open; channels 60 % online, 35 % in person, 5 % postal.
DOSSIER_SQL = f"""
INSERT INTO dossier (source, code, procedure_code, department_code, org_unit_code, channel,
                     received_at, due_at, finished_at, status, supplement_count, updated_at)
SELECT 'bench', 'H' || g, 'P' || p, 'D' || (p % {DEPARTMENTS}),
       '66' || lpad((1 + (g::bigint * 7919) % {COMMUNES})::text, 3, '0'),
       CASE WHEN c < 0.60 THEN 'online' WHEN c < 0.95 THEN 'in_person' ELSE 'postal' END,
       received, due,
       CASE WHEN f < 0.90 AND received + (due - received) * fin_share <= now()
            THEN received + (due - received) * fin_share END,
       4, (r * 10)::int % 3, received
FROM (
  SELECT g, p, c, f, r, received, received + make_interval(days => 3 + p % 13) AS due,
         CASE WHEN r < 0.85 THEN 0.2 + r * 0.9 ELSE 1.05 + r END AS fin_share
  FROM (
    SELECT g, (random() * {PROCEDURES - 1})::int AS p, random() AS c, random() AS f, random() AS r,
           now() - make_interval(secs => random() * 3 * 365 * 86400) AS received
    FROM generate_series(:first, :last) g
  ) raw
) d
"""

INCIDENT_SQL = f"""
INSERT INTO incident (source, external_id, category, org_unit_code, reported_at, due_at, closed_at,
                      status, severity)
SELECT 'bench', 'I' || g,
       (ARRAY['field_report','traffic_accident','public_order','infosec','fire'])[1 + g % 5],
       '66' || lpad((1 + g % {COMMUNES})::text, 3, '0'), reported, reported + interval '3 days',
       CASE WHEN random() < 0.9 AND reported + interval '2 days' * random() * 2 <= now()
            THEN reported + interval '2 days' * random() * 2 END,
       'open', 1 + g % 3
FROM (SELECT g, now() - make_interval(secs => random() * 3 * 365 * 86400) AS reported
      FROM generate_series(1, :n) g) i;
UPDATE incident SET status = 'closed' WHERE closed_at IS NOT NULL;
"""

INDICATOR_SQL = f"""
INSERT INTO indicator_observation (source, indicator, org_unit_code, grain, period_start, period, value)
SELECT 'bench', 'vneid_level2', '66' || lpad(c::text, 3, '0'), 'month', m::date, to_char(m, 'YYYY-MM'),
       1000 + c * 10 + extract(epoch FROM m - date '2024-01-01') / 86400
FROM generate_series(1, {COMMUNES}) c,
     generate_series(date '2024-01-01', date_trunc('month', now()), interval '1 month') m;
INSERT INTO indicator_observation (source, indicator, org_unit_code, grain, period_start, period, value)
SELECT 'bench', 'vneid_target', '66' || lpad(c::text, 3, '0'), 'year', make_date(y, 1, 1), y::text, 3000
FROM generate_series(1, {COMMUNES}) c, generate_series(2024, 2026) y;
INSERT INTO indicator_observation (source, indicator, org_unit_code, grain, period_start, period, value)
SELECT 'bench', 'budget_revenue', '66', 'month', m::date, to_char(m, 'YYYY-MM'), 1500 + random() * 300
FROM generate_series(date '2024-01-01', date_trunc('month', now()), interval '1 month') m;
INSERT INTO indicator_observation (source, indicator, org_unit_code, grain, period_start, period, value)
SELECT 'bench', 'budget_revenue_plan', '66', 'year', make_date(y, 1, 1), y::text, 20000
FROM generate_series(2024, 2026) y;
INSERT INTO indicator_observation (source, indicator, org_unit_code, grain, period_start, period, value)
SELECT 'bench', 'grdp_growth', '66', 'quarter', q::date,
       to_char(q, 'YYYY') || '-Q' || extract(quarter FROM q), 6 + random() * 3
FROM generate_series(date '2024-01-01', date '2026-07-01', interval '3 months') q;
"""


def _sql(engine: Engine, statements: str, **params: int) -> None:
    with engine.begin() as connection:
        for statement in statements.split(";\n"):
            if statement.strip():
                connection.execute(text(statement), params)


def generate_dossiers(engine: Engine, first: int, rows: int, chunk: int = 1_000_000) -> None:
    done = 0
    while done < rows:
        size = min(chunk, rows - done)
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(text(DOSSIER_SQL), {"first": first + done, "last": first + done + size - 1})
        done += size
        print(f"  dossiers: {first + done - 1:>11,} ({time.perf_counter() - started:.1f} s)", flush=True)


def measure(engine: Engine, library, kpi_ids: list[str], period: str, runs: int, **options) -> dict:  # type: ignore[no-untyped-def]
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


CHANGED_BY_A_LOAD = 1_000


def after_a_load(engine: Engine) -> float:
    """What a load's hook costs: finish some recent open dossiers, then time the runner's refresh."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE dossier SET finished_at = now(), status = 9, updated_at = now() "
                "WHERE code IN (SELECT code FROM dossier WHERE finished_at IS NULL "
                "AND received_at > now() - interval '10 days' LIMIT :n)"
            ),
            {"n": CHANGED_BY_A_LOAD},
        )
    started = time.perf_counter()
    rollups.after_load(engine, "bench", frozenset({"dossier"}))
    return time.perf_counter() - started


def refresh(engine: Engine) -> float:
    started = time.perf_counter()
    with engine.begin() as connection:
        rollups.refresh(connection)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="dossiers at full scale")
    parser.add_argument("--demo-rows", type=int, default=50_000, help="dossiers at demo scale")
    parser.add_argument("--incidents", type=int, default=200_000, help="incidents at full scale")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per KPI (median)")
    parser.add_argument(
        "--raw-runs", type=int, default=3, help="runs without rollups at full scale (0: skip)"
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    library = load_library(REPO_ROOT / "kpi_definitions")
    headline = [kpi.id for kpi in library.headline()]
    period = datetime.now(LOCAL_TZ).strftime("%Y-%m")

    name = f"ioc_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(admin.url).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        _sql(engine, REFERENCE_SQL)
        _sql(engine, INDICATOR_SQL)
        print(f"demo scale: {args.demo_rows:,} dossiers, {args.demo_rows // 50:,} incidents", flush=True)
        generate_dossiers(engine, 1, args.demo_rows)
        _sql(engine, INCIDENT_SQL, n=args.demo_rows // 50)
        demo_refresh = refresh(engine)
        demo = measure(engine, library, headline, period, args.runs)

        extra = args.rows - args.demo_rows
        print(f"full scale: {args.rows:,} dossiers, {args.incidents:,} incidents", flush=True)
        started = time.perf_counter()
        generate_dossiers(engine, args.demo_rows + 1, extra)
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE incident"))
        _sql(engine, INCIDENT_SQL, n=args.incidents)
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
        full_refresh = refresh(engine)
        incremental_refresh = after_a_load(engine)
        full = measure(engine, library, headline, period, args.runs)
        raw = (
            measure(engine, library, headline, period, args.raw_runs, use_rollups=False)
            if args.raw_runs
            else {}
        )
        with engine.connect() as connection:
            sizes = {
                row.relname: row.n
                for row in connection.execute(
                    text("SELECT relname, n_live_tup AS n FROM pg_stat_user_tables WHERE schemaname = 'kpi'")
                )
            }
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print()
    print(f"period {period}, area 66 (province), median of {args.runs} runs, warm connection")
    print(f"rollup refresh: {demo_refresh:.2f} s at demo scale, {full_refresh:.1f} s at {args.rows:,}")
    print(
        f"refresh after a load that finished {CHANGED_BY_A_LOAD:,} recent dossiers: "
        f"{incremental_refresh:.1f} s at {args.rows:,} "
        f"({full_refresh / incremental_refresh:.1f}× faster than a full refresh)"
    )
    print("rollup rows: " + ", ".join(f"{k} {v:,}" for k, v in sorted(sizes.items())))
    header = f"{'KPI':<32} {'value':>14} {'demo ms':>9} {'full ms':>9} {'ratio':>6} {'raw ms':>9} {'path':>8}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for kpi_id in headline:
        demo_ms = demo[kpi_id][0]
        full_ms, result = full[kpi_id]
        worst = max(worst, full_ms)
        raw_ms = f"{raw[kpi_id][0]:9.1f}" if kpi_id in raw else f"{'-':>9}"
        value = "no data" if result.value is None else f"{result.value:,.1f}"
        print(
            f"{kpi_id:<32} {value:>14} {demo_ms:9.2f} {full_ms:9.2f} {full_ms / demo_ms:6.2f} {raw_ms} "
            f"{result.path:>8}"
        )
    print(f"slowest headline KPI at {args.rows:,} dossiers: {worst:.1f} ms (target ≤ 50 ms)")
    return 0 if worst <= 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
