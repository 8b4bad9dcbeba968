"""Rollups are a cache that is exact or not used: corrections, writes that bypass the runner, a refresh
killed midway, snapshot moments at a fixed `now`. Data: the October dossiers of test_kpi_engine
(hand-computed there: 8 received in October at the province, 7 finished, 5 of them on time)."""

# ruff: noqa: F811  (the fixtures imported from test_kpi_engine are parameters here)
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, event, insert, text

from ioc.kpi import KpiLibrary
from ioc.kpi import rollup as rollups
from ioc.kpi.engine import compute
from ioc.kpi.periods import LOCAL_TZ, parse_period
from ioc.kpi.timeseries import compute_series
from ioc.load import load_batch
from ioc.models import Dossier
from ioc.queries.narrow import Narrowing, narrowed
from ioc.runner import call_hooks
from tests.test_kpi_engine import _dossier, at, dossiers, kdb, library  # noqa: F401 (fixtures)


def value(engine: Engine, library: KpiLibrary, kpi: str, period: str, **options: object) -> tuple[float, str]:
    result = compute(engine, library, kpi, period, "66", **options)  # type: ignore[arg-type]
    return result.value, result.path


def _load(engine: Engine, row: dict[str, object]) -> None:
    """One record through the runner's load path (upsert), then the runner's after-load hook."""
    with engine.begin() as connection:
        load_batch(connection, "dossier", [{k: v for k, v in row.items() if k != "source"}], source="test")
    call_hooks(engine, "test", frozenset({"dossier"}))


def test_a_correction_leaves_its_old_month_and_joins_the_new_one(
    dossiers: Engine, library: KpiLibrary
) -> None:
    with dossiers.begin() as connection:  # loaded a while ago
        connection.execute(text("UPDATE dossier SET updated_at = now() - interval '2 hours'"))
    rollups.catch_up(dossiers)
    assert value(dossiers, library, "dossiers_finished", "2026-10") == (7, "rollup")
    # through the runner's load path: d4 (open) was received on 3/11, not 20/10; then d2 (received
    # 02/10, due 09/10 17:00, finished 12/10: late, 6 working days) was finished on 2/11 in fact
    _load(
        dossiers,
        _dossier("d4", "66001", "online", at("2026-11-03"), at("2026-11-03", "17:00"), None, "SYT", "P2"),
    )
    assert value(dossiers, library, "dossiers_received", "2026-10") == (7, "rollup")
    assert value(dossiers, library, "dossiers_received", "2026-11") == (1, "rollup")
    _load(
        dossiers,
        _dossier("d2", "66001", "in_person", at("2026-10-02"), at("2026-10-09", "17:00"), at("2026-11-02")),
    )
    assert value(dossiers, library, "dossiers_finished", "2026-10") == (6, "rollup")
    assert value(dossiers, library, "dossiers_finished", "2026-11") == (1, "rollup")
    assert value(dossiers, library, "dossiers_on_time_rate", "2026-10") == (pytest.approx(500 / 6), "rollup")
    assert value(dossiers, library, "dossiers_on_time_rate", "2026-11") == (0, "rollup")
    # 4+5+5+6+4+1 working days over the six left in October (d7, d8 received on Saturdays)
    assert value(dossiers, library, "dossiers_avg_processing_days", "2026-10") == (
        pytest.approx(25 / 6),
        "rollup",
    )
    # the day rollups too: d2 left 12/10 and joined 02/11
    assert value(dossiers, library, "dossiers_finished", "2026-10-12")[0] == 0
    assert value(dossiers, library, "dossiers_finished", "2026-11-02")[0] == 1


@pytest.mark.parametrize(
    ("statement", "october", "november"),
    [
        ("UPDATE dossier SET received_at = '2026-11-05 09:00+07' WHERE code = 'd3'", 7, 1),
        ("DELETE FROM dossier WHERE code = 'd4'", 7, 0),
        (
            "INSERT INTO dossier (source, code, org_unit_code, channel, received_at, status) "
            "VALUES ('sql', 'x1', '66002', 'online', '2026-10-31 23:30+07', 1), "
            "('sql', 'x2', '66002', 'online', '2026-11-01 00:30+07', 1)",
            9,
            1,
        ),
    ],
)
def test_a_write_that_bypasses_the_runner_is_never_served_stale(
    dossiers: Engine, library: KpiLibrary, statement: str, october: int, november: int
) -> None:
    rollups.catch_up(dossiers)
    assert value(dossiers, library, "dossiers_received", "2026-10") == (8, "rollup")
    with dossiers.begin() as connection:
        connection.execute(text(statement))
    # no refresh yet: the change log is not empty, the engine reads the facts
    assert value(dossiers, library, "dossiers_received", "2026-10") == (october, "raw")
    assert value(dossiers, library, "dossiers_received", "2026-11") == (november, "raw")
    rollups.catch_up(dossiers)
    assert value(dossiers, library, "dossiers_received", "2026-10") == (october, "rollup")
    assert value(dossiers, library, "dossiers_received", "2026-11") == (november, "rollup")


def test_an_update_of_columns_no_rollup_reads_logs_nothing(dossiers: Engine, library: KpiLibrary) -> None:
    rollups.catch_up(dossiers)
    logged = text("SELECT sign FROM kpi.dossier_change ORDER BY sign")
    with dossiers.begin() as connection:  # the usual correction: a status, returned_at, updated_at
        connection.execute(text("UPDATE dossier SET status = 5, returned_at = now(), updated_at = now()"))
        assert connection.execute(logged).scalars().all() == []
        connection.execute(text("UPDATE dossier SET code = 'd3b' WHERE code = 'd3'"))  # new key: both images
        assert connection.execute(logged).scalars().all() == [-1, 1]
    assert value(dossiers, library, "dossiers_received", "2026-10") == (8, "raw")
    rollups.catch_up(dossiers)
    assert value(dossiers, library, "dossiers_received", "2026-10") == (8, "rollup")


def test_truncate_and_a_calendar_change_make_a_full_rebuild_due(
    dossiers: Engine, library: KpiLibrary
) -> None:
    rollups.catch_up(dossiers)
    with dossiers.begin() as connection:  # a compensatory working Saturday in October: d2 took 7 days
        connection.execute(text("UPDATE kpi.work_calendar SET is_working_day = is_working_day WHERE false"))
    assert rollups.state(dossiers.connect(), "dossier").pending
    assert value(dossiers, library, "dossiers_finished", "2026-10") == (7, "raw")
    rollups.catch_up(dossiers)
    assert value(dossiers, library, "dossiers_finished", "2026-10") == (7, "rollup")
    with dossiers.begin() as connection:  # emptied and loaded again, by hand
        connection.execute(text("CREATE TEMPORARY TABLE saved AS SELECT * FROM dossier"))
        connection.execute(text("TRUNCATE dossier"))
        connection.execute(text("INSERT INTO dossier SELECT * FROM saved"))
    assert value(dossiers, library, "dossiers_finished", "2026-10") == (7, "raw")
    rollups.catch_up(dossiers)
    assert value(dossiers, library, "dossiers_finished", "2026-10") == (7, "rollup")


KILLED_REFRESH = """
import sys
from ioc.database import make_engine
from ioc.kpi import rollup
rollup.after_load(make_engine(sys.argv[1]), "test", frozenset({"dossier"}))
"""


def _wait_for(engine: Engine, query: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(text(query)).scalar():
                return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {query}")


def test_a_refresh_killed_midway_leaves_the_numbers_right(dossiers: Engine, library: KpiLibrary) -> None:
    """kill -9 of the process refreshing after a load: until a later run completes the refresh the
    engine reads the facts; a run that changes nothing completes it."""
    rollups.catch_up(dossiers)
    with dossiers.begin() as connection:
        connection.execute(text("DELETE FROM dossier WHERE code IN ('d1', 'd2')"))  # a load's changes
        # the refresh will stop after its first statement writing a rollup, until it is killed
        connection.execute(text("CREATE TABLE pause_refresh ()"))
        connection.execute(
            text(
                "CREATE FUNCTION pause_refresh() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(120); RETURN NULL; END $$"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER pause_refresh AFTER INSERT ON kpi.dossier_received_day "
                "FOR EACH STATEMENT EXECUTE FUNCTION pause_refresh()"
            )
        )
    url = dossiers.url.render_as_string(hide_password=False)
    worker = subprocess.Popen([sys.executable, "-c", KILLED_REFRESH, url], env=os.environ.copy())
    try:
        sleeping = (
            "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()"
        )
        _wait_for(dossiers, f"SELECT EXISTS ({sleeping})")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        with dossiers.begin() as connection:  # the server ends the dead client's session (rollback)
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM ({sleeping}) s"))
        _wait_for(dossiers, f"SELECT NOT EXISTS ({sleeping})")
    finally:
        if worker.poll() is None:
            worker.kill()
        with dossiers.begin() as connection:
            connection.execute(text("DROP TRIGGER pause_refresh ON kpi.dossier_received_day"))
            connection.execute(text("DROP FUNCTION pause_refresh()"))
            connection.execute(text("DROP TABLE pause_refresh"))
    assert worker.returncode == -signal.SIGKILL
    # October without d1 and d2: 6 received, 5 finished (3 on time: d6, d7, d8; late: d9) + d5
    assert value(dossiers, library, "dossiers_received", "2026-10") == (6, "raw")
    assert value(dossiers, library, "dossiers_finished", "2026-10") == (5, "raw")
    call_hooks(dossiers, "next run, nothing changed", frozenset())
    assert value(dossiers, library, "dossiers_received", "2026-10") == (6, "rollup")
    assert value(dossiers, library, "dossiers_finished", "2026-10") == (5, "rollup")
    assert value(dossiers, library, "dossiers_on_time_rate", "2026-10") == (80, "rollup")


SNAPSHOT_KPIS = ("dossiers_open_overdue", "dossiers_due_soon")
DEPARTMENT_SCOPES: tuple[Narrowing, ...] = (
    (("department", ("SYT",)),),
    (("department", ("SNV",)),),
    (("department", ("SNV", "SYT")),),
)


def test_snapshot_kpis_agree_at_a_fixed_now(kdb: Engine, library: KpiLibrary) -> None:
    """Overdue / due soon at a fixed moment after the refresh (00:30 local, the day after tomorrow):
    the rollup path gives the facts' numbers, deadlines just before and after midnight included."""
    now = datetime.combine(datetime.now(LOCAL_TZ).date() + timedelta(days=2), datetime.min.time(), LOCAL_TZ)
    now += timedelta(minutes=30)
    received = now - timedelta(days=30)
    dues = [
        now - timedelta(days=10),  # overdue
        now - timedelta(hours=1),  # 23:30 the day before: overdue
        now - timedelta(minutes=31),  # 23:59: overdue
        now + timedelta(minutes=30),  # 01:00 the same day: due today, not overdue
        now + timedelta(hours=23),  # 23:30 the same day
        now + timedelta(days=1),
        None,  # no deadline: never overdue
    ]
    departments = ("SNV", "SYT")  # alternately: each department has deadlines on both sides of midnight
    rows = [
        _dossier(f"n{i}", "66001", "online", received, due, None, departments[i % 2])
        for i, due in enumerate(dues)
    ]
    rows = [row | {"updated_at": now} for row in rows]  # the data is as of then
    with kdb.begin() as connection:
        connection.execute(insert(Dossier.__table__), rows)
    period = f"{now.year:04d}-{now.month:02d}"
    questions = [
        (kpi, narrowing, breakdown)
        for kpi in SNAPSHOT_KPIS
        for narrowing in ((), *DEPARTMENT_SCOPES)
        for breakdown in (None, "department")
    ]

    def answers(use_rollups: bool) -> list[tuple[float | None, list[tuple[object, float | None]], str]]:
        out = []
        for kpi, narrowing, breakdown in questions:
            result = compute(
                kdb,
                narrowed(library, narrowing),
                kpi,
                period,
                "66",
                breakdown,
                use_rollups=use_rollups,
                now=now,
            )
            out.append((result.value, [(row.key, row.value) for row in result.rows], result.path))
        return out

    raw = answers(False)
    assert raw[0][0] == 3  # overdue at the province
    assert answers(True) == raw  # no rollup built yet
    rollups.catch_up(kdb)
    assert answers(True) == [(value, rows, "rollup") for value, rows, _ in raw]
    assert answers(False) == raw


def test_a_future_dated_row_keeps_snapshot_kpis_on_the_facts(kdb: Engine, library: KpiLibrary) -> None:
    """A row whose finish lies ahead of the moment asked is open then: the open-rows rollup (rows
    open at the refresh) does not have it, so the engine reads the facts until that moment passes."""
    now = datetime.now(LOCAL_TZ) + timedelta(hours=2)
    received, due = now - timedelta(days=10), now - timedelta(days=2)
    rows = [
        _dossier("open", "66001", "online", received, due, None),
        _dossier("ahead", "66001", "online", received, due, now + timedelta(days=1)),  # finished "tomorrow"
    ]
    later = now + timedelta(days=2)
    rows = [row | {"updated_at": later} for row in rows]  # the data is as of then
    with kdb.begin() as connection:
        connection.execute(insert(Dossier.__table__), rows)
    rollups.catch_up(kdb)
    period = f"{now.year:04d}-{now.month:02d}"
    assert value(kdb, library, "dossiers_open_overdue", period, now=now) == (2, "raw")
    assert value(kdb, library, "dossiers_open_overdue", f"{later.year:04d}-{later.month:02d}", now=later) == (
        1,
        "rollup",
    )


def _by_department(
    engine: Engine, library: KpiLibrary, kpi: str, period: str
) -> tuple[float | None, dict[str | None, float | None]]:
    """The department breakdown of a snapshot KPI, served by the rollup and equal to the raw path's,
    for the province and narrowed to each department scope; returns the province's answer."""
    for narrowing in ((), *DEPARTMENT_SCOPES):
        scoped_library = narrowed(library, narrowing)
        for breakdown in (None, "department"):
            served = compute(engine, scoped_library, kpi, period, "66", breakdown)
            raw = compute(engine, scoped_library, kpi, period, "66", breakdown, use_rollups=False)
            assert served.path == "rollup", (kpi, period, narrowing, breakdown)
            assert raw.path == "raw"
            assert served.value == raw.value, (kpi, period, narrowing, breakdown)
            assert [(r.key, r.value) for r in served.rows] == [(r.key, r.value) for r in raw.rows]
    result = compute(engine, library, kpi, period, "66", "department")
    return result.value, {row.key: row.value for row in result.rows if row.value}


def test_snapshot_kpis_by_department_are_served_by_the_rollup(dossiers: Engine, library: KpiLibrary) -> None:
    """A department-scoped reader's overdue and due-soon tiles, now and at the end of a past month
    (the history of open rows), come from the open-rows rollup (0017: department_code is one of its
    dimensions) with the raw path's numbers; a correction moving a dossier to another department
    moves it in the rollup and its history."""
    _load(
        dossiers, _dossier("d10", "66002", "online", at("2026-10-28"), at("2026-10-30", "17:00"), None, None)
    )
    rollups.catch_up(dossiers)
    this_month = datetime.now(LOCAL_TZ).strftime("%Y-%m")
    # at the end of October (1/11 00:00): d3 (SYT) and d10 (no department) overdue; d4 (SYT) due on
    # Tuesday 3/11, within 3 working days. Now: d3, d4 and d10 overdue.
    assert _by_department(dossiers, library, "dossiers_open_overdue", "2026-10") == (2, {"SYT": 1, None: 1})
    assert _by_department(dossiers, library, "dossiers_due_soon", "2026-10") == (1, {"SYT": 1})
    assert _by_department(dossiers, library, "dossiers_open_overdue", this_month) == (3, {"SYT": 2, None: 1})
    # d3 was in fact handled by SNV: the change log moves it, old image out, new image in
    _load(dossiers, _dossier("d3", "66001", "in_person", at("2026-10-05"), at("2026-10-09", "17:00"), None))
    assert _by_department(dossiers, library, "dossiers_open_overdue", "2026-10") == (
        2,
        {"SNV": 1, None: 1},
    )
    assert _by_department(dossiers, library, "dossiers_open_overdue", this_month) == (
        3,
        {"SNV": 1, "SYT": 1, None: 1},
    )
    for kpi in SNAPSHOT_KPIS:
        _by_department(dossiers, library, kpi, this_month)


def test_a_full_rebuild_leaves_statistics_of_the_rows_it_wrote(dossiers: Engine) -> None:
    """The planner's row estimates of the rebuilt rollups are of their new rows (a migration that
    emptied them left estimates of empty tables: one month start read through the unique key)."""
    rollups.catch_up(dossiers)
    tables = ("dossier_open", "dossier_open_history", "dossier_received_day")
    with dossiers.connect() as connection:
        rows = [
            (
                connection.execute(
                    text(f"SELECT reltuples::bigint FROM pg_class WHERE oid = 'kpi.{t}'::regclass")
                ).scalar(),
                connection.execute(text(f"SELECT count(*) FROM kpi.{t}")).scalar(),
            )
            for t in tables
        ]
    assert len(rows) == 3 and all(estimate == count > 0 for estimate, count in rows), rows


def test_a_departments_numbers_from_the_month_rollups_read_only_its_rows(
    dossiers: Engine, library: KpiLibrary
) -> None:
    """Narrowed to a department, the rollup query filters its rows in WHERE (an index serves it)
    and gives the raw path's numbers: also for a department without any dossier that quarter (a
    count of nothing is 0; a sum, a ratio or an average over nothing is "no data"), and as a series."""
    rollups.catch_up(dossiers)
    kpis = ("dossiers_received", "dossiers_on_time_rate", "dossiers_avg_processing_days")
    statements: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    for department, expected in (
        ("SYT", (3, 100.0, None)),  # d3, d4, d6 received; d6 finished on time; its days: below
        ("NOPE", (0, None, None)),
    ):
        scoped_library = narrowed(library, (("department", (department,)),))
        event.listen(dossiers, "before_cursor_execute", capture)
        try:
            found = [compute(dossiers, scoped_library, kpi, "2026-Q4", "66") for kpi in kpis]
        finally:
            event.remove(dossiers, "before_cursor_execute", capture)
        raw = [compute(dossiers, scoped_library, kpi, "2026-Q4", "66", use_rollups=False) for kpi in kpis]
        assert [result.path for result in found] == ["rollup"] * 3
        assert [result.value for result in found] == pytest.approx([result.value for result in raw])
        assert found[0].value == expected[0] and found[1].value == (
            None if expected[1] is None else pytest.approx(expected[1])
        )
        if department == "NOPE":
            assert found[2].value is None
        month_queries = [s for s in statements if "dossier_received_month" in s or "finished_month" in s]
        assert month_queries
        for statement in month_queries:  # in WHERE, not in each aggregate's FILTER
            aggregates, where = statement.rsplit("\nWHERE", 1)
            assert "department_code" in where and "department_code" not in aggregates, statement
        statements.clear()
        months = [parse_period(f"2026-{month:02d}") for month in (8, 9, 10, 11)]
        assert compute_series(dossiers, scoped_library, "dossiers_received", months, "66") == pytest.approx(
            [0.0, 0.0, float(expected[0]), 0.0]
        )
