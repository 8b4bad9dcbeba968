"""Snapshot parts (open, overdue, due soon) measured at many moments in one query per source.

:func:`ioc.kpi.engine.compute` measures a snapshot KPI at one moment per period (the period's end,
or now). A chart needs it at 12 or 36 moments; the planner still decides per moment where the state
at that moment is read from, exactly as for one `compute`:

* the fact table (no rollup, or a past moment the open-rows history does not keep): one scan with
  one filtered aggregate per moment and part, each with the reference conditions of
  :mod:`ioc.kpi.conditions` at that moment (open at it: received at or before, not finished or
  finished after; overdue: due strictly before it; due soon: before its working-day cutoff);
* the stored history of open rows at past month starts: one query over that small table, one
  filtered sum per moment and part, the conditions of :func:`ioc.kpi.facts.open_conditions`;
* the open rows now (a moment at or after the last refresh: normally only the current period's):
  the engine's own two statements for that point (:func:`ioc.kpi.facts._fact_parts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.areas import in_area
from ioc.kpi.conditions import filter_conditions, window_conditions
from ioc.kpi.context import Context, number
from ioc.kpi.datasets import DATASETS
from ioc.kpi.facts import _fact_parts, _filtered, open_conditions, raw_aggregate
from ioc.kpi.periods import Period
from ioc.kpi.plan import History, plan
from ioc.kpi.rollup import OpenRollup
from ioc.kpi.spec import FactKpi, MeasureSpec

#: Per period, the value of each part (in the order of the parts given).
PartValues = list[float | None]


def snapshot_values(
    ctx: Context, kpi: FactKpi, parts: list[MeasureSpec], periods: Sequence[Period]
) -> list[PartValues]:
    """Each snapshot part at each period's moment (`ctx.moment`): what `_fact_parts` answers for
    that period, in one query per source instead of one per point. The periods must have data
    (see :func:`ioc.kpi.asof.beyond_data`)."""
    dataset = DATASETS[kpi.dataset]
    out: list[PartValues | None] = [None] * len(periods)
    raw: list[int] = []
    history: dict[str, tuple[OpenRollup, list[int]]] = {}
    for index, period in enumerate(periods):
        chosen = plan(ctx, dataset, parts, period, None)
        if chosen is None:
            raw.append(index)
        elif isinstance(chosen, History):
            history.setdefault(chosen.rollup.name, (chosen.rollup, []))[1].append(index)
        else:  # the open rows now (and today's deadlines from the facts): the engine's own path
            out[index] = _fact_parts(ctx, kpi, parts, period, None)[0]
    moments = [ctx.moment(period) for period in periods]
    queries = [(raw, _raw_query(ctx, kpi, parts, [(periods[i], moments[i]) for i in raw]))] if raw else []
    for rollup, indexes in history.values():
        queries.append((indexes, _history_query(ctx, rollup, parts, [moments[i] for i in indexes])))
    width = len(parts)
    for indexes, query in queries:
        row = ctx.connection.execute(query).one()
        for position, index in enumerate(indexes):
            out[index] = [number(row[position * width + k]) for k in range(width)]
    assert all(values is not None for values in out)
    return [values or [] for values in out]


def _labelled(values: list[ColumnElement]) -> list[ColumnElement]:
    return [value.label(f"v{index}") for index, value in enumerate(values)]


def _raw_query(
    ctx: Context, kpi: FactKpi, parts: list[MeasureSpec], points: list[tuple[Period, datetime]]
) -> Select:
    """One row: for each (period, moment) and part, the aggregate `_raw_select` computes for it."""
    dataset = DATASETS[kpi.dataset]
    frame = ctx.frame(dataset)
    values: list[ColumnElement] = []
    for period, moment in points:
        window = window_conditions(frame, parts[0], period, moment)
        values += [
            raw_aggregate(frame, part, window + filter_conditions(frame, part, moment)) for part in parts
        ]
    assert dataset.open_state is not None
    still_open, opened, closed = dataset.open_state
    table = frame.table
    moments = [moment for _, moment in points]
    # open at one of the moments at all (implied by every aggregate's own conditions): rows finished
    # before the first moment or received after the last are not looked at
    ever_open = and_(table.c[opened] <= max(moments), or_(still_open(frame), table.c[closed] > min(moments)))
    area = in_area(ctx, table.c[dataset.area_column])
    return select(*_labelled(values)).select_from(frame.from_clause()).where(ever_open, *area)


def _history_query(
    ctx: Context, rollup: OpenRollup, parts: list[MeasureSpec], moments: list[datetime]
) -> Select:
    """One row: for each month-start moment and part, the sum `_open_select(history=True)` reads."""
    table = rollup.history
    days = [ctx.local_day(moment) for moment in moments]
    values: list[ColumnElement] = []
    for day, moment in zip(days, moments, strict=True):
        for part in parts:
            own = [table.c.moment_day == day, *open_conditions(ctx, table, part, moment)]
            values.append(func.coalesce(_filtered(func.sum(table.c.n), own), 0))
    area = in_area(ctx, table.c.org_unit_code)
    return select(*_labelled(values)).select_from(table).where(table.c.moment_day.in_(days), *area)
