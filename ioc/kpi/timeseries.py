"""A KPI over many periods (a sparkline's 12 points, a chart's 36) in a few queries, not one per point.

Every point equals what :func:`ioc.kpi.engine.compute` answers for its period (tests check each KPI
type, rollups on and off, the province, a commune and old units). :func:`_series` follows the
engine's :func:`ioc.kpi.derived.evaluate` type by type:

* counts, sums, ratios and percentiles over a time anchor: grouped by period start (`date_trunc`
  of the local date) over the whole window, from the rollup or fact table `compute` would read —
  one query per anchor for consecutive periods of one grain;
* snapshots (open, overdue, due soon at each period's end, or now): :mod:`ioc.kpi.snapshots`, one
  query per source whatever the number of points;
* indicator series (`latest`): :mod:`ioc.kpi.indicator_series`, one query;
* growth: the base KPI's series over the periods and over the compared periods;
* derived: the inputs' series, combined point by point.

Where a point cannot be had that way it is computed alone, by the engine's own function for one
period in the shared context (no repeated area, state and freshness look-ups): anchored KPIs over
periods that are not consecutive or not of one `date_trunc` grain (6 or 9 months, year to date), a
snapshot measured now (the open-rows rollup and today's deadlines: normally the current period
only), and a derived KPI whose inputs are summed over units that did not all report (its value is
then recomputed over the units every input has, by area).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Date, Engine, Select, cast, func, select

from ioc.kpi import expressions
from ioc.kpi.areas import in_area
from ioc.kpi.asof import beyond_data
from ioc.kpi.conditions import condition, filter_conditions, window_conditions
from ioc.kpi.context import Computed, Context, number
from ioc.kpi.datasets import DATASETS
from ioc.kpi.derived import evaluate
from ioc.kpi.engine import connected, open_context
from ioc.kpi.facts import _fact_parts, ratio, raw_aggregate, rollup_aggregate, shared_filters
from ioc.kpi.indicator_series import latest_values
from ioc.kpi.periods import Period, compare_period
from ioc.kpi.plan import plan
from ioc.kpi.rollup import Rollup
from ioc.kpi.snapshots import snapshot_values
from ioc.kpi.spec import (
    DerivedKpi,
    FactKpi,
    GrowthKpi,
    Kpi,
    KpiLibrary,
    LatestKpi,
    MeasureSpec,
    PercentileKpi,
)

#: Period grains that `date_trunc` names the same way (ISO weeks start on Monday in both).
TRUNCATABLE = ("day", "week", "month", "quarter", "year")

NO_DATA = Computed(None, path="no data")


def _consecutive(periods: Sequence[Period]) -> bool:
    grains = {period.grain for period in periods}
    if len(grains) != 1 or next(iter(grains)) not in TRUNCATABLE:
        return False
    return all(a.end == b.start for a, b in pairwise(periods))


def _grouped_parts(
    ctx: Context, kpi: FactKpi, parts: list[MeasureSpec], window: Period, grain: str
) -> Select:
    """Query of (bucket, v0, v1…) for parts sharing one time anchor, from the rollup or the fact
    table `compute` reads (a percentile always from the fact table)."""
    dataset = DATASETS[kpi.dataset]
    percentile = kpi.percentile if isinstance(kpi, PercentileKpi) else None
    chosen = plan(ctx, dataset, parts, window, None) if percentile is None else None
    if isinstance(chosen, Rollup):
        table = chosen.table
        bucket = cast(func.date_trunc(grain, table.c.period_start), Date)
        shared = shared_filters(parts)  # a bucket no row reaches reads as one its filters rejected
        values = [rollup_aggregate(table, part, shared) for part in parts]
        conditions = [
            table.c.period_start >= window.start,
            table.c.period_start < window.end,
            *in_area(ctx, table.c.org_unit_code),
            *(condition(table.c[item.field], item) for item in shared),
        ]
        source: Any = table
    else:
        frame = ctx.frame(dataset)
        moment = ctx.moment(window)
        anchor = frame.table.c[parts[0].time or ""]
        bucket = cast(func.date_trunc(grain, func.timezone(ctx.zone.key, anchor)), Date)
        values = [
            raw_aggregate(frame, part, filter_conditions(frame, part, moment), percentile) for part in parts
        ]
        conditions = [
            *window_conditions(frame, parts[0], window, moment),
            *in_area(ctx, frame.table.c[dataset.area_column]),
        ]
        source = frame.from_clause()
    labelled = [value.label(f"v{index}") for index, value in enumerate(values)]
    return select(bucket.label("bucket"), *labelled).select_from(source).where(*conditions).group_by(bucket)


def _by_bucket(
    ctx: Context, kpi: FactKpi, parts: list[MeasureSpec], window: Period, grain: str
) -> list[dict[date, Any]]:
    query = _grouped_parts(ctx, kpi, parts, window, grain)
    out: list[dict[date, Any]] = [{} for _ in parts]
    for row in ctx.connection.execute(query):
        for index in range(len(parts)):
            out[index][row.bucket] = number(row[index + 1])
    return out


def _part_values(
    ctx: Context, kpi: FactKpi, parts: list[MeasureSpec], periods: Sequence[Period], live: list[bool]
) -> list[list[float | None]]:
    """For each period, the value of each part (parts sharing their anchor), as `_fact_parts`
    answers; None for a period without data."""
    missing: list[float | None] = [None] * len(parts)
    if parts[0].snapshot:
        chosen = [period for period, ok in zip(periods, live, strict=True) if ok]
        measured = iter(snapshot_values(ctx, kpi, parts, chosen))
        return [next(measured) if ok else missing for ok in live]
    if _consecutive(periods):
        window = Period(periods[0].start, periods[-1].end, "range", "")
        buckets = _by_bucket(ctx, kpi, parts, window, periods[0].grain)
        empty = [0.0 if part.agg == "count" else None for part in parts]  # a count of nothing is 0
        return [
            [bucket.get(period.start, zero) for bucket, zero in zip(buckets, empty, strict=True)]
            if ok
            else missing
            for period, ok in zip(periods, live, strict=True)
        ]
    return [
        _fact_parts(ctx, kpi, parts, period, None)[0] if ok else missing
        for period, ok in zip(periods, live, strict=True)
    ]


def _facts(ctx: Context, kpi: FactKpi, periods: Sequence[Period]) -> list[Computed]:
    """Count, sum, ratio and percentile KPIs, each point as :func:`ioc.kpi.facts.facts`."""
    live = [not beyond_data(ctx, kpi, period) for period in periods]
    parts = kpi.parts()
    groups = [["value"]]
    if "numerator" in parts:
        numerator, denominator = parts["numerator"], parts["denominator"]
        together = (numerator.time, numerator.snapshot) == (denominator.time, denominator.snapshot)
        groups = [["numerator", "denominator"]] if together else [["numerator"], ["denominator"]]
    found: dict[str, list[float | None]] = {}
    for names in groups:
        by_period = _part_values(ctx, kpi, [parts[name] for name in names], periods, live)
        for position, name in enumerate(names):
            found[name] = [values[position] for values in by_period]
    out = []
    for index, ok in enumerate(live):
        if not ok:
            out.append(NO_DATA)
        elif "value" in found:
            value = found["value"][index]
            out.append(Computed(None if value is None else value * kpi.scale))
        else:
            out.append(Computed(ratio(found["numerator"][index], found["denominator"][index], kpi.scale)))
    return out


def _growth(ctx: Context, kpi: GrowthKpi, periods: Sequence[Period]) -> list[Computed]:
    """As :func:`ioc.kpi.derived._growth`: the base now against the base in the compared period."""
    base = ctx.library.get(kpi.base)
    now = _series(ctx, base, periods)
    before = _series(ctx, base, [compare_period(period, kpi.compare) for period in periods])
    out = []
    for current, earlier in zip(now, before, strict=True):
        change = ratio(current.value, earlier.value, 100.0)
        growth = None if change is None else change - 100.0
        out.append(Computed(growth, path="derived", coverage=current.coverage))
    return out


def _derived(ctx: Context, kpi: DerivedKpi, periods: Sequence[Period]) -> list[Computed]:
    """As :func:`ioc.kpi.derived._derived`; a point whose inputs do not cover every unit is computed
    alone (the engine recomputes it over the units every input has, a breakdown by area)."""
    names = sorted(kpi.references())
    inputs = {name: _series(ctx, ctx.library.get(name), periods) for name in names}
    out = []
    for index, period in enumerate(periods):
        point = {name: inputs[name][index] for name in names}
        coverages = [c.coverage for c in point.values() if c.coverage is not None]
        if any(reporting < expected for reporting, expected in coverages):
            out.append(evaluate(ctx, kpi, period, None))
            continue
        value = expressions.evaluate(kpi.expression, {name: c.value for name, c in point.items()})
        out.append(Computed(value, path="derived", coverage=min(coverages) if coverages else None))
    return out


def _series(ctx: Context, kpi: Kpi, periods: Sequence[Period]) -> list[Computed]:
    """The KPI at each period, as :func:`ioc.kpi.derived.evaluate` answers for that period."""
    if not periods:
        return []
    if isinstance(kpi, LatestKpi):
        return latest_values(ctx, kpi, periods)
    if isinstance(kpi, GrowthKpi):
        return _growth(ctx, kpi, periods)
    if isinstance(kpi, DerivedKpi):
        return _derived(ctx, kpi, periods)
    assert isinstance(kpi, FactKpi)
    return _facts(ctx, kpi, periods)


def compute_series(
    target: Engine | Connection,
    library: KpiLibrary,
    kpi_id: str,
    periods: Sequence[Period],
    area: str,
    *,
    now: datetime | None = None,
    use_rollups: bool = True,
    zone: ZoneInfo | str | None = None,
) -> list[float | None]:
    """The KPI's value for each period, in order, each equal to `compute(...).value` for it. A
    period the data does not reach yet has no data (None), never 0; so has a period an old unit
    did not exist in any more."""
    kpi = library.get(kpi_id)
    with connected(target) as connection:
        ctx = open_context(connection, library, area, now=now, use_rollups=use_rollups, zone=zone)
        gone = [ctx.merged_on is not None and period.start >= ctx.merged_on for period in periods]
        points = iter(_series(ctx, kpi, [p for p, out in zip(periods, gone, strict=True) if not out]))
        return [None if out else next(points).value for out in gone]
