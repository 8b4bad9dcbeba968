"""Working-day calendar: what `sync` costs at upgrade / `ioc kpi calendar`, and what counting processing
days from the first working day after receipt costs the raw KPI query.

    python bench/bench_calendar.py [--scale 0.25] [--admin-url postgresql://…/postgres]

Baselines in the same run: a plain refill of the calendar table (what `sync` avoids when nothing
changed), and the processing-days sum with the former expression (finish day number − receipt day
number, no day-off start), on the same demo dossiers.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

from demo_setup import demo_arguments, demo_settings  # bench/ is on sys.path when run as a script
from sqlalchemy import Engine, func, select

from ioc.database import make_engine, temporary_database
from ioc.kpi.calendar import configured, fill, sync
from ioc.kpi.datasets import DOSSIER, Frame
from ioc.migrate import upgrade
from ioc.runner import run_source


def timed(action: Callable[[], object], repeat: int = 7) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def processing_days_sum(engine: Engine, former: bool) -> object:
    frame = Frame(DOSSIER)
    if former:
        days = frame.working_day_number("finished_at") - frame.working_day_number("received_at")
    else:
        days = frame.column("processing_days")
    query = (
        select(func.sum(days)).select_from(frame.from_clause()).where(frame.table.c.finished_at.isnot(None))
    )
    with engine.connect() as connection:
        return connection.execute(query).scalar()


def main() -> None:
    args = demo_arguments(__doc__, default_scale=0.25)
    settings = demo_settings(args.scale)
    calendar = configured(settings.calendar)

    with temporary_database(args.admin_url, prefix="ioc_bench") as url:
        engine = make_engine(url)
        upgrade(engine, calendar=settings.calendar)
        run_source(engine, settings, "demo", full=True)
        with engine.connect() as connection:
            dossiers = connection.execute(select(func.count()).select_from(DOSSIER.table)).scalar_one()

        def refill() -> None:
            with engine.begin() as connection:
                fill(connection, calendar)

        def unchanged_sync() -> None:
            with engine.begin() as connection:
                assert not sync(connection, calendar)

        days = len(calendar.days())
        print(f"demo province at scale {args.scale}: {dossiers:,} dossiers; calendar {days:,} days")
        print(f"{'step':<58} {'ms (median of 7)':>16} {'× baseline':>11}  load average")
        pairs = [
            ("calendar: plain refill", refill, "calendar: sync when nothing changed", unchanged_sync),
            (
                "processing days: former expression",
                lambda: processing_days_sum(engine, True),
                "processing days: from the first working day",
                lambda: processing_days_sum(engine, False),
            ),
        ]
        for base_label, base, label, action in pairs:
            base_s = timed(base)
            base_load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            seconds = timed(action)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"{base_label + ' (baseline)':<58} {base_s * 1000:16.1f} {1:10.2f}×  {base_load}")
            print(f"{label:<58} {seconds * 1000:16.1f} {seconds / base_s:10.2f}×  {load}")
        engine.dispose()


if __name__ == "__main__":
    main()
