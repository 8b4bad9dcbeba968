"""Trang tổng quan hệ thống / System overview: what the database holds and how fresh it is."""

from __future__ import annotations

import dash
from dash import html

from dashboard.components.status_table import status_table
from dashboard.data import system_overview

dash.register_page(__name__, path="/", name="Tổng quan / Overview", title="IOC · Tổng quan hệ thống")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Tổng quan hệ thống / System overview"),
            html.P(
                "Dữ liệu hiện có trong cơ sở dữ liệu và độ mới của từng bảng.",
                className="text-muted",
            ),
            status_table(system_overview()),
        ]
    )
