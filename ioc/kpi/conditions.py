"""Filter compilation: a KPI's structured filters, time window and snapshot moment as SQL conditions.

These are the reference semantics (the fact-table path); the rollup paths translate the same filters
onto their own columns, and :mod:`ioc.kpi.selection` exposes them for drill-down.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, cast, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.datasets import Dataset, Frame
from ioc.kpi.periods import Period, local_midnight
from ioc.kpi.spec import Filter, MeasureSpec
from ioc.kpi.tables import work_calendar


def cutoff_day(moment: datetime, days: int, zone: ZoneInfo) -> ColumnElement:
    """The (days+1)-th working day after the moment's local date: a deadline before that day (local
    midnight) is within `days` working days."""
    today = moment.astimezone(zone).date()
    calendar = work_calendar.alias("cal_now")
    later = work_calendar.alias("cal_due")
    number_now = select(calendar.c.working_day_number).where(calendar.c.day == today).scalar_subquery()
    return (
        select(func.min(later.c.day))
        .where(later.c.working_day_number == number_now + days + 1)
        .scalar_subquery()
    )


def _cutoff(moment: datetime, days: int, zone: ZoneInfo) -> ColumnElement:
    return func.timezone(zone.key, cast(cutoff_day(moment, days, zone), DateTime))


def due_days(item: Filter) -> int:
    """`due_in_working_days le N` / `lt N` as a number of working days."""
    return int(item.value) if item.op == "le" else int(item.value) - 1


def condition(column: ColumnElement, item: Filter) -> ColumnElement:
    """`column op value`, the value bound as a parameter."""
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
        return condition(func.coalesce(due < moment, False), item)
    assert item.field == "due_in_working_days"
    return due < _cutoff(moment, due_days(item), ZoneInfo(frame.zone))


def filter_conditions(frame: Frame, part: MeasureSpec, moment: datetime) -> list[ColumnElement]:
    """A part's own filters over the fact table (snapshot columns measured at `moment`)."""
    columns = frame.dataset.columns
    return [
        _snapshot_condition(frame, item, moment)
        if columns[item.field].snapshot
        else condition(frame.column(item.field), item)
        for item in part.filters
    ]


def window_conditions(
    frame: Frame, part: MeasureSpec, period: Period, moment: datetime, *, due_today_only: bool = False
) -> list[ColumnElement]:
    """The rows a part looks at: anchored in the period, or (snapshot) open at `moment`.
    `due_today_only`: the open rows due on the moment's own local day (the open rollup's complement)."""
    dataset: Dataset = frame.dataset
    table = frame.table
    zone = ZoneInfo(frame.zone)
    if part.snapshot and due_today_only:
        today = moment.astimezone(zone).date()
        assert dataset.open_state is not None
        return [
            dataset.open_state[0](frame),
            table.c[dataset.open_state[1]] <= moment,
            table.c.due_at >= local_midnight(today, zone),
            table.c.due_at < local_midnight(today + timedelta(days=1), zone),
        ]
    if part.snapshot:
        return [dataset.open_at(frame, moment)]
    assert part.time is not None
    anchor = table.c[part.time]
    return [anchor >= local_midnight(period.start, zone), anchor < local_midnight(period.end, zone)]
