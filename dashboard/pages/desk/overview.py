"""Tổng quan / Overview (desktop): headline KPIs of every domain."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import domains, render

dash.register_page(__name__, path="/", name="Tổng quan / Overview", title="IOC · Tổng quan")
render.register_callbacks()  # once per app: this module runs again for every app Dash builds


def layout(**query: str) -> html.Div:
    return render.page("overview", query, domains.overview, fields=("compare", "area"))
