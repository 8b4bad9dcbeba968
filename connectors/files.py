"""Files dropped in a folder: CSV/XLSX of indicators or incidents, mapped to our columns by options.

The folder itself (which files are read, limits, `done/` and `failed/`, retention, readers) is
:mod:`connectors.drop`, shared with the `dossiers` connector. Column names are matched ignoring
case, surrounding blanks and repeated spaces.

Options of the files connector name a target (`indicator_observation` or `incident`), a mapping
`columns: {target column: header in the file}`, `constants` for values the file does not carry,
and `value_maps` to translate a column's values (e.g. a Vietnamese status to open/closed), plus the
drop-folder options of :class:`connectors.drop.DropOptions` (limits, retention).
Wide tables (one column per period) are not supported: reshape them to long form first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import Field, model_validator

from connectors.drop import (
    BrokenFile,
    DropFile,
    DropOptions,
    Rejects,
    drop_folder,
    norm_header,
    pending_files,
    read_drop_folder,
    table_chunks,
)
from connectors.dvcqg import parse_dates
from connectors.periods import PeriodParser
from ioc.connector import Batch, CheckResult, Connector, drop_personal_fields

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm")

#: Missing-value symbols of statistical tables, kept as the observation's status.
MISSING_SYMBOLS = frozenset({"..", "...", "…", "-", "x", "X", "n/a", "N/A"})


# --------------------------------------------------------------------------- mapping


#: Numbers as written with each decimal mark: thousands grouped by threes, so "1,5" is not 15.
_NUMBER_TEXT = {
    ".": re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$"),
    ",": re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d+)?(?:[eE][+-]?\d+)?$"),
}


def _numbers(values: pd.Series, decimal: str) -> pd.Series:
    text = values.astype("string").str.strip().str.replace("\u00a0", "").str.replace(" ", "")
    text = text.where(text.str.fullmatch(_NUMBER_TEXT[decimal]).fillna(False).astype(bool))
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    numeric = values.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
    out = pd.to_numeric(text.where(~numeric), errors="coerce").astype("Float64")
    if numeric.any():
        out[numeric] = pd.to_numeric(values[numeric]).astype("Float64")
    return out


class FilesOptions(DropOptions):
    target: Literal["indicator_observation", "incident"]
    columns: dict[str, str] = Field(description="target column → header in the file")
    constants: dict[str, str | int | float | None] = Field(default_factory=dict)
    value_maps: dict[str, dict[str, str | int | float | None]] = Field(
        default_factory=dict, description="target column → {value in the file: stored value}"
    )
    decimal: Literal[".", ","] = "."
    period_regex: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> FilesOptions:
        given = set(self.columns) | set(self.constants)
        if self.target == "indicator_observation":
            needed = {"indicator", "org_unit_code", "period", "value"}
        else:
            needed = {"external_id", "category", "reported_at", "status"}
        missing = sorted(needed - given)
        if missing:
            raise ValueError(f"{self.target}: give a column or a constant for {missing}")
        return self


class FilesConnector(Connector):
    """CSV/XLSX files of indicators or incidents dropped in a folder, mapped by options."""

    name = "files"
    Options = FilesOptions
    targets: ClassVar[tuple[str, ...]] = ("indicator_observation", "incident")
    options: FilesOptions

    @property
    def folder(self) -> Path:
        return drop_folder(self.context.settings.drop_dir, self.context.source, self.options.folder)

    def check(self) -> CheckResult:
        folder = self.folder
        if not folder.is_dir():
            return CheckResult(False, f"drop folder {folder} does not exist")
        waiting = pending_files(folder, TABLE_SUFFIXES)
        return CheckResult(True, f"{folder}: {len(waiting)} file(s) waiting")

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        yield from read_drop_folder(
            self.folder, self.options, TABLE_SUFFIXES, self.options.target, self._file_batches
        )

    def _header_hint(self, headers: list[str]) -> bool:
        return all(norm_header(h) in headers for h in self.options.columns.values())

    def _file_batches(self, drop: DropFile) -> Iterator[tuple[pd.DataFrame, Rejects]]:
        o = self.options
        for chunk in table_chunks(
            drop, sheet=o.sheet, header_hint=self._header_hint, chunk_rows=o.chunk_rows
        ):
            yield self.map_frame(chunk)

    def map_frame(self, raw: pd.DataFrame) -> tuple[pd.DataFrame, Rejects]:
        """File rows → target rows and rejects (rejects keep only the mapped columns)."""
        options = self.options
        headers = {norm_header(c): c for c in raw.columns}
        missing = [h for h in options.columns.values() if norm_header(h) not in headers]
        if missing:
            raise BrokenFile(
                f"columns not found: {missing} (the file has {len(raw.columns)} other column(s))"
            )
        source_cols = {target: headers[norm_header(h)] for target, h in options.columns.items()}
        frame = pd.DataFrame({t: raw[c].to_numpy() for t, c in source_cols.items()}, index=raw.index)
        frame = frame.map(lambda v: v.strip() if isinstance(v, str) else v).replace({"": None})
        for target, mapping in options.value_maps.items():
            if target in frame:
                frame[target] = frame[target].map(
                    lambda v, m=mapping: m.get(str(v), v) if v is not None else v
                )
        for target, value in options.constants.items():
            if target not in frame:
                frame[target] = value
        reasons = pd.Series("", index=frame.index, dtype=object)

        def add(mask: pd.Series, reason: str) -> None:
            mask = mask.fillna(False).astype(bool)
            if mask.any():
                reasons[mask] = reasons[mask] + "; " + reason

        out = (
            self._indicators(frame, add)
            if options.target == "indicator_observation"
            else self._incidents(frame, add)
        )
        reasons = reasons.str.removeprefix("; ")
        bad = reasons != ""
        rejects = []
        if bad.any():
            originals = raw.loc[bad, list(source_cols.values())].to_dict(orient="records")
            rejects = [
                (drop_personal_fields(r), why)
                for r, why in zip(originals, reasons[bad].tolist(), strict=True)
            ]
        return out[~bad].reset_index(drop=True), rejects

    def _indicators(self, frame: pd.DataFrame, add: Callable[[pd.Series, str], None]) -> pd.DataFrame:
        out = frame.drop(columns=["value", "period", "period_start", "grain"], errors="ignore").copy()
        parsed = PeriodParser(self.options.period_regex).frame(frame["period"].tolist())
        parsed.index = frame.index
        add(frame["period"].notna() & parsed["period"].isna(), "period: not a recognised period")
        add(frame["period"].isna(), "period: missing")
        out["period"] = parsed["period"]
        out["period_start"] = parsed["period_start"]
        out["grain"] = frame["grain"] if "grain" in frame else parsed["grain"]
        raw = frame["value"]
        value = _numbers(raw, self.options.decimal)
        symbol = raw.astype("string").str.strip().isin(MISSING_SYMBOLS).fillna(False)
        add(raw.notna() & value.isna() & ~symbol, "value: not a number")
        out["value"] = value
        status = frame["status"] if "status" in frame else pd.Series(None, index=frame.index, dtype=object)
        status = status.where(status.notna(), parsed["flag"])
        out["status"] = status.where(~symbol, raw.astype(object))
        return out

    def _incidents(self, frame: pd.DataFrame, add: Callable[[pd.Series, str], None]) -> pd.DataFrame:
        out = frame.copy()
        out["external_id"] = frame["external_id"].map(_id_text, na_action="ignore")
        for column in ("reported_at", "due_at", "closed_at"):
            if column in frame:
                values, bad = parse_dates(frame[column])
                out[column] = values
                add(bad, f"{column}: not a date")
        for column in ("lat", "lon"):
            if column in frame:
                out[column] = _numbers(frame[column], self.options.decimal)
                add(frame[column].notna() & out[column].isna(), f"{column}: not a number")
        if "status" in frame:
            status = frame["status"].astype("string").str.strip().str.lower()
            out["status"] = status
        return out


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
