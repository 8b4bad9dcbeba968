"""Rollup tables that keep wall-screen KPIs fast at 10 million dossiers.

A rollup pre-aggregates one dataset on one time anchor (received_at, finished_at…) at day or month
grain, by a few dimensions, with a row count `n` and sums of summable columns; snapshot rollups count
the rows open now and at past month starts by due day. The engine answers from a rollup when every
filter and the breakdown are on its dimensions and the period fits its grain; otherwise it reads the
fact table. Results are identical either way; rollups only change the speed.

Contract — rollups are a cache that is exact or not used:

* Triggers on the fact tables (migrations 0008, 0009, 0012) write the old and the new image of every
  changed row into a change log (`kpi.<dataset>_change`), whoever writes: the runner, or SQL by hand —
  statement-level for INSERT and DELETE (one INSERT … SELECT from the transition table), row-level
  for UPDATE behind a WHEN clause that lets through only rows whose rollup columns or key changed
  (a status-only update costs nothing). TRUNCATE, and any change to the working-day calendar, mark a
  full rebuild as due.
* :func:`catch_up` (the runner's after-load hook, after every run and at worker start) takes the
  logged changes and adds them: -1 for an old image, +1 for a new one, so a correction moving a
  dossier to another day or month leaves the old period and joins the new one. Its cost follows the
  number of changed rows, not the table's size.
* While changes wait in the log, or a full rebuild is due, :func:`state` says the rollups are not
  built and the engine reads the fact tables. A refresh killed midway rolls back and leaves the log as
  it was: the numbers stay right and the next call completes it.
* :func:`refresh` (`ioc kpi refresh`) rebuilds everything from the fact tables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from time import perf_counter

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    MetaData,
    Select,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.datasets import DATASETS, Dataset, Frame, local_date
from ioc.kpi.periods import LOCAL_TZ, LOCAL_TZ_NAME, Period, local_midnight
from ioc.kpi.spec import MeasureSpec
from ioc.kpi.tables import (
    change_table,
    history_table,
    key_columns,
    open_table,
    rollup_state,
    rollup_table,
)

log = logging.getLogger(__name__)

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
    # department_code since migration 0017: a department-scoped reader's every snapshot question
    OpenRollup("dossier_open", "dossier", ("org_unit_code", "department_code", "channel")),
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


#: Month starts kept in the history of open rows: this month's and the 12 before (the "previous"
#: value of a snapshot KPI is its value at the start of the period).
HISTORY_MONTHS = 13


def history_moments(refreshed_at: datetime) -> list[date]:
    local = refreshed_at.astimezone(LOCAL_TZ).date()
    index = local.year * 12 + local.month - 1
    return [date((index - k) // 12, (index - k) % 12 + 1, 1) for k in range(HISTORY_MONTHS)]


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


# ------------------------------------------------------------------------------- what a refresh adds
#
# Every rollup row is a sum over rows: a full rebuild sums the fact table, an incremental refresh sums
# the change log (old images with sign -1, new ones with +1) and adds the result to the rows with the
# same key. Both build the same queries over a Frame; only the table under it and the sign differ.

#: Columns of the fact tables that the change logs keep: every column a rollup groups, filters or
#: sums on (derived columns included), the open state's, and the freshness column.
CHANGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "dossier": (
        "received_at",
        "due_at",
        "finished_at",
        "org_unit_code",
        "department_code",
        "procedure_code",
        "channel",
        "updated_at",
    ),
    "incident": (
        "reported_at",
        "due_at",
        "closed_at",
        "status",
        "org_unit_code",
        "category",
        "severity",
        "updated_at",
    ),
}


def change_log(dataset: str) -> Table:
    """`kpi.<dataset>_change`: images of changed rows, written by the fact table's triggers."""
    return change_table(f"{dataset}_change", DATASETS[dataset].table, CHANGE_COLUMNS[dataset])


def _batch_table(dataset: str) -> Table:
    """The changes one refresh consumes (a temporary copy of the log's rows it deleted)."""
    log = change_log(dataset)
    return Table(f"{log.name}_batch", MetaData(), *(Column(c.name, c.type) for c in log.c))


def _labelled(expressions: list[ColumnElement], names: tuple[str, ...]) -> list[ColumnElement]:
    return [expression.label(name) for expression, name in zip(expressions, names, strict=True)]


def _sign(frame: Frame) -> ColumnElement:
    return frame.table.c.sign if "sign" in frame.table.c else literal(1)


def _rollup_query(rollup: Rollup, frame: Frame) -> Select:
    """period_start, dimensions, n, total_/nulls_ of each summed column: sums of signed rows."""
    anchor = frame.table.c[rollup.anchor]
    sign = _sign(frame)
    period_start = cast(func.date_trunc(rollup.grain, func.timezone(LOCAL_TZ_NAME, anchor)), Date)
    dims = [frame.column(dim) for dim in rollup.dims]
    sums = [func.sum(sign).label("n")]
    for name in rollup.sums:
        value = frame.column(name)
        sums.append(func.coalesce(func.sum(sign * value), 0).label(f"total_{name}"))
        sums.append(func.coalesce(func.sum(sign).filter(value.is_(None)), 0).label(f"nulls_{name}"))
    return (
        select(period_start.label("period_start"), *_labelled(dims, rollup.dims))
        .add_columns(*sums)
        .select_from(frame.from_clause())
        .where(anchor.isnot(None))
        .group_by(period_start, *dims)
    )


def _due_day(frame: Frame, floor: ColumnElement) -> ColumnElement:
    """The local due day, deadlines before `floor` folded into it (all overdue alike from then on)."""
    due = frame.table.c.due_at
    return case((due.is_(None), None), else_=func.greatest(local_date(due), floor))


def _open_query(rollup: OpenRollup, frame: Frame, floor: date) -> Select:
    """Rows open now (at the refresh) by due day (folded at `floor`) and dimensions."""
    dataset = frame.dataset
    assert dataset.open_state is not None
    due_day = _due_day(frame, literal(floor, Date))
    dims = [frame.column(dim) for dim in rollup.dims]
    return (
        select(due_day.label("due_day"), *_labelled(dims, rollup.dims))
        .add_columns(func.sum(_sign(frame)).label("n"))
        .select_from(frame.from_clause())
        .where(dataset.open_state[0](frame))
        .group_by(due_day, *dims)
    )


def _history_query(rollup: OpenRollup, frame: Frame, moments: list[date]) -> Select:
    """Rows open at each of `moments` (local midnight), by due day folded at the day before, in one
    pass over the rows (a row is open at few month starts)."""
    dataset = frame.dataset
    moment_list = values(Column("moment_day", Date), name="moments").data([(day,) for day in moments])
    moment_day = moment_list.c.moment_day
    midnight = func.timezone(LOCAL_TZ_NAME, cast(moment_day, DateTime))
    due_day = _due_day(frame, moment_day - 1)
    dims = [frame.column(dim) for dim in rollup.dims]
    # open at some moment at all: rows finished before the first are skipped before the join
    assert dataset.open_state is not None
    still_open, opened, closed = dataset.open_state
    table = frame.table
    ever_open = and_(
        table.c[opened] <= local_midnight(max(moments)),
        or_(still_open(frame), table.c[closed] > local_midnight(min(moments))),
    )
    return (
        select(
            moment_day.label("moment_day"),
            due_day.label("due_day"),
            *_labelled(dims, rollup.dims),
        )
        .add_columns(func.sum(_sign(frame)).label("n"))
        .select_from(frame.from_clause().join(moment_list, true()))
        .where(ever_open, dataset.open_at(frame, midnight))
        .group_by(moment_day, due_day, *dims)
    )


def _add(connection: Connection, table: Table, query: Select) -> int:
    """Add the query's rows to the table's rows with the same key (new keys are inserted), keep each
    strict sum NULL while any NULL is counted, drop rows whose count fell to zero; rows written."""
    source = query.subquery("delta")
    summed = [c.name.removeprefix("sum_") for c in table.c if c.name.startswith("sum_")]
    strict = [
        case((source.c[f"nulls_{name}"] == 0, source.c[f"total_{name}"])).label(f"sum_{name}")
        for name in summed
    ]
    statement = pg_insert(table).from_select(
        [c.name for c in source.c] + [c.name for c in strict], select(*source.c, *strict)
    )
    excluded = statement.excluded
    updates: dict[str, ColumnElement] = {"n": table.c.n + excluded.n}
    for name in summed:
        total = table.c[f"total_{name}"] + excluded[f"total_{name}"]
        nulls = table.c[f"nulls_{name}"] + excluded[f"nulls_{name}"]
        updates |= {f"total_{name}": total, f"nulls_{name}": nulls, f"sum_{name}": case((nulls == 0, total))}
    result = connection.execute(
        statement.on_conflict_do_update(index_elements=key_columns(table), set_=updates)
    )
    connection.execute(delete(table).where(table.c.n == 0))
    return int(result.rowcount or 0)


def _apply(
    connection: Connection, name: str, frame: Frame, floor: date, moments: list[date]
) -> dict[str, int]:
    """Add what `frame`'s rows (facts, or signed changes) contribute to every rollup of the dataset;
    return the rows written per rollup table."""
    written: dict[str, int] = {}
    for rollup in ROLLUPS:
        if rollup.dataset == name:
            written[rollup.name] = _add(connection, rollup.table, _rollup_query(rollup, frame))
    for open_rollup in OPEN_ROLLUPS:
        if open_rollup.dataset == name:
            written[open_rollup.name] = _add(
                connection, open_rollup.table, _open_query(open_rollup, frame, floor)
            )
            if moments:
                query = _history_query(open_rollup, frame, moments)
                written[open_rollup.history.name] = _add(connection, open_rollup.history, query)
    return written


# ------------------------------------------------------------------------------------------ state


@dataclass(frozen=True)
class RollupState:
    """`built`: the rollups may be served — refreshed, no change waiting in the log, no full rebuild
    due. `pending`: changes (or a full rebuild) are waiting; the engine reads the fact tables."""

    built: bool
    refreshed_at: datetime | None = None
    data_as_of: datetime | None = None
    pending: bool = False
    #: the snapshot rollups hold the rows open at any moment from then on: the refresh, or a later
    #: opening or closing time some (future-dated) row carries
    snapshot_from: datetime | None = None


def state(connection: Connection, dataset: str) -> RollupState:
    """Whether a dataset's rollups can be served, when they were refreshed, the newest change in them."""
    waiting = (
        exists(select(literal(1)).select_from(change_log(dataset)))
        if dataset in CHANGE_COLUMNS
        else literal(False)
    )
    query = select(
        rollup_state.c.refreshed_at,
        rollup_state.c.data_as_of,
        or_(rollup_state.c.pending_full, waiting),
        func.greatest(rollup_state.c.refreshed_at, rollup_state.c.events_until),
    ).where(rollup_state.c.dataset == dataset)
    row = connection.execute(query).first()
    if row is None:
        return RollupState(False)
    return RollupState(not row[2], row[0], row[1], bool(row[2]), row[3])


def _events(dataset: Dataset, table: Table) -> ColumnElement:
    """The latest opening or closing time among `table`'s rows (new images only, in a change log)."""
    assert dataset.open_state is not None
    latest = func.max(func.greatest(table.c[dataset.open_state[1]], table.c[dataset.open_state[2]]))
    return latest.filter(table.c.sign > 0) if "sign" in table.c else latest


def _tables(name: str) -> list[Table]:
    tables = [rollup.table for rollup in ROLLUPS if rollup.dataset == name]
    for open_rollup in OPEN_ROLLUPS:
        if open_rollup.dataset == name:
            tables += [open_rollup.table, open_rollup.history]
    return tables


def clear(connection: Connection) -> None:
    """Empty every rollup, change log and state (tests; or to force the engine back to the facts)."""
    for name in ROLLUP_DATASETS:
        for table in [*_tables(name), change_log(name)]:
            connection.execute(delete(table))
    connection.execute(delete(rollup_state))


# ---------------------------------------------------------------------------------------- refresh


class Steps:
    """Seconds spent per step of a refresh (what `bench/bench_kpi.py` prints)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started = perf_counter()

    def done(self, step: str) -> None:
        now = perf_counter()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - self._started
        self._started = now


def _lock(connection: Connection) -> datetime:
    """Serialise refreshes (two at once would add the same changes twice); return the refresh time."""
    connection.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK_KEY)))
    return connection.execute(select(func.now())).scalar_one()


def _freeze_facts(connection: Connection, name: str) -> None:
    """Wait for the fact table's writers and hold new ones off until commit, so every statement of a
    refresh that reads the facts sees the same rows as the change log it empties."""
    connection.execute(text(f"LOCK TABLE {DATASETS[name].table.name} IN SHARE MODE"))


def _rebuild(connection: Connection, name: str, now: datetime, steps: Steps) -> dict[str, int]:
    """Rebuild a dataset's rollups from its fact table."""
    dataset = DATASETS[name]
    _freeze_facts(connection, name)
    connection.execute(delete(change_log(name)))
    for table in _tables(name):
        connection.execute(delete(table))
    steps.done("delete")
    today = now.astimezone(LOCAL_TZ).date()
    written = _apply(connection, name, Frame(dataset), today - timedelta(days=1), history_moments(now))
    steps.done("rebuild")
    for table in _tables(name):
        # statistics of the rebuilt tables, not of what they held before (often empty: a migration
        # emptied them): without them the planner walks the history's unique key to read one month
        # start (35 ms at 10M instead of 15), until autovacuum gets to them
        connection.execute(text(f"ANALYZE kpi.{table.name}"))
    steps.done("analyze")
    facts = dataset.table
    assert dataset.open_state is not None
    newest, rows, opened, closed = connection.execute(
        select(
            func.max(facts.c[dataset.freshness_column]),
            func.count(),
            func.max(facts.c[dataset.open_state[1]]),
            func.max(facts.c[dataset.open_state[2]]),
        )
    ).one()
    events = [moment for moment in (opened, closed) if isinstance(moment, datetime)]
    values = {
        "refreshed_at": func.now(),
        "data_as_of": newest,
        "rows": rows,
        "pending_full": False,
        "events_until": max(events, default=None),
    }
    statement = pg_insert(rollup_state).values(dataset=name, **values)
    connection.execute(statement.on_conflict_do_update(index_elements=["dataset"], set_=values))
    steps.done("state")
    return written


def refresh(connection: Connection, *, datasets: tuple[str, ...] | None = None) -> dict[str, int]:
    """Rebuild the rollups from the fact tables; return rows written per rollup table.

    Runs in the caller's transaction, so readers see either the old or the new rollups; writers to
    the fact tables wait until it commits. After loads, :func:`after_load` adds only the changes.
    """
    now = _lock(connection)
    written: dict[str, int] = {}
    for name in datasets or ROLLUP_DATASETS:
        written |= _rebuild(connection, name, now, Steps())
    return written


def _take_changes(connection: Connection, name: str) -> Table:
    """Move the change log's committed rows into a temporary table (dropped at commit): exactly the
    changes this refresh adds. Rows of transactions not committed yet stay for the next refresh."""
    log, batch = change_log(name), _batch_table(name)
    connection.execute(text(f"DROP TABLE IF EXISTS {batch.name}"))
    connection.execute(text(f"CREATE TEMPORARY TABLE {batch.name} (LIKE kpi.{log.name}) ON COMMIT DROP"))
    connection.execute(
        text(
            f"WITH taken AS (DELETE FROM kpi.{log.name} RETURNING *) "
            f"INSERT INTO {batch.name} SELECT * FROM taken"
        )
    )
    connection.execute(text(f"ANALYZE {batch.name}"))
    return batch


def _refold(connection: Connection, table: Table, floor: date) -> None:
    """Fold the due days before `floor` into it (overdue alike from the refresh day on)."""
    dims = [name for name in key_columns(table) if name != "due_day"]
    listed = ", ".join(dims)
    connection.execute(
        text(
            f"WITH moved AS (DELETE FROM kpi.{table.name} WHERE due_day < :floor RETURNING {listed}, n) "
            f"INSERT INTO kpi.{table.name} (due_day, {listed}, n) "
            f"SELECT :floor, {listed}, sum(n) FROM moved GROUP BY {listed} "
            f"ON CONFLICT (due_day, {listed}) DO UPDATE SET n = kpi.{table.name}.n + excluded.n"
        ),
        {"floor": floor},
    )


def _catch_up(connection: Connection, name: str, now: datetime, steps: Steps) -> None:
    """Bring one dataset's rollups up to date: a full rebuild when none is built or one is due,
    otherwise add the logged changes (both images of each changed row: its old days and months
    lose it, its new ones gain it) and build the history of a month start not built yet."""
    dataset = DATASETS[name]
    current = connection.execute(
        select(rollup_state.c.pending_full).where(rollup_state.c.dataset == name)
    ).first()
    if current is None or current.pending_full:
        _rebuild(connection, name, now, steps)
        return
    moments = history_moments(now)
    histories = [rollup.history for rollup in OPEN_ROLLUPS if rollup.dataset == name]
    built = {day for (day,) in connection.execute(select(histories[0].c.moment_day).distinct())}
    missing = [day for day in moments if day not in built]
    if missing:
        _freeze_facts(connection, name)
    batch = _take_changes(connection, name)
    changed, delta_rows, newest, events = connection.execute(
        select(
            func.count(),
            func.sum(batch.c.sign),
            func.max(batch.c.updated_at).filter(batch.c.sign > 0),
            _events(dataset, batch),
        )
    ).one()
    steps.done("take changes")
    floor = now.astimezone(LOCAL_TZ).date() - timedelta(days=1)
    for rollup in OPEN_ROLLUPS:
        if rollup.dataset == name:
            _refold(connection, rollup.table, floor)
            connection.execute(delete(rollup.history).where(rollup.history.c.moment_day.not_in(moments)))
    steps.done("refold")
    if changed:
        frame = Frame(replace(dataset, table=batch))
        _apply(connection, name, frame, floor, [day for day in moments if day in built])
        steps.done("add changes")
    for rollup in OPEN_ROLLUPS:
        if rollup.dataset == name and missing:
            _add(connection, rollup.history, _history_query(rollup, Frame(dataset), missing))
            steps.done("new month start")
    connection.execute(
        update(rollup_state)
        .where(rollup_state.c.dataset == name)
        .values(
            refreshed_at=func.now(),
            rows=rollup_state.c.rows + func.coalesce(delta_rows, 0),
            data_as_of=func.greatest(rollup_state.c.data_as_of, newest),
            events_until=func.greatest(rollup_state.c.events_until, events),
        )
    )
    steps.done("state")


def catch_up(engine: Engine) -> dict[str, dict[str, float]]:
    """Bring every dataset's rollups up to date, one transaction each; return seconds per step.

    Idempotent and cheap when nothing changed (a few milliseconds). A refresh killed midway rolls
    back: the change log (or the due full rebuild) stays, the engine keeps reading the fact tables,
    and the next call completes it.
    """
    timings: dict[str, dict[str, float]] = {}
    for name in ROLLUP_DATASETS:
        steps = Steps()
        with engine.begin() as connection:
            now = _lock(connection)
            steps.done("lock")
            _catch_up(connection, name, now, steps)
        steps.done("commit")
        timings[name] = steps.seconds
        log.debug("rollups of %s: %s", name, steps.seconds)
    return timings


def after_load(engine: Engine, source: str, tables: frozenset[str]) -> None:
    """Runner hook (`ioc.after_load` entry point), run after every run — whether or not it changed
    rows — and at worker start: :func:`catch_up`. Changes made outside the runner (SQL by hand) are
    in the change log as well and are added by the next call; until then the engine reads the facts."""
    catch_up(engine)
