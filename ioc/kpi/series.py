"""Series KPIs (`latest`): the last value (or the sum over a window) of an indicator's observations.

An area's own observation wins; without one its units' observations are summed (`area_rollup: sum`)
over the units that reported, and the result says how many did: `coverage` (reporting, expected),
e.g. (100, 102) when 100 of the province's 102 communes reported. Expected units are the current
units without current units under them. An area's own missing value stays None, never 0.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, Select, and_, case, distinct, exists, false, func, not_, or_, select, true

from ioc.kpi.areas import ORG_UNIT, area_tree
from ioc.kpi.context import Computed, Context, number
from ioc.kpi.periods import Period, year_to_date
from ioc.kpi.spec import LatestKpi
from ioc.models import IndicatorObservation

OBSERVATION = IndicatorObservation.__table__


def _expected(tree: CTE) -> Select:
    """(top, expected): current units without current units below them, under each top."""
    org = ORG_UNIT
    below = ORG_UNIT.alias("below")
    current = and_(org.c.valid_to.is_(None), org.c.successor_code.is_(None))
    has_current_child = exists().where(
        below.c.parent_code == org.c.code, below.c.valid_to.is_(None), below.c.successor_code.is_(None)
    )
    return (
        select(tree.c.top, func.count().label("expected"))
        .select_from(tree.join(org, org.c.code == tree.c.code))
        .where(tree.c.code != tree.c.top, current, not_(has_current_child))
        .group_by(tree.c.top)
    )


#: Status of an observation its source withdrew (an SDMX `Delete` dataset): as if it were never there.
DELETED = "deleted"


def _usable(kpi: LatestKpi, tree: CTE, window: Period) -> CTE:
    """(top, period_start, period, value, reporting): one usable value per top and observed period."""
    obs_t = OBSERVATION
    obs = (
        select(
            tree.c.top,
            (tree.c.code == tree.c.top).label("is_self"),
            obs_t.c.org_unit_code.label("code"),
            obs_t.c.period_start,
            obs_t.c.period,
            obs_t.c.value,
        )
        .select_from(obs_t.join(tree, tree.c.code == obs_t.c.org_unit_code))
        .where(
            obs_t.c.indicator == kpi.indicator,
            obs_t.c.grain == kpi.indicator_grain,
            obs_t.c.period_start >= window.start,
            obs_t.c.period_start < window.end,
            obs_t.c.status.is_distinct_from(DELETED),
        )
        .cte("obs")
    )
    own, reported = obs.c.is_self, and_(not_(obs.c.is_self), obs.c.value.isnot(None))
    per = (
        select(
            obs.c.top,
            obs.c.period_start,
            func.max(obs.c.period).label("period"),
            func.count().filter(own).label("self_n"),
            func.coalesce(func.bool_or(obs.c.value.is_(None)).filter(own), false()).label("self_missing"),
            func.sum(obs.c.value).filter(own).label("self_value"),
            func.count(distinct(obs.c.code)).filter(reported).label("child_n"),
            func.sum(obs.c.value).filter(reported).label("child_value"),
        )
        .group_by(obs.c.top, obs.c.period_start)
        .cte("per")
    )
    chosen = select(per, (func.max(per.c.self_n).over(partition_by=per.c.top) > 0).label("own")).cte("chosen")
    rollup = kpi.area_rollup == "sum"
    return (
        select(
            chosen.c.top,
            chosen.c.period_start,
            chosen.c.period,
            case(
                (chosen.c.own, case((chosen.c.self_missing, None), else_=chosen.c.self_value)),
                else_=chosen.c.child_value,
            ).label("value"),
            case((chosen.c.own, None), else_=chosen.c.child_n).label("reporting"),
        )
        .where(
            or_(
                and_(chosen.c.own, chosen.c.self_n > 0),
                and_(not_(chosen.c.own), true() if rollup else false(), chosen.c.child_n > 0),
            )
        )
        .cte("usable")
    )


def _series_rows(ctx: Context, kpi: LatestKpi, period: Period, by_area: bool) -> list[Any]:
    """Rows (key, observed, value, reporting, expected), one per top."""
    if kpi.aggregation == "last":
        window = Period(period.end.replace(year=period.end.year - 20), period.end, "range", "")
    else:
        window = year_to_date(period) if kpi.to_date == "year" else period
    tree = area_tree(ctx.area, children=by_area, historic=ctx.historic)
    usable = _usable(kpi, tree, window)
    if kpi.aggregation == "last":
        newest = func.row_number().over(partition_by=usable.c.top, order_by=usable.c.period_start.desc())
        ranked = select(
            usable.c.top.label("key"),
            usable.c.period.label("observed"),
            usable.c.value,
            usable.c.reporting,
            newest.label("newest"),
        ).subquery("ranked")
        per_top = select(ranked.c.key, ranked.c.observed, ranked.c.value, ranked.c.reporting).where(
            ranked.c.newest == 1
        )
    else:
        per_top = select(
            usable.c.top.label("key"),
            func.max(usable.c.period).label("observed"),
            case((func.bool_or(usable.c.value.is_(None)), None), else_=func.sum(usable.c.value)).label(
                "value"
            ),
            func.min(usable.c.reporting).label("reporting"),
        ).group_by(usable.c.top)
    found = per_top.subquery("found")
    expected = _expected(tree).subquery("expected")
    query = select(found, expected.c.expected).select_from(
        found.outerjoin(expected, expected.c.top == found.c.key)
    )
    return list(ctx.connection.execute(query))


def _coverage(row: Any) -> tuple[int, int] | None:
    if row.reporting is None:
        return None
    return int(row.reporting), max(int(row.expected or 0), int(row.reporting))


def series(ctx: Context, kpi: LatestKpi, period: Period, breakdown: str | None) -> Computed:
    totals = _series_rows(ctx, kpi, period, by_area=False)
    value = number(totals[0].value) if totals else None
    observed = totals[0].observed if totals else None
    coverage = _coverage(totals[0]) if totals else None
    rows = None
    if breakdown == "area":
        rows = {row.key: number(row.value) for row in _series_rows(ctx, kpi, period, by_area=True)}
    return Computed(value, rows, observed_period=observed, path="series", coverage=coverage)
