"""The one load path for every connector: validate → COPY into staging → upsert where changed.

* Validation is vectorised (pandas), so a million records cost seconds, not minutes. A record that
  fails goes to `rejected_row` with a reason naming the field; the rest of the batch still loads.
* Good records are `COPY`-ed into a temporary staging table, then
  `INSERT … ON CONFLICT (key) DO UPDATE … WHERE (old) IS DISTINCT FROM (new)`, so a re-run of the
  same batch writes nothing and reports every record as unchanged.
* It runs inside the caller's transaction: the runner commits one batch (facts, rejects, run row and
  cursor) at once, so a failure half-way never leaves a half-loaded batch.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache, cached_property
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import CheckConstraint, Column, Connection, DefaultClause, Table, TextClause, text
from sqlalchemy import types as sa_types

from ioc.models import Base

LOCAL_TZ = "Asia/Ho_Chi_Minh"

#: Columns the database maintains itself; a batch never sets them.
MANAGED_COLUMNS = frozenset({"id", "loaded_at", "updated_at", "created_at"})

#: Touched (set to now()) when an upsert changes a row.
TOUCH_COLUMNS = ("updated_at", "loaded_at")


class LoadError(Exception):
    """A batch that cannot be loaded at all (a connector bug, not a bad record)."""


@dataclass
class LoadResult:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __iadd__(self, other: LoadResult) -> LoadResult:
        for name in ("read", "inserted", "updated", "unchanged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def changed(self) -> int:
        return self.inserted + self.updated


RowCheck = Callable[[pd.DataFrame], tuple[pd.Series, str]]

#: Plausible dates of this domain: nothing before 1900 or from 2100 on is a real date (year 0001, 2999).
EARLIEST = pd.Timestamp("1900-01-01", tz="UTC")
LATEST = pd.Timestamp("2100-01-01", tz="UTC")
#: How far past now an instant that already happened (a dossier received…) may lie: clock skew.
DEFAULT_FUTURE_TOLERANCE = timedelta(hours=1)
#: Longest text of a column in an index: a btree entry holds at most 2,704 bytes (≤ 4 bytes a character).
INDEXED_TEXT_MAX = 500
#: Longest text of any other column (no field of these tables is a document).
TEXT_MAX = 10_000
#: Whole-number ranges of the integer types (BigInteger's upper bound is the largest float below 2^63).
_INT_RANGES: tuple[tuple[type[sa_types.TypeEngine[Any]], float, float], ...] = (
    (sa_types.SmallInteger, -(2**15), 2**15 - 1),
    (sa_types.BigInteger, -(2**63), 2**63 - 2048),
    (sa_types.Integer, -(2**31), 2**31 - 1),
)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # text, int, float, decimal, datetime, date, bool, json
    required: bool
    low: float = -math.inf
    high: float = math.inf
    max_length: int | None = None
    happened: bool = False
    """An instant that has already happened when reported: never later than now + tolerance."""
    free_text: bool = False
    """Text a source writes freely (may name people): never kept in `rejected_row`."""


@dataclass(frozen=True)
class TableSpec:
    """What the load path needs to know about a target table, derived from the models."""

    name: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    choices: Mapping[str, frozenset[Any]] = field(default_factory=dict)
    checks: tuple[RowCheck, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    """SQL defaults of NOT NULL columns with a literal server default (a missing value takes it)."""
    unread_constraints: tuple[str, ...] = ()
    """Check constraints of the model the load path could not turn into a rule (a test keeps it empty)."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def reject_fields(self) -> frozenset[str]:
        """Fields a rejected record may keep: the table's columns, except free text."""
        return frozenset(c.name for c in self.columns if not c.free_text)

    @property
    def touch_columns(self) -> tuple[str, ...]:
        table = Base.metadata.tables[self.name]
        return tuple(c for c in TOUCH_COLUMNS if c in table.c)


def _kind(column_type: sa_types.TypeEngine[Any]) -> str:
    if isinstance(column_type, sa_types.Integer):
        return "int"
    if isinstance(column_type, sa_types.Numeric) and not isinstance(column_type, sa_types.Float):
        return "decimal"
    if isinstance(column_type, sa_types.Float | sa_types.Double):
        return "float"
    if isinstance(column_type, sa_types.DateTime):
        return "datetime"
    if isinstance(column_type, sa_types.Date):
        return "date"
    if isinstance(column_type, sa_types.Boolean):
        return "bool"
    if isinstance(column_type, sa_types.JSON):
        return "json"
    return "text"


def _conflict_key(table: Table) -> tuple[str, ...]:
    """The natural key: the unique index named `uq_<table>_key`, else the primary key."""
    for index in table.indexes:
        if index.unique and index.name == f"uq_{table.name}_key":
            return tuple(c.name for c in index.columns)
    return tuple(c.name for c in table.primary_key.columns)


def _order_check(earlier: str, later: str) -> RowCheck:
    def check(frame: pd.DataFrame) -> tuple[pd.Series, str]:
        if earlier not in frame or later not in frame:
            return pd.Series(False, index=frame.index), ""
        bad = frame[earlier].notna() & frame[later].notna() & (frame[later] < frame[earlier])
        return bad, f"{later}: before {earlier}"

    return check


# The shapes of check constraint the models use; each becomes a rule of the load path.
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_NULL_OK = r"(?:\w+ is null or )*"
_BETWEEN = re.compile(rf"^{_NULL_OK}(\w+) between {_NUMBER} and {_NUMBER}$")
_AT_LEAST = re.compile(rf"^{_NULL_OK}(\w+) >= {_NUMBER}$")
_ORDER = re.compile(rf"^{_NULL_OK}(\w+) >= ([a-z_]\w*)$")
_IN = re.compile(r"^(\w+) in \((.*)\)$")
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


@dataclass
class _Rules:
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    choices: dict[str, frozenset[Any]] = field(default_factory=dict)
    orders: list[tuple[str, str]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


def _constraint_rules(table: Table) -> _Rules:
    """The table's check constraints as value rules (ranges, choices, order of two instants)."""
    rules = _Rules()
    for constraint in table.constraints:
        if not isinstance(constraint, CheckConstraint):
            continue
        sql = " ".join(str(constraint.sqltext).split())
        if match := _BETWEEN.match(sql):
            rules.bounds[match[1]] = (float(match[2]), float(match[3]))
        elif match := _AT_LEAST.match(sql):
            rules.bounds[match[1]] = (float(match[2]), math.inf)
        elif (match := _ORDER.match(sql)) and match[2] in table.c:
            rules.orders.append((match[2], match[1]))
        elif match := _IN.match(sql):
            rules.choices[match[1]] = frozenset(v.replace("''", "'") for v in _QUOTED.findall(match[2]))
        else:
            rules.unread.append(sql)
    return rules


def _column_spec(table: Table, column: Column[Any], rules: _Rules) -> ColumnSpec:
    kind = _kind(column.type)
    low, high = rules.bounds.get(column.name, (-math.inf, math.inf))
    if kind == "int":
        type_low, type_high = next((lo, hi) for t, lo, hi in _INT_RANGES if isinstance(column.type, t))
        low, high = max(low, type_low), min(high, type_high)
    max_length = None
    if kind == "text":
        declared = getattr(column.type, "length", None)
        indexed = column.primary_key or any(column.name in i.columns for i in table.indexes)
        max_length = declared or (INDEXED_TEXT_MAX if indexed else TEXT_MAX)
    return ColumnSpec(
        name=column.name,
        kind=kind,
        required=not column.nullable and column.server_default is None,
        low=low,
        high=high,
        max_length=max_length,
        happened=bool(column.info.get("happened")),
        free_text=bool(column.info.get("free_text")),
    )


def _literal_defaults(table: Table) -> dict[str, str]:
    out = {}
    for column in table.columns:
        default = column.server_default
        if column.name in MANAGED_COLUMNS or column.nullable or not isinstance(default, DefaultClause):
            continue
        if isinstance(default.arg, TextClause):
            out[column.name] = default.arg.text
    return out


@cache
def table_spec(name: str) -> TableSpec:
    """The load spec of a table, read from its SQLAlchemy model: types, ranges, lengths, checks."""
    try:
        table = Base.metadata.tables[name]
    except KeyError:
        raise LoadError(f"unknown target table {name!r}") from None
    rules = _constraint_rules(table)
    columns = tuple(_column_spec(table, c, rules) for c in table.columns if c.name not in MANAGED_COLUMNS)
    return TableSpec(
        name=name,
        key=_conflict_key(table),
        columns=columns,
        choices=rules.choices,
        checks=tuple(_order_check(earlier, later) for earlier, later in rules.orders),
        defaults=_literal_defaults(table),
        unread_constraints=tuple(rules.unread),
    )


# --------------------------------------------------------------------------- validation

#: Characters Postgres text cannot hold (NUL) or UTF-8 cannot encode (lone surrogates from JSON escapes).
_UNWRITABLE = "[\x00\ud800-\udfff]"
UNWRITABLE_TEXT = "contains a NUL or an unpaired surrogate character"

#: `infer_dtype` answers for columns of scalars only (anything else is looked at value by value).
_SCALAR_DTYPES = frozenset(
    {
        "string",
        "integer",
        "floating",
        "mixed-integer-float",
        "decimal",
        "boolean",
        "datetime",
        "datetime64",
        "date",
        "empty",
    }
)


def nested_values(values: pd.Series) -> pd.Series | None:
    """Which values are lists, objects or bytes where one value is expected (None: all are scalars)."""
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in _SCALAR_DTYPES:
        return None
    nested = values.map(lambda v: isinstance(v, Mapping | list | tuple | set | frozenset | bytes))
    return nested.astype(bool) if nested.any() else None


_DATE_LIKE = frozenset({"string", "datetime", "datetime64", "date", "empty"})


def _check_text(values: pd.Series, column: ColumnSpec, add: Callable[[pd.Series, str], None]) -> None:
    """NUL, lone surrogates and length: one join, one encode and one `len` pass over the column (C
    loops); the per-value checks run only for a column that has a bad value."""
    present = values.dropna().tolist()
    joined = "".join(present)
    try:
        writable = "\x00" not in joined and bool(joined.encode("utf-8") or True)
    except UnicodeEncodeError:
        writable = False
    if not writable:
        add(values.str.contains(_UNWRITABLE, regex=True), f"{column.name}: {UNWRITABLE_TEXT}")
    limit = column.max_length or TEXT_MAX
    if max(map(len, present), default=0) > limit:
        add(values.str.len() > limit, f"{column.name}: {_limits(column)}")


def _as_local_datetime(values: pd.Series) -> pd.Series:
    """Datetimes as tz-aware; naive values are the province's local time."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) not in _DATE_LIKE:
            numbers = values.map(lambda v: isinstance(v, int | float | Decimal) and not isinstance(v, bool))
            values = values.mask(numbers.astype(bool))  # a number is not a date-time (nor an epoch)
        try:
            values = pd.to_datetime(values, errors="coerce", format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            values = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    if getattr(values.dt, "tz", None) is None:
        values = values.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT")
    return values


def _finite(numbers: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan)), index=numbers.index)


def _coerce(values: pd.Series, column: ColumnSpec) -> tuple[pd.Series, pd.Series]:
    """The column's values in its type, and where a value of the right type is outside its limits."""
    kind = column.kind
    inside = pd.Series(True, index=values.index)
    if kind == "text":
        return values.astype("string"), inside  # limits checked in `_check_text` on the stripped text
    if kind in ("int", "float", "decimal"):
        numbers = pd.to_numeric(values, errors="coerce").astype("Float64")
        finite = _finite(numbers)
        inside = ~numbers.notna() | (finite & (numbers >= column.low) & (numbers <= column.high))
        inside = inside.fillna(False).astype(bool)
        if kind == "int":
            whole = (finite & (numbers % 1 == 0)).fillna(False).astype(bool)
            return numbers.where(whole & inside).astype("Int64"), inside
        return numbers.where(finite & inside), inside
    if kind == "datetime":
        stamps = _as_local_datetime(values)
        return stamps, ~(stamps.notna() & ((stamps < EARLIEST) | (stamps >= LATEST)))
    if kind == "date":
        stamps = pd.to_datetime(values, errors="coerce", format="ISO8601")
        naive_bounds = (EARLIEST.tz_localize(None), LATEST.tz_localize(None))
        inside = ~(stamps.notna() & ((stamps < naive_bounds[0]) | (stamps >= naive_bounds[1])))
        return stamps.dt.date.astype(object).where(stamps.notna(), None), inside
    if kind == "bool":
        mapped = values.map({True: True, False: False, "true": True, "false": False})
        return mapped.astype("boolean"), inside
    if kind == "json":
        return values, inside
    raise LoadError(f"no coercion for column kind {kind!r}")


def _limits(column: ColumnSpec) -> str:
    if column.kind == "text":
        return f"longer than {column.max_length:,} characters"
    if column.kind in ("datetime", "date"):
        return f"outside the plausible dates {EARLIEST.year}–{LATEST.year - 1}"
    if column.kind in ("float", "decimal") and math.isinf(column.low) and math.isinf(column.high):
        return "not a finite number"
    return f"outside {column.low:g}–{column.high:g}"


def _validate(
    spec: TableSpec, frame: pd.DataFrame, not_after: pd.Timestamp
) -> tuple[pd.DataFrame, pd.Series]:
    """Coerce every column; return the coerced frame and a per-row reason ('' when valid).

    Every limit of the column is checked here (type, range, length, plausible dates, NUL in text), so
    that nothing a batch holds can make the COPY or the upsert fail: bad values are rejected records.
    """
    reasons = pd.Series("", index=frame.index, dtype=object)

    def add(mask: pd.Series, reason: str) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            reasons[mask] = reasons[mask] + "; " + reason

    coerced = pd.DataFrame(index=frame.index)
    for column in spec.columns:
        if column.name not in frame:
            if column.required:
                add(pd.Series(True, index=frame.index), f"{column.name}: required value is missing")
            continue
        raw = frame[column.name]
        nested = None if column.kind == "json" else nested_values(raw)
        if nested is not None:
            add(nested, f"{column.name}: one value expected, got a list or an object")
            raw = raw.mask(nested)
        if column.kind != "json" and (raw.dtype == object or pd.api.types.is_string_dtype(raw)):
            # blank text counts as missing; strip once and coerce the stripped text
            raw = raw.astype("string").str.strip()
            raw_missing = raw.isna() | raw.eq("").fillna(False)
            raw = raw.mask(raw_missing)
            if column.kind == "text":
                _check_text(raw, column, add)
        else:
            raw_missing = raw.isna()
        if nested is not None:
            raw_missing &= ~nested
        value, inside = _coerce(raw, column)
        coerced[column.name] = value
        add(~inside, f"{column.name}: {_limits(column)}")
        wrong_type = value.isna() & ~raw_missing & inside
        if nested is not None:
            wrong_type &= ~nested
        add(wrong_type, f"{column.name}: {_describe(column.kind)} expected")
        if column.happened:
            add(value > not_after, f"{column.name}: in the future (later than now + the tolerance)")
        if column.required:
            add(raw_missing, f"{column.name}: required value is missing")
        allowed = spec.choices.get(column.name)
        if allowed is not None:
            add(value.notna() & ~value.isin(allowed), f"{column.name}: not one of {sorted(allowed)}")
    for check in spec.checks:
        mask, reason = check(coerced)
        add(mask, reason)
    reasons = reasons.str.removeprefix("; ")
    return coerced, reasons


def _describe(kind: str) -> str:
    return {
        "int": "a whole number",
        "float": "a number",
        "decimal": "a number",
        "datetime": "a date-time with a time zone (ISO 8601)",
        "date": "a date",
        "bool": "true or false",
    }.get(kind, kind)


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class CsvRows:
    """A batch serialised for `COPY … (FORMAT csv)`, and the text that stands for NULL in it."""

    buffer: io.StringIO
    null: str


def null_marker(frame: pd.DataFrame) -> str:
    """`\\N`, or `\\N1`, `\\N2`… when a text value of the batch is that very string: COPY reads an
    unquoted field equal to its NULL string as NULL, and the writer quotes a text value only for its
    delimiter, quotes and line breaks, so a source's code `\\N` would have become NULL."""
    types = pd.api.types
    texts = [
        frame[name]
        for name in frame.columns
        if types.is_object_dtype(frame[name].dtype) or types.is_string_dtype(frame[name].dtype)
    ]
    marker, n = "\\N", 0
    while any((values == marker).any() for values in texts):
        n += 1
        marker = f"\\N{n}"
    return marker


def copy_csv(frame: pd.DataFrame, spec: TableSpec) -> CsvRows:
    out = frame.copy()
    for column in spec.columns:
        if column.name not in out:
            continue
        if column.kind == "json":
            out[column.name] = out[column.name].map(
                lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else json.dumps(v)
            )
        elif column.kind == "datetime":
            out[column.name] = _iso_utc(out[column.name])
    null = null_marker(out)
    buffer = io.StringIO()
    # rows end with "\r\n" so that the writer quotes any field holding "\r" or "\n" (it quotes only
    # the characters of its line ending); COPY ends a row at a bare carriage return
    out.to_csv(buffer, index=False, header=False, na_rep=null, lineterminator="\r\n")
    buffer.seek(0)
    return CsvRows(buffer, null)


def _iso_utc(values: pd.Series) -> np.ndarray:
    """tz-aware datetimes → ISO 8601 UTC strings (`…Z`); numpy's C formatter, ~10× pandas' strftime."""
    instants = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    text_values = np.datetime_as_string(instants, unit="us", timezone="UTC").astype(object)
    text_values[np.isnat(instants)] = None
    return text_values


def copy_into(connection: Connection, table: str, columns: Iterable[str], rows: CsvRows) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{rows.null}')", rows.buffer
        )


def _upsert_sql(
    spec: TableSpec, staging: str, cols: tuple[str, ...], keep: frozenset[str] = frozenset()
) -> str:
    """The upsert from staging. Columns in `keep` (NOT NULL with a default, some values missing) take
    the stored value, else the default, where the batch has none."""
    quoted = ", ".join(f'"{c}"' for c in cols)
    selected = f"SELECT {quoted} FROM {staging}"
    if keep:
        exprs = [
            f'COALESCE(s."{c}", old."{c}", {spec.defaults[c]})' if c in keep else f's."{c}"' for c in cols
        ]
        on = " AND ".join(f'old."{k}" = s."{k}"' for k in spec.key)
        selected = f"SELECT {', '.join(exprs)} FROM {staging} AS s LEFT JOIN {spec.name} AS old ON {on}"
    non_key = [c for c in cols if c not in spec.key]
    key = ", ".join(f'"{c}"' for c in spec.key)
    if not non_key:
        action = "DO NOTHING"
    else:
        assignments = [f'"{c}" = EXCLUDED."{c}"' for c in non_key]
        assignments += [f'"{c}" = now()' for c in spec.touch_columns]
        old = ", ".join(f't."{c}"' for c in non_key)
        new = ", ".join(f'EXCLUDED."{c}"' for c in non_key)
        action = f"DO UPDATE SET {', '.join(assignments)} WHERE ROW({old}) IS DISTINCT FROM ROW({new})"
    return (
        f"WITH upserted AS (INSERT INTO {spec.name} AS t ({quoted}) {selected} "
        f"ON CONFLICT ({key}) {action} RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted"
    )


#: Longest text of a field kept in a rejected record (enough to find the record at its source).
REJECT_TEXT_MAX = 200
REASON_MAX = 1000


def _safe_text(value: str, limit: int) -> str:
    """Text that jsonb and UTF-8 accept (no NUL, no lone surrogate), cut at `limit` characters."""
    cut = value[:limit] + ("…" if len(value) > limit else "")
    return cut.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _stored_value(value: Any) -> Any:
    """A scalar as JSON that Postgres accepts; a list or an object only as a marker (no content)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        number = int(value)
        return number if -(2**63) <= number < 2**63 else "<whole number out of range>"
    if isinstance(value, float | np.floating):
        real = float(value)
        return real if math.isfinite(real) else (None if math.isnan(real) else str(real))
    if isinstance(value, str):
        return _safe_text(value, REJECT_TEXT_MAX)
    if isinstance(value, datetime | date | pd.Timestamp):
        try:
            return value.isoformat()
        except (NotImplementedError, ValueError, OverflowError):  # pandas stamps beyond years 1–9999
            return "<date out of range>"
    if isinstance(value, Decimal):
        return _safe_text(str(value), REJECT_TEXT_MAX)
    if isinstance(value, Mapping):
        return "<object>"
    if isinstance(value, list | tuple | set | frozenset):
        return f"<list of {len(value)}>"
    return f"<{type(value).__name__}>"


def reject_record(record: Mapping[str, Any], fields: Collection[str]) -> dict[str, Any]:
    """What of a rejected record is stored: the allowed fields, scalar values only, cut short."""
    return {k: _stored_value(v) for k, v in record.items() if isinstance(k, str) and k in fields}


def _fingerprint(target_table: str, record: Mapping[str, Any], reason: str) -> str:
    canonical = json.dumps([target_table, record, reason], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def record_rejects(
    connection: Connection,
    *,
    source: str,
    target_table: str,
    run_id: int | None,
    rejects: Iterable[tuple[Mapping[str, Any], str]],
    fields: Collection[str] = (),
) -> int:
    """Store rejected records with their reasons; returns how many records were rejected.

    Only the target table's non-free-text columns and the extra `fields` (a connector's own
    non-personal field names) are kept. A record already stored for the source (same kept fields and
    reason) is counted on its row (`occurrences`, `last_seen_at`, `run_id`), not stored again.
    """
    allowed = frozenset(fields) | (
        table_spec(target_table).reject_fields if target_table in Base.metadata.tables else frozenset()
    )
    counts: Counter[str] = Counter()
    stored: dict[str, tuple[str, str]] = {}
    for record, reason in rejects:
        kept = reject_record(record, allowed)
        why = _safe_text(str(reason), REASON_MAX)
        key = _fingerprint(target_table, kept, why)
        counts[key] += 1
        if key not in stored:
            stored[key] = (json.dumps(kept, ensure_ascii=False, sort_keys=True), why)
    if counts:
        connection.execute(
            text(
                "INSERT INTO rejected_row AS r "
                "(run_id, source, target_table, record, reason, fingerprint, occurrences) "
                "VALUES (:run_id, :source, :target_table, CAST(:record AS jsonb), :reason, :fingerprint, :n) "
                "ON CONFLICT (source, fingerprint) DO UPDATE SET "
                "occurrences = r.occurrences + EXCLUDED.occurrences, last_seen_at = now(), "
                "run_id = EXCLUDED.run_id"
            ),
            [
                {
                    "run_id": run_id,
                    "source": source,
                    "target_table": target_table,
                    "record": record,
                    "reason": reason,
                    "fingerprint": key,
                    "n": counts[key],
                }
                for key, (record, reason) in stored.items()
            ],
        )
    return sum(counts.values())


def _as_frame(records: pd.DataFrame | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        return records.reset_index(drop=True)
    return pd.DataFrame.from_records(list(records))


def load_batch(
    connection: Connection,
    target_table: str,
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    source: str,
    run_id: int | None = None,
    now: datetime | None = None,
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
) -> LoadResult:
    """Validate and upsert one batch into `target_table` inside the caller's transaction.

    Returns read / inserted / updated / unchanged / rejected counts. Loading the same batch twice
    gives inserted = updated = 0 the second time. Instants that already happened (received,
    finished…) later than `now + future_tolerance` are rejected.
    """
    spec = table_spec(target_table)
    frame = _as_frame(records)
    result = LoadResult(read=len(frame))
    if frame.empty:
        return result
    if "source" in spec.column_names and "source" not in frame:
        frame = frame.assign(source=source)
    unknown = sorted(set(frame.columns) - set(spec.column_names))
    if unknown:
        raise LoadError(f"{target_table}: the batch has columns the table does not have: {unknown}")

    not_after = pd.Timestamp(now or datetime.now(UTC)) + future_tolerance
    coerced, reasons = _validate(spec, frame, not_after)
    bad = reasons != ""
    if bad.any():
        result.rejected = record_rejects(
            connection,
            source=source,
            target_table=target_table,
            run_id=run_id,
            rejects=zip(frame[bad].to_dict(orient="records"), reasons[bad].tolist(), strict=True),
        )
    good = coerced[~bad].drop_duplicates(subset=list(spec.key), keep="last")
    if good.empty:
        return result

    columns = tuple(good.columns)
    staging = f"_stage_{target_table}"
    quoted = ", ".join(f'"{c}"' for c in columns)
    connection.execute(text(f"DROP TABLE IF EXISTS {staging}"))
    connection.execute(
        text(
            f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {quoted} FROM {target_table} WITH NO DATA"
        )
    )
    copy_into(connection, staging, columns, copy_csv(good, spec))
    keep = frozenset(c for c in spec.defaults if c in good and good[c].isna().any())
    counts = connection.execute(text(_upsert_sql(spec, staging, columns, keep))).one()
    inserted, updated = counts[0], counts[1]
    connection.execute(text(f"DROP TABLE {staging}"))
    result.inserted, result.updated = int(inserted), int(updated)
    result.unchanged = len(frame) - result.rejected - result.inserted - result.updated
    return result
