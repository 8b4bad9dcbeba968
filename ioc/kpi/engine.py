"""The KPI engine: one function answers (KPI, period, area, breakdown) in SQL on Postgres.

    compute(engine_or_connection, library, "dossiers_on_time_rate", period="2026-10", area="66",
            breakdown="department") -> KpiResult

Rules (DESIGN §5, §6a): ratios are sum(numerator) / sum(denominator), never an average of ratios; a
zero denominator gives None ("no data"); a missing value stays None, never 0; an area is its whole
subtree of `org_unit` (children, and merged units through `successor_code`); dossier deadlines follow
Decision 766/QĐ-TTg (on time = finished ≤ due; open and past due = overdue; due soon = due within N
working days, counted on `kpi.work_calendar`). Only aggregates leave the database. Counts and sums use
a rollup table when one serves the query (see `ioc.kpi.rollup`), the fact table otherwise.

The work is split by concern: `areas` (area tree), `conditions` (filter compilation), `plan` (which
rollup answers), `facts` (count/sum/ratio/percentile), `series` (indicator series), `derived` (growth,
derived, dispatch), `asof` (data age), `labels` (breakdown labels, ranking, status) and `selection`
(the rows a number counts, for drill-down).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from ioc.kpi.areas import area as find_area
from ioc.kpi.asof import data_as_of
from ioc.kpi.context import Computed, Context, KpiQueryError
from ioc.kpi.derived import evaluate
from ioc.kpi.labels import labels, ranked, root_dataset, status
from ioc.kpi.periods import (
    Period,
    PeriodError,
    default_comparison,
    local_today,
    measured_period,
    parse_period,
    previous_period,
    zone_of,
)
from ioc.kpi.result import KpiResult, KpiRow
from ioc.kpi.spec import FactKpi, Kpi, KpiLibrary, KpiNotFound, accumulates

PeriodArg = str | Period | tuple[Any, Any]


@contextmanager
def connected(target: Engine | Connection) -> Iterator[Connection]:
    """The connection itself, or a new one from an engine (closed afterwards)."""
    if isinstance(target, Connection):
        yield target
    else:
        with target.connect() as connection:
            yield connection


def resolve(
    library: KpiLibrary, kpi_id: str, period: PeriodArg, zone: ZoneInfo | str | None = None
) -> tuple[Kpi, Period]:
    """The KPI and the parsed period, or a :class:`KpiQueryError` naming what is wrong."""
    try:
        kpi = library.get(kpi_id)
    except KpiNotFound as exc:
        raise KpiQueryError(str(exc)) from None
    try:
        return kpi, parse_period(period, today=local_today(zone_of(zone)))
    except PeriodError as exc:
        raise KpiQueryError(str(exc)) from None


def open_context(
    connection: Connection,
    library: KpiLibrary,
    area: str,
    *,
    as_of: datetime | None = None,
    now: datetime | None = None,
    use_rollups: bool = True,
    zone: ZoneInfo | str | None = None,
) -> Context:
    place = find_area(connection, area)
    return Context(
        connection=connection,
        library=library,
        area=area,
        area_is_root=place.root,
        as_of=as_of,
        now=now or datetime.now(UTC),
        use_rollups=use_rollups,
        historic=place.historic,
        merged_on=place.merged_on,
        zone=zone_of(zone),
    )


def _answer(ctx: Context, kpi: Kpi, period: Period, breakdown: str | None) -> Computed:
    """The KPI for one period; an old unit has no data for a period starting after it ended."""
    if ctx.merged_on is not None and period.start >= ctx.merged_on:
        return Computed(None, {} if breakdown else None, path="merged")
    return evaluate(ctx, kpi, period, breakdown)


def compute(
    target: Engine | Connection,
    library: KpiLibrary,
    kpi_id: str,
    period: PeriodArg,
    area: str,
    breakdown: str | None = None,
    as_of: datetime | None = None,
    *,
    use_rollups: bool = True,
    now: datetime | None = None,
    zone: ZoneInfo | str | None = None,
) -> KpiResult:
    """Answer one KPI for one period (code such as `2026-10`, or a `(first day, last day)` range) and
    one area (an `org_unit` code; its whole subtree counts), optionally broken down and ranked.

    `as_of` caps the moment snapshot KPIs (open, overdue, due soon) are measured at; default now.
    `use_rollups=False` forces the fact tables (the answer is the same, only slower). `zone` is the
    configured time zone (`Settings.zone`) periods are local dates in; default Asia/Ho_Chi_Minh.
    """
    kpi, current = resolve(library, kpi_id, period, zone)
    with connected(target) as connection:
        ctx = open_context(
            connection, library, area, as_of=as_of, now=now, use_rollups=use_rollups, zone=zone
        )
        return _compute_in(ctx, find_area(connection, area), kpi, current, breakdown)


def _compute_in(ctx: Context, place: Any, kpi: Kpi, current: Period, breakdown: str | None) -> KpiResult:
    """One KPI in an open context (several KPIs of one screen share the context and its lookups)."""
    library, area = ctx.library, ctx.area
    if breakdown is not None and breakdown not in kpi.breakdowns:
        allowed = ", ".join(kpi.breakdowns) or "none"
        raise KpiQueryError(f"KPI {kpi.id} has no breakdown {breakdown!r} (allowed: {allowed})")
    result = _answer(ctx, kpi, current, breakdown)
    measured = measured_period(current, result.observed_period)
    before_period = (
        previous_period(measured) if kpi.type == "growth" else default_comparison(measured, kpi.compare)
    )
    before = _answer(ctx, kpi, before_period, None)
    as_of_data = data_as_of(ctx, kpi)
    year = (current.end - timedelta(days=1)).year
    rows: list[KpiRow] = []
    if breakdown and result.rows is not None:
        names = labels(ctx, root_dataset(library, kpi), breakdown, list(result.rows))
        rows = ranked(kpi, result.rows, names, year, breakdown == "area")
    target_value = kpi.target_for(year, area)
    age = (ctx.now - as_of_data) if as_of_data else None
    delta = result.value - before.value if result.value is not None and before.value is not None else None
    return KpiResult(
        kpi_id=kpi.id,
        name_vi=kpi.name.vi,
        name_en=kpi.name.en,
        unit_vi=kpi.unit.vi,
        unit_en=kpi.unit.en,
        period=current.label,
        area=area,
        value=result.value,
        previous=before.value,
        previous_period=before_period.label,
        delta=delta,
        target=target_value,
        status=status(kpi, result.value, target_value),
        direction=kpi.direction,
        decimals=kpi.decimals,
        data_as_of=as_of_data,
        data_age=age,
        stale=age is None or age > kpi.freshness_delta,
        breakdown=breakdown,
        rows=rows,
        observed_period=result.observed_period,
        moment=ctx.moment(current) if isinstance(kpi, FactKpi) and kpi.snapshot else None,
        path=result.path,
        coverage=result.coverage,
        merged_into=place.successor,
        merged_on=place.merged_on,
        running=accumulates(kpi) and ctx.start_at(current) <= ctx.moment(current) < ctx.end_at(current),
    )


def compute_many(
    target: Engine | Connection,
    library: KpiLibrary,
    kpi_ids: list[str],
    period: PeriodArg,
    area: str,
    as_of: datetime | None = None,
    *,
    use_rollups: bool = True,
    now: datetime | None = None,
    zone: ZoneInfo | str | None = None,
) -> dict[str, KpiResult]:
    """Several KPIs for one area and period in one context: one connection, and the area, rollup
    state and freshness looked up once for all of them (a wall screen's tiles)."""
    with connected(target) as connection:
        ctx = open_context(
            connection, library, area, as_of=as_of, now=now, use_rollups=use_rollups, zone=zone
        )
        place = find_area(connection, area)
        out = {}
        for kpi_id in kpi_ids:
            kpi, current = resolve(library, kpi_id, period, zone)
            out[kpi_id] = _compute_in(ctx, place, kpi, current, None)
        return out


__all__ = ["KpiQueryError", "compute", "compute_many"]
