"""The Flask route behind the desktop's export buttons: `/desk/export.csv` and `/desk/export.xlsx`
take the same query string as the list page and stream the whole list with its filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import Flask, Response, abort, request, stream_with_context

from dashboard.data import current_settings, read_model
from dashboard.desk import numbers
from dashboard.desk.listing import DEFAULT_KPI, filter_names
from dashboard.desk.period_text import describe
from dashboard.desk.tables import COLUMNS
from dashboard.desk.texts import t
from dashboard.exports import Column, csv_file, iter_rows, xlsx_stream
from dashboard.security.audit_log import counted
from dashboard.url import Filters, ListState, parse_filters, parse_list
from ioc.formatting import LOCAL_TZ, format_datetime
from ioc.kpi.periods import local_today

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# the file carries codes next to names (a code is what another system joins on)
CODE_COLUMNS = {
    "procedure_name": "procedure_code",
    "department_name": "department_code",
    "org_unit_name": "org_unit_code",
}


def file_columns(dataset: str, lang: str) -> list[Column]:
    columns: list[Column] = []
    for key, _sort, vi, en in COLUMNS[dataset]:
        if key in CODE_COLUMNS:
            columns.append(Column(CODE_COLUMNS[key], ("Mã " + vi.lower()) if lang == "vi" else f"{en} code"))
        columns.append(Column(key, en if lang == "en" else vi))
    return columns


def file_header(
    rm: Any, kpi: Any, filters: Filters, listing: ListState, province: str
) -> list[tuple[str, str]]:
    lang = filters.lang
    area = numbers.area_of(filters, province)
    header = [
        (t("kpi", lang), kpi.name.en if lang == "en" else kpi.name.vi),
        (t("period", lang), f"{describe(filters.period, lang)} ({filters.period})"),
        (
            t("area", lang),
            f"{rm.area_name(area) or ''} ({area})",
        ),
    ]
    header += [
        (t(name, lang), f"{filter_names(rm, name, filters).get(value, value)} ({value})")
        for name, value in filters.row_filters().items()
    ]
    if listing.part != "value":
        header.append((t(listing.part, lang), kpi.id))
    header.append(
        ("Sắp xếp" if lang == "vi" else "Sorted by", listing.sort + (" ↓" if listing.descending else " ↑"))
    )
    header.append(("Xuất lúc" if lang == "vi" else "Exported at", format_datetime(datetime.now(LOCAL_TZ))))
    return header


def export(fmt: str) -> Response:
    if fmt not in MIMETYPES:
        abort(404)
    filters = parse_filters(request.args.to_dict(), local_today())
    listing = parse_list(request.args.to_dict(), default_kpi=DEFAULT_KPI)
    rm = read_model()
    if listing.kpi not in rm.library:
        abort(404)
    kpi = rm.library.get(listing.kpi)
    dataset = kpi.dataset or "dossier"
    if dataset not in COLUMNS:
        abort(404)
    province = current_settings().province.code
    query = numbers.rows_query(filters, listing, province)
    columns = file_columns(dataset, filters.lang)
    detail = {  # audit: who exported which list with which filters, and how many rows
        "format": fmt,
        "kpi": listing.kpi,
        **{k: v for k, v in query.items() if k != "filters"},
        **query["filters"],
    }
    stream: Iterator[bytes]
    if fmt == "csv":  # the rows written by PostgreSQL, which also counts them
        copied = rm.rows_csv(listing.kpi, columns=[column.key for column in columns], **query)
        chunks = counted(copied, "export", detail, count=lambda _chunks: copied.rows)
        stream = csv_file(file_header(rm, kpi, filters, listing, province), columns, chunks)
    else:
        rows = counted(iter_rows(rm, listing.kpi, **query), "export", detail)
        stream = xlsx_stream(file_header(rm, kpi, filters, listing, province), columns, rows)
    name = f"{listing.kpi}_{filters.period}.{fmt}".replace("..", "_")
    return Response(
        stream_with_context(stream),
        content_type=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Accel-Buffering": "no"},
    )


def register(server: Flask) -> None:
    server.add_url_rule("/desk/export.<fmt>", "desk_export", export)
