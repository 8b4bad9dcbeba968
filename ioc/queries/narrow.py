"""Narrowing KPIs to a department, procedure, channel or category (desk filters, staff scope).

A fact KPI counts the rows its filters select; narrowing adds `column in (values)` to those filters,
so the engine computes the narrowed number exactly as it computes any other (rollups included when
they carry the column). KPIs built on others (growth, derived) are narrowed through the KPIs they
reference. A KPI whose dataset has no such column (a department filter on incidents) is left as is:
there is nothing of that department in it to show or to hide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ioc.kpi.datasets import DATASETS
from ioc.kpi.spec import FactKpi, Filter, Kpi, KpiLibrary

#: Filter names the read model accepts, and the dataset column each narrows.
NARROWABLE = {
    "department": "department_code",
    "procedure": "procedure_code",
    "channel": "channel",
    "category": "category",
    "severity": "severity",
}

#: The dataset column names are accepted too (`department_code` = `department`).
ALIASES = {column: name for name, column in NARROWABLE.items()}

Narrowing = tuple[tuple[str, tuple[Any, ...]], ...]


class NarrowingError(ValueError):
    """A filter the read model does not know."""


def normalise(filters: Mapping[str, Any] | None) -> Narrowing:
    """`{"department": "SYT"}` or `{"channel": ["online", "postal"]}` → a hashable, sorted form."""
    out = []
    for given, value in sorted((filters or {}).items()):
        name = ALIASES.get(given, given)
        if name not in NARROWABLE:
            raise NarrowingError(f"unknown filter {name!r} (choose one of {', '.join(NARROWABLE)})")
        values = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (value,)
        if not values:
            raise NarrowingError(f"filter {name!r} has no value")
        out.append((name, values))
    return tuple(out)


def _narrow_kpi(kpi: Kpi, narrowing: Narrowing) -> Kpi:
    if not isinstance(kpi, FactKpi):
        return kpi
    columns = DATASETS[kpi.dataset].columns
    extra = tuple(
        Filter(
            field=NARROWABLE[name],
            op="eq" if len(values) == 1 else "in",
            value=values[0] if len(values) == 1 else list(values),
        )
        for name, values in narrowing
        if NARROWABLE[name] in columns
    )
    return kpi.model_copy(update={"filters": kpi.filters + extra}) if extra else kpi


def narrowed(library: KpiLibrary, narrowing: Narrowing) -> KpiLibrary:
    """A copy of the library whose fact KPIs count only the rows the narrowing keeps."""
    if not narrowing:
        return library
    return replace(
        library, kpis={kpi_id: _narrow_kpi(kpi, narrowing) for kpi_id, kpi in library.kpis.items()}
    )
