"""The CSV export's rows as Python wrote them before PostgreSQL did (`csv.writer` over the keyset
pages' rows, the code removed from dashboard/exports.py): the reference the COPY path's bytes are
checked against (tests/test_csv_export.py) and measured against (bench/bench_desk.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from dashboard.exports import Column, _plain, csv_head

CHUNK_ROWS = 2_000


def _csv_text(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def python_csv(
    header: Sequence[tuple[str, str]], columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]
) -> Iterator[bytes]:
    """The file's head, then the table; yielded every CHUNK_ROWS rows."""
    yield csv_head(header, columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_text(row.get(column.key)) for column in columns])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
