"""A KPI over consecutive periods in one grouped query equals `compute` for each period."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ioc.kpi import KpiLibrary
from ioc.kpi import rollup as rollups
from ioc.kpi.engine import compute
from ioc.kpi.periods import month, parse_period
from ioc.kpi.timeseries import compute_series
from tests.test_kpi_engine import at, dossiers, kdb, library  # noqa: F401  (fixtures)
from tests.test_queries import StatementCounter

NOW = at("2026-10-31", "12:00")
MONTHS = [month(2026, number) for number in range(7, 12)]  # July … November (a future month)


def fact_kpis(kpis: KpiLibrary) -> list[str]:
    return [kpi.id for kpi in kpis if kpi.type in ("count", "sum", "ratio") and kpi.dataset == "dossier"]


@pytest.mark.parametrize("use_rollups", [False, True])
def test_every_point_equals_compute(dossiers: Engine, library: KpiLibrary, use_rollups: bool) -> None:  # noqa: F811
    if use_rollups:
        with dossiers.begin() as connection:
            rollups.refresh(connection)
    for kpi_id in fact_kpis(library):
        series = compute_series(dossiers, library, kpi_id, MONTHS, "66", now=NOW, use_rollups=use_rollups)
        expected = [
            compute(dossiers, library, kpi_id, period, "66", now=NOW, use_rollups=use_rollups).value
            for period in MONTHS[:-1]
        ]
        assert series == [*expected, None], kpi_id  # November has not started: no data, not 0


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
