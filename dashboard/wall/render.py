"""Tile kinds of the wall as Dash components (pure: data in, components out; no queries here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html

from dashboard.components.freshness import HasFreshness, freshness_badge
from ioc.formatting import format_age, format_number
from ioc.wall.feeds import IncidentItem, OverdueDossier

CATEGORY_LABELS = {
    "field_report": "Phản ánh hiện trường",
    "traffic_accident": "Tai nạn giao thông",
    "public_order": "An ninh trật tự",
    "infosec": "An toàn thông tin",
    "fire": "Cháy nổ",
}
SEVERITY_LABELS = {1: "Thấp", 2: "Trung bình", 3: "Nghiêm trọng"}
GRAPH_CONFIG = {"staticPlot": True, "displayModeBar": False, "responsive": True}


def head(title: str, fresh: HasFreshness | None) -> html.Div:
    badge = freshness_badge(fresh) if fresh is not None else None
    return html.Div([html.Span(title, className="wall-tile__title"), badge], className="wall-tile__head")


def graph(figure: Any) -> dcc.Graph:
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG, className="wall-graph", style={"height": "100%"})


def ranking(
    title: str,
    rows: Sequence[Any],
    *,
    decimals: int,
    unit: str,
    fresh: HasFreshness | None,
    reference: float | None = None,
    reference_label: str | None = None,
) -> list[Any]:
    """Horizontal bars as HTML: label, bar, value; the bar's colour is the row's status."""
    values = [r.value for r in rows if r.value is not None]
    top = max([*values, reference or 0, 1e-9])
    items = []
    for row in rows:
        width = 0.0 if row.value is None else max(0.0, 100 * row.value / top)
        items.append(
            html.Div(
                [
                    html.Span(CATEGORY_LABELS.get(row.label, row.label), className="wall-rank__label"),
                    html.Span(
                        html.Span(
                            className=f"wall-rank__fill wall-rank__fill--{row.status}",
                            style={"width": f"{width:.1f}%"},
                        ),
                        className="wall-rank__bar",
                    ),
                    html.Span(format_number(row.value, decimals), className="wall-rank__value"),
                ],
                className="wall-rank__row",
            )
        )
    marker = None
    if reference is not None:
        left = 100 * reference / top
        marker = html.Div(
            html.Span(
                reference_label or format_number(reference, decimals), className="wall-rank__ref-label"
            ),
            className="wall-rank__ref",
            style={"--ref": f"{left:.1f}%"},
        )
    body = html.Div([*items, marker], className="wall-rank") if items else empty()
    return [head(title, fresh), html.Div(unit, className="wall-tile__unit"), body]


def empty(text: str = "Không có dữ liệu") -> html.Div:
    return html.Div(text, className="wall-empty")


def dossier_ticker(
    title: str, items: Sequence[OverdueDossier], now: datetime, fresh: HasFreshness | None
) -> list[Any]:
    rows = [
        html.Li(
            [
                html.Span(item.code, className="wall-ticker__code"),
                html.Span(item.procedure, className="wall-ticker__main"),
                html.Span(f"{item.department} · {item.area}".strip(" ·"), className="wall-ticker__sub"),
                html.Span(f"quá hạn {format_age(now - item.due_at)}", className="wall-ticker__age"),
            ],
            className="wall-ticker__item",
        )
        for item in items
    ]
    return [
        head(title, fresh),
        html.Ul(rows, className="wall-ticker") if rows else empty("Không có hồ sơ quá hạn"),
    ]


def incident_ticker(
    title: str, items: Sequence[IncidentItem], now: datetime, fresh: HasFreshness | None
) -> list[Any]:
    rows = [
        html.Li(
            [
                html.Span(item.external_id, className="wall-ticker__code"),
                html.Span(CATEGORY_LABELS.get(item.category, item.category), className="wall-ticker__main"),
                html.Span(
                    " · ".join(
                        x for x in (item.service, item.area, SEVERITY_LABELS.get(item.severity or 0)) if x
                    ),
                    className="wall-ticker__sub",
                ),
                html.Span(f"{format_age(now - item.reported_at)} trước", className="wall-ticker__age"),
            ],
            className=f"wall-ticker__item wall-ticker__item--sev{item.severity or 1}",
        )
        for item in items
    ]
    return [
        head(title, fresh),
        html.Ul(rows, className="wall-ticker") if rows else empty("Không có sự cố mới"),
    ]


def table(
    title: str,
    columns: Sequence[tuple[str, int]],
    rows: Sequence[tuple[str, Sequence[float | None]]],
    fresh: HasFreshness | None,
) -> list[Any]:
    header = html.Tr([html.Th(""), *[html.Th(name) for name, _ in columns]])
    body = [
        html.Tr(
            [
                html.Td(label),
                *[html.Td(format_number(v, d)) for v, (_, d) in zip(values, columns, strict=True)],
            ]
        )
        for label, values in rows
    ]
    return [head(title, fresh), html.Table([html.Thead(header), html.Tbody(body)], className="wall-table")]


def clock() -> list[Any]:
    """Filled every second by assets/wall.js from the server-corrected clock."""
    return [
        html.Div("--:--", className="wall-clock__time js-wall-time"),
        html.Div("", className="wall-clock__date js-wall-date"),
    ]


def notice(title: str, text: str) -> list[Any]:
    return [head(title, None), html.Div(text, className="wall-notice")]


def failed(title: str, error: str) -> list[Any]:
    return [head(title, None), html.Div(f"Không tải được ô này: {error}", className="wall-empty wall-error")]
