"""Data sources: each connector's last run, status, rows, data age and errors (the shared status
table), then the errors of failed runs in full."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html
from dash.development.base_component import Component

from dashboard.briefings.web import failed_deliveries
from dashboard.components.status_table import status_table
from dashboard.desk.lineage import run_line
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


def history(rm: Any, source: str, lang: str) -> Component:
    """A source's last runs and the reasons its rejected records were refused (never the records)."""
    runs = [run_line(run, lang) for run in rm.recent_runs(source, limit=10)]
    rejected = rm.rejections(source, limit=20)
    reasons = [
        html.Li(
            [
                f"{format_datetime(item.created_at)} · {item.table} · ",
                html.Span(item.reason, className="text-danger"),
            ]
        )
        for item in rejected
    ]
    return dbc.Row(
        [
            dbc.Col(
                [
                    html.H4(t("runs", lang), className="h6"),
                    html.Ul(runs or [html.Li("—")], className="small"),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    html.H4(t("reasons", lang), className="h6"),
                    html.Ul(reasons or [html.Li("—")], className="small"),
                ],
                lg=6,
                id={"type": "desk-rejections", "source": source},
            ),
        ]
    )


def view(rm: Any, filters: Any, province: str) -> list[Component]:
    lang = filters.lang
    statuses = rm.source_health()
    return [
        section(t("sources", lang), lambda: status_table(statuses), lang),
        section(t("errors", lang), lambda: errors(statuses, lang), lang),
        section("Bản tin gửi lỗi", lambda: failed_deliveries(rm.engine), lang),  # briefings
        *[section(status.source, lambda s=status.source: history(rm, s, lang), lang) for status in statuses],
    ]
