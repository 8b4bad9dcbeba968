"""DVCQG dossier records (the national `DongBoHoSoMC` field set) → rows of our `dossier` table.

Pure parsing, no I/O: used by the `dossiers` connector for HTTP pages and dropped files alike, and
vectorised with pandas so that 100 000 records parse in well under a second.

What the wild sends, and what we do with it (protocols §7.1):

* Field names in any case (`MaHoSo`, `MAHOSO`, `mahoso`): matched case-insensitively.
* Dates `yyyyMMddHHmmss` in local time (Asia/Ho_Chi_Minh) with no zone; also seen: `yyyyMMddHHmm`,
  `yyyyMMdd`, numbers instead of strings (CSV/XLSX: `20250714083015`, `20250714083015.0`),
  `dd/MM/yyyy HH:mm[:ss]` from spreadsheet exports, ISO 8601 (with or without an offset, iGate's
  `+0700` without a colon) and real spreadsheet date cells. Empty strings mean "no date".
  Anything else is a bad record: silently dropping a deadline would change the on-time KPI.
  A deadline (`NgayHenTra`) given as a date only means the end of that local day (`due_date_only`;
  see :mod:`ioc.workdays`).
* `TrangThaiHoSo` as a string (`"4"`, `"04"`) or a number (`4`, `4.0`): an int 1–10, else rejected.
* `KenhThucHien` `1` in person, `2` online, `3` postal; missing → unknown (NULL); any other code is
  rejected (or NULL with `unknown_channel="null"`).
* `DanhSachHoSoBoSung` a list (its length), a count, or a JSON text of a list (CSV) → supplement_count.
* Personal data never leaves this module: records handed back as rejects keep only the whitelisted,
  non-personal DVCQG fields (after :func:`ioc.connector.drop_personal_fields`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

import numpy as np
import pandas as pd

from ioc.connector import PERSONAL_FIELDS, drop_personal_fields
from ioc.load import nested_values
from ioc.workdays import END_OF_DAY

LOCAL_TZ = "Asia/Ho_Chi_Minh"

#: Canonical DVCQG names of the fields we read.
CODE, PROCEDURE, DEPARTMENT, DEPARTMENT_CODE = "MaHoSo", "MaTTHC", "DonViXuLy", "MaDonViXuLy"
RECEIVED, DUE, FINISHED, RETURNED = "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra"
STATUS, CHANNEL, SUPPLEMENTS = "TrangThaiHoSo", "KenhThucHien", "DanhSachHoSoBoSung"

DATE_FIELDS = {RECEIVED: "received_at", DUE: "due_at", FINISHED: "finished_at", RETURNED: "returned_at"}

#: Non-personal fields a rejected record may keep (a whitelist: anything else may be personal —
#: `TrichYeuHoSo`, `GhiChu`, `ThongTinTra` and attachment lists can all name the applicant).
SAFE_FIELDS = (
    CODE,
    PROCEDURE,
    "TenTTHC",
    "MaLinhVuc",
    "TenLinhVuc",
    "LoaiDoiTuong",
    RECEIVED,
    DUE,
    FINISHED,
    RETURNED,
    STATUS,
    CHANNEL,
    "HinhThuc",
    DEPARTMENT,
    DEPARTMENT_CODE,
    "NgayCapNhat",
)
_CANONICAL = {name.lower(): name for name in (*SAFE_FIELDS, SUPPLEMENTS)}
_PERSONAL_LOWER = frozenset(name.lower() for name in PERSONAL_FIELDS)

CHANNELS = {1: "in_person", 2: "online", 3: "postal"}


_DAY_FIRST = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}")
_DATE_ONLY = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}")
_TRAILING_ZERO = re.compile(r"\.0+$")


@dataclass(frozen=True)
class DossierMapping:
    """Source-specific lookups: agency names → department codes, departments → areas."""

    department_codes: Mapping[str, str] = field(default_factory=dict)
    org_unit_codes: Mapping[str, str] = field(default_factory=dict)
    unknown_channel: Literal["reject", "null"] = "reject"


def canonical_keys(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with known DVCQG field names spelled canonically and personal fields removed."""
    cleaned = drop_personal_fields(record)
    return {
        _CANONICAL.get(str(k).lower(), k): v
        for k, v in cleaned.items()
        if str(k).lower() not in _PERSONAL_LOWER
    }


def safe_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """What of a raw record may be stored (in `rejected_row`): whitelisted fields only."""
    canon = canonical_keys(record)
    kept = {k: canon[k] for k in SAFE_FIELDS if k in canon}
    if SUPPLEMENTS in canon:
        kept["SoLanBoSung"] = _supplement_count(canon[SUPPLEMENTS])
    return kept


# --------------------------------------------------------------------------- values


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | values.astype("string").str.strip().fillna("").eq("")


def _as_text(values: pd.Series) -> pd.Series:
    """Strings, with numbers from spreadsheets written without their `.0`."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        text = values.astype("string").str.strip()  # the common case, without a Python loop
    else:
        text = values.map(_scalar_text, na_action="ignore").astype("string").str.strip()
    return text.mask(text == "")


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """DVCQG dates → tz-aware local timestamps, plus a mask of values that are not dates."""
    stamps, bad, _ = _parse_dates(values)
    return stamps, bad


def parse_due_dates(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Deadlines (`NgayHenTra`): like :func:`parse_dates`, plus a mask of the values given as a date
    only, which mean the end of that local day (:func:`ioc.workdays.end_of_day`: 23:59:59.999999).

    Date only: `yyyyMMdd`, `dd/MM/yyyy`, `yyyy-MM-dd`, a date cell, and a spreadsheet or database
    date-time with no zone at exactly 00:00:00 (a workbook's date cell reads so; no one-stop system
    sets a deadline at midnight). A time written out in text (`20261019000000`) is kept as given.
    """
    stamps, bad, date_only = _parse_dates(values)
    date_only &= stamps.notna()
    stamps = stamps.mask(date_only, stamps + END_OF_DAY)
    return stamps, bad, date_only


def _parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(local timestamps, not-a-date mask, given-without-a-time mask)."""
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[us, {LOCAL_TZ}]")
    date_only = pd.Series(False, index=values.index)
    if pd.api.types.is_datetime64_any_dtype(values):  # already date-times (a database, a workbook)
        if getattr(values.dt, "tz", None) is None:
            date_only = values.notna() & values.eq(values.dt.normalize())
            values = values.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT")
        stamps = values.dt.tz_convert(LOCAL_TZ).astype(out.dtype)
        return stamps, pd.Series(False, index=values.index), date_only
    blank = _blank(values)
    cells = values[~blank]
    if cells.empty:
        return out, pd.Series(False, index=values.index), date_only
    native = cells.map(lambda v: isinstance(v, datetime | date | pd.Timestamp))
    text = _as_text(cells.where(~native))
    done = pd.Series(False, index=cells.index)
    parsed = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[us]")
    if native.any():
        stamps = cells[native].map(_naive_local)
        parsed[native] = pd.to_datetime(stamps.tolist()).as_unit("us")
        done |= native
        date_only[cells.index[native]] = cells[native].map(_native_date_only).to_numpy(dtype=bool)
    for fmt, length in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12), ("%Y%m%d", 8)):
        todo = ~done & text.str.fullmatch(rf"\d{{{length}}}").fillna(False)
        if todo.any():
            got = pd.to_datetime(text[todo], format=fmt, errors="coerce")
            parsed[todo] = got.astype("datetime64[us]")
            done |= todo & got.reindex(todo.index).notna()
            if length == 8:
                date_only[cells.index[todo]] = True
    rest = ~done & text.notna()
    if rest.any():
        others = [_parse_other(t) for t in text[rest]]
        parsed[rest] = pd.to_datetime(pd.Series(others, index=text[rest].index, dtype=object)).astype(
            "datetime64[us]"
        )
        done |= rest & parsed.notna()
        date_only[cells.index[rest]] = text[rest].str.fullmatch(_DATE_ONLY).fillna(False).to_numpy(dtype=bool)
    local = parsed.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT")
    out[cells.index] = local
    bad = pd.Series(False, index=values.index)
    bad[cells.index] = ~done | local.isna()
    return out, bad, date_only & ~bad


def _native_date_only(value: datetime | date) -> bool:
    if not isinstance(value, datetime):
        return True
    return value.tzinfo is None and value.time() == time()


def _naive_local(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return pd.Timestamp(value).tz_convert(LOCAL_TZ).tz_localize(None).to_pydatetime()
        return value
    return datetime(value.year, value.month, value.day)


def _parse_other(text: str) -> pd.Timestamp | None:
    """Spreadsheet day-first dates and ISO 8601 (offset optional, with or without a colon)."""
    try:
        if _DAY_FIRST.match(text):
            stamp = pd.to_datetime(text.replace(".", "/").replace("-", "/"), dayfirst=True)
        else:
            stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None
    if stamp is pd.NaT or not 1 <= stamp.year <= 9999:  # pandas reads "-1" as the year -1
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(LOCAL_TZ).tz_localize(None)
    return stamp.as_unit("us")


def _ints(values: pd.Series) -> pd.Series:
    text = _as_text(values).str.replace(_TRAILING_ZERO, "", regex=True)
    return pd.to_numeric(text.where(text.str.fullmatch(r"[+-]?\d+").fillna(False)), errors="coerce").astype(
        "Int64"
    )


def _supplement_count(value: Any) -> int | None:
    """The number of supplement requests: a list's length, a count, or the JSON text of a list.
    None when the value is none of these (or a count no dossier can have)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, bool | Mapping):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return _count(float(value))
    text = str(value).strip()
    if not text:
        return 0
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        return len(parsed) if isinstance(parsed, list) else None
    try:
        return _count(float(text))
    except ValueError:
        return None


def _count(number: float) -> int | None:
    return int(number) if math.isfinite(number) and number.is_integer() and 0 <= number < 2**15 else None


# --------------------------------------------------------------------------- records


def _merge_spellings(frame: pd.DataFrame) -> pd.DataFrame:
    """One column per field when records spelled it differently (`MaHoSo` here, `MAHOSO` there): each
    row takes its first non-empty value, instead of all rows taking the first spelling's column."""
    if not frame.columns.duplicated().any():
        return frame
    merged = {}
    for name in dict.fromkeys(frame.columns):
        same = frame.loc[:, frame.columns == name]
        merged[name] = same.iloc[:, 0] if same.shape[1] == 1 else same.bfill(axis=1).iloc[:, 0]
    return pd.DataFrame(merged, index=frame.index)


def parse_frame(
    raw: pd.DataFrame, mapping: DossierMapping | None = None
) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]]]:
    """A frame of DVCQG records (any key case) → (dossier rows, rejects with reasons).

    Rejected records are returned as :func:`safe_record` copies, so nothing personal is stored.
    """
    mapping = mapping or DossierMapping()
    frame = _merge_spellings(raw.rename(columns=lambda c: _CANONICAL.get(str(c).lower(), c)))
    n = len(frame)
    index = frame.index

    def column(name: str) -> pd.Series:
        return frame[name] if name in frame else pd.Series([None] * n, index=index, dtype=object)

    reasons = pd.Series("", index=index, dtype=object)

    def add(mask: pd.Series, reason: str) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            reasons[mask] = reasons[mask] + "; " + reason

    out = pd.DataFrame(index=index)
    for name in (CODE, PROCEDURE, DEPARTMENT, DEPARTMENT_CODE, *DATE_FIELDS, STATUS, CHANNEL):
        if name in frame and (nested := nested_values(frame[name])) is not None:
            add(nested, f"{name}: one value expected, got a list or an object")
    out["code"] = _as_text(column(CODE))
    add(out["code"].isna(), f"{CODE}: missing")
    out["procedure_code"] = _as_text(column(PROCEDURE))
    department = _as_text(column(DEPARTMENT_CODE)).fillna(_as_text(column(DEPARTMENT)))
    if mapping.department_codes:
        department = department.map(lambda v: mapping.department_codes.get(v, v), na_action="ignore")
    out["department_code"] = department.astype("string")
    if mapping.org_unit_codes:
        out["org_unit_code"] = department.map(mapping.org_unit_codes.get, na_action="ignore").astype("string")

    for name, target in DATE_FIELDS.items():
        if name == DUE:
            values, bad, date_only = parse_due_dates(column(name))
            out["due_date_only"] = date_only
        else:
            values, bad = parse_dates(column(name))
        out[target] = values
        add(bad, f"{name}: not a date (expected yyyyMMddHHmmss)")
    add(_blank(column(RECEIVED)), f"{RECEIVED}: missing")

    status_raw = column(STATUS)
    status = _ints(status_raw)
    out["status"] = status
    add(_blank(status_raw), f"{STATUS}: missing")
    add(~_blank(status_raw) & (status.isna() | (status < 1) | (status > 10)), f"{STATUS}: not a code 1–10")

    channel_raw = column(CHANNEL)
    channel_code = _ints(channel_raw)
    channel = channel_code.map(CHANNELS.get, na_action="ignore")
    out["channel"] = channel.astype("string")
    unknown = ~_blank(channel_raw) & channel.isna()
    if mapping.unknown_channel == "reject":
        add(unknown, f"{CHANNEL}: unknown channel code (1 in person, 2 online, 3 postal)")

    if SUPPLEMENTS in frame:  # absent: leave the stored count alone
        counts = [_supplement_count(v) for v in frame[SUPPLEMENTS]]
        out["supplement_count"] = pd.array(counts, dtype="Int64")
        add(out["supplement_count"].isna(), f"{SUPPLEMENTS}: not a list or a count of supplement requests")

    reasons = reasons.str.removeprefix("; ")
    bad = reasons != ""
    rejects: list[tuple[dict[str, Any], str]] = []
    if bad.any():
        bad_rows = frame[bad].to_dict(orient="records")
        rejects = [(safe_record(r), why) for r, why in zip(bad_rows, reasons[bad].tolist(), strict=True)]
    return out[~bad].reset_index(drop=True), rejects


def parse_records(
    records: Iterable[Mapping[str, Any]], mapping: DossierMapping | None = None
) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]]]:
    """DVCQG records (dicts) → (dossier rows, rejects). Non-dict items are rejected, not raised."""
    good: list[Mapping[str, Any]] = []
    rejects: list[tuple[dict[str, Any], str]] = []
    for item in records:
        if isinstance(item, Mapping):
            good.append(item)
        else:
            # nothing of it is kept: a bare string in the list can be anything, a name included
            rejects.append(({}, f"not a record (expected a JSON object, got {_json_kind(item)})"))
    frame = pd.DataFrame.from_records(good) if good else pd.DataFrame()
    personal = [c for c in frame.columns if str(c).lower() in _PERSONAL_LOWER]
    rows, bad = parse_frame(frame.drop(columns=personal), mapping)
    return rows, rejects + bad


def _json_kind(item: Any) -> str:
    if isinstance(item, str):
        return "a string"
    if isinstance(item, list | tuple):
        return "a list"
    if item is None:
        return "null"
    return "a number" if isinstance(item, int | float) else type(item).__name__


def parse_record(
    record: Mapping[str, Any], mapping: DossierMapping | None = None
) -> dict[str, Any] | tuple[dict[str, Any], str]:
    """One record → a dossier row, or (record-without-personal-fields, reason)."""
    rows, rejects = parse_records([record], mapping)
    if rejects:
        return rejects[0]
    row = rows.iloc[0].to_dict()
    return {k: (None if v is pd.NA or v is pd.NaT else v) for k, v in row.items()}


def latest_change(rows: pd.DataFrame) -> pd.Timestamp | None:
    """The most recent time any parsed dossier changed (received, finished or returned)."""
    stamps = [rows[c].max() for c in ("received_at", "finished_at", "returned_at") if c in rows]
    stamps = [s for s in stamps if s is not None and not pd.isna(s)]
    return max(stamps) if stamps else None
