"""Date-only due dates (`NgayHenTra` = `20261019`) mean the end of that local day, on every path.

Hand-computed cases (local time, Asia/Ho_Chi_Minh), loaded through the DVCQG parser and the loader
into Postgres, then asked of the real KPI engine with and without rollups:

| code | NgayHenTra     | finished          | on time?                                  |
|------|----------------|-------------------|-------------------------------------------|
| a    | 20261019       | 19/10/2026 21:30  | yes: due 19/10 23:59:59.999999            |
| b    | 20261019       | 20/10/2026 08:00  | no: the next morning                      |
| c    | 20261019170000 | 19/10/2026 17:30  | no: a time given is kept (17:00)          |
| o    | 20261019       | open              | not overdue on 19/10 at 18:00; overdue on 20/10 at 08:00 |
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import Engine

from connectors.dvcqg import DossierMapping, parse_records
from ioc.config import Settings
from ioc.kpi import KpiLibrary, load_library
from ioc.kpi import rollup as rollups
from ioc.kpi.engine import compute
from ioc.kpi.periods import LOCAL_TZ
from ioc.load import load_batch
from tests.fixtures.events.support import make, pull, rows
from tests.kpi_support import province_without_rollups

REPO_ROOT = Path(__file__).resolve().parent.parent
MAPPING = DossierMapping(org_unit_codes={"SNV": "66001"})


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=LOCAL_TZ)


def record(code: str, received: str, due: str, finished: str | None = None) -> dict[str, Any]:
    return {
        "MaHoSo": code,
        "MaTTHC": "1.000001",
        "DonViXuLy": "SNV",
        "NgayTiepNhan": received,
        "NgayHenTra": due,
        "NgayKetThucXuLy": finished or "",
        "TrangThaiHoSo": "9" if finished else "4",
        "KenhThucHien": "2",
    }


@pytest.fixture(scope="module")
def library() -> KpiLibrary:
    return load_library(REPO_ROOT / "kpi_definitions")


@pytest.fixture
def ddb(db: Engine) -> Iterator[Engine]:
    with province_without_rollups(db) as engine:
        yield engine


def load(engine: Engine, records: list[dict[str, Any]]) -> None:
    frame, rejects = parse_records(records, MAPPING)
    assert rejects == []
    with engine.begin() as connection:
        load_batch(connection, "dossier", frame, source="test")


def test_stored_deadline_is_the_last_microsecond_of_the_local_day(ddb: Engine) -> None:
    load(ddb, [record("a", "20261015090000", "20261019"), record("c", "20261015090000", "20261019170000")])
    stored = {r["code"]: r for r in rows(ddb, "SELECT code, due_at, due_date_only FROM dossier")}
    assert stored["a"]["due_at"] == at("2026-10-19", "23:59:59.999999")
    assert stored["a"]["due_date_only"] is True
    assert stored["c"]["due_at"] == at("2026-10-19", "17:00")
    assert stored["c"]["due_date_only"] is False


@pytest.mark.parametrize("use_rollups", [False, True])
def test_finished_on_the_due_day_is_on_time_the_next_morning_late(
    ddb: Engine, library: KpiLibrary, use_rollups: bool
) -> None:
    load(
        ddb,
        [
            record("a", "20261015090000", "20261019", "20261019213000"),
            record("b", "20261015090000", "20261019", "20261020080000"),
            record("c", "20261015090000", "20261019170000", "20261019173000"),
        ],
    )
    if use_rollups:
        with ddb.begin() as connection:
            rollups.refresh(connection)
    now = at("2026-11-05", "10:00")
    args = {"use_rollups": use_rollups, "now": now}
    late = compute(ddb, library, "dossiers_finished_late", "2026-10", "66", **args)
    rate = compute(ddb, library, "dossiers_on_time_rate", "2026-10", "66", **args)
    assert late.value == 2  # b and c
    assert rate.value == pytest.approx(100 / 3)  # a only
    assert late.path == rate.path == ("rollup" if use_rollups else "raw")
    by_area = compute(ddb, library, "dossiers_finished_late", "2026-10", "66", "area", **args)
    assert [(r.key, r.value) for r in by_area.rows] == [("66001", 2)]


def test_open_on_its_due_day_is_not_overdue_the_next_day_it_is(ddb: Engine, library: KpiLibrary) -> None:
    load(ddb, [record("o", "20261015090000", "20261019")])
    on_due_day = compute(
        ddb, library, "dossiers_open_overdue", "2026-10", "66", now=at("2026-10-19", "18:00")
    )
    last_moment = compute(
        ddb, library, "dossiers_open_overdue", "2026-10", "66", now=at("2026-10-19", "23:59:59.999999")
    )
    next_day = compute(ddb, library, "dossiers_open_overdue", "2026-10", "66", now=at("2026-10-20", "08:00"))
    assert (on_due_day.value, last_moment.value, next_day.value) == (0, 0, 1)
    assert on_due_day.path == next_day.path == "raw"  # no rollups built


def test_open_rollups_agree_on_date_only_deadlines(ddb: Engine, library: KpiLibrary) -> None:
    """The open-dossier rollup serves moments after its refresh, so this asks at the real now: due
    yesterday (date only) is overdue, due today is not (it ends at 23:59:59.999999), nor is due
    tomorrow; the same with and without rollups."""
    today = datetime.now(LOCAL_TZ).date()
    days = {"yesterday": today - timedelta(days=1), "today": today, "tomorrow": today + timedelta(days=1)}
    load(
        ddb,
        [
            record(code, f"{today - timedelta(days=20):%Y%m%d}0900", f"{day:%Y%m%d}")
            for code, day in days.items()
        ],
    )
    with ddb.begin() as connection:
        rollups.refresh(connection)
    now = datetime.now(LOCAL_TZ)
    period = f"{now.date():%Y-%m}"
    for use_rollups in (False, True):
        result = compute(
            ddb, library, "dossiers_open_overdue", period, "66", use_rollups=use_rollups, now=now
        )
        assert result.path == ("rollup" if use_rollups else "raw")
        assert result.value == 1, use_rollups  # yesterday's only


def test_date_only_deadlines_from_json_csv_and_xlsx_drops(db: Engine, settings: Settings) -> None:
    folder = settings.drop_dir / "src"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps([record("J", "20261015090000", "20261019")]), "utf-8")
    pd.DataFrame([record("C", "15/10/2026 09:00", "19/10/2026")]).to_csv(folder / "b.csv", index=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(record("X", "", "")))
    sheet.append(["X", "1.000001", "SNV", datetime(2026, 10, 15, 9), date(2026, 10, 19), "", 4, 2])
    sheet.append(["Y", "1.000001", "SNV", datetime(2026, 10, 15, 9), datetime(2026, 10, 19, 17), "", 4, 2])
    book.save(folder / "c.xlsx")
    pulled = pull(db, make("dossiers", {"settle_seconds": 0}, settings))
    assert (pulled.result.inserted, pulled.result.rejected) == (4, 0)
    stored = {r["code"]: r for r in rows(db, "SELECT code, due_at, due_date_only FROM dossier")}
    for code in ("J", "C", "X"):
        assert stored[code]["due_at"] == at("2026-10-19", "23:59:59.999999"), code
        assert stored[code]["due_date_only"] is True, code
    assert stored["Y"]["due_at"] == at("2026-10-19", "17:00") and stored["Y"]["due_date_only"] is False
