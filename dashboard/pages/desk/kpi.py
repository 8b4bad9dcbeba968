"""Một chỉ số / One KPI (desktop): definition, formula, source, owner, legal basis, target, history."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import catalogue, render

dash.register_page(__name__, path_template="/desk/kpi/<kpi_id>", name="Chỉ số", title="IOC · Chỉ số")


def layout(kpi_id: str = "", **query: str) -> html.Div:
    return render.page(
        "catalogue",
        query,
        lambda rm, filters, province: catalogue.kpi_page(rm, filters, province, kpi_id),
        fields=("compare", "area"),
        title=render.kpi_title(kpi_id, query),
        path=f"/desk/kpi/{kpi_id}",
    )
