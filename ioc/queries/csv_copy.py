"""A list as PostgreSQL writes it: `COPY (SELECT …) TO STDOUT WITH (FORMAT csv)` of chosen columns,
each cell as the desk's exports have always written it (the Python writer before: `csv.writer` over
the keyset pages), so an export costs the database, not the web process's one core.

What the cells must be, and how SQL makes them so:

* a timestamp: local time without zone, `YYYY-MM-DD HH:MM:SS` (fractions of a second dropped, as
  `strftime` dropped them) — `to_char(timezone(zone, value), …)`;
* NULL: an empty field. COPY writes NULL so, but quotes an empty *string* (`""`), which the Python
  writer never did: text is sent as `nullif(value, '')`;
* integers and codes as they are. Other types (floats: Python wrote `100.0`, PostgreSQL `100`) are
  refused rather than written differently.

COPY quotes a field exactly when `csv.writer` (QUOTE_MINIMAL, `\\r\\n` line ends) did: when it holds
the delimiter, a quote, `\\r` or `\\n`; its only other case, a lone `\\.` in a one-column file, cannot
arise (a list has several columns). Rows end with `\\n`; :mod:`ioc.queries.copy_stream` makes them
`\\r\\n`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, DateTime, Integer, Select, String, func
from sqlalchemy.sql.elements import ColumnElement, Label

from ioc.queries.rows import RowQueryError

LOCAL_STAMP = "YYYY-MM-DD HH24:MI:SS"


def csv_cell(column: ColumnElement[Any], zone: ZoneInfo) -> ColumnElement[Any]:
    """One column as the text the export's cell holds (NULL for an empty cell)."""
    value = column.element if isinstance(column, Label) else column
    kind = value.type
    if isinstance(kind, DateTime):
        local = func.timezone(zone.key, value) if kind.timezone else value
        return func.to_char(local, LOCAL_STAMP)
    if isinstance(kind, String):
        return func.nullif(value, "")
    if isinstance(kind, Integer):
        return value
    raise RowQueryError(f"no CSV form for a column of type {kind}")


def csv_select(statement: Select[Any], columns: Sequence[str], zone: ZoneInfo) -> Select[Any]:
    """`statement` (its rows, joins and order) selecting only `columns`, in that order, as CSV cells."""
    selected = statement.selected_columns
    unknown = [name for name in columns if name not in selected]
    if unknown:
        raise RowQueryError(f"a list has no column {', '.join(unknown)}")
    return statement.with_only_columns(*(csv_cell(selected[name], zone).label(name) for name in columns))


def copy_sql(connection: Connection, statement: Select[Any]) -> bytes:
    """`COPY (statement) TO STDOUT` as CSV in UTF-8, its parameters bound by the driver as it binds a
    query's (COPY takes no parameters of its own)."""
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    processors = getattr(compiled, "_bind_processors", {})
    params = {
        name: processors[name](value) if name in processors else value
        for name, value in compiled.construct_params().items()
    }
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        query: bytes = cursor.mogrify(compiled.string, params)
    return b"COPY (" + query + b") TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')"
