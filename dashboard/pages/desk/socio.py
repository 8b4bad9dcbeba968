"""Kinh tế - xã hội / Socio-economic (desktop)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import domains, render

dash.register_page(__name__, path="/desk/socio", name="Kinh tế - xã hội", title="IOC · Kinh tế - xã hội")


def layout(**query: str) -> html.Div:
    return render.page("socio", query, domains.socio, fields=("compare", "area"))
