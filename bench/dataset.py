"""The benchmark dataset: a province with N dossiers over the 3 years before the build, incidents and
indicator series, generated in SQL (generate_series), migrated and with the KPI rollups refreshed.

    python bench/dataset.py [--name ioc_bench_10m] [--rows 10000000] [--incidents 200000] [--rebuild]

`ensure()` builds the named database on the local server only when it doesn't exist or is incomplete
(no row in its `bench_dataset` marker table), and keeps it: the 10-million-dossier database
`ioc_bench_10m` is shared by every benchmark (KPI engine, wall, desktop screens). It is built under a
temporary name and renamed when complete, so a reader never sees it half-built; an advisory lock on
the server keeps two builders from building it at once. Benchmarks that need newer tables apply the
migrations themselves (`ioc.migrate.upgrade`); its dates are relative to the build time
(`bench_dataset.built_at`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, make_url, text

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ioc.database import make_engine, normalise_url  # noqa: E402
from ioc.kpi import rollup as rollups  # noqa: E402
from ioc.migrate import upgrade  # noqa: E402

SHARED_NAME = "ioc_bench_10m"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
#: Advisory lock (on the admin database, with the name's hash) held while a dataset is being built.
BUILD_LOCK_KEY = 0x10C_BE

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


MARKER_SQL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
  name text PRIMARY KEY, dossiers bigint NOT NULL, incidents bigint NOT NULL,
  built_at timestamptz NOT NULL, completed_at timestamptz NOT NULL
)
"""


def populate(engine: Engine, dossiers: int, incidents: int, *, first: int = 1) -> None:
    """Reference data, indicators (on an empty database: first == 1), dossiers first..first+N-1 and
    `incidents` incidents (replacing any)."""
    if first == 1:
        _sql(engine, REFERENCE_SQL)
        _sql(engine, INDICATOR_SQL)
    generate_dossiers(engine, first, dossiers)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE incident"))
    _sql(engine, INCIDENT_SQL, n=incidents)


def refresh_rollups(engine: Engine) -> float:
    """Full rollup refresh and ANALYZE; seconds taken."""
    started = time.perf_counter()
    with engine.begin() as connection:
        rollups.refresh(connection)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


def database_url(name: str, admin_url: str = ADMIN_URL) -> str:
    return make_url(normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False)


def _exists(admin: Connection, name: str) -> bool:
    found = admin.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    return found is not None


def is_complete(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if connection.execute(text("SELECT to_regclass('public.bench_dataset')")).scalar() is None:
                return False
            return connection.execute(text("SELECT count(*) FROM bench_dataset")).scalar_one() > 0
    finally:
        engine.dispose()


def _triggers(engine: Engine, action: str) -> None:
    with engine.begin() as connection:
        for table in ("dossier", "incident"):
            connection.execute(text(f"ALTER TABLE {table} {action} TRIGGER USER"))


def build(url: str, name: str, dossiers: int, incidents: int) -> None:
    """Migrate, populate, refresh the rollups and write the completion marker (last)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        with engine.connect() as connection:
            built_at = connection.execute(text("SELECT now()")).scalar_one()
        _triggers(engine, "DISABLE")  # no change log while generating: the rollups are built after
        populate(engine, dossiers, incidents)
        _triggers(engine, "ENABLE")
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"  rollups refreshed in {refresh_rollups(engine):.0f} s", flush=True)
        with engine.begin() as connection:
            connection.execute(text(MARKER_SQL))
            connection.execute(
                text(
                    "INSERT INTO bench_dataset VALUES (:name, :d, :i, :built_at, now()) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                {"name": name, "d": dossiers, "i": incidents, "built_at": built_at},
            )
    finally:
        engine.dispose()


def bring_up_to_date(url: str) -> None:
    """Migrate to head and catch the rollups up (a full rebuild when a migration emptied them)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        rollups.catch_up(engine)
        if (seconds := time.perf_counter() - started) > 5:
            print(f"  rollups caught up in {seconds:.0f} s", flush=True)
    finally:
        engine.dispose()


def ensure(
    name: str = SHARED_NAME,
    *,
    dossiers: int = 10_000_000,
    incidents: int = 200_000,
    admin_url: str = ADMIN_URL,
    rebuild: bool = False,
) -> str:
    """The URL of database `name`, built first if it is missing or incomplete (or `rebuild`),
    migrated to head, its rollups up to date."""
    url = database_url(name, admin_url)
    building = f"{name}_building"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_advisory_lock(:k, hashtext(:n))"), {"k": BUILD_LOCK_KEY, "n": name}
            )
            try:
                if _exists(connection, name) and not rebuild and is_complete(url):
                    bring_up_to_date(url)
                    return url
                print(f"building {name}: {dossiers:,} dossiers, {incidents:,} incidents", flush=True)
                connection.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{building}"'))
                build(database_url(building, admin_url), name, dossiers, incidents)
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                connection.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
                print(f"{name} ready", flush=True)
                return url
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:k, hashtext(:n))"), {"k": BUILD_LOCK_KEY, "n": name}
                )
    finally:
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--name", default=SHARED_NAME)
    parser.add_argument("--rows", type=int, default=10_000_000, help="dossiers")
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--rebuild", action="store_true", help="build again even if complete")
    args = parser.parse_args()
    url = ensure(
        args.name,
        dossiers=args.rows,
        incidents=args.incidents,
        admin_url=args.admin_url,
        rebuild=args.rebuild,
    )
    print(make_url(url).render_as_string(hide_password=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
