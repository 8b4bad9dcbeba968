"""Tables the KPI engine owns, in the Postgres schema `kpi` (derived data, rebuildable at any time).

They live in their own schema and MetaData, apart from `ioc.models.Base`: the foundation tables hold
facts; these hold the working-day calendar, rollups and their refresh state.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
)

SCHEMA = "kpi"

metadata = MetaData(schema=SCHEMA)

work_calendar = Table(
    "work_calendar",
    metadata,
    Column("day", Date, primary_key=True),
    Column("is_working_day", Boolean, nullable=False),
    Column(
        "working_day_number",
        Integer,
        nullable=False,
        comment="working days from the calendar's first day up to and including this day",
    ),
    Column("holiday", Text),
)

rollup_state = Table(
    "rollup_state",
    metadata,
    Column("dataset", Text, primary_key=True),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    Column("data_as_of", DateTime(timezone=True), comment="newest change in the dataset at refresh"),
    Column("rows", BigInteger, nullable=False),
    Column(
        "pending_full",
        Boolean,
        nullable=False,
        server_default="false",
        comment="a full rebuild is due (first build, TRUNCATE, calendar change); set before it starts",
    ),
    Column(
        "events_until",
        DateTime(timezone=True),
        comment="latest opening or closing time in the data (future-dated rows): the snapshot "
        "rollups serve moments from max(refreshed_at, events_until) on",
    ),
)

#: SQL types of rollup dimension columns, by dataset column kind.
DIMENSION_TYPES = {"text": Text, "int": SmallInteger, "bool": Boolean}


def _aggregate_table(name: str, keys: list[Column], dims: dict[str, str], extra: list[Column]) -> Table:
    """A rollup-shaped table (keys, dimensions, n, extra columns), defined once per metadata."""
    existing = metadata.tables.get(f"{SCHEMA}.{name}")
    if existing is not None:
        return existing
    return Table(
        name,
        metadata,
        *keys,
        *(Column(dim, DIMENSION_TYPES[kind]) for dim, kind in dims.items()),
        Column("n", BigInteger, nullable=False),
        *extra,
    )


def rollup_table(name: str, dims: dict[str, str], sums: tuple[str, ...]) -> Table:
    """The table of one rollup: period_start, the dimensions, n and, per summable column, its strict
    sum (`sum_`: NULL when any row's value is NULL), the sum of its non-NULL values (`total_`) and the
    number of NULLs (`nulls_`) — the last two let changes be added and taken away exactly."""
    extra: list[Column] = []
    for column in sums:
        extra += [
            Column(f"sum_{column}", Numeric),
            Column(f"total_{column}", Numeric),
            Column(f"nulls_{column}", BigInteger, nullable=False, server_default="0"),
        ]
    return _aggregate_table(name, [Column("period_start", Date, nullable=False)], dims, extra)


def key_columns(table: Table) -> list[str]:
    """The columns that identify a row of a rollup-shaped table (its unique key)."""
    return [
        column.name
        for column in table.c
        if column.name != "n" and not column.name.startswith(("sum_", "total_", "nulls_"))
    ]


def open_table(name: str, dims: dict[str, str]) -> Table:
    """The table of one snapshot rollup: open rows by local due day (NULL: no deadline) and dimensions."""
    return _aggregate_table(name, [Column("due_day", Date)], dims, [])


def history_table(name: str, dims: dict[str, str]) -> Table:
    """Open rows at past month starts (local midnight), by clamped due day and dimensions."""
    return _aggregate_table(
        name, [Column("moment_day", Date, nullable=False), Column("due_day", Date)], dims, []
    )


def change_table(name: str, source: Table, columns: tuple[str, ...]) -> Table:
    """The change log of a fact table: one row per changed row image, +1 (new) or -1 (old), written by
    the fact table's triggers (migrations 0008, 0009, 0012) and consumed by the rollup refresh."""
    existing = metadata.tables.get(f"{SCHEMA}.{name}")
    if existing is not None:
        return existing
    return Table(
        name,
        metadata,
        Column("sign", SmallInteger, nullable=False),
        *(Column(column, source.c[column].type) for column in columns),
    )
