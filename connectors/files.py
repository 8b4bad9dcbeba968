"""Files dropped in a folder: CSV/XLSX of indicators or incidents, mapped to our columns by options.

The folder-drop machinery (which files are ready, how to read them, `done/` and `failed/`) lives
here too and is shared with the `dossiers` connector.

Drop-folder rules:

* The folder is `options.folder`, else `<settings.drop_dir>/<source>/`. Files are read oldest
  first. Hidden files, office lock files (`~$x.xlsx`, `.~lock.x#`), partial downloads (`.part`,
  `.tmp`, `.crdownload`) and files modified in the last `settle_seconds` (still being copied) wait.
* A file is moved to `done/` only after its last batch was committed: the move runs when the
  runner asks for the next batch, which it does after committing the previous one. A file that
  cannot be read moves to `failed/` with `<name>.reason.txt` next to it. A name already taken in
  `done/` or `failed/` gets a time suffix, so a re-dropped file never overwrites history.
* CSV: UTF-8 (with or without BOM) or Windows-1258 (old Vietnamese Excel), delimiter `,` `;` tab
  or `|`, read as text in chunks. XLSX: the first sheet (or `sheet`), header row found by looking
  for the expected column names in the first rows (exports often carry a title above the table);
  cells keep their types (dates stay dates).
* Column names are matched ignoring case, surrounding blanks and repeated spaces.

Options of the files connector name a target (`indicator_observation` or `incident`), a mapping
`columns: {target column: header in the file}`, `constants` for values the file does not carry,
and `value_maps` to translate a column's values (e.g. a Vietnamese status to open/closed).
Wide tables (one column per period) are not supported: reshape them to long form first.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import re
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import Field, model_validator

from connectors.dvcqg import parse_dates
from connectors.periods import PeriodParser
from ioc.connector import Batch, CheckResult, Connector, ConnectorOptions, drop_personal_fields

log = logging.getLogger(__name__)

DONE, FAILED = "done", "failed"
TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
_IGNORED_PREFIXES = (".", "~$", ".~lock")
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt", "#")
_SPACES = re.compile(r"\s+")

#: Missing-value symbols of statistical tables, kept as the observation's status.
MISSING_SYMBOLS = frozenset({"..", "...", "…", "-", "x", "X", "n/a", "N/A"})


class BrokenFile(Exception):
    """A dropped file that cannot be read as a whole; its message is the reason file's text."""


# --------------------------------------------------------------------------- the folder


def drop_folder(settings_drop_dir: Path, source: str, folder: Path | None) -> Path:
    return Path(folder) if folder is not None else Path(settings_drop_dir) / source


def pending_files(folder: Path, suffixes: tuple[str, ...], settle_seconds: float = 0.0) -> list[Path]:
    """Files ready to read in `folder` (not its subfolders), oldest first."""
    if not folder.is_dir():
        return []
    now = time.time()
    ready = []
    for path in folder.iterdir():
        name = path.name
        if not path.is_file() or name.startswith(_IGNORED_PREFIXES) or name.endswith(_IGNORED_SUFFIXES):
            continue
        if path.suffix.lower() not in suffixes:
            continue
        if settle_seconds and now - path.stat().st_mtime < settle_seconds:
            continue
        ready.append(path)
    return sorted(ready, key=lambda p: (p.stat().st_mtime, p.name))


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    stem, suffix = Path(name).stem, Path(name).suffix
    return folder / f"{stem}.{stamp}{suffix}"


def move_done(path: Path) -> Path:
    folder = path.parent / DONE
    folder.mkdir(exist_ok=True)
    return path.rename(_free_name(folder, path.name))


def move_failed(path: Path, reason: str) -> Path:
    """Move a broken file to `failed/` and write `<name>.reason.txt` beside it."""
    folder = path.parent / FAILED
    folder.mkdir(exist_ok=True)
    target = path.rename(_free_name(folder, path.name))
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    (folder / f"{target.name}.reason.txt").write_text(f"{stamp}\n{reason}\n", encoding="utf-8")
    log.warning("%s moved to %s: %s", path.name, folder, reason)
    return target


# --------------------------------------------------------------------------- reading


def norm_header(name: Any) -> str:
    return _SPACES.sub(" ", str(name)).strip().lower()


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def _detect_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv_chunks(path: Path, chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """A CSV as text frames of at most `chunk_rows` rows ('' for empty cells)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if not head.strip():
        raise BrokenFile("empty file")
    encoding = _detect_encoding(head)
    first_line = head.decode(encoding, errors="replace").splitlines()[0]
    delimiter = _detect_delimiter(first_line)
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            chunksize=chunk_rows,
            skipinitialspace=True,
            on_bad_lines="error",
        )
        with reader:
            yield from reader
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise BrokenFile(f"not a readable CSV file: {exc}") from exc


def read_xlsx(
    path: Path, *, sheet: str | int = 0, header_hint: Callable[[list[str]], bool] | None = None
) -> pd.DataFrame:
    """One sheet of a workbook as a frame of its cells' own types; header row found by `header_hint`."""
    import openpyxl  # only when a workbook is read

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise BrokenFile(f"not a readable XLSX workbook: {exc}") from exc
    try:
        try:
            ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
        except (KeyError, IndexError):
            raise BrokenFile(f"the workbook has no sheet {sheet!r} (sheets: {book.sheetnames})") from None
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    header_at = 0
    if header_hint is not None:
        for i, row in enumerate(rows[:30]):
            if header_hint([norm_header(c) for c in row if c is not None]):
                header_at = i
                break
        else:
            raise BrokenFile("no header row with the expected column names in the first 30 rows")
    if not rows:
        raise BrokenFile("the sheet is empty")
    header = [str(c).strip() if c is not None else f"_col{i}" for i, c in enumerate(rows[header_at])]
    body = [r for r in rows[header_at + 1 :] if any(c is not None and str(c).strip() for c in r)]
    width = len(header)
    body = [(r + [None] * width)[:width] for r in body]
    return pd.DataFrame(body, columns=header, dtype=object)


def read_json_records(path: Path, records_key: str | None = None) -> list[Any]:
    """A JSON file's records: a list, or a list under `data` / `result` / `content` (or `records_key`)."""
    try:
        payload = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BrokenFile(f"not valid JSON: {exc}") from exc
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in (records_key, "data", "result", "content", "records"):
            if key and isinstance(payload.get(key), list):
                return payload[key]
    raise BrokenFile("JSON is neither a list of records nor an object with a `data` list")


def table_chunks(
    path: Path,
    *,
    sheet: str | int = 0,
    header_hint: Callable[[list[str]], bool] | None = None,
    chunk_rows: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Frames of a CSV or XLSX file, whichever it is."""
    if path.suffix.lower() == ".csv":
        yield from read_csv_chunks(path, chunk_rows)
    else:
        frame = read_xlsx(path, sheet=sheet, header_hint=header_hint)
        for start in range(0, max(len(frame), 1), chunk_rows):
            yield frame.iloc[start : start + chunk_rows]


# --------------------------------------------------------------------------- mapping


def _numbers(values: pd.Series, decimal: str) -> pd.Series:
    text = values.astype("string").str.strip().str.replace("\u00a0", "").str.replace(" ", "")
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    numeric = values.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
    out = pd.to_numeric(text.where(~numeric), errors="coerce").astype("Float64")
    if numeric.any():
        out[numeric] = pd.to_numeric(values[numeric]).astype("Float64")
    return out


class FilesOptions(ConnectorOptions):
    target: Literal["indicator_observation", "incident"]
    columns: dict[str, str] = Field(description="target column → header in the file")
    constants: dict[str, str | int | float | None] = Field(default_factory=dict)
    value_maps: dict[str, dict[str, str | int | float | None]] = Field(
        default_factory=dict, description="target column → {value in the file: stored value}"
    )
    folder: Path | None = None
    sheet: str | int = 0
    decimal: Literal[".", ","] = "."
    period_regex: tuple[str, ...] = ()
    settle_seconds: float = Field(default=5.0, ge=0)
    chunk_rows: int = Field(default=50_000, ge=1)

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
        for path in pending_files(self.folder, TABLE_SUFFIXES, self.options.settle_seconds):
            yield from self._read_file(path)

    def _header_hint(self, headers: list[str]) -> bool:
        return all(norm_header(h) in headers for h in self.options.columns.values())

    def _read_file(self, path: Path) -> Iterator[Batch]:
        chunks = table_chunks(
            path, sheet=self.options.sheet, header_hint=self._header_hint, chunk_rows=self.options.chunk_rows
        )
        yielded = 0
        while True:
            try:
                chunk = next(chunks, None)
                if chunk is None:
                    break
                records, rejects = self.map_frame(chunk)
            except BrokenFile as exc:
                note = f" (after {yielded} batch(es) were loaded)" if yielded else ""
                move_failed(path, f"{exc}{note}")
                return
            yield Batch(self.options.target, records, rejects=rejects, description=path.name)
            yielded += 1
        move_done(path)  # reached only after the runner committed the last batch and asked for more

    def map_frame(self, raw: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]]]:
        """File rows → target rows and rejects (rejects keep only the mapped columns)."""
        options = self.options
        headers = {norm_header(c): c for c in raw.columns}
        missing = [h for h in options.columns.values() if norm_header(h) not in headers]
        if missing:
            raise BrokenFile(f"columns not found: {missing}; the file has {list(raw.columns)}")
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
