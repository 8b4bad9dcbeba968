"""A KPI over consecutive periods (a chart's 12 or 36 points) in one query per anchor, not one per point.

Counts, sums and ratios over a time anchor are grouped by period start (`date_trunc` of the local
date) over the whole window, from the same rollup or fact table :func:`ioc.kpi.engine.compute` would
read, so each point equals what `compute` answers for that period (a test checks this). KPIs that are
not anchored on time (snapshots measured at each period's end, percentiles, indicator series, growth
and derived KPIs) fall back to one `compute` per point.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Date, Engine, Select, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.areas import in_area
from ioc.kpi.asof import beyond_data
from ioc.kpi.conditions import condition, filter_conditions, window_conditions
from ioc.kpi.context import Context, number
from ioc.kpi.datasets import DATASETS
from ioc.kpi.engine import compute, connected, open_context
from ioc.kpi.facts import _filtered, _strict_sum, ratio
from ioc.kpi.periods import Period
from ioc.kpi.plan import plan
from ioc.kpi.rollup import Rollup
from ioc.kpi.spec import FactKpi, Kpi, KpiLibrary, MeasureSpec

#: Period grains that `date_trunc` names the same way (ISO weeks start on Monday in both).
TRUNCATABLE = ("day", "week", "month", "quarter", "year")


def _consecutive(periods: Sequence[Period]) -> bool:
    grains = {period.grain for period in periods}
    if len(grains) != 1 or next(iter(grains)) not in TRUNCATABLE:
        return False
    return all(a.end == b.start for a, b in pairwise(periods))


def _grouped_parts(
    ctx: Context, kpi: FactKpi, parts: list[MeasureSpec], window: Period, grain: str
) -> tuple[Select, str]:
    """(query of (bucket, v0, v1…), path) for parts sharing one time anchor."""
    dataset = DATASETS[kpi.dataset]
    chosen = plan(ctx, dataset, parts, window, None)
    if isinstance(chosen, Rollup):
        table = chosen.table
        bucket = cast(func.date_trunc(grain, table.c.period_start), Date)
        values: list[ColumnElement] = []
        for part in parts:
            own = [condition(table.c[item.field], item) for item in part.filters]
            if part.agg == "count":
                values.append(func.coalesce(_filtered(func.sum(table.c.n), own), 0))
            else:
                values.append(_strict_sum(table.c[f"sum_{part.measure}"], own))
        conditions = [
            table.c.period_start >= window.start,
            table.c.period_start < window.end,
            *in_area(ctx, table.c.org_unit_code),
        ]
        source: Any = table
        path = "rollup"
    else:
        frame = ctx.frame(dataset)
        moment = ctx.moment(window)
        anchor = frame.table.c[parts[0].time or ""]
        bucket = cast(func.date_trunc(grain, func.timezone(ctx.zone.key, anchor)), Date)
        values = []
        for part in parts:
            own = filter_conditions(frame, part, moment)
            if part.agg == "count":
                values.append(_filtered(func.count(), own))
            else:
                values.append(_strict_sum(frame.column(part.measure or ""), own))
        conditions = [
            *window_conditions(frame, parts[0], window, moment),
            *in_area(ctx, frame.table.c[dataset.area_column]),
        ]
        source = frame.from_clause()
        path = "raw"
    labelled = [value.label(f"v{index}") for index, value in enumerate(values)]
    query = select(bucket.label("bucket"), *labelled).select_from(source).where(*conditions).group_by(bucket)
    return query, path


def _by_bucket(
    ctx: Context, kpi: FactKpi, parts: list[MeasureSpec], window: Period, grain: str
) -> list[dict[date, Any]]:
    query, _ = _grouped_parts(ctx, kpi, parts, window, grain)
    out: list[dict[date, Any]] = [{} for _ in parts]
    for row in ctx.connection.execute(query):
        for index in range(len(parts)):
            out[index][row.bucket] = number(row[index + 1])
    return out


def _fast_series(ctx: Context, kpi: Kpi, periods: Sequence[Period]) -> list[float | None] | None:
    if not isinstance(kpi, FactKpi) or kpi.type not in ("count", "sum", "ratio") or not _consecutive(periods):
        return None
    parts = kpi.parts()
    if any(part.snapshot for part in parts.values()):
        return None
    window = Period(periods[0].start, periods[-1].end, "range", "")
    grain = periods[0].grain
    starts = [period.start for period in periods]
    if kpi.type != "ratio":
        [values] = _by_bucket(ctx, kpi, [parts["value"]], window, grain)
        zero: float | None = 0.0 if parts["value"].agg == "count" else None
        return [_scaled(values.get(start, zero), kpi.scale) for start in starts]
    numerator, denominator = parts["numerator"], parts["denominator"]
    if numerator.time == denominator.time:
        num, den = _by_bucket(ctx, kpi, [numerator, denominator], window, grain)
    else:
        [num] = _by_bucket(ctx, kpi, [numerator], window, grain)
        [den] = _by_bucket(ctx, kpi, [denominator], window, grain)
    return [ratio(num.get(start, 0.0), den.get(start), kpi.scale) for start in starts]


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale


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
    """The KPI's value for each period, in order: one grouped query when the KPI allows, else one
    `compute` per period. A period the data does not reach yet has no data (None), never 0."""
    kpi = library.get(kpi_id)
    with connected(target) as connection:
        ctx = open_context(connection, library, area, now=now, use_rollups=use_rollups, zone=zone)
        values = None if ctx.historic else _fast_series(ctx, kpi, periods)
        if values is None:
            return [
                compute(
                    connection, library, kpi_id, period, area, now=ctx.now, use_rollups=use_rollups, zone=zone
                ).value
                for period in periods
            ]
        assert isinstance(kpi, FactKpi)
        return [
            None if beyond_data(ctx, kpi, period) else value
            for period, value in zip(periods, values, strict=True)
        ]
