"""The desktop's questions to the read model, with the filters applied.

The area, period and row filters (department, procedure, channel, category) go to the read model,
which narrows every number (tiles, series, breakdowns, rows) through the KPI definitions; the
comparison the user chose replaces the KPI's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from dashboard.url import Filters, ListState
from ioc.kpi.periods import compare_period, current, measured_period, parse_period
from ioc.queries import EVERYTHING


def area_of(filters: Filters, province: str) -> str:
    return filters.area or province


def breakdown(rm: Any, kpi_id: str, by: str, filters: Filters, province: str) -> Any:
    return rm.breakdown(
        kpi_id, by, area=area_of(filters, province), period=filters.period, filters=filters.row_filters()
    )


def series(rm: Any, kpi_id: str, filters: Filters, province: str, **periods: Any) -> Any:
    return rm.series(kpi_id, area=area_of(filters, province), filters=filters.row_filters(), **periods)


def result(rm: Any, kpi_id: str, filters: Filters, province: str, period: str) -> Any:
    narrowing = rm.narrowing(filters.row_filters(), EVERYTHING)
    return rm.result(kpi_id, area=area_of(filters, province), period=period, narrowing=narrowing)


def tiles(rm: Any, kpi_ids: Sequence[str], filters: Filters, province: str) -> dict[str, Any]:
    """Tiles for the filters, compared as the user asked."""
    area = area_of(filters, province)
    found = rm.tiles(
        list(kpi_ids), area=area, period=filters.period, filters=filters.row_filters(), sparkline=0
    )
    out = {}
    for kpi_id, tile in found.items():
        own = getattr(rm.library.get(kpi_id), "compare", "previous_period")
        if filters.compare == "none":
            tile = replace(tile, previous=None, previous_period=None, delta=None)
        elif filters.compare != own:
            measured = measured_period(parse_period(filters.period), tile.observed_period)
            before = compare_period(measured, filters.compare)
            previous = result(rm, kpi_id, filters, province, before.label).value
            delta = tile.value - previous if tile.value is not None and previous is not None else None
            tile = replace(tile, previous=previous, previous_period=before.label, delta=delta)
        out[kpi_id] = tile
    return out


def grain_end(rm: Any, kpi_id: str, filters: Filters) -> str:
    """The last period of the KPI's own grain inside the filtered period (where a trend ends)."""
    period = parse_period(filters.period)
    return current(rm.library.get(kpi_id).grain, period.end - timedelta(days=1)).label


def rows_query(filters: Filters, listing: ListState, province: str) -> dict[str, Any]:
    """The arguments of `ReadModel.rows` for a list (page and cursor aside)."""
    return {
        "area": area_of(filters, province),
        "period": filters.period,
        "part": listing.part,
        "filters": filters.row_filters(),
        "sort": listing.sort,
        "descending": listing.descending,
    }
