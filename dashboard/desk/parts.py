"""Small building blocks of the desktop pages: numbers, charts, tables, sections that fail alone."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.components.kpi_tile import kpi_tile
from dashboard.desk import ids
from dashboard.desk.filter_bar import attr
from dashboard.desk.links import list_href
from dashboard.desk.texts import t
from dashboard.url import Filters
from ioc.formatting import NO_DATA, format_date, format_datetime, format_number

log = logging.getLogger(__name__)
STATUS_CLASS = {"green": "success", "amber": "warning", "red": "danger"}


def value_text(value: float | None, unit: str = "", decimals: int = 0, lang: str = "vi") -> str:
    """'94,3%', '1.234 hồ sơ', 'Không có dữ liệu' (a missing value is never shown as 0)."""
    if value is None:
        return t("no_data", lang)
    number = format_number(value, decimals)
    if unit.startswith("%"):
        return number + unit if unit == "%" else f"{number} {unit}"
    return f"{number} {unit}".strip()


def cell(value: Any) -> str:
    """A table cell in vi-VN form."""
    if value is None:
        return NO_DATA
    if hasattr(value, "hour"):
        return format_datetime(value)
    if hasattr(value, "year"):
        return format_date(value)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int | float):
        return format_number(value, 0 if float(value).is_integer() else 2)
    return str(value)


def status_badge(status: str, lang: str) -> Component:
    if status not in STATUS_CLASS:
        return html.Span(NO_DATA, className="text-muted")
    return dbc.Badge(t(status, lang), color=STATUS_CLASS[status], className="desk-status")


def explain_button(kpi_id: str, lang: str) -> dbc.Button:
    return dbc.Button(
        "ⓘ " + t("explain", lang),
        id=ids.explain(kpi_id),
        color="link",
        size="sm",
        className="p-0 desk-explain",
        title=t("lineage", lang),
    )


def number_card(tile: Any, filters: Filters, *, kpi_id: str, part: str = "value") -> dbc.Card:
    """A KPI's number on the desktop: the shared tile (dashboard/components/kpi_tile.py); the number
    links to the rows it counts, ⓘ opens its lineage."""
    lang = filters.lang
    title = attr(tile, "name_en") if lang == "en" else None
    return dbc.Card(
        dbc.CardBody(
            [
                dcc.Link(
                    kpi_tile(tile, title=title, variant="desk", show_sparkline=False),
                    href=list_href(filters, kpi_id, part=part),
                    className="desk-card-link text-reset text-decoration-none",
                    id={"type": "desk-number", "kpi": kpi_id},
                    title=t("see_list", lang),
                ),
                html.Div(explain_button(kpi_id, lang), className="mt-1"),
            ]
        ),
        className=f"desk-card h-100 border-{STATUS_CLASS.get(attr(tile, 'status', 'none'), 'light')}",
    )


def graph(figure: go.Figure, kpi_id: str, by: str) -> dcc.Graph:
    return dcc.Graph(
        id=ids.chart(kpi_id, by),
        figure=figure,
        config={"displayModeBar": False, "responsive": True},
        className="desk-graph",
    )


def ranking_table(result: Any, filters: Filters, *, by: str, limit: int = 15) -> dbc.Table:
    """A breakdown as a ranked table; each label links to the list behind it (the keyboard way to drill)."""
    lang = filters.lang
    unit = attr(result, "unit_vi") or ""
    decimals = attr(result, "decimals", 0)
    kpi_id = attr(result, "kpi_id")
    head = html.Thead(
        html.Tr(
            [
                html.Th(t("rank", lang)),
                html.Th(t(by, lang)),
                html.Th(t("value", lang), className="text-end"),
                html.Th(t("status", lang)),
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(attr(row, "rank") or NO_DATA),
                    html.Td(
                        dcc.Link(
                            attr(row, "label"), href=list_href(filters, kpi_id, by=by, key=attr(row, "key"))
                        )
                    ),
                    html.Td(value_text(attr(row, "value"), unit, decimals, lang), className="text-end"),
                    html.Td(status_badge(attr(row, "status", "none"), lang)),
                ]
            )
            for row in list(attr(result, "rows", []))[:limit]
        ]
    )
    return dbc.Table([head, body], size="sm", hover=True, className="desk-table")


def section(
    title: str | Component,
    build: Callable[[], Component | Sequence[Component]],
    lang: str,
    *,
    className: str = "mb-3",
) -> dbc.Card:
    """A titled card whose content is built now; a failure shows in this card only."""
    try:
        content = build()
    except Exception:  # one broken part must not blank the page
        log.exception("desk section %r failed", title)
        content = dbc.Alert(t("error", lang), color="warning", className="mb-0")
    return dbc.Card(
        [dbc.CardHeader(html.H3(title, className="h6 mb-0")), dbc.CardBody(content)], className=className
    )
