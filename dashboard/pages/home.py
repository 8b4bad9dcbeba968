"""Trang tình trạng hệ thống / System status: each source's last run, rows and data age."""

from __future__ import annotations

import dash
from dash import html

from dashboard.components.status_table import status_table
from dashboard.data import read_model

dash.register_page(__name__, path="/", name="Tổng quan / Overview", title="IOC · Tổng quan hệ thống")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Tổng quan hệ thống / System overview"),
            html.P("Các nguồn dữ liệu: lần đồng bộ cuối và độ mới của số liệu.", className="text-muted"),
            status_table(read_model().source_health()),
        ]
    )
