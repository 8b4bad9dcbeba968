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
    """The table of one rollup: period_start, the dimensions, n and one sum per summable column."""
    return _aggregate_table(
        name,
        [Column("period_start", Date, nullable=False)],
        dims,
        [Column(f"sum_{column}", Numeric) for column in sums],
    )


def open_table(name: str, dims: dict[str, str]) -> Table:
    """The table of one snapshot rollup: open rows by local due day (NULL: no deadline) and dimensions."""
    return _aggregate_table(name, [Column("due_day", Date)], dims, [])


def history_table(name: str, dims: dict[str, str]) -> Table:
    """Open rows at past month starts (local midnight), by clamped due day and dimensions."""
    return _aggregate_table(
        name, [Column("moment_day", Date, nullable=False), Column("due_day", Date)], dims, []
    )
