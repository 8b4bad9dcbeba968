"""Tổng quan / Overview (desktop): headline KPIs of every domain."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import domains, render

dash.register_page(__name__, path="/desk", name="Tổng quan (văn phòng)", title="IOC · Tổng quan")


def layout(**query: str) -> html.Div:
    return render.page("overview", query, domains.overview, fields=("compare", "area"))
