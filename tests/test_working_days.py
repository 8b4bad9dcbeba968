"""The working-day calendar: compensatory working days (ngày làm bù), receipts on days off, config.

Hand-computed (2026): Saturday 22/08 is worked instead of Monday 31/08 (the `holidays` package knows
it); 18/10 is a Sunday, 19–23/10 a plain working week.

| code | received           | finished         | processing days                                   |
|------|--------------------|------------------|---------------------------------------------------|
| s1   | Fri 21/08 10:00    | Mon 24/08 09:00  | 2: Sat 22/08 (làm bù) and Mon 24/08               |
| s2   | Sun 18/10 (online) | Mon 19/10 15:00  | 0: counted from Monday, finished that day         |
| s3   | Sun 18/10 (online) | Wed 21/10 10:00  | 2: (Mon 19, Wed 21] = 20, 21                      |
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text
from typer.testing import CliRunner

from ioc.cli import app
from ioc.config import CalendarConfig
from ioc.kpi import KpiLibrary, load_library
from ioc.kpi import rollup as rollups
from ioc.kpi.calendar import configured, fill, stored_years, sync
from ioc.kpi.engine import compute
from ioc.kpi.periods import LOCAL_TZ
from ioc.models import Dossier
from ioc.workdays import WorkCalendar
from tests.kpi_support import province_without_rollups

REPO_ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 10, tzinfo=LOCAL_TZ)


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=LOCAL_TZ)


# ------------------------------------------------------------------------------------- pure calendar


@pytest.mark.parametrize("saturday", [date(2024, 5, 4), date(2025, 4, 26), date(2026, 8, 22)])
def test_compensatory_saturdays_are_working_days(saturday: date) -> None:
    calendar = WorkCalendar(saturday.year, saturday.year)
    assert saturday.weekday() == 5
    assert calendar.is_working_day(saturday)
    assert calendar.label(saturday) == "Ngày làm bù"


def test_compensatory_saturday_counts_in_deadlines() -> None:
    calendar = WorkCalendar(2026, 2026)
    assert not calendar.is_working_day(date(2026, 8, 31))  # the bridge day it pays for
    assert calendar.working_days_between(date(2026, 8, 21), date(2026, 8, 24)) == 2
    assert calendar.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert calendar.deadline(date(2026, 8, 22), 1) == date(2026, 8, 24)  # received on it: a working day
    # Fri 28/08 + 2 working days: 31/08, 1/09 and 2/09 are off → Thu 03/09, Fri 04/09
    assert calendar.add_working_days(date(2026, 8, 28), 2) == date(2026, 9, 4)


def test_receipt_on_a_sunday_counts_from_monday() -> None:
    calendar = WorkCalendar(2026, 2026)
    assert calendar.first_working_day(date(2026, 10, 18)) == date(2026, 10, 19)
    assert calendar.deadline(date(2026, 10, 18), 3) == date(2026, 10, 22)  # Tue, Wed, Thu after Monday
    assert calendar.deadline(date(2026, 10, 19), 3) == date(2026, 10, 22)  # as if received on Monday
    assert calendar.deadline(date(2026, 10, 16), 3) == date(2026, 10, 21)  # Friday: Mon, Tue, Wed
    assert calendar.processing_days(date(2026, 10, 18), date(2026, 10, 19)) == 0
    assert calendar.processing_days(date(2026, 10, 18), date(2026, 10, 21)) == 2
    assert calendar.processing_days(date(2026, 10, 18), date(2026, 10, 18)) == 0  # ended on the day off


def test_config_days_off_and_working_days() -> None:
    config = CalendarConfig.model_validate(
        {"extra_days_off": ["2026-10-20"], "extra_working_days": ["2026-10-24"]}
    )
    calendar = WorkCalendar.from_config(config, [2026])
    assert not calendar.is_working_day(date(2026, 10, 20))  # a Tuesday
    assert calendar.is_working_day(date(2026, 10, 24))  # a Saturday
    assert calendar.deadline(date(2026, 10, 19), 3) == date(2026, 10, 23)  # 21, 22, 23
    assert calendar.deadline(date(2026, 10, 22), 2) == date(2026, 10, 24)  # 23, 24
    alias = CalendarConfig.model_validate({"extra_holidays": ["2026-10-20"]})  # the old key still works
    assert alias.extra_days_off == ("2026-10-20",)
    with pytest.raises(ValueError, match="2026-10-20 listed both"):
        CalendarConfig(extra_days_off=("2026-10-20",), extra_working_days=("2026-10-20",))


# ------------------------------------------------------------------------------------- in Postgres


@pytest.fixture(scope="module")
def library() -> KpiLibrary:
    return load_library(REPO_ROOT / "kpi_definitions")


def _dossier(code: str, received: datetime, finished: datetime) -> dict[str, object]:
    return {
        "source": "test",
        "code": code,
        "org_unit_code": "66001",
        "channel": "online",
        "received_at": received,
        "due_at": None,
        "finished_at": finished,
        "status": 10,
    }


@pytest.fixture
def wdb(db: Engine) -> Iterator[Engine]:
    """Three finished dossiers; the default calendar again after the test (the table is shared)."""
    with province_without_rollups(db):
        with db.begin() as connection:
            sync(connection, configured())
            connection.execute(
                insert(Dossier.__table__),
                [
                    _dossier("s1", at("2026-08-21", "10:00"), at("2026-08-24")),
                    _dossier("s2", at("2026-10-18", "20:00"), at("2026-10-19", "15:00")),
                    _dossier("s3", at("2026-10-18", "20:00"), at("2026-10-21", "10:00")),
                ],
            )
        yield db
        with db.begin() as connection:
            sync(connection, configured())


def _calendar_day(engine: Engine, day: date) -> tuple[bool, str | None]:
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT is_working_day, holiday FROM kpi.work_calendar WHERE day = :day"), {"day": day}
        ).one()
    return row[0], row[1]


def _avg_days(engine: Engine, library: KpiLibrary, period: str, use_rollups: bool) -> float | None:
    result = compute(
        engine, library, "dossiers_avg_processing_days", period, "66", use_rollups=use_rollups, now=NOW
    )
    assert result.path == ("rollup" if use_rollups else "raw")
    return result.value


def test_the_calendar_table_knows_compensatory_days(wdb: Engine) -> None:
    assert _calendar_day(wdb, date(2026, 8, 22)) == (True, "Ngày làm bù")
    assert _calendar_day(wdb, date(2024, 5, 4)) == (True, "Ngày làm bù")
    assert _calendar_day(wdb, date(2026, 8, 29))[0] is False  # an ordinary Saturday


@pytest.mark.parametrize("use_rollups", [False, True])
def test_processing_days_count_compensatory_saturdays_and_start_after_a_sunday(
    wdb: Engine, library: KpiLibrary, use_rollups: bool
) -> None:
    if use_rollups:
        with wdb.begin() as connection:
            rollups.refresh(connection)
    assert _avg_days(wdb, library, "2026-08", use_rollups) == pytest.approx(2)  # s1
    assert _avg_days(wdb, library, "2026-10", use_rollups) == pytest.approx((0 + 2) / 2)  # s2, s3


def test_ioc_kpi_calendar_reads_extra_days_off_and_refreshes_rollups(
    wdb: Engine, library: KpiLibrary, tmp_path: Path, database_env: str
) -> None:
    with wdb.begin() as connection:
        rollups.refresh(connection)
    assert _avg_days(wdb, library, "2026-10", use_rollups=True) == pytest.approx(1)
    config = tmp_path / "config.yaml"
    config.write_text(
        "province:\n  code: '66'\ncalendar:\n  extra_days_off: ['2026-10-20']\n", encoding="utf-8"
    )
    cli = CliRunner()
    result = cli.invoke(app, ["--config", str(config), "kpi", "calendar"])
    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.output
    assert _calendar_day(wdb, date(2026, 10, 20)) == (False, "Ngày nghỉ (cấu hình)")
    # s3: (Mon 19, Wed 21] now holds Wednesday only
    assert _avg_days(wdb, library, "2026-10", use_rollups=True) == pytest.approx((0 + 1) / 2)
    assert _avg_days(wdb, library, "2026-10", use_rollups=False) == pytest.approx((0 + 1) / 2)
    again = cli.invoke(app, ["--config", str(config), "kpi", "calendar"])
    assert again.exit_code == 0 and "unchanged" in again.output
    # the old key name reads the same
    config.write_text(
        "province:\n  code: '66'\ncalendar:\n  extra_holidays: ['2026-10-20']\n", encoding="utf-8"
    )
    assert "unchanged" in cli.invoke(app, ["--config", str(config), "kpi", "calendar"]).output


def test_ioc_db_upgrade_makes_the_calendar_follow_the_config(
    wdb: Engine, tmp_path: Path, database_env: str
) -> None:
    with wdb.begin() as connection:
        fill(connection, configured(None, (2020, 2030)))  # a range an operator chose
    config = tmp_path / "config.yaml"
    config.write_text(
        "province:\n  code: '66'\ncalendar:\n  extra_days_off: ['2026-10-20']\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["--config", str(config), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _calendar_day(wdb, date(2026, 10, 20)) == (False, "Ngày nghỉ (cấu hình)")
    with wdb.connect() as connection:
        assert stored_years(connection) == (2020, 2030)
