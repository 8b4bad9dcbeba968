"""The desktop's questions to the read model, with the filters applied as far as the read model allows.

The area and period go to the read model as they are. A department, procedure, channel or category
filter on an aggregate is the matching row of the KPI's breakdown (the engine computes each row
sum/sum, so a ratio stays right); the comparison the user chose replaces the KPI's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from dashboard.url import ROW_FILTERS, Filters, ListState
from ioc.kpi.periods import compare_period, current, parse_period

# the columns of the read model's lists that each desktop filter narrows
ROW_COLUMNS = {
    "department": "department_code",
    "procedure": "procedure_code",
    "channel": "channel",
    "category": "category",
}
LIST_FILTERABLE = {
    "dossier": ("department_code", "procedure_code", "channel", "org_unit_code"),
    "incident": ("category", "org_unit_code"),
}


def area_of(filters: Filters, province: str) -> str:
    return filters.area or province


def narrowing(filters: Filters, kpi: Any) -> tuple[str, str] | None:
    """The one breakdown (name, key) that stands for the row filters, when the KPI allows it."""
    chosen = [(name, value) for name in ROW_FILTERS if (value := getattr(filters, name))]
    if len(chosen) == 1 and chosen[0][0] in kpi.breakdowns:
        return chosen[0]
    return None


def _row_value(rm: Any, kpi_id: str, by: str, key: str, area: str, period: str) -> tuple[float | None, str]:
    result = rm.breakdown(kpi_id, by, area=area, period=period)
    for row in result.rows:
        if str(row.key) == key:
            return row.value, row.status
    return None, "none"


def value_for(rm: Any, kpi_id: str, filters: Filters, area: str, period: str) -> float | None:
    kpi = rm.library.get(kpi_id)
    narrow = narrowing(filters, kpi)
    if narrow:
        return _row_value(rm, kpi_id, narrow[0], narrow[1], area, period)[0]
    return rm.result(kpi_id, area=area, period=period).value


def tiles(rm: Any, kpi_ids: Sequence[str], filters: Filters, province: str) -> dict[str, Any]:
    """Tiles for the filters: narrowed by one row filter, compared as the user asked."""
    area = area_of(filters, province)
    found = rm.tiles(list(kpi_ids), area=area, period=filters.period, sparkline=0)
    out = {}
    for kpi_id, tile in found.items():
        kpi = rm.library.get(kpi_id)
        narrow = narrowing(filters, kpi)
        if narrow:
            value, status = _row_value(rm, kpi_id, narrow[0], narrow[1], area, filters.period)
            tile = replace(tile, value=value, status=status, target=tile.target)
        if filters.compare == "none":
            tile = replace(tile, previous=None, previous_period=None, delta=None)
        elif narrow or filters.compare != kpi.compare:
            before = compare_period(parse_period(filters.period), filters.compare)
            previous = value_for(rm, kpi_id, filters, area, before.label)
            delta = tile.value - previous if tile.value is not None and previous is not None else None
            tile = replace(tile, previous=previous, previous_period=before.label, delta=delta)
        out[kpi_id] = tile
    return out


def list_filters(filters: Filters, dataset: str) -> dict[str, str]:
    """The row filters a list of this dataset takes (a dossier has no category, an incident no department)."""
    allowed = LIST_FILTERABLE.get(dataset, ())
    return {
        ROW_COLUMNS[name]: value
        for name, value in filters.row_filters().items()
        if ROW_COLUMNS[name] in allowed
    }


def grain_end(rm: Any, kpi_id: str, filters: Filters) -> str:
    """The last period of the KPI's own grain inside the filtered period (where a trend ends)."""
    period = parse_period(filters.period)
    return current(rm.library.get(kpi_id).grain, period.end - timedelta(days=1)).label


def rows_query(filters: Filters, listing: ListState, province: str, dataset: str) -> dict[str, Any]:
    """The arguments of `ReadModel.rows` for a list (page and cursor aside)."""
    return {
        "area": area_of(filters, province),
        "period": filters.period,
        "part": listing.part,
        "filters": list_filters(filters, dataset),
        "sort": listing.sort,
        "descending": listing.descending,
    }
