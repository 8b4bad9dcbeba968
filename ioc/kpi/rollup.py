"""Rollup tables that keep wall-screen KPIs fast at 10 million dossiers.

A rollup pre-aggregates one dataset on one time anchor (received_at, finished_at…) at day or month
grain, by a few dimensions, with a row count `n` and sums of summable columns. The engine answers a
count/sum/ratio from a rollup when every filter and the breakdown are on the rollup's dimensions and
the period fits its grain; otherwise it reads the fact table. Results are identical either way (a test
checks this); rollups only change the speed.

Contract: after a load the runner calls :func:`after_load`, which refreshes fully once a day and
otherwise only from the earliest day the changed rows touch; until the first refresh the engine
reads the fact tables directly. `ioc kpi refresh` rebuilds everything on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.datasets import DATASETS, Frame, local_date
from ioc.kpi.periods import LOCAL_TZ, LOCAL_TZ_NAME, Period, local_midnight
from ioc.kpi.spec import MeasureSpec
from ioc.kpi.tables import history_table, open_table, rollup_state, rollup_table

#: Advisory lock key of rollup refreshes (any fixed 64-bit number unique to this purpose).
REFRESH_LOCK_KEY = 0x10C_4B1_2011


@dataclass(frozen=True)
class Rollup:
    name: str
    dataset: str
    anchor: str
    grain: str  # day or month
    dims: tuple[str, ...]
    sums: tuple[str, ...] = ()

    @cached_property
    def table(self) -> Table:
        columns = DATASETS[self.dataset].columns
        return rollup_table(self.name, {dim: columns[dim].kind for dim in self.dims}, self.sums)

    def serves(self, part: MeasureSpec, breakdown_column: str | None, period: Period) -> bool:
        if part.snapshot or part.time != self.anchor:
            return False
        if any(item.field not in self.dims for item in part.filters):
            return False
        if breakdown_column is not None and breakdown_column not in self.dims:
            return False
        if part.agg == "sum" and part.measure not in self.sums:
            return False
        return self.grain == "day" or period.is_month_aligned()


#: In order of preference: the first rollup that serves a query is used (smallest first).
ROLLUPS: tuple[Rollup, ...] = (
    Rollup("dossier_received_day", "dossier", "received_at", "day", ("org_unit_code", "channel")),
    Rollup(
        "dossier_finished_day",
        "dossier",
        "finished_at",
        "day",
        ("org_unit_code", "channel", "on_time"),
        ("processing_days",),
    ),
    Rollup(
        "dossier_received_month",
        "dossier",
        "received_at",
        "month",
        ("org_unit_code", "department_code", "procedure_code", "channel"),
    ),
    Rollup(
        "dossier_finished_month",
        "dossier",
        "finished_at",
        "month",
        ("org_unit_code", "department_code", "procedure_code", "channel", "on_time"),
        ("processing_days",),
    ),
    Rollup(
        "incident_reported_day",
        "incident",
        "reported_at",
        "day",
        ("org_unit_code", "category", "severity", "status"),
    ),
    Rollup(
        "incident_closed_day",
        "incident",
        "closed_at",
        "day",
        ("org_unit_code", "category", "severity", "closed_on_time"),
        ("hours_to_close",),
    ),
)


@dataclass(frozen=True)
class OpenRollup:
    """Rows open at refresh time, by local due day and a few dimensions, for snapshot KPIs measured
    at or after the refresh (the wall's "overdue now", "due soon"). Deadlines before the refresh day
    are folded into the day before it: for any later moment they are all overdue alike."""

    name: str
    dataset: str
    dims: tuple[str, ...]

    @cached_property
    def table(self) -> Table:
        columns = DATASETS[self.dataset].columns
        return open_table(self.name, {dim: columns[dim].kind for dim in self.dims})

    @cached_property
    def history(self) -> Table:
        columns = DATASETS[self.dataset].columns
        return history_table(f"{self.name}_history", {dim: columns[dim].kind for dim in self.dims})

    def serves(self, parts: list[MeasureSpec], breakdown_column: str | None) -> bool:
        if breakdown_column is not None and breakdown_column not in self.dims:
            return False
        snapshot_fields = ("overdue", "due_in_working_days")
        return all(
            part.snapshot
            and part.agg == "count"
            and all(item.field in self.dims or item.field in snapshot_fields for item in part.filters)
            for part in parts
        )


OPEN_ROLLUPS: tuple[OpenRollup, ...] = (
    OpenRollup("dossier_open", "dossier", ("org_unit_code", "channel")),
    OpenRollup("incident_open", "incident", ("org_unit_code", "category", "severity")),
)

ROLLUP_DATASETS = tuple(sorted({rollup.dataset for rollup in ROLLUPS + OPEN_ROLLUPS}))


def find_open_rollup(
    dataset: str, parts: list[MeasureSpec], breakdown_column: str | None
) -> OpenRollup | None:
    for rollup in OPEN_ROLLUPS:
        if rollup.dataset == dataset and rollup.serves(parts, breakdown_column):
            return rollup
    return None


def _rebuild_open(connection: Connection, rollup: OpenRollup) -> int:
    dataset = DATASETS[rollup.dataset]
    assert dataset.open_state is not None
    frame = Frame(dataset)
    due = frame.table.c.due_at
    yesterday = cast(func.timezone(LOCAL_TZ_NAME, func.now()), Date) - 1
    due_day = case((due.is_(None), None), else_=func.greatest(local_date(due), yesterday))
    dims = [frame.column(dim) for dim in rollup.dims]
    query = (
        select(
            due_day.label("due_day"),
            *[d.label(n) for d, n in zip(dims, rollup.dims, strict=True)],
            func.count().label("n"),
        )
        .select_from(frame.from_clause())
        .where(dataset.open_state[0](frame))
        .group_by(due_day, *dims)
    )
    connection.execute(delete(rollup.table))
    result = connection.execute(insert(rollup.table).from_select(["due_day", *rollup.dims, "n"], query))
    return int(result.rowcount or 0)


#: Month starts kept in the history of open rows: this month's and the 12 before (the "previous"
#: value of a snapshot KPI is its value at the start of the period).
HISTORY_MONTHS = 13


def history_moments(refreshed_at: datetime) -> list[date]:
    local = refreshed_at.astimezone(LOCAL_TZ).date()
    index = local.year * 12 + local.month - 1
    return [date((index - k) // 12, (index - k) % 12 + 1, 1) for k in range(HISTORY_MONTHS)]


def _rebuild_history(connection: Connection, rollup: OpenRollup, refreshed_at: datetime) -> int:
    dataset = DATASETS[rollup.dataset]
    table = rollup.history
    connection.execute(delete(table))
    written = 0
    for moment_day in history_moments(refreshed_at):
        frame = Frame(dataset)
        due = frame.table.c.due_at
        floor = moment_day - timedelta(days=1)
        due_day = case((due.is_(None), None), else_=func.greatest(local_date(due), floor))
        dims = [frame.column(dim) for dim in rollup.dims]
        query = (
            select(
                literal(moment_day, Date).label("moment_day"),
                due_day.label("due_day"),
                *[d.label(n) for d, n in zip(dims, rollup.dims, strict=True)],
                func.count().label("n"),
            )
            .select_from(frame.from_clause())
            .where(dataset.open_at(frame, literal(local_midnight(moment_day), DateTime(timezone=True))))
            .group_by(due_day, *dims)
        )
        columns = ["moment_day", "due_day", *rollup.dims, "n"]
        written += int(connection.execute(insert(table).from_select(columns, query)).rowcount or 0)
    return written


def find_rollup(
    dataset: str, part: MeasureSpec, breakdown_column: str | None, period: Period
) -> Rollup | None:
    for rollup in ROLLUPS:
        if rollup.dataset == dataset and rollup.serves(part, breakdown_column, period):
            return rollup
    return None


def strict_sum(expression: ColumnElement, count: ColumnElement | None = None) -> ColumnElement:
    """sum() that stays NULL when any input is NULL: a missing value is never counted as 0."""
    total = count if count is not None else func.count()
    return case((func.count(expression) == total, func.sum(expression)), else_=None)


def _rebuild(connection: Connection, rollup: Rollup, since: date | None) -> int:
    dataset = DATASETS[rollup.dataset]
    frame = Frame(dataset)
    anchor = frame.table.c[rollup.anchor]
    period_start = cast(func.date_trunc(rollup.grain, func.timezone(LOCAL_TZ_NAME, anchor)), Date)
    dims = [frame.column(dim).label(dim) for dim in rollup.dims]
    sums = [strict_sum(frame.column(column)).label(f"sum_{column}") for column in rollup.sums]
    conditions: list[ColumnElement[bool]] = [anchor.isnot(None)]
    table = rollup.table
    if since is not None:
        first = since.replace(day=1) if rollup.grain == "month" else since
        conditions.append(anchor >= local_midnight(first))
        connection.execute(delete(table).where(table.c.period_start >= first))
    else:
        connection.execute(delete(table))
    query = (
        select(period_start.label("period_start"), *dims, func.count().label("n"), *sums)
        .select_from(frame.from_clause())
        .where(and_(*conditions))
        .group_by(period_start, *[frame.column(dim) for dim in rollup.dims])
    )
    columns = ["period_start", *rollup.dims, "n", *[f"sum_{column}" for column in rollup.sums]]
    result = connection.execute(insert(table).from_select(columns, query))
    return int(result.rowcount or 0)


def refresh(
    connection: Connection, *, since: date | None = None, datasets: tuple[str, ...] | None = None
) -> dict[str, int]:
    """Rebuild the rollups (all periods, or those from `since` on); return rows written per rollup.

    Runs in the caller's transaction, so readers see either the old or the new rollups. Refreshes are
    serialised by a transaction-level advisory lock: two workers that finish loads at the same time
    would otherwise each delete the old rows and both insert new ones, doubling every count.
    """
    connection.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK_KEY)))
    written: dict[str, int] = {}
    for name in datasets or ROLLUP_DATASETS:
        dataset = DATASETS[name]
        for rollup in ROLLUPS:
            if rollup.dataset == name:
                written[rollup.name] = _rebuild(connection, rollup, since)
        for open_rollup in OPEN_ROLLUPS:
            if open_rollup.dataset == name:
                written[open_rollup.name] = _rebuild_open(connection, open_rollup)
                refreshed_at = connection.execute(select(func.now())).scalar_one()
                written[open_rollup.history.name] = _rebuild_history(connection, open_rollup, refreshed_at)
        newest = connection.execute(
            select(func.max(dataset.table.c[dataset.freshness_column]), func.count())
        ).one()
        statement = pg_insert(rollup_state).values(
            dataset=name, refreshed_at=func.now(), data_as_of=newest[0], rows=newest[1]
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["dataset"],
                set_={"refreshed_at": func.now(), "data_as_of": newest[0], "rows": newest[1]},
            )
        )
    return written


@dataclass(frozen=True)
class RollupState:
    built: bool
    refreshed_at: datetime | None = None
    data_as_of: datetime | None = None


def state(connection: Connection, dataset: str) -> RollupState:
    """Whether a dataset's rollups are built, when, and the newest change they include."""
    query = select(rollup_state.c.refreshed_at, rollup_state.c.data_as_of).where(
        rollup_state.c.dataset == dataset
    )
    row = connection.execute(query).first()
    return RollupState(True, row[0], row[1]) if row is not None else RollupState(False)


def clear(connection: Connection) -> None:
    """Empty every rollup and its state (tests; or to force the engine back to the fact tables)."""
    for table in [*(rollup.table for rollup in ROLLUPS), *(rollup.table for rollup in OPEN_ROLLUPS)]:
        connection.execute(delete(table))
    for open_rollup in OPEN_ROLLUPS:
        connection.execute(delete(open_rollup.history))
    connection.execute(delete(rollup_state))


#: Rows changed this long before the last refresh are looked at again: a load's transaction may have
#: started (and stamped its rows) before that refresh and committed after it.
CHANGE_MARGIN = timedelta(hours=1)


def changed_since(connection: Connection, dataset_name: str, refreshed_at: datetime) -> date | None:
    """The earliest local day any rollup of the dataset must rebuild for rows changed since the last
    refresh (minus the margin); None when no row changed."""
    dataset = DATASETS[dataset_name]
    anchors = [dataset.table.c[r.anchor] for r in ROLLUPS if r.dataset == dataset_name]
    changed = dataset.table.c[dataset.freshness_column] > refreshed_at - CHANGE_MARGIN
    earliest = func.least(*anchors) if len(anchors) > 1 else anchors[0]
    return connection.execute(select(func.min(local_date(earliest))).where(changed)).scalar()


def after_load(engine: Engine, source: str, tables: frozenset[str]) -> None:
    """Runner hook (`ioc.after_load` entry point): refresh the rollups of the datasets a run changed.

    The first refresh of each local day rebuilds everything; later ones rebuild only the periods the
    changed rows fall in (their earliest anchor day on), which keeps a load's refresh short at 10M
    dossiers. A correction that moves an anchor earlier than that (a received date edited backwards)
    is caught by the next day's full refresh, or at once by `ioc kpi refresh`.
    """
    datasets = tuple(name for name in ROLLUP_DATASETS if DATASETS[name].table.name in tables)
    if not datasets:
        return
    with engine.begin() as connection:
        connection.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK_KEY)))
        today = connection.execute(select(func.now())).scalar_one().astimezone(LOCAL_TZ).date()
        for name in datasets:
            previous = state(connection, name)
            since = None
            if (
                previous.refreshed_at is not None
                and previous.refreshed_at.astimezone(LOCAL_TZ).date() == today
            ):
                since = changed_since(connection, name, previous.refreshed_at)
            refresh(connection, datasets=(name,), since=since)
