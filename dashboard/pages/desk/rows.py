"""Danh sách / The list behind a number (desktop): keyset pages, sort, filters, exports."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import listing, render
from dashboard.url import parse_list

dash.register_page(__name__, path="/desk/list", name="Danh sách", title="IOC · Danh sách")


def layout(page: str = "1", **query: str) -> html.Div:
    state = parse_list(query, default_kpi=listing.DEFAULT_KPI)
    number = int(page) if page.isdigit() else 1
    return render.page(
        "list",
        query,
        lambda rm, filters, province: listing.view(rm, filters, province, listing=state, page_number=number),
        fields=("area", "department", "procedure", "channel", "category"),
        extra={key: query.get(key) for key in ("kpi", "part", "sort", "desc")},
    )
