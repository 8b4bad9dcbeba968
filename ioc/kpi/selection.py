"""The fact rows a KPI's number counts, as SQLAlchemy conditions (for drill-down and lineage).

    sel = selection(connection, library, "dossiers_overdue_open", "2026-10", "66")
    connection.execute(sel.select(sel.table.c.code).order_by(sel.table.c.id).limit(50))

The conditions are exactly those of the engine's fact-table path (the reference semantics): the
period window on the KPI's time anchor, or for snapshot KPIs the rows open at the moment the number
is measured at; the KPI's filters; the area's whole subtree. A ratio has two selections: `numerator`
and `denominator` (`value` is its denominator, the rows the rate is computed over).

For lists, `branches` says the same rows as disjoint parts an index can serve one by one: "open at
the moment" (`finished_at is null or finished_at > moment`) is an OR no index serves, so it is split
into the rows still open (the open rows' partial indexes) and those closed after the moment; and the
snapshot filters, written for the engine as `coalesce(due_at < moment, false)`, are restated as the
ranges on `due_at` they imply (an overdue list is `due_at < moment`, a due-soon list
`moment <= due_at < cutoff`), so an ordered index scan starts where the list starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, FromClause, Select, Table, and_, false, not_, select
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.areas import in_area
from ioc.kpi.asof import beyond_data
from ioc.kpi.conditions import filter_conditions, window_conditions
from ioc.kpi.context import KpiQueryError
from ioc.kpi.datasets import DATASETS, Dataset, Frame
from ioc.kpi.engine import PeriodArg, open_context, resolve
from ioc.kpi.periods import Period
from ioc.kpi.spec import FactKpi, KpiLibrary, MeasureSpec, PercentileKpi, RatioKpi

Part = Literal["value", "numerator", "denominator"]


@dataclass(frozen=True)
class Branch:
    """A disjoint part of a selection's rows. `found_by`: the column whose range finds them (few
    rows: read them all by that range, then sort — walking an index in another column's order
    would meet them late), or None when an index in the list's own order serves them."""

    conditions: tuple[ColumnElement, ...]
    found_by: str | None = None


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
    #: the same rows as disjoint sets of ANDed conditions, each one an index can serve (see above)
    branches: tuple[Branch, ...] = ()

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
    window = window_conditions(frame, measure, current, moment)
    rest = [
        *filter_conditions(frame, measure, moment),
        *in_area(ctx, frame.table.c[dataset.area_column]),
    ]
    conditions = [*window, *rest]
    # a period's rows are found by their time anchor's window (e.g. finished_at in November), not by
    # walking another column's index: a list by received_at of November's finished dossiers walked
    # the received_at index from three years back (38 s at 10M)
    branches = [Branch((*window, *rest), found_by=measure.time)]
    if measure.snapshot:
        branches = _open_branches(dataset, frame, moment, (*rest, *_due_ranges(frame, measure, moment)))
    merged = ctx.merged_on is not None and current.start >= ctx.merged_on
    if merged or beyond_data(ctx, kpi, current):
        conditions = [false()]  # the number is "no data": no rows stand behind it
        branches = [Branch((false(),))]
    return Selection(
        kpi_id=kpi.id,
        part=name,
        dataset=dataset,
        frame=frame,
        conditions=tuple(conditions),
        period=current,
        moment=moment if measure.snapshot else None,
        measure=measure.measure if measure.agg == "sum" or isinstance(kpi, PercentileKpi) else None,
        branches=tuple(branches),
    )


def _open_branches(
    dataset: Dataset, frame: Frame, moment: datetime, rest: tuple[ColumnElement, ...]
) -> list[Branch]:
    """`dataset.open_at(moment)` and `rest` as two disjoint branches: still open (the open rows'
    indexes walk them in a list's order, checking due_at in the index), or closed after the moment
    (found by the closed column: `finished_at > moment`, the rows closed since a past moment)."""
    assert dataset.open_state is not None
    still_open, opened, closed = dataset.open_state
    table = frame.table
    started = table.c[opened] <= moment
    # `not still_open` is exact: the still-open conditions test non-null columns or `is null`
    return [
        Branch((still_open(frame), started, *rest)),
        Branch((table.c[closed] > moment, not_(still_open(frame)), started, *rest), found_by=closed),
    ]


def _due_ranges(frame: Frame, measure: MeasureSpec, moment: datetime) -> list[ColumnElement]:
    """The range on `due_at` the snapshot filters imply (redundant with them, but sargable)."""
    due = frame.table.c.due_at
    overdue = {f.value for f in measure.filters if f.field == "overdue" and f.op == "eq"}
    bounded = any(f.field == "due_in_working_days" for f in measure.filters)  # due_at < cutoff
    implied = []
    if any(value is True for value in overdue):
        implied.append(due < moment)  # coalesce(due_at < moment, false) is true
    if any(value is False for value in overdue) and bounded:
        implied.append(due >= moment)  # it is false, and due_at is not null
    return implied


__all__ = ["Branch", "Selection", "selection"]
