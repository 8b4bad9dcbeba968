"""Dịch vụ công / Public services (desktop)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.desk import render, services

dash.register_page(__name__, path="/desk/services", name="Dịch vụ công", title="IOC · Dịch vụ công")


def layout(by: str = "department", **query: str) -> html.Div:
    return render.page(
        "services",
        query,
        lambda rm, filters, province: services.view(rm, filters, province, by=by),
        fields=services.FIELDS,
        extra={"by": by},
    )
