"""The KPI engine: one function answers (KPI, period, area, breakdown) in SQL on Postgres.

    compute(engine_or_connection, library, "dossiers_on_time_rate", period="2026-10", area="66",
            breakdown="department") -> KpiResult

Rules (DESIGN §5): ratios are sum(numerator) / sum(denominator), never an average of ratios; a zero
denominator gives None ("no data"); a missing value stays None, never 0; an area is its whole subtree
of `org_unit` (children, and merged units through `successor_code`); dossier deadlines follow
Decision 766/QĐ-TTg (on time = finished ≤ due; open and past due = overdue; due soon = due within N
working days, counted on `kpi.work_calendar`). Only aggregates leave the database. Counts and sums use
a rollup table when one serves the query (see `ioc.kpi.rollup`), the fact table otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    and_,
    bindparam,
    case,
    cast,
    func,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi import expressions
from ioc.kpi.datasets import DATASETS, Breakdown, Dataset, Frame
from ioc.kpi.periods import (
    LOCAL_TZ,
    LOCAL_TZ_NAME,
    Period,
    PeriodError,
    compare_period,
    local_midnight,
    parse_period,
    previous_period,
    year_to_date,
)
from ioc.kpi.result import KpiResult, KpiRow, status_of
from ioc.kpi.rollup import ROLLUPS, OpenRollup, Rollup, RollupState, find_open_rollup, history_moments
from ioc.kpi.rollup import state as rollup_state
from ioc.kpi.spec import Filter, Kpi, KpiLibrary, KpiNotFound, MeasureSpec
from ioc.kpi.tables import work_calendar
from ioc.models import Department, IndicatorObservation, OrgUnit, Procedure

LABEL_TABLES = {
    "org_unit": OrgUnit.__table__,
    "department": Department.__table__,
    "procedure": Procedure.__table__,
}


class KpiQueryError(ValueError):
    """A question the engine cannot answer: unknown KPI or area, a breakdown the KPI does not allow."""


Rows = dict[Any, float | None]


@dataclass
class _Computed:
    value: float | None
    rows: Rows | None = None
    observed_period: str | None = None
    path: str = "raw"


@dataclass
class _Context:
    connection: Connection
    library: KpiLibrary
    area: str
    area_is_root: bool
    as_of: datetime | None
    now: datetime
    use_rollups: bool
    _states: dict[str, RollupState] = field(default_factory=dict)

    def dataset_state(self, dataset: str) -> RollupState:
        if dataset not in self._states:
            self._states[dataset] = rollup_state(self.connection, dataset)
        return self._states[dataset]

    def moment(self, period: Period) -> datetime:
        """The instant a snapshot KPI is measured at: the period's end, or earlier (as_of / now)."""
        limit = self.as_of or self.now
        return min(period.end_at, limit)


# ---------------------------------------------------------------------------------------------- areas


def area_tree(area: str, *, children: bool):  # type: ignore[no-untyped-def]
    """CTE (code, top): every org unit under `area` (children=False: top is the area itself) or under
    each of its children (children=True: top is the child). Merged units count under their successor."""
    org = OrgUnit.__table__
    seed_condition = org.c.parent_code == area if children else org.c.code == area
    seed = select(org.c.code.label("code"), org.c.code.label("top")).where(seed_condition)
    tree = seed.cte("area_tree", recursive=True)
    child = org.alias("area_child")
    return tree.union(
        select(child.c.code, tree.c.top).where(
            or_(child.c.parent_code == tree.c.code, child.c.successor_code == tree.c.code)
        )
    )


# -------------------------------------------------------------------------------------------- filters


def _cutoff_day(moment: datetime, days: int) -> ColumnElement:
    """The (days+1)-th working day after the moment's local date: a deadline before that day (local
    midnight) is within `days` working days."""
    today = moment.astimezone(LOCAL_TZ).date()
    calendar = work_calendar.alias("cal_now")
    later = work_calendar.alias("cal_due")
    number_now = select(calendar.c.working_day_number).where(calendar.c.day == today).scalar_subquery()
    return (
        select(func.min(later.c.day))
        .where(later.c.working_day_number == number_now + days + 1)
        .scalar_subquery()
    )


def _cutoff(moment: datetime, days: int) -> ColumnElement:
    return func.timezone(LOCAL_TZ_NAME, cast(_cutoff_day(moment, days), DateTime))


def _due_days(item: Filter) -> int:
    return int(item.value) if item.op == "le" else int(item.value) - 1


def _condition(column: ColumnElement, item: Filter) -> ColumnElement:
    op, value = item.op, item.value
    if op == "eq":
        return column == value
    if op == "ne":
        return column.is_distinct_from(value)
    if op == "in":
        return column.in_(value)
    if op == "not_in":
        return or_(not_(column.in_(value)), column.is_(None))
    if op == "is_null":
        return column.is_(None)
    if op == "not_null":
        return column.isnot(None)
    return {"lt": column < value, "le": column <= value, "gt": column > value, "ge": column >= value}[op]


def _snapshot_condition(frame: Frame, item: Filter, moment: datetime) -> ColumnElement:
    due = frame.table.c.due_at
    if item.field == "overdue":
        return _condition(func.coalesce(due < moment, False), item)
    assert item.field == "due_in_working_days"
    return due < _cutoff(moment, _due_days(item))


# ------------------------------------------------------------------------------------------ fact KPIs


def _scoped(ctx: _Context, source: Any, area_column: ColumnElement, spec: Breakdown | None, key: Any):  # type: ignore[no-untyped-def]
    """Restrict to the context's area (or group by its children): (source, key column, conditions)."""
    if spec is not None and spec.name == "area":
        tree = area_tree(ctx.area, children=True)
        return source.join(tree, tree.c.code == area_column), tree.c.top, []
    if ctx.area_is_root:
        return source, key, []
    tree = area_tree(ctx.area, children=False)
    return source, key, [area_column.in_(select(tree.c.code))]


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


def _select(source: Any, key: Any, values: list[Any], conditions: list[ColumnElement]):  # type: ignore[no-untyped-def]
    columns = [value.label(f"v{index}") for index, value in enumerate(values)]
    if key is None:
        return select(*columns).select_from(source).where(and_(*conditions))
    return select(key.label("key"), *columns).select_from(source).where(and_(*conditions)).group_by(key)


def _rollup_select(
    ctx: _Context, rollup: Rollup, parts: list[MeasureSpec], period: Period, spec: Breakdown | None
):  # type: ignore[no-untyped-def]
    table = rollup.table
    key = table.c[spec.column] if spec else None
    source, key, conditions = _scoped(ctx, table, table.c.org_unit_code, spec, key)
    conditions += [table.c.period_start >= period.start, table.c.period_start < period.end]
    values = []
    for part in parts:
        own = [_condition(table.c[item.field], item) for item in part.filters]
        if part.agg == "count":
            values.append(func.coalesce(_filtered(func.sum(table.c.n), own), 0))
        else:
            values.append(_strict_sum(table.c[f"sum_{part.measure}"], own))
    return _select(source, key, values, conditions)


def _open_select(  # type: ignore[no-untyped-def]
    ctx: _Context,
    rollup: OpenRollup,
    parts: list[MeasureSpec],
    moment: datetime,
    spec: Breakdown | None,
    history: bool = False,
):
    """Open rows from a snapshot rollup. Now (history=False): every row but those due on the moment's
    own day (read raw, to the second). At a past month start (history=True): the stored snapshot."""
    table = rollup.history if history else rollup.table
    today = moment.astimezone(LOCAL_TZ).date()
    key = table.c[spec.column] if spec else None
    source, key, conditions = _scoped(ctx, table, table.c.org_unit_code, spec, key)
    if history:
        conditions.append(table.c.moment_day == today)
    else:
        conditions.append(or_(table.c.due_day.is_(None), table.c.due_day != today))
    values = []
    for part in parts:
        own = []
        for item in part.filters:
            if item.field == "overdue":
                overdue = bool(item.value) if item.op == "eq" else not bool(item.value)
                due = table.c.due_day
                own.append(due < today if overdue else or_(due >= today, due.is_(None)))
            elif item.field == "due_in_working_days":
                own.append(table.c.due_day < _cutoff_day(moment, _due_days(item)))
            else:
                own.append(_condition(table.c[item.field], item))
        values.append(func.coalesce(_filtered(func.sum(table.c.n), own), 0))
    return _select(source, key, values, conditions)


def _raw_select(
    ctx: _Context,
    dataset: Dataset,
    parts: list[MeasureSpec],
    period: Period,
    spec: Breakdown | None,
    percentile: float | None = None,
    due_today_only: bool = False,
):  # type: ignore[no-untyped-def]
    """The same aggregates from the fact table (the reference semantics)."""
    frame = Frame(dataset)
    table = frame.table
    conditions: list[ColumnElement] = []
    first = parts[0]
    moment = ctx.moment(period)
    if first.snapshot and due_today_only:
        today = moment.astimezone(LOCAL_TZ).date()
        assert dataset.open_state is not None
        conditions += [
            dataset.open_state[0](frame),
            table.c[dataset.open_state[1]] <= moment,
            table.c.due_at >= local_midnight(today),
            table.c.due_at < local_midnight(today + timedelta(days=1)),
        ]
    elif first.snapshot:
        conditions.append(dataset.open_at(frame, moment))
    else:
        anchor = table.c[first.time]  # type: ignore[index]
        conditions += [anchor >= period.start_at, anchor < period.end_at]
    values = []
    for part in parts:
        own = [
            _snapshot_condition(frame, item, moment)
            if dataset.columns[item.field].snapshot
            else _condition(frame.column(item.field), item)
            for item in part.filters
        ]
        if percentile is not None:
            values.append(
                _filtered(func.percentile_cont(percentile).within_group(frame.column(part.measure)), own)  # type: ignore[arg-type]
            )
        elif part.agg == "count":
            values.append(_filtered(func.count(), own))
        else:
            values.append(_strict_sum(frame.column(part.measure), own))  # type: ignore[arg-type]
    key = frame.column(spec.column) if spec else None
    source, key, scope = _scoped(ctx, frame.from_clause(), table.c[dataset.area_column], spec, key)
    return _select(source, key, values, conditions + scope)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _run(ctx: _Context, query: Any, width: int, grouped: bool) -> tuple[list[float | None], list[Rows]]:
    """Totals (one per part) or rows (one dict per part)."""
    if not grouped:
        row = ctx.connection.execute(query).one()
        return [_number(row[index]) for index in range(width)], []
    rows: list[Rows] = [{} for _ in range(width)]
    for row in ctx.connection.execute(query):
        for index in range(width):
            rows[index][row.key] = _number(row[index + 1])
    return [], rows


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


@dataclass(frozen=True)
class _History:
    """Plan: the stored snapshot of open rows at a past month start."""

    rollup: OpenRollup


def _plan(
    ctx: _Context, dataset: Dataset, parts: list[MeasureSpec], period: Period, breakdown: str | None
) -> Rollup | OpenRollup | _History | None:
    """The rollup that answers every part, if any (else the fact table is read)."""
    if not ctx.use_rollups:
        return None
    state = ctx.dataset_state(dataset.name)
    if not state.built:
        return None
    column = dataset.breakdowns[breakdown].column if breakdown else None
    if all(part.snapshot for part in parts):
        moment = ctx.moment(period)
        found = find_open_rollup(dataset.name, parts, column)
        if found is None or state.refreshed_at is None:
            return None
        if moment >= state.refreshed_at:
            return found
        local = moment.astimezone(LOCAL_TZ)
        month_start = local.day == 1 and local.time() == time(0) and moment.utcoffset() is not None
        if month_start and local.date() in history_moments(state.refreshed_at):
            return _History(found)
        return None  # another past moment: only the fact table knows
    if len({(part.time, bool(part.snapshot)) for part in parts}) != 1:
        return None
    for rollup in ROLLUPS:
        if rollup.dataset == dataset.name and all(rollup.serves(part, column, period) for part in parts):
            return rollup
    return None


def _fact_parts(
    ctx: _Context, kpi: Kpi, parts: list[MeasureSpec], period: Period, breakdown: str | None
) -> tuple[list[float | None], list[Rows] | None, str]:
    """Aggregate several parts of one KPI (numerator and denominator) in one query per grouping."""
    dataset = DATASETS[kpi.dataset]  # type: ignore[index]
    percentile = kpi.percentile if kpi.type == "percentile" else None
    plan = _plan(ctx, dataset, parts, period, breakdown) if percentile is None else None
    spec = dataset.breakdowns[breakdown] if breakdown else None
    width = len(parts)

    def answer(grouped: bool) -> tuple[list[float | None], list[Rows]]:
        wanted = spec if grouped else None
        if isinstance(plan, Rollup):
            return _run(ctx, _rollup_select(ctx, plan, parts, period, wanted), width, grouped)
        if isinstance(plan, _History):
            query = _open_select(ctx, plan.rollup, parts, ctx.moment(period), wanted, history=True)
            return _run(ctx, query, width, grouped)
        if isinstance(plan, OpenRollup):
            moment = ctx.moment(period)
            totals, rows = _run(ctx, _open_select(ctx, plan, parts, moment, wanted), width, grouped)
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
    return totals, rows, "raw" if plan is None else "rollup"


def _ratio(numerator: float | None, denominator: float | None, scale: float) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator * scale


def _facts(ctx: _Context, kpi: Kpi, period: Period, breakdown: str | None) -> _Computed:
    parts = kpi.parts()
    if kpi.type != "ratio":
        [value], rows, path = _fact_parts(ctx, kpi, [parts["value"]], period, breakdown)
        if kpi.scale != 1:
            value = None if value is None else value * kpi.scale
            if rows:
                rows = [{k: (None if v is None else v * kpi.scale) for k, v in rows[0].items()}]
        return _Computed(value, rows[0] if rows else None, path=path)
    numerator, denominator = parts["numerator"], parts["denominator"]
    if (numerator.time, numerator.snapshot) == (denominator.time, denominator.snapshot):
        [num, den], both, path = _fact_parts(ctx, kpi, [numerator, denominator], period, breakdown)
        num_rows, den_rows = both if both else (None, None)
    else:
        [num], num_list, path_n = _fact_parts(ctx, kpi, [numerator], period, breakdown)
        [den], den_list, path_d = _fact_parts(ctx, kpi, [denominator], period, breakdown)
        num_rows, den_rows = (num_list[0], den_list[0]) if num_list and den_list else (None, None)
        path = path_n if path_n == path_d else "mixed"
    rows = None
    if breakdown:
        keys = set(num_rows or {}) | set(den_rows or {})
        rows = {
            key: _ratio((num_rows or {}).get(key, 0.0), (den_rows or {}).get(key), kpi.scale) for key in keys
        }
    return _Computed(_ratio(num, den, kpi.scale), rows, path=path)


# ------------------------------------------------------------------------------------- series (latest)

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


def _series_rows(ctx: _Context, kpi: Kpi, period: Period, by_area: bool) -> list[Any]:
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


def _series(ctx: _Context, kpi: Kpi, period: Period, breakdown: str | None) -> _Computed:
    totals = _series_rows(ctx, kpi, period, by_area=False)
    value = _number(totals[0].value) if totals else None
    observed = totals[0].observed if totals else None
    rows = None
    if breakdown == "area":
        rows = {row.key: _number(row.value) for row in _series_rows(ctx, kpi, period, by_area=True)}
    return _Computed(value, rows, observed_period=observed, path="series")


# ---------------------------------------------------------------------------------- growth and derived


def _growth(ctx: _Context, kpi: Kpi, period: Period, breakdown: str | None) -> _Computed:
    base = ctx.library.get(kpi.base)  # type: ignore[arg-type]
    now = _evaluate(ctx, base, period, breakdown)
    before = _evaluate(ctx, base, compare_period(period, kpi.compare), breakdown)

    def growth(a: float | None, b: float | None) -> float | None:
        ratio = _ratio(a, b, 100.0)
        return None if ratio is None else ratio - 100.0

    rows = None
    if breakdown:
        rows = {key: growth(value, (before.rows or {}).get(key)) for key, value in (now.rows or {}).items()}
    return _Computed(growth(now.value, before.value), rows, now.observed_period, path="derived")


def _derived(ctx: _Context, kpi: Kpi, period: Period, breakdown: str | None) -> _Computed:
    names = sorted(kpi.references())
    inputs = {name: _evaluate(ctx, ctx.library.get(name), period, breakdown) for name in names}
    value = expressions.evaluate(kpi.expression, {n: c.value for n, c in inputs.items()})  # type: ignore[arg-type]
    rows = None
    if breakdown:
        keys = set().union(*(set(c.rows or {}) for c in inputs.values()))
        rows = {
            key: expressions.evaluate(kpi.expression, {n: (c.rows or {}).get(key) for n, c in inputs.items()})  # type: ignore[arg-type]
            for key in keys
        }
    observed = max((c.observed_period for c in inputs.values() if c.observed_period), default=None)
    return _Computed(value, rows, observed, path="derived")


def _evaluate(ctx: _Context, kpi: Kpi, period: Period, breakdown: str | None) -> _Computed:
    if kpi.type == "latest":
        return _series(ctx, kpi, period, breakdown)
    if kpi.type == "growth":
        return _growth(ctx, kpi, period, breakdown)
    if kpi.type == "derived":
        return _derived(ctx, kpi, period, breakdown)
    return _facts(ctx, kpi, period, breakdown)


# ------------------------------------------------------------------------------------------ freshness


def _data_as_of(ctx: _Context, kpi: Kpi) -> datetime | None:
    if kpi.type == "latest":
        table = IndicatorObservation.__table__
        query = select(func.max(table.c.loaded_at)).where(table.c.indicator == kpi.indicator)
        return ctx.connection.execute(query).scalar()
    if kpi.type in ("growth", "derived"):
        stamps = [_data_as_of(ctx, ctx.library.get(ref)) for ref in sorted(kpi.references())]
        return None if not stamps or any(s is None for s in stamps) else min(stamps)  # type: ignore[type-var]
    dataset = DATASETS[kpi.dataset]  # type: ignore[index]
    state = ctx.dataset_state(dataset.name)
    if state.built and ctx.use_rollups:
        return state.data_as_of
    return ctx.connection.execute(select(func.max(dataset.table.c[dataset.freshness_column]))).scalar()


# ------------------------------------------------------------------------------------------- labels


def _labels(ctx: _Context, dataset: Dataset | None, breakdown: str, keys: list[Any]) -> dict[Any, str]:
    spec = (dataset.breakdowns if dataset else {"area": DATASETS["dossier"].breakdowns["area"]})[breakdown]
    if spec.label_table is None:
        return {key: spec.labels.get(str(key), str(key)) for key in keys}
    table = LABEL_TABLES[spec.label_table]
    query = select(table.c.code, table.c.name).where(
        table.c.code.in_([str(k) for k in keys if k is not None])
    )
    names = dict(ctx.connection.execute(query).all())
    return {key: names.get(key, str(key)) for key in keys}


def _root_dataset(library: KpiLibrary, kpi: Kpi) -> Dataset | None:
    if kpi.dataset in DATASETS and kpi.type not in ("latest", "growth", "derived"):
        return DATASETS[kpi.dataset]
    for ref in sorted(kpi.references()):
        found = _root_dataset(library, library.get(ref))
        if found is not None:
            return found
    return None


def _ranked(kpi: Kpi, rows: Rows, labels: dict[Any, str], year: int, thresholds_area: bool) -> list[KpiRow]:
    descending = kpi.direction != "lower_is_better"
    present = sorted(
        ((k, v) for k, v in rows.items() if v is not None),
        key=lambda item: (-item[1] if descending else item[1], str(item[0])),
    )
    missing = sorted(((k, v) for k, v in rows.items() if v is None), key=lambda item: str(item[0]))
    out = []
    for index, (key, value) in enumerate([*present, *missing]):
        target = kpi.target_for(year, str(key)) if thresholds_area else kpi.target_for(year, "")
        out.append(
            KpiRow(
                key=None if key is None else str(key),
                label=labels.get(key, str(key)),
                value=value,
                rank=index + 1 if value is not None else None,
                target=target,
                status=_status(kpi, value, target),
            )
        )
    return out


def _status(kpi: Kpi, value: float | None, target: float | None) -> str:
    thresholds = kpi.thresholds
    return status_of(
        value,
        direction=kpi.direction,
        target=target,
        green=thresholds.green if thresholds else None,
        amber=thresholds.amber if thresholds else None,
        basis=thresholds.basis if thresholds else "value",
    )


# ------------------------------------------------------------------------------------------ public API


@contextmanager
def _connection(target: Engine | Connection) -> Iterator[Connection]:
    if isinstance(target, Connection):
        yield target
    else:
        with target.connect() as connection:
            yield connection


def _area_is_root(connection: Connection, area: str) -> bool:
    org = OrgUnit.__table__
    row = connection.execute(select(org.c.parent_code).where(org.c.code == area)).first()
    if row is None:
        raise KpiQueryError(f"unknown area {area!r} (not in org_unit)")
    return row[0] is None


def compute(
    target: Engine | Connection,
    library: KpiLibrary,
    kpi_id: str,
    period: str | Period | tuple[Any, Any],
    area: str,
    breakdown: str | None = None,
    as_of: datetime | None = None,
    *,
    use_rollups: bool = True,
    now: datetime | None = None,
) -> KpiResult:
    """Answer one KPI for one period (code such as `2026-10`, or a `(first day, last day)` range) and
    one area (an `org_unit` code; its whole subtree counts), optionally broken down and ranked.

    `as_of` caps the moment snapshot KPIs (open, overdue, due soon) are measured at; default now.
    `use_rollups=False` forces the fact tables (the answer is the same, only slower).
    """
    try:
        kpi = library.get(kpi_id)
    except KpiNotFound as exc:
        raise KpiQueryError(str(exc)) from None
    try:
        current = parse_period(period)
    except PeriodError as exc:
        raise KpiQueryError(str(exc)) from None
    if breakdown is not None and breakdown not in kpi.breakdowns:
        allowed = ", ".join(kpi.breakdowns) or "none"
        raise KpiQueryError(f"KPI {kpi.id} has no breakdown {breakdown!r} (allowed: {allowed})")
    now = now or datetime.now(UTC)
    with _connection(target) as connection:
        ctx = _Context(
            connection=connection,
            library=library,
            area=area,
            area_is_root=_area_is_root(connection, area),
            as_of=as_of,
            now=now,
            use_rollups=use_rollups,
        )
        result = _evaluate(ctx, kpi, current, breakdown)
        before_period = (
            previous_period(current) if kpi.type == "growth" else compare_period(current, kpi.compare)
        )
        before = _evaluate(ctx, kpi, before_period, None)
        data_as_of = _data_as_of(ctx, kpi)
        year = (current.end - timedelta(days=1)).year
        rows: list[KpiRow] = []
        if breakdown and result.rows is not None:
            labels = _labels(ctx, _root_dataset(library, kpi), breakdown, list(result.rows))
            rows = _ranked(kpi, result.rows, labels, year, breakdown == "area")
    target_value = kpi.target_for(year, area)
    age = (now - data_as_of) if data_as_of else None
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
        status=_status(kpi, result.value, target_value),
        direction=kpi.direction,
        decimals=kpi.decimals,
        data_as_of=data_as_of,
        data_age=age,
        stale=age is None or age > kpi.freshness_delta,
        breakdown=breakdown,
        rows=rows,
        observed_period=result.observed_period,
        moment=ctx.moment(current) if kpi.snapshot else None,
        path=result.path,
    )


def compute_many(
    target: Engine | Connection,
    library: KpiLibrary,
    kpi_ids: list[str],
    period: str | Period | tuple[Any, Any],
    area: str,
    as_of: datetime | None = None,
) -> dict[str, KpiResult]:
    """Several KPIs on one connection (a wall screen's tiles)."""
    with _connection(target) as connection:
        return {kpi_id: compute(connection, library, kpi_id, period, area, as_of=as_of) for kpi_id in kpi_ids}


__all__ = ["KpiQueryError", "compute", "compute_many"]
