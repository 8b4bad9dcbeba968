"""A table or view of another database → one of our fact tables, incrementally.

Config gives a table (or view), a mapping `columns: {our column: their column}`, optional
`constants` and `value_maps`, equality `filters`, and an `incremental_column`. **Raw SQL is not
accepted from config**, on purpose: config files are edited by operators, and a query string can
neither be validated nor kept read-only and cheap. Every identifier is checked against a strict
pattern and quoted by SQLAlchemy; values are bound parameters. When a source needs joins or
computed columns, its owner creates a view and this connector reads the view.

The database URL comes from the environment variable named by `url_env` (never from the file).
Any database SQLAlchemy has a driver for works; the tests use a second Postgres database.

Incremental pulls: rows with `incremental_column >= cursor` are read in that column's order, in
chunks of `chunk_rows` through a server-side cursor; `>=` (not `>`) so that rows sharing the last
value with a row already read are not lost — the upsert makes the repeat harmless. The cursor keeps
the largest value read (a date-time, a date or a number) and moves with each batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import Field, field_validator, model_validator
from sqlalchemy import Engine, bindparam, column, create_engine, select, table
from sqlalchemy.exc import SQLAlchemyError

from connectors.dvcqg import parse_dates
from ioc.config import secret
from ioc.connector import Batch, CheckResult, Connector, ConnectorOptions, SourceError, drop_personal_fields

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")

REQUIRED = {
    "incident": {"external_id", "category", "reported_at", "status"},
    "dossier": {"code", "received_at", "status"},
    "indicator_observation": {"indicator", "org_unit_code", "grain", "period_start", "period"},
}
DATE_COLUMNS = {
    "reported_at",
    "due_at",
    "closed_at",
    "received_at",
    "finished_at",
    "returned_at",
}


def _identifier(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a plain identifier (letters, digits, _)")
    return value


class SqlOptions(ConnectorOptions):
    url_env: str = Field(description="environment variable holding the SQLAlchemy URL of the database")
    target: Literal["incident", "dossier", "indicator_observation"]
    table: str = Field(description="table or view, optionally schema-qualified: schema.view")
    columns: dict[str, str] = Field(description="our column → their column")
    constants: dict[str, str | int | float | None] = Field(default_factory=dict)
    value_maps: dict[str, dict[str, str | int | float | None]] = Field(default_factory=dict)
    filters: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="their column → value (equality)"
    )
    incremental_column: str | None = None
    chunk_rows: int = Field(default=20_000, ge=1)

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) > 2:
            raise ValueError("give `table` or `schema.table`")
        for part in parts:
            _identifier(part)
        return value

    @model_validator(mode="after")
    def _names(self) -> SqlOptions:
        for theirs in (*self.columns.values(), *self.filters, self.incremental_column or "x"):
            _identifier(theirs)
        missing = sorted(REQUIRED[self.target] - set(self.columns) - set(self.constants))
        if missing:
            raise ValueError(f"{self.target}: give a column or a constant for {missing}")
        return self


def _cursor_value(value: Any) -> dict[str, Any] | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return {"value": value.isoformat(), "type": "datetime"}
    if isinstance(value, date):
        return {"value": value.isoformat(), "type": "date"}
    if isinstance(value, Decimal | float):
        return {"value": str(value), "type": "decimal"}
    if isinstance(value, int):
        return {"value": value, "type": "int"}
    return {"value": str(value), "type": "text"}


def _from_cursor(cursor: Mapping[str, Any]) -> Any:
    kind, value = cursor.get("type"), cursor.get("value")
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    return value


class SqlConnector(Connector):
    """Rows of a table or view in another database, mapped to one of our fact tables."""

    name = "sql"
    Options = SqlOptions
    targets: ClassVar[tuple[str, ...]] = ("incident", "dossier", "indicator_observation")
    options: SqlOptions

    def _engine(self) -> Engine:
        url = secret(self.options.url_env, purpose=f"source {self.context.source}")
        return create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=0)

    def _query(self, since: Any | None, limit: int | None = None) -> Any:
        o = self.options
        schema, _, name = o.table.rpartition(".")
        wanted = sorted({*o.columns.values(), *([o.incremental_column] if o.incremental_column else [])})
        source = table(name, *(column(c) for c in {*wanted, *o.filters}), schema=schema or None)
        query = select(*(source.c[c] for c in wanted))
        for name_, value in o.filters.items():
            query = query.where(source.c[name_] == bindparam(f"f_{name_}", value))
        if o.incremental_column:
            inc = source.c[o.incremental_column]
            if since is not None:
                query = query.where(inc >= bindparam("since", since))
            query = query.order_by(inc)
        return query.limit(limit) if limit else query

    def check(self) -> CheckResult:
        try:
            engine = self._engine()
        except Exception as exc:  # ConfigError or a bad URL
            return CheckResult(False, str(exc))
        try:
            with engine.connect() as connection:
                connection.execute(self._query(None, limit=1)).all()
        except SQLAlchemyError as exc:
            return CheckResult(
                False, f"{self.options.table}: {exc.__class__.__name__}: {exc}".splitlines()[0]
            )
        finally:
            engine.dispose()
        return CheckResult(True, f"{self.options.table}: answers")

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        o = self.options
        since = None if full or not cursor or not o.incremental_column else _from_cursor(cursor)
        engine = self._engine()
        try:
            with engine.connect() as connection:
                try:
                    result = connection.execution_options(
                        stream_results=True, yield_per=o.chunk_rows
                    ).execute(self._query(since))
                    keys = list(result.keys())
                    while True:
                        rows = result.fetchmany(o.chunk_rows)
                        if not rows:
                            break
                        raw = pd.DataFrame.from_records(rows, columns=keys)
                        records, rejects = self.map_frame(raw)
                        position = None
                        if o.incremental_column:  # NULLs come last and never move the cursor
                            known = raw[o.incremental_column].dropna()
                            position = _cursor_value(known.iloc[-1]) if len(known) else None
                        yield Batch(o.target, records, cursor=position, rejects=rejects)
                except SQLAlchemyError as exc:
                    first = str(exc).splitlines()[0]
                    raise SourceError(f"{o.table}: {exc.__class__.__name__}: {first}") from None
        except SQLAlchemyError as exc:  # could not connect
            raise SourceError(f"{o.url_env}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None
        finally:
            engine.dispose()

    def map_frame(self, raw: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]]]:
        """Their rows → our rows; date-times without a zone are local time; bad dates are rejects."""
        o = self.options
        out = pd.DataFrame(
            {ours: raw[theirs].to_numpy() for ours, theirs in o.columns.items()}, index=raw.index
        )
        for ours, mapping in o.value_maps.items():
            if ours in out:
                out[ours] = out[ours].map(lambda v, m=mapping: m.get(str(v), v) if v is not None else v)
        for ours, value in o.constants.items():
            if ours not in out:
                out[ours] = value
        if "external_id" in out:
            out["external_id"] = out["external_id"].map(lambda v: str(v).strip(), na_action="ignore")
        bad = pd.Series(False, index=out.index)
        reasons = pd.Series("", index=out.index, dtype=object)
        for name in DATE_COLUMNS & set(out.columns):
            values, wrong = parse_dates(out[name])
            out[name] = values
            reasons[wrong] = reasons[wrong] + f"; {name}: not a date"
            bad |= wrong
        rejects = []
        if bad.any():
            # under our column names, so the rejected row keeps them (`ioc.load.reject_record`)
            originals = pd.DataFrame(
                {ours: raw.loc[bad, theirs] for ours, theirs in o.columns.items()}
            ).to_dict(orient="records")
            rejects = [
                (drop_personal_fields(r), why.removeprefix("; "))
                for r, why in zip(originals, reasons[bad].tolist(), strict=True)
            ]
        return out[~bad].reset_index(drop=True), rejects
