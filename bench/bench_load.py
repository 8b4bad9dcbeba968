"""Load-path benchmark: N dossiers through `ioc.load.load_batch` vs. `DataFrame.to_sql(method="multi")`
vs. a bare `COPY` into an empty table, all measured in one run on a scratch database.

    python bench/bench_load.py [--rows 1000000] [--batch 100000] [--admin-url postgresql://…/postgres]

Prints rows/s for each and the ratio against the bare COPY (the floor: no validation, no upsert),
with the machine's load average (1, 5, 15 min) next to each timing.
The `to_sql` target is a copy of `dossier` without its indexes — its best case; the other two write
into the real table with its primary key and indexes.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from ioc.database import make_engine, temporary_database
from ioc.load import copy_csv, copy_into, load_batch, table_spec
from ioc.migrate import upgrade

ICT = "Asia/Ho_Chi_Minh"


def synthetic_dossiers(rows: int, seed: int = 7) -> pd.DataFrame:
    """Plausible dossier records (vectorised): 3 years, ~300 procedures, 30 departments, 102 communes."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-09-01 07:30", tz=ICT)  # ends before today: nothing is dated in the future
    received = start + pd.to_timedelta(rng.integers(0, 3 * 365 * 24 * 3600, rows), unit="s")
    processing = pd.to_timedelta(rng.integers(1, 30, rows), unit="D")
    due = received + processing
    finished_mask = rng.random(rows) < 0.85
    finish_delay = pd.to_timedelta(rng.gamma(2.0, 4.0, rows), unit="D")
    finished = pd.Series(received + finish_delay).where(finished_mask)
    status = np.where(finished_mask, rng.choice([9, 10], rows), rng.choice([2, 4, 5], rows))
    return pd.DataFrame(
        {
            "code": [f"000.00.{i % 97:02d}.H13-{i:09d}" for i in range(rows)],
            "procedure_code": np.char.add("1.00", rng.integers(1000, 1300, rows).astype(str)),
            "department_code": np.char.add("SO-", rng.integers(1, 31, rows).astype(str)),
            "org_unit_code": (24000 + rng.integers(0, 102, rows)).astype(str),
            "channel": rng.choice(["online", "in_person", "postal"], rows, p=[0.55, 0.4, 0.05]),
            "received_at": received,
            "due_at": due,
            "finished_at": finished,
            "status": status,
        }
    )


@contextmanager
def scratch_database(admin_url: str) -> Iterator[Engine]:
    with temporary_database(admin_url, prefix="ioc_bench") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


def timed(label: str, fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    outcome = fn()
    elapsed = time.perf_counter() - started
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  {label:<44} {elapsed:8.2f} s   load {load}   {outcome}")
    return elapsed


def bare_copy(engine: Engine, frame: pd.DataFrame) -> str:
    """The floor: the same CSV serialisation, one COPY straight into the empty table, no validation."""
    spec = table_spec("dossier")
    out = frame.assign(source="bench")
    with engine.begin() as connection:
        copy_into(connection, "dossier", tuple(out.columns), copy_csv(out, spec))
    return "copied"


def through_load_path(engine: Engine, frame: pd.DataFrame, batch: int) -> str:
    totals = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for first in range(0, len(frame), batch):
        with engine.begin() as connection:
            result = load_batch(connection, "dossier", frame.iloc[first : first + batch], source="bench")
        for key in totals:
            totals[key] += getattr(result, key)
    return ", ".join(f"{k} {v:,}" for k, v in totals.items())


def through_to_sql(engine: Engine, frame: pd.DataFrame) -> str:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE dossier_to_sql (LIKE dossier INCLUDING DEFAULTS)"))
    frame.assign(source="bench").to_sql(
        "dossier_to_sql", engine, if_exists="append", index=False, method="multi", chunksize=1000
    )
    return "appended"


def truncate(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE dossier"))


def rollup_triggers(engine: Engine, action: str) -> None:
    """ENABLE or DISABLE the statement-level triggers that log changes for the KPI rollups."""
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE dossier {action} TRIGGER USER"))


def every_row_changed(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dossiers with a new status: every row is updated, no rollup column changes."""
    return frame.assign(status=np.where(frame["status"] == 9, 10, 9))


def every_row_moved(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dossiers received a minute later: every row's rollup columns change (both images
    of every row are logged)."""
    return frame.assign(received_at=frame["received_at"] + pd.Timedelta(minutes=1))


def trigger_overhead(engine: Engine, frame: pd.DataFrame, batch: int) -> list[tuple[str, float, float]]:
    """Load path with and without the rollups' change-log triggers: all inserts, then all updates."""
    figures = []
    for label, data in (
        ("all inserts", frame),
        ("every row's status updated", every_row_changed(frame)),
        ("every row's received_at updated", every_row_moved(frame)),
    ):
        seconds = {}
        for action in ("ENABLE", "DISABLE"):
            rollup_triggers(engine, action)
            if data is frame:
                truncate(engine)
            else:
                truncate(engine)
                through_load_path(engine, frame, batch)
            seconds[action] = timed(
                f"load path, {label}, triggers {action.lower()}d",
                lambda data=data: through_load_path(engine, data, batch),
            )
        rollup_triggers(engine, "ENABLE")
        figures.append((label, seconds["ENABLE"], seconds["DISABLE"]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000, help="records per load_batch call")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-to-sql", action="store_true", help="leave out the slow to_sql baseline")
    args = parser.parse_args()

    print(f"Generating {args.rows:,} dossiers…")
    frame = synthetic_dossiers(args.rows)
    rows = len(frame)
    with scratch_database(args.admin_url) as engine:
        print("Timings:")
        copy_s = timed("bare COPY into empty table", lambda: bare_copy(engine, frame))
        truncate(engine)
        load_s = timed(
            "load path, empty table (all inserts)", lambda: through_load_path(engine, frame, args.batch)
        )
        rerun_s = timed(
            "load path, same batches again (no changes)", lambda: through_load_path(engine, frame, args.batch)
        )
        triggers = trigger_overhead(engine, frame, args.batch)
        to_sql_s = None
        if not args.skip_to_sql:
            to_sql_s = timed('DataFrame.to_sql(method="multi")', lambda: through_to_sql(engine, frame))

    print(f"\n{'method':<44} {'rows/s':>12} {'× bare COPY time':>18}")
    results = [
        ("bare COPY (baseline)", copy_s),
        ("load path: validate + COPY + upsert", load_s),
        ("load path: re-run, nothing changes", rerun_s),
    ]
    if to_sql_s is not None:
        results.append(('DataFrame.to_sql(method="multi")', to_sql_s))
    for label, seconds in results:
        print(f"{label:<44} {rows / seconds:>12,.0f} {seconds / copy_s:>17.1f}×")
    print("\nchange-log triggers of the KPI rollups (migrations 0008, 0009, 0012):")
    for label, on, off in triggers:
        print(f"  {label:<32} {on:8.2f} s on, {off:8.2f} s off: {100 * (on / off - 1):+.1f} %")
    if to_sql_s is not None:
        print(f"\nload path is {to_sql_s / load_s:.1f}× faster than to_sql(method='multi').")


if __name__ == "__main__":
    main()
