"""Exports of any list: CSV (UTF-8 with BOM, so Excel shows Vietnamese) and XLSX, streamed.

CSV rows are written by PostgreSQL (`ReadModel.rows_csv`: a COPY, sent as it is produced, in bounded
memory), so a leader's 280,000-row month costs the database, not the web process's one core; only
the head (BOM, filter lines, titles) is written here. XLSX rows come from the read model's keyset pages
(`ReadModel.rows`), one page at a time, written by xlsxwriter in constant-memory mode to a temporary
file, then sent in chunks. The filters are written in the file's header lines, above the table.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import xlsxwriter

from ioc.formatting import LOCAL_TZ

PAGE_SIZE = 5_000
CSV_BOM = "\ufeff"


@dataclass(frozen=True)
class Column:
    key: str
    title: str


def iter_rows(rm: Any, kpi_id: str, *, page_size: int = PAGE_SIZE, **query: Any) -> Iterator[dict[str, Any]]:
    """Every row of a list, fetched page by page with the keyset cursor."""
    after = None
    while True:
        page = rm.rows(kpi_id, after=after, limit=page_size, **query)
        yield from page.rows
        if not page.next_after:
            return
        after = page.next_after


def _plain(value: Any) -> Any:
    """A cell value for a file: local time without zone, codes and numbers as they are."""
    if isinstance(value, datetime):
        local = value.astimezone(LOCAL_TZ) if value.tzinfo else value
        return local.replace(tzinfo=None)
    return value


def csv_head(header: Sequence[tuple[str, str]], columns: Sequence[Column]) -> bytes:
    """What comes before the rows: BOM, the filter lines (`name,value`), a blank line, the titles."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    for name, value in header:
        writer.writerow([name, value])
    writer.writerow([])
    writer.writerow([column.title for column in columns])
    return buffer.getvalue().encode("utf-8")


def csv_file(
    header: Sequence[tuple[str, str]], columns: Sequence[Column], rows: Iterable[bytes]
) -> Iterator[bytes]:
    """The file: its head, then the rows as PostgreSQL wrote them (`ReadModel.rows_csv`), chunk by chunk."""
    yield csv_head(header, columns)
    yield from rows


def write_xlsx(
    path: str, header: Sequence[tuple[str, str]], columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]
) -> int:
    """Write the workbook row by row (constant memory); returns the number of data rows."""
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "remove_timezone": True})
    try:
        sheet = workbook.add_worksheet("Danh sách")
        bold = workbook.add_format({"bold": True})
        stamp = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        line = 0
        for name, value in header:
            sheet.write_string(line, 0, name, bold)
            sheet.write_string(line, 1, value)
            line += 1
        line += 1
        for index, column in enumerate(columns):
            sheet.write_string(line, index, column.title, bold)
            sheet.set_column(index, index, 18)
        count = 0
        for count, row in enumerate(rows, start=1):
            for index, column in enumerate(columns):
                value = _plain(row.get(column.key))
                if value is None:
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(line + count, index, value, stamp)
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(line + count, index, value)
                else:
                    sheet.write_string(line + count, index, str(value))
        return count
    finally:
        workbook.close()


def xlsx_stream(
    header: Sequence[tuple[str, str]], columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]
) -> Iterator[bytes]:
    """The workbook, written to a temporary file first (a zip needs its end), then sent in chunks."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, header, columns, rows)
        with open(path, "rb") as produced:
            while chunk := produced.read(1 << 16):
                yield chunk
    finally:
        os.unlink(path)
