"""Công dân số / Digital citizens (desktop)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import domains, render

dash.register_page(__name__, path="/desk/digital", name="Công dân số", title="IOC · Công dân số")


def layout(**query: str) -> html.Div:
    return render.page("digital", query, domains.digital, fields=("compare", "area"))
