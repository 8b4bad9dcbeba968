"""Drop folders: the boundary between files someone copied into a folder and the load path.

Shared by the `files` and `dossiers` connectors. The folder is `options.folder`, else
`<settings.drop_dir>/<source>/`. Rules:

* **Only regular files directly inside the folder are read.** Each file is opened relative to the
  folder with `O_NOFOLLOW | O_NONBLOCK` and checked on the open descriptor (`fstat`): a symbolic
  link, a FIFO, a device, a socket, or a file with other hard links is never read; it is moved to
  `failed/` with a reason. Subfolders (`done/`, `failed/`, others) are not entered.
* Files are read oldest first. Hidden files, office lock files (`~$x.xlsx`, `.~lock.x#`), partial
  downloads (`.part`, `.tmp`, `.crdownload`) and files modified in the last `settle_seconds` (still
  being copied) wait.
* **Limits per file** (options): `max_file_mb` (size on disk; an XLSX's unpacked size may be 10×
  that), `max_rows` (CSV lines, JSON records, an XLSX's rows — its declared dimension is checked
  before any row is read) and `max_rejected_rows` (after that many rejected rows the file is failed:
  it is most likely not the expected export). A file over a limit is failed with the limit in the
  reason.
* A file is moved to `done/` only after its last batch was committed (the move runs when the runner
  asks for the next batch). A file that cannot be read moves to `failed/` with `<name>.reason.txt`,
  and the run gets one rejected row naming the file and the reason, so the run ends `partial`, never
  "success, 0 read". The folder loop always goes on with the next file. When the runner throws the
  database's refusal of a file's batch back into the reader, the file is failed the same way.
* **Reasons never echo file contents** (no cell, header, line or library message quoting the file):
  they say what was expected, with counts and positions only.
* **Retention**: files in `done/` and `failed/` (and reason files) are deleted `keep_files` after
  they were moved there (default 30 days), at the start of each run: dropped exports carry
  applicants' personal fields, which the IOC does not keep.
* CSV: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text", tab-separated) or
  Windows-1258 (old Vietnamese Excel); delimiter `,` `;` tab or `|`, read as text in chunks. XLSX:
  the first sheet (or `sheet`), header row found by looking for the expected column names in the
  first rows; cells keep their types. JSON: a list, or a list under `data` / `result` / `content`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import logging
import os
import re
import stat
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
from pydantic import Field, field_validator

from ioc.config import parse_duration
from ioc.connector import Batch, ConnectorOptions

log = logging.getLogger(__name__)

DONE, FAILED = "done", "failed"
_IGNORED_PREFIXES = (".", "~$", ".~lock")
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt", "#")
_SPACES = re.compile(r"\s+")
_UNSAFE_NAME = re.compile(r"[^\w.\- ()\[\]+,]")
#: Rows above an XLSX table's header (titles) that `max_rows` does not count.
HEADER_SEARCH_ROWS = 30
#: Columns of an XLSX sheet beyond which it is not a table export.
MAX_COLUMNS = 1_000
#: An XLSX may unpack to this many times `max_file_mb`.
XLSX_UNPACK_RATIO = 10

Rejects = list[tuple[dict[str, Any], str]]
FileBatches = Callable[["DropFile"], Iterator[tuple[Any, Rejects]]]


class BrokenFile(Exception):
    """A dropped file that cannot be read as a whole; its message (content-free) is the reason."""


class Vanished(Exception):
    """The file went away between the listing and the opening (moved by someone else): skipped."""


class DropOptions(ConnectorOptions):
    """Options every drop-folder connector has."""

    folder: Path | None = None
    sheet: str | int = 0
    settle_seconds: float = Field(default=5.0, ge=0, le=86_400)
    chunk_rows: int = Field(default=50_000, ge=1, le=1_000_000)
    max_file_mb: float = Field(default=100.0, gt=0, le=10_000)
    max_rows: int = Field(default=200_000, ge=1, le=10_000_000)
    max_rejected_rows: int = Field(default=1_000, ge=0)
    keep_files: str = Field(default="30d", description="delete files in done/ and failed/ after this")

    @field_validator("keep_files")
    @classmethod
    def _retention(cls, value: str) -> str:
        if not timedelta(0) <= parse_duration(value) <= timedelta(days=3660):
            raise ValueError("expected a duration between 0s and 3660d")
        return value

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


@dataclass
class DropFile:
    """A regular file of the drop folder, opened without following links and checked."""

    name: str
    handle: BinaryIO
    size: int
    options: DropOptions

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()


# --------------------------------------------------------------------------- the folder


def drop_folder(settings_drop_dir: Path, source: str, folder: Path | None) -> Path:
    return Path(folder) if folder is not None else Path(settings_drop_dir) / source


def safe_name(name: str) -> str:
    """A file name fit for a message or a log line (no control characters, at most 120 characters)."""
    shown = _UNSAFE_NAME.sub("?", name)
    return shown if len(shown) <= 120 else f"{shown[:100]}…{shown[-19:]}"


def _waiting(name: str, suffixes: tuple[str, ...]) -> bool:
    if name.startswith(_IGNORED_PREFIXES) or name.endswith(_IGNORED_SUFFIXES):
        return False
    return Path(name).suffix.lower() in suffixes


def pending_files(folder: Path, suffixes: tuple[str, ...], settle_seconds: float = 0.0) -> list[Path]:
    """Entries of `folder` (not its subfolders) with a wanted suffix and settled, oldest first.

    Links and special files are listed too (judged by `lstat`, never followed): the reader refuses
    them and moves them to `failed/`, so that the operator sees them.
    """
    if not folder.is_dir():
        return []
    now = time.time()
    ready: list[tuple[float, str, Path]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not _waiting(entry.name, suffixes) or entry.is_dir(follow_symlinks=False):
                continue
            try:
                mtime = entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue  # gone meanwhile
            if settle_seconds and now - mtime < settle_seconds:
                continue
            ready.append((mtime, entry.name, Path(entry.path)))
    return [path for _, _, path in sorted(ready)]


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    if not os.path.lexists(target):
        return target
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    stem, suffix = Path(name).stem, Path(name).suffix
    return folder / f"{stem}.{stamp}{suffix}"


def _move(path: Path, where: str) -> Path:
    folder = path.parent / where
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, path.name)
    path.rename(target)  # moves a link itself, never its target
    with contextlib.suppress(OSError, NotImplementedError):
        os.utime(target, follow_symlinks=False)  # retention counts from the move
    return target


def move_done(path: Path) -> Path:
    return _move(path, DONE)


def move_failed(path: Path, reason: str) -> Path:
    """Move a refused or broken file to `failed/` and write `<name>.reason.txt` beside it."""
    target = _move(path, FAILED)
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    note = target.parent / f"{target.name}.reason.txt"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    with os.fdopen(os.open(note, flags, 0o640), "w", encoding="utf-8") as handle:
        handle.write(f"{stamp}\n{reason}\n")
    log.warning("%s moved to %s: %s", safe_name(path.name), target.parent, reason)
    return target


def remove_expired(folder: Path, keep: timedelta) -> int:
    """Delete what `done/` and `failed/` hold for longer than `keep`; returns how many entries."""
    limit = time.time() - keep.total_seconds()
    removed = 0
    for where in (DONE, FAILED):
        sub = folder / where
        if not sub.is_dir() or sub.is_symlink():
            continue
        with os.scandir(sub) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        continue
                    if entry.stat(follow_symlinks=False).st_mtime <= limit:
                        os.unlink(entry.path)  # a link is removed, never its target
                        removed += 1
                except FileNotFoundError:
                    continue
    if removed:
        log.info("%s: deleted %d file(s) kept longer than %s", folder, removed, keep)
    return removed


def _kind(mode: int) -> str:
    for test, what in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return what
    return "not a regular file"


def open_drop_file(folder: Path, name: str, options: DropOptions) -> DropFile:
    """Open `folder/name` for reading only if it is a regular file directly in `folder`, within limits."""
    if "/" in name or name in ("", ".", ".."):
        raise BrokenFile("not a file name directly inside the drop folder: not read")
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        try:
            fd = os.open(name, flags, dir_fd=directory)
        except FileNotFoundError:
            raise Vanished(name) from None
        except OSError as exc:
            try:
                mode = os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode
            except OSError:
                raise BrokenFile(f"cannot be opened ({type(exc).__name__}): not read") from None
            raise BrokenFile(f"{_kind(mode)}, not a regular file: not read (drop the file itself)") from None
    finally:
        os.close(directory)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BrokenFile(f"{_kind(info.st_mode)}, not a regular file: not read (drop the file itself)")
        if info.st_nlink > 1:
            raise BrokenFile("the file has other hard links: not read (drop a copy of the file)")
        if info.st_size > options.max_bytes:
            raise BrokenFile(
                f"the file is {info.st_size / 1048576:.1f} MB, "
                f"over the limit max_file_mb={options.max_file_mb:g}"
            )
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return DropFile(name=name, handle=handle, size=info.st_size, options=options)


# --------------------------------------------------------------------------- the loop


def read_drop_folder(
    folder: Path, options: DropOptions, suffixes: tuple[str, ...], table: str, file_batches: FileBatches
) -> Iterator[Batch]:
    """Batches of every waiting file of `folder`, one file after the other; see the module docstring."""
    if folder.is_dir():
        remove_expired(folder, parse_duration(options.keep_files))
    for path in pending_files(folder, suffixes, options.settle_seconds):
        yield from _read_one(path, options, table, file_batches)


def _unexpected(exc: Exception) -> str:
    """A content-free account of an exception raised while reading (library messages may quote data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"the file could not be read ({type(exc).__name__}{where})"


def _read_one(path: Path, options: DropOptions, table: str, file_batches: FileBatches) -> Iterator[Batch]:
    name = safe_name(path.name)
    try:
        drop = open_drop_file(path.parent, path.name, options)
    except Vanished:
        log.info("%s: gone before it was read; skipped", name)
        return
    except BrokenFile as exc:
        yield _failed(path, table, name, str(exc))
        return
    reason = None
    with drop.handle:
        batches = file_batches(drop)
        loaded = rejected = 0
        try:
            while reason is None:
                try:
                    item = next(batches, None)
                    if item is None:
                        break
                    records, rejects = item
                    rejected += len(rejects)
                    if rejected > options.max_rejected_rows:
                        raise BrokenFile(
                            f"more than max_rejected_rows={options.max_rejected_rows} rows rejected: "
                            "the file is probably not the expected export"
                        )
                except BrokenFile as exc:
                    reason = str(exc)
                except Exception as exc:
                    log.error("%s: %s", name, _unexpected(exc))
                    reason = _unexpected(exc)
                else:
                    try:
                        yield Batch(table, records, rejects=rejects, description=name)
                    except Exception as exc:  # thrown in by the runner: the database refused the batch
                        reason = f"the database refused batch {loaded + 1} of the file ({type(exc).__name__})"
                    else:
                        loaded += 1
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
    if reason is None:
        move_done(path)  # reached only after the runner committed the last batch and asked for more
        return
    if loaded:
        reason += f" (after {loaded} batch(es) of it were loaded)"
    yield _failed(path, table, name, reason)


def _failed(path: Path, table: str, name: str, reason: str) -> Batch:
    move_failed(path, reason)
    return Batch(table, [], rejects=[({"file": name}, f"file {name} moved to failed/: {reason}")])


# --------------------------------------------------------------------------- reading


def norm_header(name: Any) -> str:
    return _SPACES.sub(" ", str(name)).strip().lower()


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"PK\x03\x04"):
        raise BrokenFile("an XLSX workbook or another zip archive named .csv: not read as CSV")
    sample = head[:4096]
    nuls = sample.count(0)
    if nuls > len(sample) // 4:
        if max(sample[0::2].count(0), sample[1::2].count(0)) >= 0.9 * nuls:
            raise BrokenFile(
                "looks like UTF-16 text without a byte-order mark: save it as CSV UTF-8 or Unicode text"
            )
        raise BrokenFile("not a text file (binary content)")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def _detect_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_lines(handle: BinaryIO, encoding: str, limit: int) -> int:
    """Line breaks in the file (an upper bound of its rows), reading no further than past `limit`."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    lines = 0
    handle.seek(0)
    while lines <= limit and (block := handle.read(1 << 20)):
        lines += decoder.decode(block).count("\n")
    handle.seek(0)
    return lines


def _parser_position(exc: Exception) -> str:
    found = re.search(r"line (\d+)", str(exc))
    return f" at line {found.group(1)}" if found else ""


def read_csv_chunks(drop: DropFile, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A CSV as text frames of at most `chunk_rows` rows ('' for empty cells)."""
    handle = drop.handle
    head = handle.read(1 << 20)
    if not head.strip():
        raise BrokenFile("empty file")
    encoding = _detect_encoding(head)
    lines = head.decode(encoding, errors="replace").splitlines()
    delimiter = _detect_delimiter(lines[0] if lines else "")
    limit = drop.options.max_rows
    if _count_lines(handle, encoding, limit + 1) > limit + 1:
        raise BrokenFile(f"more than max_rows={limit} lines")
    try:
        reader = pd.read_csv(
            handle,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            encoding_errors="strict",
            chunksize=chunk_rows,
            skipinitialspace=True,
            on_bad_lines="error",
        )
        with reader:
            yield from reader
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, csv.Error) as exc:
        what = "UTF-16" if encoding == "utf-16" else "CSV"
        raise BrokenFile(
            f"not a readable {what} file ({type(exc).__name__}{_parser_position(exc)})"
        ) from None


def _open_workbook(drop: DropFile) -> Any:
    import openpyxl  # only when a workbook is read

    handle = drop.handle
    try:
        with zipfile.ZipFile(handle) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise BrokenFile("not an XLSX workbook (not a zip archive)") from None
    if unpacked > drop.options.max_bytes * XLSX_UNPACK_RATIO:
        raise BrokenFile(
            f"the workbook unpacks to {unpacked / 1048576:.0f} MB, over {XLSX_UNPACK_RATIO}× max_file_mb"
        )
    handle.seek(0)
    try:
        return openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:
        raise BrokenFile(f"not a readable XLSX workbook ({type(exc).__name__})") from None


def read_xlsx(
    drop: DropFile, *, sheet: str | int = 0, header_hint: Callable[[list[str]], bool] | None = None
) -> pd.DataFrame:
    """One sheet of a workbook as a frame of its cells' own types; header row found by `header_hint`."""
    book = _open_workbook(drop)
    limit = drop.options.max_rows + HEADER_SEARCH_ROWS
    try:
        try:
            ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
        except (KeyError, IndexError):
            raise BrokenFile(
                f"the workbook has no sheet {sheet!r} ({len(book.sheetnames)} sheet(s))"
            ) from None
        declared_rows, declared_columns = getattr(ws, "max_row", None), getattr(ws, "max_column", None)
        if isinstance(declared_rows, int) and declared_rows > limit:
            raise BrokenFile(
                f"the sheet declares {declared_rows} rows, more than max_rows={drop.options.max_rows}"
            )
        if isinstance(declared_columns, int) and declared_columns > MAX_COLUMNS:
            raise BrokenFile(f"the sheet declares {declared_columns} columns, more than {MAX_COLUMNS}")
        rows: list[list[Any]] = []
        for row in ws.iter_rows(values_only=True):
            if len(rows) >= limit:
                raise BrokenFile(f"more than max_rows={drop.options.max_rows} rows")
            if len(row) > MAX_COLUMNS:
                raise BrokenFile(f"a row has more than {MAX_COLUMNS} columns")
            rows.append(list(row))
    except BrokenFile:
        raise
    except Exception as exc:
        raise BrokenFile(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    finally:
        book.close()
    return _sheet_frame(rows, header_hint)


def _sheet_frame(rows: list[list[Any]], header_hint: Callable[[list[str]], bool] | None) -> pd.DataFrame:
    if not rows:
        raise BrokenFile("the sheet is empty")
    header_at = 0
    if header_hint is not None:
        for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            if header_hint([norm_header(c) for c in row if c is not None]):
                header_at = i
                break
        else:
            raise BrokenFile(
                f"no header row with the expected column names in the first {HEADER_SEARCH_ROWS} rows"
            )
    header = [str(c).strip() if c is not None else f"_col{i}" for i, c in enumerate(rows[header_at])]
    body = [r for r in rows[header_at + 1 :] if any(c is not None and str(c).strip() for c in r)]
    width = len(header)
    body = [(r + [None] * width)[:width] for r in body]
    return pd.DataFrame(body, columns=header, dtype=object)


def read_json_records(drop: DropFile, records_key: str | None = None) -> list[Any]:
    """A JSON file's records: a list, or a list under `data` / `result` / `content` (or `records_key`)."""
    try:
        payload = json.loads(drop.handle.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BrokenFile("not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise BrokenFile(f"not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise BrokenFile(f"not valid JSON ({type(exc).__name__})") from None
    records = None
    if isinstance(payload, list):
        records = payload
    elif isinstance(payload, dict):
        for key in (records_key, "data", "result", "content", "records"):
            if key and isinstance(payload.get(key), list):
                records = payload[key]
                break
    if records is None:
        raise BrokenFile("JSON is neither a list of records nor an object with a `data` list")
    if len(records) > drop.options.max_rows:
        raise BrokenFile(f"{len(records)} records, more than max_rows={drop.options.max_rows}")
    return records


def table_chunks(
    drop: DropFile,
    *,
    sheet: str | int = 0,
    header_hint: Callable[[list[str]], bool] | None = None,
    chunk_rows: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Frames of a CSV or XLSX file, whichever it is."""
    if drop.suffix == ".csv":
        yield from read_csv_chunks(drop, chunk_rows)
    else:
        frame = read_xlsx(drop, sheet=sheet, header_hint=header_hint)
        for start in range(0, max(len(frame), 1), chunk_rows):
            yield frame.iloc[start : start + chunk_rows]
