"""Lists of rows (dossiers, incidents) as tables: vi-VN cells, sortable headers, keyset paging links."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.desk.filter_bar import CATEGORIES_EN, CHANNELS_EN
from dashboard.desk.links import PAGES
from dashboard.desk.parts import cell
from dashboard.desk.texts import t
from dashboard.url import Filters, ListState, to_search
from ioc.kpi.datasets import CATEGORY_LABELS, CHANNEL_LABELS

# (row key, sort column or None, vi, en) — names shown, codes kept for sorting
COLUMNS: dict[str, tuple[tuple[str, str | None, str, str], ...]] = {
    "dossier": (
        ("code", None, "Mã hồ sơ", "Dossier code"),
        ("procedure_name", "procedure_code", "Thủ tục", "Procedure"),
        ("department_name", "department_code", "Đơn vị xử lý", "Department"),
        ("org_unit_name", "org_unit_code", "Địa bàn", "Area"),
        ("channel", "channel", "Kênh", "Channel"),
        ("received_at", "received_at", "Ngày tiếp nhận", "Received"),
        ("due_at", "due_at", "Ngày hẹn trả", "Due"),
        ("finished_at", "finished_at", "Ngày kết thúc", "Finished"),
        ("status", "status", "Trạng thái", "Status"),
    ),
    "incident": (
        ("external_id", None, "Mã sự cố", "Incident id"),
        ("category", "category", "Loại", "Category"),
        ("org_unit_name", "org_unit_code", "Địa bàn", "Area"),
        ("severity", "severity", "Mức độ", "Severity"),
        ("status", "status", "Trạng thái", "Status"),
        ("reported_at", "reported_at", "Tiếp nhận", "Reported"),
        ("due_at", "due_at", "Hạn xử lý", "Due"),
        ("closed_at", "closed_at", "Đóng", "Closed"),
    ),
}


# TrangThaiHoSo (DVCQG) 1–10
DOSSIER_STATUS = {
    1: ("Mới đăng ký", "Registered"),
    2: ("Được tiếp nhận", "Accepted"),
    3: ("Không được tiếp nhận", "Rejected at intake"),
    4: ("Đang xử lý", "In progress"),
    5: ("Yêu cầu bổ sung giấy tờ", "Supplement requested"),
    6: ("Yêu cầu nghĩa vụ tài chính", "Payment requested"),
    7: ("Công dân rút hồ sơ", "Withdrawn"),
    8: ("Dừng xử lý", "Stopped"),
    9: ("Đã xử lý xong", "Processed"),
    10: ("Đã trả kết quả", "Result returned"),
}
INCIDENT_STATUS = {"open": ("Đang mở", "Open"), "closed": ("Đã đóng", "Closed")}


def header_label(dataset: str, key: str, lang: str) -> str:
    for name, _sort, vi, en in COLUMNS.get(dataset, ()):
        if name == key:
            return en if lang == "en" else vi
    return key


def display(column: str, value: Any, lang: str) -> str:
    if column == "channel" and value in CHANNEL_LABELS:
        return CHANNELS_EN[value] if lang == "en" else CHANNEL_LABELS[value]
    if column == "status" and (value in DOSSIER_STATUS or value in INCIDENT_STATUS):
        vi, en = DOSSIER_STATUS.get(value) or INCIDENT_STATUS[value]
        return en if lang == "en" else vi
    if column == "category" and value in CATEGORY_LABELS:
        return CATEGORIES_EN.get(value, value) if lang == "en" else CATEGORY_LABELS[value]
    return cell(value)


def rows_table(page: Any, filters: Filters, listing: ListState | None, *, sortable: bool = True) -> html.Div:
    """One page of rows; headers re-sort through the URL (first page again)."""
    lang = filters.lang
    dataset = page.dataset
    columns = [c for c in COLUMNS.get(dataset, ()) if c[0] in page.columns]
    head = []
    for _name, sort, vi, en in columns:
        label = en if lang == "en" else vi
        if sortable and listing is not None and sort is not None:
            descending = listing.sort == sort and not listing.descending
            arrow = (" ▼" if listing.descending else " ▲") if listing.sort == sort else ""
            target = ListState(kpi=listing.kpi, part=listing.part, sort=sort, descending=descending)
            head.append(
                html.Th(
                    dcc.Link(label + arrow, href=PAGES["list"] + to_search(filters, target)),
                    **({"aria-sort": "descending" if listing.descending else "ascending"} if arrow else {}),
                )
            )
        else:
            head.append(html.Th(label))
    body = [
        html.Tr([html.Td(display(name, row.get(name), lang)) for name, *_ in columns]) for row in page.rows
    ]
    if not body:
        body = [html.Tr(html.Td(t("no_data", lang), colSpan=len(columns) or 1, className="text-muted"))]
    return html.Div(
        dbc.Table(
            [html.Thead(html.Tr(head)), html.Tbody(body)],
            size="sm",
            hover=True,
            striped=True,
            className="desk-table desk-rows mb-0",
        ),
        className="table-responsive",
    )
