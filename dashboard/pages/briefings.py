"""Lưu trữ bản tin / Briefing archive: every briefing built (on demand or on a schedule), to download."""

from __future__ import annotations

import dash
from dash import html
from flask import current_app

from dashboard.briefings.web import archive_table, button, readable
from dashboard.url import parse_filters
from ioc.briefings import archive
from ioc.kpi.periods import local_today

dash.register_page(__name__, path="/briefings", name="Lưu trữ bản tin", title="IOC · Bản tin điều hành")


def layout(**query: str) -> html.Div:
    filters = parse_filters(query, local_today())
    records = readable(archive.recent(current_app.config["IOC_DATABASE"].engine, limit=200))
    return html.Div(
        [
            html.H2("Lưu trữ bản tin điều hành", className="h4"),
            button(filters),
            archive_table(records),
        ],
        className="desk briefings",
    )
