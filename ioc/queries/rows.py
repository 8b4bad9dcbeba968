"""The fact rows behind a number, keyset-paged: drill-down lists, lineage links and exports.

The rows are exactly those the KPI engine counts (:func:`ioc.kpi.selection.selection`), optionally
narrowed by equality filters on the dataset's own columns and by the reader's scope. Paging is by
keyset — `(sort value, source, key) > (last seen)` — so page 500 costs what page 1 costs; only
non-personal columns ever leave the database. :func:`list_query` builds a list's one ordered select:
a page of it (:func:`page`), or the whole list, which a CSV export has PostgreSQL write
(:mod:`ioc.queries.csv_copy`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, FromClause, Select, func, literal, select, tuple_, union_all
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.engine import KpiQueryError
from ioc.kpi.periods import Period
from ioc.kpi.selection import Selection, selection
from ioc.kpi.spec import KpiLibrary
from ioc.models import Department, OrgUnit, Procedure
from ioc.queries.types import RowPage

#: The columns a list shows, per dataset: codes, dates and states, never anything about a citizen.
LIST_COLUMNS = {
    "dossier": (
        "code",
        "procedure_code",
        "department_code",
        "org_unit_code",
        "channel",
        "received_at",
        "due_at",
        "finished_at",
        "status",
    ),
    "incident": (
        "external_id",
        "category",
        "org_unit_code",
        "severity",
        "status",
        "reported_at",
        "due_at",
        "closed_at",
        "lat",
        "lon",
    ),
}
KEY_COLUMN = {"dossier": "code", "incident": "external_id"}
DEFAULT_SORT = {"dossier": "received_at", "incident": "reported_at"}
LABELS = {"procedure_code": Procedure, "department_code": Department, "org_unit_code": OrgUnit}

MAX_PAGE = 10_000
#: (sort, found_by): an index in the sort's order that also holds the found_by column, so walking it
#: checks a branch's range in the index, fetching only listed rows (ix_dossier_finished_at_received_at
#: _due_at: November's received dossiers by finished_at, 0.7 s at 10M against 1.8 s fenced)
WALKED_WITH = {("finished_at", "received_at"), ("finished_at", "due_at")}


class RowQueryError(ValueError):
    """A list request the read model refuses: unknown sort column, bad cursor, page size."""


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RowQueryError("invalid page cursor") from exc
    if not isinstance(values, list) or len(values) != 3:
        raise RowQueryError("invalid page cursor")
    return values


def _ordered(columns: tuple[ColumnElement, ...], descending: bool) -> list[ColumnElement]:
    """ORDER BY terms; Postgres puts nulls last ascending and first descending, as the keyset does."""
    return [column.desc() if descending else column for column in columns]


def _keyset(
    column: ColumnElement,
    source: ColumnElement,
    key: ColumnElement,
    cursor: list[Any] | None,
    descending: bool,
) -> list[tuple[ColumnElement, ...]]:
    """The rows after the cursor in `(column, source, key)` order, nulls last (first when descending,
    as Postgres orders them), as disjoint parts: non-null values by a row comparison an index on
    `(column, source, key)` serves, and the null values by `(source, key)`."""
    nullable = bool(getattr(column, "nullable", True))
    if cursor is None:
        return [(column.isnot(None),), (column.is_(None),)] if nullable else [()]
    last, last_source, last_key = cursor
    bound = [literal(last_source, source.type), literal(last_key, key.type)]

    def beyond(a: ColumnElement, b: ColumnElement) -> ColumnElement:
        return a < b if descending else a > b

    if last is None:  # the cursor stands among the nulls
        rest = (column.is_(None), beyond(tuple_(source, key), tuple_(*bound)))
        return [rest, (column.isnot(None),)] if descending else [rest]
    after = beyond(tuple_(column, source, key), tuple_(literal(last, column.type), *bound))
    return [(after,), (column.is_(None),)] if nullable and not descending else [(after,)]


@dataclass(frozen=True)
class ListQuery:
    """A list's rows with their labels, in `(sort value, source, key)` order: `statement` selects the
    dataset's list columns, the label columns (`procedure_name`, …) and `source`."""

    dataset: str
    sort: str
    statement: Select[Any]
    selected: Selection
    scoped: tuple[ColumnElement[bool], ...]
    labels: tuple[str, ...]
    limit: int | None = None  # a page's size (the statement reads one row more)

    @property
    def columns(self) -> tuple[str, ...]:
        """What a row shows (`source` aside: a cursor's part, not a column)."""
        return (*LIST_COLUMNS[self.dataset], *self.labels)


def list_query(
    connection: Connection,
    library: KpiLibrary,
    kpi_id: str,
    period: Period,
    area: str,
    *,
    part: str,
    sort: str | None,
    descending: bool,
    now: datetime,
    zone: ZoneInfo,
    area_codes: frozenset[str] | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> ListQuery:
    """The rows `library`'s KPI counts (narrowed KPIs carry their extra filters) as one ordered select:
    with `limit`, the `limit + 1` rows after the cursor `after` (a page and whether more follow);
    without, every row (an export's COPY). `area_codes`: the reader's area scope, when restricted."""
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise RowQueryError(f"limit must be between 1 and {MAX_PAGE}")
    chosen = selection(connection, library, kpi_id, period, area, part=part, now=now, zone=zone)  # type: ignore[arg-type]
    name = chosen.dataset.name
    if name not in LIST_COLUMNS:
        raise KpiQueryError(f"KPI {kpi_id} counts no listable rows")
    table = chosen.table
    sort = sort or DEFAULT_SORT[name]
    if sort not in LIST_COLUMNS[name]:
        raise RowQueryError(f"cannot sort by {sort!r} (choose one of {', '.join(LIST_COLUMNS[name])})")
    scoped = () if area_codes is None else (table.c.org_unit_code.in_(sorted(area_codes)),)

    sort_column = table.c[sort]
    key = table.c[KEY_COLUMN[name]]
    source = table.c.source
    cursor = decode_cursor(after) if after is not None else None
    # Paged, each branch is cut in keyset parts an index serves in order, each part read up to the
    # page's end; whole, a branch is read at once and sorted with the others once.
    paged = limit is not None or cursor is not None
    # A branch found by a range of another column (a period's window on its time anchor; closed
    # after a past moment: finished_at > moment) is read by that range and sorted: ordered by an
    # expression, so the planner does not walk an index in the list's order hoping to meet its
    # rows early (October's overdue list by received_at walked the all-rows received_at index for
    # 40 s at 10M, November's finished dossiers by received_at 38 s). The keyset conditions stay
    # on the column itself.
    fenced = func.coalesce(sort_column, sort_column)
    parts = []
    for branch in chosen.branches:
        walk = branch.found_by in (None, sort) or (sort, branch.found_by) in WALKED_WITH
        order_key = sort_column if walk else fenced
        for extra in _keyset(sort_column, source, key, cursor, descending) if paged else [()]:
            read = (
                select(*(table.c[c] for c in LIST_COLUMNS[name]), source)
                .select_from(chosen.from_clause)
                .where(*branch.conditions, *scoped, *extra)
            )
            if limit is not None:
                read = read.order_by(*_ordered((order_key, source, key), descending)).limit(limit + 1)
            parts.append(read.subquery())
    rows_ = union_all(*(select(part) for part in parts)).subquery("listed") if len(parts) > 1 else parts[0]
    joined: FromClause = rows_
    label_columns = []
    for column, model in LABELS.items():
        if column in LIST_COLUMNS[name]:
            labels = model.__table__.alias(f"label_{column}")
            joined = joined.outerjoin(labels, labels.c.code == rows_.c[column])
            label_columns.append(labels.c.name.label(column.removesuffix("_code") + "_name"))
    query = (
        select(*(rows_.c[c] for c in LIST_COLUMNS[name]), *label_columns, rows_.c.source)
        .select_from(joined)
        .order_by(*_ordered((rows_.c[sort], rows_.c.source, rows_.c[KEY_COLUMN[name]]), descending))
    )
    if limit is not None:
        query = query.limit(limit + 1)
    return ListQuery(name, sort, query, chosen, scoped, tuple(column.name for column in label_columns), limit)


def _total(connection: Connection, listed: ListQuery) -> int:
    """How many rows the list has: one count per branch (each can use its index, the OR of them
    could not)."""
    chosen = listed.selected
    counts = [
        select(func.count())
        .select_from(chosen.from_clause)
        .where(*branch.conditions, *listed.scoped)
        .scalar_subquery()
        for branch in chosen.branches
    ]
    return sum(int(count) for count in connection.execute(select(*counts)).one())


def page(connection: Connection, listed: ListQuery, *, with_total: bool = False) -> RowPage:
    """One page of a list: `listed` built with a limit (and the cursor of the page before)."""
    limit = listed.limit
    if limit is None:
        raise RowQueryError("a page needs a limit")
    total = _total(connection, listed) if with_total else None
    fetched = [dict(row._mapping) for row in connection.execute(listed.statement)]
    more = len(fetched) > limit
    fetched = fetched[:limit]
    next_after = None
    key = KEY_COLUMN[listed.dataset]
    if more and fetched:
        last = fetched[-1]
        next_after = encode_cursor([last[listed.sort], last["source"], last[key]])
    for row in fetched:
        del row["source"]
    return RowPage(
        dataset=listed.dataset,
        columns=listed.columns,
        rows=tuple(fetched),
        next_after=next_after,
        total=total,
    )
