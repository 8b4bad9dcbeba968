"""The fact rows a KPI's number counts, as SQLAlchemy conditions (for drill-down and lineage).

    sel = selection(connection, library, "dossiers_overdue_open", "2026-10", "66")
    connection.execute(sel.select(sel.table.c.code).order_by(sel.table.c.id).limit(50))

The conditions are exactly those of the engine's fact-table path (the reference semantics): the
period window on the KPI's time anchor, or for snapshot KPIs the rows open at the moment the number
is measured at; the KPI's filters; the area's whole subtree. A ratio has two selections: `numerator`
and `denominator` (`value` is its denominator, the rows the rate is computed over).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, FromClause, Select, Table, and_, false, select
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.areas import in_area
from ioc.kpi.asof import beyond_data
from ioc.kpi.conditions import filter_conditions, window_conditions
from ioc.kpi.context import KpiQueryError
from ioc.kpi.datasets import DATASETS, Dataset, Frame
from ioc.kpi.engine import PeriodArg, open_context, resolve
from ioc.kpi.periods import Period
from ioc.kpi.spec import FactKpi, KpiLibrary, PercentileKpi, RatioKpi

Part = Literal["value", "numerator", "denominator"]


@dataclass(frozen=True)
class Selection:
    """Which rows of `dataset` a number counts: `conditions` (ANDed) over `from_clause`."""

    kpi_id: str
    part: str
    dataset: Dataset
    frame: Frame
    conditions: tuple[ColumnElement, ...]
    period: Period
    moment: datetime | None  # the instant a snapshot KPI is measured at, else None
    measure: str | None  # the column a sum/percentile adds up, None for counts

    @property
    def table(self) -> Table:
        return self.frame.table

    @property
    def from_clause(self) -> FromClause:
        """The fact table with the calendar joins its derived columns need (read after `column`)."""
        return self.frame.from_clause()

    @property
    def where(self) -> ColumnElement:
        return and_(*self.conditions)

    def column(self, name: str) -> ColumnElement:
        """A dataset column (stored or derived, e.g. `on_time`, `processing_days`) for the SELECT list."""
        return self.frame.column(name)

    def select(self, *columns: Any) -> Select:
        """`SELECT columns FROM from_clause WHERE conditions` (add order_by/limit for paging)."""
        statement = select(*columns)
        return statement.select_from(self.from_clause).where(self.where)


def selection(
    connection: Connection,
    library: KpiLibrary,
    kpi_id: str,
    period: PeriodArg,
    area: str,
    *,
    part: Part = "value",
    now: datetime | None = None,
    as_of: datetime | None = None,
    zone: ZoneInfo | str | None = None,
) -> Selection:
    """The rows `compute(connection, library, kpi_id, period, area, as_of=as_of, now=now)` counts."""
    kpi, current = resolve(library, kpi_id, period, zone)
    if not isinstance(kpi, FactKpi) or kpi.dataset not in DATASETS:
        raise KpiQueryError(f"KPI {kpi.id} is a {kpi.type} KPI: it counts no rows of a dataset")
    parts = kpi.parts()
    name = "denominator" if part == "value" and isinstance(kpi, RatioKpi) else part
    if name not in parts:
        raise KpiQueryError(f"KPI {kpi.id} has no part {part!r} (parts: {', '.join(parts)})")
    measure = parts[name]
    ctx = open_context(connection, library, area, as_of=as_of, now=now, zone=zone)
    dataset = DATASETS[kpi.dataset]
    frame = ctx.frame(dataset)
    moment = ctx.moment(current)
    conditions = [
        *window_conditions(frame, measure, current, moment),
        *filter_conditions(frame, measure, moment),
        *in_area(ctx, frame.table.c[dataset.area_column]),
    ]
    merged = ctx.merged_on is not None and current.start >= ctx.merged_on
    if merged or beyond_data(ctx, kpi, current):
        conditions = [false()]  # the number is "no data": no rows stand behind it
    return Selection(
        kpi_id=kpi.id,
        part=name,
        dataset=dataset,
        frame=frame,
        conditions=tuple(conditions),
        period=current,
        moment=moment if measure.snapshot else None,
        measure=measure.measure if measure.agg == "sum" or isinstance(kpi, PercentileKpi) else None,
    )


__all__ = ["Selection", "selection"]
