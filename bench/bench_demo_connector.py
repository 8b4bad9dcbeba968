"""Demo connector: records/s of generation alone and of generation + load through the runner.

    python bench/bench_demo_connector.py [--scale 1.0] [--admin-url postgresql://…/postgres]

Baseline in the same run: the demo's generation alone (what the load path adds is the difference).
"""

from __future__ import annotations

import time

from demo_setup import demo_arguments, demo_settings  # bench/ is on sys.path when run as a script

from connectors.demo import build_demo
from ioc.database import make_engine, temporary_database
from ioc.migrate import upgrade
from ioc.runner import run_source


def main() -> None:
    args = demo_arguments(__doc__, default_scale=1.0)
    settings = demo_settings(args.scale)

    started = time.perf_counter()
    data = build_demo(settings)
    generate_s = time.perf_counter() - started
    rows = sum(len(getattr(data, table)) for table in data.TABLES)

    with temporary_database(args.admin_url, prefix="ioc_bench") as url:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        first = run_source(engine, settings, "demo", full=True)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        again = run_source(engine, settings, "demo", full=True)
        reload_s = time.perf_counter() - started
        engine.dispose()

    print(f"demo province at scale {args.scale}: {rows:,} records ({first.rows_inserted:,} inserted)")
    print(f"{'step':<46} {'seconds':>8} {'records/s':>12} {'× generation':>13}")
    for label, seconds in (
        ("generation only (baseline)", generate_s),
        ("generation + load via the runner (+ rollups)", load_s),
        ("same run again (0 changes expected)", reload_s),
    ):
        print(f"{label:<46} {seconds:8.2f} {rows / seconds:12,.0f} {seconds / generate_s:12.1f}×")
    print(f"second run changed {again.rows_inserted + again.rows_updated:,} rows")


if __name__ == "__main__":
    main()
