"""Danh mục chỉ số / KPI catalogue (desktop)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import catalogue, render

dash.register_page(__name__, path="/desk/kpi", name="Danh mục chỉ số", title="IOC · Danh mục chỉ số")


def layout(**query: str) -> html.Div:
    return render.page("catalogue", query, catalogue.catalogue, fields=None)
