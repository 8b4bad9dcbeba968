"""The fact rows behind a number, keyset-paged: drill-down lists, lineage links and exports.

The rows are exactly those the KPI engine counts (:func:`ioc.kpi.selection.selection`), optionally
narrowed by equality filters on the dataset's own columns and by the reader's scope. Paging is by
keyset — `(sort value, source, key) > (last seen)` — so page 500 costs what page 1 costs; only
non-personal columns ever leave the database.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, literal, or_, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.engine import KpiQueryError
from ioc.kpi.periods import Period
from ioc.kpi.selection import selection
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
_FAR_FUTURE = datetime(9999, 1, 1).isoformat()


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


def page(
    connection: Connection,
    library: KpiLibrary,
    kpi_id: str,
    period: Period,
    area: str,
    *,
    part: str,
    after: str | None,
    limit: int,
    sort: str | None,
    descending: bool,
    now: datetime,
    zone: ZoneInfo,
    with_total: bool = False,
    area_codes: frozenset[str] | None = None,
) -> RowPage:
    """One page of the rows `library`'s KPI counts (narrowed KPIs carry their extra filters);
    `area_codes`: the reader's area scope, when restricted."""
    if not 1 <= limit <= MAX_PAGE:
        raise RowQueryError(f"limit must be between 1 and {MAX_PAGE}")
    chosen = selection(connection, library, kpi_id, period, area, part=part, now=now, zone=zone)  # type: ignore[arg-type]
    name = chosen.dataset.name
    if name not in LIST_COLUMNS:
        raise KpiQueryError(f"KPI {kpi_id} counts no listable rows")
    table = chosen.table
    sort = sort or DEFAULT_SORT[name]
    if sort not in LIST_COLUMNS[name]:
        raise RowQueryError(f"cannot sort by {sort!r} (choose one of {', '.join(LIST_COLUMNS[name])})")
    conditions = list(chosen.conditions)
    if area_codes is not None:
        conditions.append(table.c.org_unit_code.in_(sorted(area_codes)))

    sort_column = table.c[sort]
    nullable = sort_column.nullable and sort not in ("received_at", "reported_at")
    sort_key = (
        func.coalesce(sort_column, literal(_FAR_FUTURE).cast(sort_column.type)) if nullable else sort_column
    )
    key = table.c[KEY_COLUMN[name]]
    source = table.c.source

    total = None
    if with_total:
        total = connection.execute(
            select(func.count()).select_from(chosen.from_clause).where(*conditions)
        ).scalar()

    if after is not None:
        last_sort, last_source, last_key = decode_cursor(after)

        def beyond(a: Any, b: Any) -> ColumnElement:
            return a < b if descending else a > b

        tail = beyond(tuple_(source, key), tuple_(literal(last_source), literal(last_key)))
        bound = sort_key <= last_sort if descending else sort_key >= last_sort
        conditions.append(and_(bound, or_(beyond(sort_key, last_sort), and_(sort_key == last_sort, tail))))

    order = [sort_key.desc(), source.desc(), key.desc()] if descending else [sort_key, source, key]
    joined = chosen.from_clause
    label_columns = []
    for column, model in LABELS.items():
        if column in LIST_COLUMNS[name]:
            labels = model.__table__.alias(f"label_{column}")
            joined = joined.outerjoin(labels, labels.c.code == table.c[column])
            label_columns.append(labels.c.name.label(column.removesuffix("_code") + "_name"))
    query = (
        select(*(table.c[c] for c in LIST_COLUMNS[name]), *label_columns, source, sort_key.label("_sort"))
        .select_from(joined)
        .where(*conditions)
        .order_by(*order)
        .limit(limit + 1)
    )
    fetched = [dict(row._mapping) for row in connection.execute(query)]
    more = len(fetched) > limit
    fetched = fetched[:limit]
    next_after = None
    if more and fetched:
        last = fetched[-1]
        next_after = encode_cursor([last["_sort"], last["source"], last[KEY_COLUMN[name]]])
    for row in fetched:
        del row["_sort"], row["source"]
    columns = (*LIST_COLUMNS[name], *(c.name for c in label_columns))
    return RowPage(dataset=name, columns=columns, rows=tuple(fetched), next_after=next_after, total=total)
