"""Data sources: each connector's last run, status, rows, data age and errors (the shared status
table), then the errors of failed runs in full."""

from __future__ import annotations

from typing import Any

from dash import html
from dash.development.base_component import Component

from dashboard.components.status_table import status_table
from dashboard.desk.parts import section
from dashboard.desk.texts import t
from ioc.formatting import format_datetime


def errors(statuses: list[Any], lang: str) -> Component:
    failing = [s for s in statuses if s.last_run is not None and s.last_run.error]
    if not failing:
        return html.P("—", className="text-muted mb-0")
    return html.Ul(
        [
            html.Li(
                [
                    html.Strong(status.source),
                    f" · {format_datetime(status.last_run.finished_at or status.last_run.started_at)} · ",
                    html.Span(status.last_run.error, className="text-danger"),
                ]
            )
            for status in failing
        ],
        className="mb-0",
    )


def view(rm: Any, filters: Any, province: str) -> list[Component]:
    lang = filters.lang
    statuses = rm.source_health()
    return [
        section(t("sources", lang), lambda: status_table(statuses), lang),
        section(t("errors", lang), lambda: errors(statuses, lang), lang),
    ]
