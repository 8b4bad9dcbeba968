"""Nguồn dữ liệu / Data sources (desktop)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import render, sources

dash.register_page(__name__, path="/desk/sources", name="Nguồn dữ liệu", title="IOC · Nguồn dữ liệu")


def layout(**query: str) -> html.Div:
    return render.page("sources", query, sources.view, fields=None)
