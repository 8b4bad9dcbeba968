"""A KPI over many periods in a few queries equals `compute` for each period, for every KPI type."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from ioc.kpi import KpiLibrary, load_library
from ioc.kpi import rollup as rollups
from ioc.kpi.engine import compute
from ioc.kpi.periods import (
    LOCAL_TZ,
    Period,
    current,
    day,
    month,
    parse_period,
    previous_period,
    quarter,
    year,
)
from ioc.kpi.spec import FactKpi
from ioc.kpi.timeseries import compute_series
from ioc.models import Dossier, Incident, IndicatorObservation
from tests.test_kpi_engine import (  # noqa: F401  (fixtures)
    REPO_ROOT,
    _dossier,
    _observations,
    at,
    dossiers,
    incidents,
    indicators,
    kdb,
    library,
    old_units,
)
from tests.test_queries import StatementCounter

NOW = at("2026-10-31", "12:00")
MONTHS = [month(2026, number) for number in range(7, 12)]  # July … November (a future month)

#: Dossiers open, finished or due exactly at a month's end (local midnight: the snapshot moment).
EDGE_DOSSIERS = [
    # received at the very moment August ends: open at it (received at or before the moment)
    _dossier("x1", "66001", "online", at("2026-09-01", "00:00"), at("2026-09-02", "17:00"), at("2026-09-02")),
    # open and overdue at the end of July; finished exactly at the end of August: not open then
    _dossier("x2", "66001", "online", at("2026-07-20"), at("2026-07-31", "17:00"), at("2026-09-01", "00:00")),
    # due exactly at the end of August: not overdue then (due strictly before), overdue a month later
    _dossier("x3", "66001", "in_person", at("2026-08-10"), at("2026-09-01", "00:00"), None, "SYT", "P2"),
    _dossier("x4", "66001", "postal", at("2026-08-05"), None, None),  # no deadline: never overdue
    _dossier("x5", "66002", "online", at("2026-08-05"), at("2026-08-31", "23:59:59"), None),
    # finished one second after August ended: open and overdue at its end
    _dossier(
        "x6",
        "66002",
        "online",
        at("2026-08-31", "23:00"),
        at("2026-08-31", "23:30"),
        at("2026-09-01", "00:00:01"),
    ),
]

#: Incidents at day edges; j2 says open although it has a closing time (open by its status).
EDGE_INCIDENTS = [
    (
        "j1",
        "66001",
        at("2026-09-30", "12:00"),
        at("2026-10-01", "00:00"),
        at("2026-10-03", "00:00"),
        "closed",
    ),
    ("j2", "66002", at("2026-09-29"), at("2026-09-30"), at("2026-10-02"), "open"),
    ("j3", "66002", at("2026-09-29"), at("2026-09-30"), None, "closed"),  # closed, no time: never open
]

#: The province reports its own activations from October on (before: its communes' sum); a
#: quarter its source withdrew (a tombstone) is not the latest.
EDGE_OBSERVATIONS = [
    ("vneid_level2", "66", "month", date(2026, 10, 1), "2026-10", 400, None),
    ("grdp_growth", "66", "quarter", date(2026, 7, 1), "2026-Q3", None, "deleted"),
    ("budget_revenue", "66", "month", date(2025, 12, 1), "2025-12", 90, "provisional"),
]


@pytest.fixture
def province(old_units: Engine, incidents: Engine, indicators: Engine) -> Engine:  # noqa: F811
    """Dossiers (October's, old units', the edges), incidents and indicator series; no rollups."""
    with old_units.begin() as connection:
        connection.execute(insert(Dossier.__table__), EDGE_DOSSIERS)
        connection.execute(
            insert(Incident.__table__),
            [
                {
                    "source": "test",
                    "external_id": code,
                    "category": "field_report",
                    "org_unit_code": area,
                    "reported_at": reported,
                    "due_at": due,
                    "closed_at": closed,
                    "status": status,
                    "severity": 1,
                }
                for code, area, reported, due, closed, status in EDGE_INCIDENTS
            ],
        )
        rows = _observations([row[:6] for row in EDGE_OBSERVATIONS])
        statuses = [{"status": row[6]} for row in EDGE_OBSERVATIONS]
        connection.execute(
            insert(IndicatorObservation.__table__), [a | b for a, b in zip(rows, statuses, strict=True)]
        )
    return old_units


def _grain_periods(grain: str) -> list[Period]:
    """Periods of a KPI's own grain around the test data (the last one in the future of NOW)."""
    if grain == "day":
        return [day(date(2026, 9, 27) + timedelta(days=k)) for k in range(10)]
    if grain == "quarter":
        return [quarter(2025, 4), quarter(2026, 1), quarter(2026, 2), quarter(2026, 3), quarter(2026, 4)]
    if grain == "year":
        return [year(number) for number in range(2023, 2028)]
    return MONTHS


def _check(
    engine: Engine,
    library: KpiLibrary,  # noqa: F811
    kpi_id: str,
    periods: Sequence[Period],
    area: str,
    now: datetime | None,
    use_rollups: bool,
    zone: str | None = None,
) -> None:
    options = {"now": now, "use_rollups": use_rollups, "zone": zone}
    series = compute_series(engine, library, kpi_id, periods, area, **options)
    expected = [compute(engine, library, kpi_id, period, area, **options).value for period in periods]
    assert series == expected, (kpi_id, area, [p.label for p in periods])


@pytest.mark.parametrize("use_rollups", [False, True])
def test_every_kpi_every_point_equals_compute(
    province: Engine,
    library: KpiLibrary,  # noqa: F811
    use_rollups: bool,
) -> None:
    """Every KPI of the library (counts, ratios, percentiles, snapshots, indicator series, growth,
    derived) at the province, a commune and a merged commune (snapshots: an abolished district too),
    by month and by its own grain, rollups on (the history of open rows at month starts) and off."""
    if use_rollups:
        with province.begin() as connection:
            rollups.refresh(connection)
    for kpi in library:
        snapshot = isinstance(kpi, FactKpi) and kpi.snapshot
        for area in ("66", "66001", "66003", *(("66900",) if snapshot else ())):
            _check(province, library, kpi.id, MONTHS, area, NOW, use_rollups)
        if kpi.grain != "month":
            for area in ("66", "66001"):
                _check(province, library, kpi.id, _grain_periods(kpi.grain), area, NOW, use_rollups)
        # an old commune merged on 1 July 2025: its own months, then no data
        merged = [month(2025, number) for number in range(4, 9)]
        _check(province, library, kpi.id, merged, "66901", NOW, use_rollups)


@pytest.mark.parametrize("use_rollups", [False, True])
def test_snapshots_up_to_now_equal_compute(
    province: Engine,
    library: KpiLibrary,  # noqa: F811
    use_rollups: bool,
) -> None:
    """A year of month ends up to the real now (rollups on: the history table for past month starts,
    the open rows now for the current month), and the days of one week for the daily KPI."""
    if use_rollups:
        rollups.catch_up(province)
    now = datetime.now(LOCAL_TZ)  # after the refresh: the open rows now answer the current period
    today = now.date()
    months = [current("month", today)]
    while len(months) < 14:
        months.append(previous_period(months[-1]))
    days = [day(today - timedelta(days=k)) for k in range(7, -2, -1)]  # … today, tomorrow
    for kpi_id in ("dossiers_open_overdue", "dossiers_due_soon", "incidents_open_overdue"):
        for area in ("66", "66002"):
            _check(province, library, kpi_id, months[::-1], area, now, use_rollups)
            _check(province, library, kpi_id, days, area, now, use_rollups)


#: Snapshot KPIs the demo library does not have: open dossiers, a sum and a ratio of snapshots, a
#: ratio of a snapshot over an anchored count, and filters the open-rows rollup has (channel) or
#: has not (department: the fact table even with rollups on).
MORE_SNAPSHOTS = """
domain: test_snapshots
defaults: {owner: Test, freshness: 1d, dataset: dossier, unit: {vi: hồ sơ, en: dossiers}}
kpis:
  - {id: dossiers_open, name: {vi: Đang giải quyết, en: Open}, type: count, snapshot: true}
  - {id: open_supplements, name: {vi: Bổ sung, en: Supplements}, type: sum, measure: supplement_count,
     snapshot: true}
  - id: overdue_share
    name: {vi: Tỷ lệ quá hạn, en: Overdue share}
    type: ratio
    snapshot: true
    numerator: {filters: [{field: overdue, op: eq, value: true}]}
    denominator: {}
    scale: 100
  - id: overdue_per_received
    name: {vi: Quá hạn trên tiếp nhận, en: Overdue per received}
    type: ratio
    numerator: {snapshot: true, filters: [{field: overdue, op: eq, value: true}]}
    denominator: {time: received_at}
  - id: online_overdue
    name: {vi: Trực tuyến quá hạn, en: Online overdue}
    type: count
    snapshot: true
    filters: [{field: overdue, op: eq, value: true}, {field: channel, op: eq, value: online}]
  - id: health_due_soon
    name: {vi: Sở Y tế sắp đến hạn, en: Health due soon}
    type: count
    snapshot: true
    filters: [{field: due_in_working_days, op: lt, value: 5}, {field: department_code, op: eq, value: SYT}]
"""


def test_other_snapshot_kpis_and_zones(province: Engine, tmp_path: Path) -> None:
    """Counts, sums and ratios of snapshots (and a snapshot over an anchored count), rollups on and
    off, up to NOW and up to the real now, and in another time zone (always the fact table)."""
    for source in (REPO_ROOT / "kpi_definitions").glob("*.yaml"):
        shutil.copy(source, tmp_path)
    (tmp_path / "more.yaml").write_text(MORE_SNAPSHOTS, encoding="utf-8")
    more = load_library(tmp_path)
    ids = ["dossiers_open", "open_supplements", "overdue_share", "overdue_per_received"]
    ids += ["online_overdue", "health_due_soon"]
    now = datetime.now(LOCAL_TZ)
    months = [current("month", now.date())]
    while len(months) < 13:
        months.append(previous_period(months[-1]))
    for use_rollups in (False, True):
        if use_rollups:
            rollups.catch_up(province)
            now = datetime.now(LOCAL_TZ)
        for kpi_id in ids:
            for area in ("66", "66001"):
                _check(province, more, kpi_id, MONTHS, area, NOW, use_rollups)
                _check(province, more, kpi_id, months[::-1], area, now, use_rollups)
    assert compute_series(province, more, "dossiers_open", MONTHS, "66", now=NOW) == [
        3.0,  # e1 e2 (old units' open dossiers, no deadline) x2
        7.0,  # e1 e2 x1 (received at the moment) x3 x4 x5 x6 (finished a second later); not x2
        6.0,  # e1 e2 x3 x4 x5 d5 (received 28/09)
        7.0,  # e1 e2 x3 x4 x5 d3 d4, at NOW
        None,
    ]
    for zone in ("UTC", "Asia/Tokyo"):
        for kpi_id in ("dossiers_open", "dossiers_open_overdue", "dossiers_due_soon", "dossiers_received"):
            _check(province, more, kpi_id, MONTHS, "66", NOW, True, zone)


def test_hand_counts_at_month_ends(province: Engine, library: KpiLibrary) -> None:  # noqa: F811
    """Open and overdue at each month's end: received at it counts, finished at it does not, due at
    it is not overdue yet; October is measured at NOW, November has no data."""
    for use_rollups in (False, True):
        if use_rollups:
            with province.begin() as connection:
                rollups.refresh(connection)
        overdue = compute_series(
            province, library, "dossiers_open_overdue", MONTHS, "66", now=NOW, use_rollups=use_rollups
        )
        assert overdue == [1.0, 2.0, 2.0, 3.0, None]  # x2 | x5 x6 | x3 x5 | x3 x5 d3
        commune = compute_series(
            province, library, "dossiers_open_overdue", MONTHS, "66001", now=NOW, use_rollups=use_rollups
        )
        assert commune == [1.0, 0.0, 1.0, 2.0, None]  # x2 | – | x3 | x3 d3
        soon = compute_series(province, library, "dossiers_due_soon", MONTHS, "66", now=NOW)
        assert soon[1] == 2.0  # x1 (received at the moment) and x3 (due at it); not x4 (no deadline)
    # the province's own October figure replaces its communes' sum from October on
    activations = compute_series(province, library, "vneid_level2_activations", MONTHS, "66", now=NOW)
    assert activations == [None, None, 150.0, 400.0, 400.0]
    grdp = compute_series(province, library, "grdp_growth", _grain_periods("quarter"), "66", now=NOW)
    assert grdp == [None, 6.0, 7.5, 7.5, 7.5]  # the withdrawn Q3 is not the latest


def test_a_series_takes_a_few_statements_whatever_its_length(
    province: Engine,
    library: KpiLibrary,  # noqa: F811
) -> None:
    """12 or 36 points: the same small number of SQL statements (before: a `compute` per point)."""
    twelve = [month(2025, 12)] + [month(2026, number) for number in range(1, 12)]
    thirty_six = [month(2023 + (11 + k) // 12, (11 + k) % 12 + 1) for k in range(36)]
    assert thirty_six[-1] == twelve[-1] and len(twelve) == 12

    def statements(kpi_id: str, periods: list[Period], use_rollups: bool = True) -> int:
        with StatementCounter(province) as counter:
            compute_series(province, library, kpi_id, periods, "66", now=NOW, use_rollups=use_rollups)
        return counter.count

    for use_rollups in (False, True):
        if use_rollups:
            with province.begin() as connection:
                rollups.refresh(connection)
        for kpi_id in ("dossiers_open_overdue", "dossiers_due_soon", "incidents_open_overdue"):
            few = statements(kpi_id, twelve, use_rollups)
            assert few == statements(kpi_id, thirty_six, use_rollups) <= 6, (kpi_id, use_rollups)
    # area, as-of look-ups and one query; growth: two (its periods and a year before)
    assert statements("poverty_rate", twelve) == statements("poverty_rate", thirty_six) <= 4
    assert statements("retail_sales_growth", twelve) == statements("retail_sales_growth", thirty_six) <= 4
    assert statements("budget_revenue_vs_plan", twelve) <= 4  # derived from two series


def test_hand_counts_and_one_query(dossiers: Engine, library: KpiLibrary) -> None:  # noqa: F811
    with StatementCounter(dossiers) as few:
        received = compute_series(dossiers, library, "dossiers_received", MONTHS, "66", now=NOW)
    assert received == [0.0, 0.0, 1.0, 8.0, None]
    three_years = [month(2023 + (7 + k) // 12, (7 + k) % 12 + 1) for k in range(36)]
    with StatementCounter(dossiers) as many:
        compute_series(dossiers, library, "dossiers_on_time_rate", three_years, "66", now=NOW)
    assert many.count == few.count <= 6  # area, rollup state, as-of lookups and ONE grouped query
    weeks = [parse_period(code) for code in ("2026-W40", "2026-W41", "2026-W42")]
    by_week = compute_series(dossiers, library, "dossiers_received", weeks, "66", now=NOW)
    assert by_week == [
        compute(dossiers, library, "dossiers_received", week, "66", now=NOW).value for week in weeks
    ]
