"""Sự cố, phản ánh / Incidents (desktop)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import domains, render

dash.register_page(__name__, path="/desk/incidents", name="Sự cố, phản ánh", title="IOC · Sự cố, phản ánh")


def layout(**query: str) -> html.Div:
    return render.page("incidents", query, domains.incidents, fields=("compare", "area", "category"))
