"""Fact KPIs (count, sum, ratio, percentile): aggregates over a dataset, from a rollup or the fact table.

Ratios are sum(numerator) / sum(denominator) in one query when both parts share their anchor; a zero
denominator is None ("no data"); a sum over rows where any value is missing stays None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import FromClause, Select, Table, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.areas import scoped
from ioc.kpi.conditions import condition, cutoff_day, due_days, filter_conditions, window_conditions
from ioc.kpi.context import Computed, Context, Rows, number
from ioc.kpi.datasets import DATASETS, Breakdown, Dataset, Frame
from ioc.kpi.periods import Period
from ioc.kpi.plan import History, plan
from ioc.kpi.rollup import OpenRollup, Rollup
from ioc.kpi.spec import FactKpi, Filter, MeasureSpec, PercentileKpi, RatioKpi


def _filtered(aggregate: Any, conditions: list[ColumnElement]) -> Any:
    return aggregate.filter(and_(*conditions)) if conditions else aggregate


def _strict_sum(expression: ColumnElement, conditions: list[ColumnElement]) -> ColumnElement:
    """sum() over the rows matching `conditions` that stays NULL when any of them has no value."""
    return case(
        (
            _filtered(func.count(expression), conditions) == _filtered(func.count(), conditions),
            _filtered(func.sum(expression), conditions),
        ),
        else_=None,
    )


def _select(source: FromClause, key: Any, values: list[Any], conditions: list[ColumnElement]) -> Select:
    columns = [value.label(f"v{index}") for index, value in enumerate(values)]
    if key is None:
        return select(*columns).select_from(source).where(and_(*conditions))
    return select(key.label("key"), *columns).select_from(source).where(and_(*conditions)).group_by(key)


def _rollup_select(
    ctx: Context, rollup: Rollup, parts: list[MeasureSpec], period: Period, spec: Breakdown | None
) -> Select:
    table = rollup.table
    key = table.c[spec.column] if spec else None
    source, key, conditions = scoped(ctx, table, table.c.org_unit_code, spec, key)
    conditions += [table.c.period_start >= period.start, table.c.period_start < period.end]
    # a breakdown keeps every group, also those the parts' filters leave empty (a commune with no
    # dossier of the department shows 0): its filters stay on each aggregate
    shared = shared_filters(parts) if spec is None else ()
    conditions += [condition(table.c[item.field], item) for item in shared]
    values = [rollup_aggregate(table, part, shared) for part in parts]
    return _select(source, key, values, conditions)


def shared_filters(parts: list[MeasureSpec]) -> tuple[Filter, ...]:
    """The filters every part has (a staff member's department, say): they can narrow the rows read
    (WHERE, where an index on the dimension serves them) instead of each aggregate (FILTER). Same
    numbers: an aggregate over no row is what it is over rows its filter rejects."""
    first, *others = parts
    return tuple(item for item in first.filters if all(item in part.filters for part in others))


def rollup_aggregate(table: Table, part: MeasureSpec, shared: tuple[Filter, ...] = ()) -> ColumnElement:
    """A part's count or strict sum over the rows of a rollup table (its filters on dimensions; the
    `shared` ones are already in the query's WHERE)."""
    own = [condition(table.c[item.field], item) for item in part.filters if item not in shared]
    if part.agg == "count":
        return func.coalesce(_filtered(func.sum(table.c.n), own), 0)
    return _strict_sum(table.c[f"sum_{part.measure}"], own)


def _open_select(
    ctx: Context,
    rollup: OpenRollup,
    parts: list[MeasureSpec],
    moment: datetime,
    spec: Breakdown | None,
    history: bool = False,
) -> Select:
    """Open rows from a snapshot rollup. Now (history=False): every row but those due on the moment's
    own day (read raw, to the second). At a past month start (history=True): the stored snapshot."""
    table = rollup.history if history else rollup.table
    today = ctx.local_day(moment)
    key = table.c[spec.column] if spec else None
    source, key, conditions = scoped(ctx, table, table.c.org_unit_code, spec, key)
    if history:
        conditions.append(table.c.moment_day == today)
    else:
        conditions.append(or_(table.c.due_day.is_(None), table.c.due_day != today))
    values = [
        func.coalesce(_filtered(func.sum(table.c.n), open_conditions(ctx, table, part, moment)), 0)
        for part in parts
    ]
    return _select(source, key, values, conditions)


def open_conditions(ctx: Context, table: Table, part: MeasureSpec, moment: datetime) -> list[ColumnElement]:
    """A snapshot part's own filters over an open-rows rollup (or its history) at `moment`: overdue
    and due soon from the local due day, the other filters on the rollup's dimensions."""
    today = ctx.local_day(moment)
    own = []
    for item in part.filters:
        if item.field == "overdue":
            overdue = bool(item.value) if item.op == "eq" else not bool(item.value)
            due = table.c.due_day
            own.append(due < today if overdue else or_(due >= today, due.is_(None)))
        elif item.field == "due_in_working_days":
            own.append(table.c.due_day < cutoff_day(moment, due_days(item), ctx.zone))
        else:
            own.append(condition(table.c[item.field], item))
    return own


def _raw_select(
    ctx: Context,
    dataset: Dataset,
    parts: list[MeasureSpec],
    period: Period,
    spec: Breakdown | None,
    percentile: float | None = None,
    due_today_only: bool = False,
) -> Select:
    """The same aggregates from the fact table (the reference semantics)."""
    frame = ctx.frame(dataset)
    moment = ctx.moment(period)
    conditions = window_conditions(frame, parts[0], period, moment, due_today_only=due_today_only)
    values = [
        raw_aggregate(frame, part, filter_conditions(frame, part, moment), percentile) for part in parts
    ]
    key = frame.column(spec.column) if spec else None
    area_column = frame.table.c[dataset.area_column]
    source, key, scope = scoped(ctx, frame.from_clause(), area_column, spec, key)
    return _select(source, key, values, conditions + scope)


def raw_aggregate(
    frame: Frame, part: MeasureSpec, own: list[ColumnElement], percentile: float | None = None
) -> ColumnElement:
    """A part's count, strict sum or percentile over the fact rows matching `own`."""
    assert part.agg == "count" or part.measure is not None
    if percentile is not None:
        measure = frame.column(part.measure or "")
        return _filtered(func.percentile_cont(percentile).within_group(measure), own)
    if part.agg == "count":
        return _filtered(func.count(), own)
    return _strict_sum(frame.column(part.measure or ""), own)


def _run(ctx: Context, query: Select, width: int, grouped: bool) -> tuple[list[float | None], list[Rows]]:
    """Totals (one per part) or rows (one dict per part)."""
    if not grouped:
        row = ctx.connection.execute(query).one()
        return [number(row[index]) for index in range(width)], []
    rows: list[Rows] = [{} for _ in range(width)]
    for row in ctx.connection.execute(query):
        for index in range(width):
            rows[index][row.key] = number(row[index + 1])
    return [], rows


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _fact_parts(
    ctx: Context, kpi: FactKpi, parts: list[MeasureSpec], period: Period, breakdown: str | None
) -> tuple[list[float | None], list[Rows] | None, str]:
    """Aggregate several parts of one KPI (numerator and denominator) in one query per grouping."""
    dataset = DATASETS[kpi.dataset]
    percentile = kpi.percentile if isinstance(kpi, PercentileKpi) else None
    chosen = plan(ctx, dataset, parts, period, breakdown) if percentile is None else None
    spec = dataset.breakdowns[breakdown] if breakdown else None
    width = len(parts)

    def answer(grouped: bool) -> tuple[list[float | None], list[Rows]]:
        wanted = spec if grouped else None
        if isinstance(chosen, Rollup):
            return _run(ctx, _rollup_select(ctx, chosen, parts, period, wanted), width, grouped)
        if isinstance(chosen, History):
            query = _open_select(ctx, chosen.rollup, parts, ctx.moment(period), wanted, history=True)
            return _run(ctx, query, width, grouped)
        if isinstance(chosen, OpenRollup):
            moment = ctx.moment(period)
            totals, rows = _run(ctx, _open_select(ctx, chosen, parts, moment, wanted), width, grouped)
            today = _raw_select(ctx, dataset, parts, period, wanted, due_today_only=True)
            more_totals, more_rows = _run(ctx, today, width, grouped)
            for index in range(width):
                if grouped:
                    for key, value in more_rows[index].items():
                        rows[index][key] = _add(rows[index].get(key, 0.0), value)
                else:
                    totals[index] = _add(totals[index], more_totals[index])
            return totals, rows
        return _run(ctx, _raw_select(ctx, dataset, parts, period, wanted, percentile), width, grouped)

    totals, _ = answer(grouped=False)
    rows = answer(grouped=True)[1] if breakdown else None
    return totals, rows, "raw" if chosen is None else "rollup"


def ratio(numerator: float | None, denominator: float | None, scale: float) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator * scale


def facts(ctx: Context, kpi: FactKpi, period: Period, breakdown: str | None) -> Computed:
    parts = kpi.parts()
    if not isinstance(kpi, RatioKpi):
        [value], rows, path = _fact_parts(ctx, kpi, [parts["value"]], period, breakdown)
        if kpi.scale != 1:
            value = None if value is None else value * kpi.scale
            if rows:
                rows = [{k: (None if v is None else v * kpi.scale) for k, v in rows[0].items()}]
        return Computed(value, rows[0] if rows else None, path=path)
    numerator, denominator = parts["numerator"], parts["denominator"]
    if (numerator.time, numerator.snapshot) == (denominator.time, denominator.snapshot):
        [num, den], both, path = _fact_parts(ctx, kpi, [numerator, denominator], period, breakdown)
        num_rows, den_rows = both if both else (None, None)
    else:
        [num], num_list, path_n = _fact_parts(ctx, kpi, [numerator], period, breakdown)
        [den], den_list, path_d = _fact_parts(ctx, kpi, [denominator], period, breakdown)
        num_rows, den_rows = (num_list[0], den_list[0]) if num_list and den_list else (None, None)
        path = path_n if path_n == path_d else "mixed"
    ratios = None
    if breakdown:
        keys = set(num_rows or {}) | set(den_rows or {})
        ratios = {
            key: ratio((num_rows or {}).get(key, 0.0), (den_rows or {}).get(key), kpi.scale) for key in keys
        }
    return Computed(ratio(num, den, kpi.scale), ratios, path=path)
