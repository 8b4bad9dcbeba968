"""An indicator KPI (`latest`) at many periods in one query: the rules of :mod:`ioc.kpi.series`
applied to one window per period at once.

Each period looks at its own window of observations (the 20 years before its end for `last`, the
period or the year to its end for `sum`), and the choice between the area's own observations and
its units' sum is made per window (an area that reports its own figure from some month on is
summed from its communes before). So the observations are joined to the list of windows and every
step of :func:`ioc.kpi.series._series_rows` is partitioned by the window as well as grouped.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    Column,
    Date,
    Integer,
    Select,
    and_,
    case,
    distinct,
    false,
    func,
    not_,
    or_,
    select,
    true,
    values,
)

from ioc.kpi.areas import area_tree
from ioc.kpi.context import Computed, Context, number
from ioc.kpi.periods import Period, year_to_date
from ioc.kpi.series import DELETED, OBSERVATION, _expected
from ioc.kpi.spec import LatestKpi


def observation_window(kpi: LatestKpi, period: Period) -> Period:
    """The observations one period of the KPI looks at (as :func:`ioc.kpi.series._series_rows`)."""
    if kpi.aggregation == "last":
        return Period(period.end.replace(year=period.end.year - 20), period.end, "range", "")
    return year_to_date(period) if kpi.to_date == "year" else period


def latest_values(ctx: Context, kpi: LatestKpi, periods: Sequence[Period]) -> list[Computed]:
    """The KPI's value and coverage for each period: what `series(ctx, kpi, period, None)` answers."""
    if not periods:
        return []
    query = _query(ctx, kpi, [observation_window(kpi, period) for period in periods])
    found = {row.i: row for row in ctx.connection.execute(query)}
    out = []
    for index in range(len(periods)):
        row = found.get(index)
        if row is None:
            out.append(Computed(None, path="series"))
            continue
        coverage = None
        if row.reporting is not None:
            coverage = (int(row.reporting), max(int(row.expected or 0), int(row.reporting)))
        out.append(Computed(number(row.value), path="series", coverage=coverage))
    return out


def _query(ctx: Context, kpi: LatestKpi, windows: list[Period]) -> Select:
    """(i, value, reporting, expected) for each window i that has a usable observation."""
    listed = values(
        Column("i", Integer), Column("first_day", Date), Column("after_day", Date), name="windows"
    ).data([(index, window.start, window.end) for index, window in enumerate(windows)])
    tree = area_tree(ctx.area, children=False, historic=ctx.historic)
    table = OBSERVATION
    start = table.c.period_start
    in_window = and_(start >= listed.c.first_day, start < listed.c.after_day)
    observed = (
        select(
            listed.c.i,
            (tree.c.code == tree.c.top).label("is_self"),
            table.c.org_unit_code.label("code"),
            start,
            table.c.value,
        )
        .select_from(table.join(tree, tree.c.code == table.c.org_unit_code).join(listed, in_window))
        .where(
            table.c.indicator == kpi.indicator,
            table.c.grain == kpi.indicator_grain,
            start >= min(window.start for window in windows),
            start < max(window.end for window in windows),
            table.c.status.is_distinct_from(DELETED),
        )
        .cte("observed")
    )
    mine, theirs = observed.c.is_self, and_(not_(observed.c.is_self), observed.c.value.isnot(None))
    own_count = func.count().filter(mine)
    # per window and observed period; `own`: the area has an observation of its own in the window
    grouped = (
        select(
            observed.c.i,
            observed.c.period_start,
            own_count.label("self_n"),
            func.coalesce(func.bool_or(observed.c.value.is_(None)).filter(mine), false()).label("gap"),
            func.sum(observed.c.value).filter(mine).label("self_value"),
            func.count(distinct(observed.c.code)).filter(theirs).label("child_n"),
            func.sum(observed.c.value).filter(theirs).label("child_value"),
            (func.max(own_count).over(partition_by=observed.c.i) > 0).label("own"),
        )
        .group_by(observed.c.i, observed.c.period_start)
        .cte("grouped")
    )
    g = grouped.c
    summed = true() if kpi.area_rollup == "sum" else false()
    usable = (
        select(
            g.i,
            g.period_start,
            case((g.own, case((g.gap, None), else_=g.self_value)), else_=g.child_value).label("value"),
            case((g.own, None), else_=g.child_n).label("reporting"),
        )
        .where(or_(and_(g.own, g.self_n > 0), and_(not_(g.own), summed, g.child_n > 0)))
        .cte("usable")
    )
    u = usable.c
    if kpi.aggregation == "last":
        rank = func.row_number().over(partition_by=u.i, order_by=u.period_start.desc()).label("rank")
        ranked = select(u.i, u.value, u.reporting, rank).subquery("ranked")
        per_window = select(ranked.c.i, ranked.c.value, ranked.c.reporting).where(ranked.c.rank == 1)
    else:
        total = case((func.bool_or(u.value.is_(None)), None), else_=func.sum(u.value))
        per_window = select(u.i, total.label("value"), func.min(u.reporting).label("reporting")).group_by(u.i)
    expected = _expected(tree).subquery("expected")
    return per_window.add_columns(select(expected.c.expected).scalar_subquery().label("expected"))
