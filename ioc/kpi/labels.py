"""Breakdown rows: their labels (names of areas, departments, procedures…), ranking and status."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, select

from ioc.kpi.context import Context, Rows
from ioc.kpi.datasets import DATASETS, Dataset
from ioc.kpi.result import KpiRow, status_of
from ioc.kpi.spec import FactKpi, Kpi, KpiLibrary
from ioc.models import Department, OrgUnit, Procedure

LABEL_TABLES: dict[str, Table] = {
    "org_unit": cast(Table, OrgUnit.__table__),
    "department": cast(Table, Department.__table__),
    "procedure": cast(Table, Procedure.__table__),
}


def labels(ctx: Context, dataset: Dataset | None, breakdown: str, keys: list[Any]) -> dict[Any, str]:
    spec = (dataset.breakdowns if dataset else {"area": DATASETS["dossier"].breakdowns["area"]})[breakdown]
    if spec.label_table is None:
        return {key: spec.labels.get(str(key), str(key)) for key in keys}
    table = LABEL_TABLES[spec.label_table]
    query = select(table.c.code, table.c.name).where(
        table.c.code.in_([str(k) for k in keys if k is not None])
    )
    names: dict[Any, str] = {row[0]: row[1] for row in ctx.connection.execute(query)}
    return {key: names.get(key, str(key)) for key in keys}


def root_dataset(library: KpiLibrary, kpi: Kpi) -> Dataset | None:
    """The dataset a KPI (or the first KPI it is computed from) counts, for breakdown labels."""
    if isinstance(kpi, FactKpi) and kpi.dataset in DATASETS:
        return DATASETS[kpi.dataset]
    for ref in sorted(kpi.references()):
        found = root_dataset(library, library.get(ref))
        if found is not None:
            return found
    return None


def status(kpi: Kpi, value: float | None, target: float | None) -> str:
    thresholds = kpi.thresholds
    return status_of(
        value,
        direction=kpi.direction,
        target=target,
        green=thresholds.green if thresholds else None,
        amber=thresholds.amber if thresholds else None,
        basis=thresholds.basis if thresholds else "value",
    )


def ranked(kpi: Kpi, rows: Rows, names: dict[Any, str], year: int, thresholds_area: bool) -> list[KpiRow]:
    """Rows best first (by the KPI's direction), those without data last and unranked."""
    descending = kpi.direction != "lower_is_better"
    present = sorted(
        ((k, v) for k, v in rows.items() if v is not None),
        key=lambda item: (-item[1] if descending else item[1], str(item[0])),
    )
    missing = sorted(((k, v) for k, v in rows.items() if v is None), key=lambda item: str(item[0]))
    out = []
    for index, (key, value) in enumerate([*present, *missing]):
        target = kpi.target_for(year, str(key)) if thresholds_area else kpi.target_for(year, "")
        out.append(
            KpiRow(
                key=None if key is None else str(key),
                label=names.get(key, str(key)),
                value=value,
                rank=index + 1 if value is not None else None,
                target=target,
                status=status(kpi, value, target),
            )
        )
    return out
