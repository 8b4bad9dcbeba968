"""Data sources: each connector's last run, status, rows, data age, errors and rejections."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html
from dash.development.base_component import Component

from dashboard.desk.parts import section
from dashboard.desk.texts import t
from ioc.formatting import NO_DATA, format_age, format_datetime, format_number

STATUS_COLOURS = {"success": "success", "partial": "warning", "failed": "danger", "running": "info"}


def _run_cells(run: Any, lang: str) -> list[Component]:
    if run is None:
        return [html.Td(NO_DATA)] * 4
    loaded = getattr(run, "rows_loaded", None)
    if loaded is None:
        loaded = run.rows_inserted + run.rows_updated
    return [
        html.Td(dbc.Badge(run.status, color=STATUS_COLOURS.get(run.status, "secondary"))),
        html.Td(format_datetime(run.finished_at or run.started_at)),
        html.Td(
            " · ".join(
                f"{format_number(count)} {t(word, lang)}"
                for count, word in (
                    (run.rows_read, "read"),
                    (loaded, "loaded"),
                    (run.rows_rejected, "rejected"),
                )
            ),
            className="text-end",
        ),
        html.Td(run.error or "", className="text-danger small"),
    ]


def view(rm: Any, filters: Any, province: str) -> list[Component]:
    lang = filters.lang

    def table() -> dbc.Table:
        head = html.Thead(
            html.Tr(
                [
                    html.Th(t("source", lang)),
                    html.Th("Connector"),
                    html.Th(t("status", lang)),
                    html.Th(t("last_run", lang)),
                    html.Th(t("rows", lang), className="text-end"),
                    html.Th(t("errors", lang)),
                    html.Th(t("data_age", lang)),
                ]
            )
        )
        body = [
            html.Tr(
                [
                    html.Td(html.Strong(status.source)),
                    html.Td(status.connector),
                    *_run_cells(status.last_run, lang),
                    html.Td(
                        format_age(status.data_age, lang),
                        className="ioc-late" if status.late else "",
                        title=t("stale", lang) if status.late else "",
                    ),
                ],
                id={"type": "desk-source", "source": status.source},
            )
            for status in rm.source_health()
        ]
        return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, className="desk-table")

    return [section(t("sources", lang), table, lang)]
