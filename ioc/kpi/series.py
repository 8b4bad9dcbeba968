"""Series KPIs (`latest`): the last value (or the sum over a window) of an indicator's observations.

An area's own observation wins; without one its children's are summed (`area_rollup: sum`). A missing
value in what is summed gives None, never a partial sum presented as the total.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text

from ioc.kpi.context import Computed, Context, number
from ioc.kpi.periods import Period, year_to_date
from ioc.kpi.spec import LatestKpi

_SERIES_SQL = """
WITH RECURSIVE tree(code, top) AS (
    SELECT code, code FROM org_unit
     WHERE (:by_area AND parent_code = :area) OR (NOT :by_area AND code = :area)
  UNION
    SELECT c.code, t.top FROM org_unit c
      JOIN tree t ON c.parent_code = t.code OR c.successor_code = t.code
),
obs AS (
    SELECT t.top, t.code = t.top AS is_self, o.period_start, o.period, o.value
      FROM indicator_observation o JOIN tree t ON t.code = o.org_unit_code
     WHERE o.indicator = :indicator AND o.grain = :grain
       AND o.period_start >= :start AND o.period_start < :end
),
per AS (
    SELECT top, period_start, max(period) AS period,
           count(*) FILTER (WHERE is_self) AS self_n,
           coalesce(bool_or(value IS NULL) FILTER (WHERE is_self), false) AS self_missing,
           sum(value) FILTER (WHERE is_self) AS self_value,
           count(*) FILTER (WHERE NOT is_self) AS child_n,
           coalesce(bool_or(value IS NULL) FILTER (WHERE NOT is_self), false) AS child_missing,
           sum(value) FILTER (WHERE NOT is_self) AS child_value
      FROM obs GROUP BY top, period_start
),
chosen AS (
    SELECT per.*, max(self_n) OVER (PARTITION BY top) > 0 AS own FROM per
),
usable AS (
    SELECT top, period_start, period,
           CASE WHEN own THEN CASE WHEN self_missing THEN NULL ELSE self_value END
                ELSE CASE WHEN child_missing THEN NULL ELSE child_value END END AS value
      FROM chosen
     WHERE (own AND self_n > 0) OR (NOT own AND :rollup AND child_n > 0)
)
"""
_SERIES_LAST = (
    _SERIES_SQL
    + """
SELECT DISTINCT ON (top) top AS key, period AS observed, value FROM usable ORDER BY top, period_start DESC
"""
)
_SERIES_SUM = (
    _SERIES_SQL
    + """
SELECT top AS key, max(period) AS observed,
       CASE WHEN bool_or(value IS NULL) THEN NULL ELSE sum(value) END AS value
  FROM usable GROUP BY top
"""
)


def _series_rows(ctx: Context, kpi: LatestKpi, period: Period, by_area: bool) -> list[Any]:
    if kpi.aggregation == "last":
        window = Period(period.end.replace(year=period.end.year - 20), period.end, "range", "")
        sql = _SERIES_LAST
    else:
        window = year_to_date(period) if kpi.to_date == "year" else period
        sql = _SERIES_SUM
    statement = text(sql).bindparams(
        bindparam("by_area", by_area),
        bindparam("area", ctx.area),
        bindparam("indicator", kpi.indicator),
        bindparam("grain", kpi.indicator_grain),
        bindparam("start", window.start),
        bindparam("end", window.end),
        bindparam("rollup", kpi.area_rollup == "sum"),
    )
    return list(ctx.connection.execute(statement))


def series(ctx: Context, kpi: LatestKpi, period: Period, breakdown: str | None) -> Computed:
    totals = _series_rows(ctx, kpi, period, by_area=False)
    value = number(totals[0].value) if totals else None
    observed = totals[0].observed if totals else None
    rows = None
    if breakdown == "area":
        rows = {row.key: number(row.value) for row in _series_rows(ctx, kpi, period, by_area=True)}
    return Computed(value, rows, observed_period=observed, path="series")
