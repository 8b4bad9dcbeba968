"""Overview, socio-economic, incidents and digital-citizen views."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html
from dash.development.base_component import Component

from dashboard import figures
from dashboard.desk import numbers, targets
from dashboard.desk.links import kpi_href, page_href
from dashboard.desk.parts import explain_button, graph, ranking_table, section, status_badge, value_text
from dashboard.desk.period_text import describe
from dashboard.desk.services import breakdown_chart, cards, trend_chart
from dashboard.desk.texts import t
from dashboard.url import Filters
from ioc.kpi.periods import local_today

DOMAIN_PAGES = {
    "public_services": "services",
    "socio_economic": "socio",
    "incidents": "incidents",
    "digital_citizens": "digital",
}
INCIDENT_CARDS = (
    "incidents_new",
    "incidents_closed",
    "incident_close_rate",
    "incidents_open_overdue",
    "incidents_closed_on_time_rate",
    "incident_median_hours_to_close",
)
DIGITAL_CARDS = ("vneid_level2_rate", "vneid_level2_activations", "vneid_target", "dvc_accounts")


def _period_line(filters: Filters) -> html.P:
    return html.P(describe(filters.period, filters.lang), className="text-muted mb-2 desk-period")


def overview(rm: Any, filters: Filters, province: str) -> list[Component]:
    """Headline KPIs of every domain, each domain linking to its page."""
    lang = filters.lang
    parts: list[Component] = [_period_line(filters)]
    headline = [
        kpi
        for kpi in rm.library.headline()
        if kpi.type != "latest" or kpi.targets or kpi.direction != "neutral"
    ]
    for domain, page in DOMAIN_PAGES.items():
        ids = tuple(kpi.id for kpi in headline if rm.library.domains.get(kpi.id) == domain)
        if not ids:
            continue
        title = html.Span(
            [t(page, lang), " ", dcc.Link("→", href=page_href(page, filters), title=t(page, lang))]
        )
        parts.append(section(title, lambda ids=ids: cards(rm, ids, filters, province), lang))
    return parts


def incidents(rm: Any, filters: Filters, province: str) -> list[Component]:
    lang = filters.lang
    return [
        _period_line(filters),
        section(t("incidents", lang), lambda: cards(rm, INCIDENT_CARDS, filters, province), lang),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t("by_category", lang),
                        lambda: breakdown_chart(
                            rm, "incidents_new", "category", filters, province, "by_category"
                        ),
                        lang,
                    ),
                    lg=5,
                ),
                dbc.Col(section(t("map", lang), lambda: incident_map(rm, filters, province), lang), lg=7),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t("by_area", lang),
                        lambda: ranking_table(
                            numbers.breakdown(rm, "incidents_new", "area", filters, province),
                            filters,
                            by="area",
                        ),
                        lang,
                    ),
                    lg=5,
                ),
                dbc.Col(
                    section(
                        t("trend", lang), lambda: trend_chart(rm, "incidents_new", filters, province), lang
                    ),
                    lg=7,
                ),
            ]
        ),
    ]


def incident_map(rm: Any, filters: Filters, province: str) -> Component:
    """Incidents of the period by commune, as bubbles at the communes' coordinates (no map tiles,
    no internet); a bubble opens its commune's list."""
    result = numbers.breakdown(rm, "incidents_new", "area", filters, province)
    places = {o.code: o for o in rm.areas(province)} | {
        o.code: o for o in rm.areas(numbers.area_of(filters, province))
    }
    frame = pd.DataFrame(
        [
            {
                "key": row.key,
                "label": row.label,
                "value": row.value,
                "lat": getattr(places.get(row.key), "lat", None),
                "lon": getattr(places.get(row.key), "lon", None),
            }
            for row in result.rows
        ],
        columns=["key", "label", "value", "lat", "lon"],
    )
    frame = frame[frame["value"].fillna(0) > 0]
    figure = figures.area_map(
        frame, title=t("map", filters.lang), unit=t("incidents", filters.lang).lower(), lang=filters.lang
    )
    return graph(figure, "incidents_new", "area")


def digital(rm: Any, filters: Filters, province: str) -> list[Component]:
    lang = filters.lang
    area = numbers.area_of(filters, province)
    return [
        _period_line(filters),
        section(t("digital", lang), lambda: cards(rm, DIGITAL_CARDS, filters, province), lang),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t("vneid_by_area", lang),
                        lambda: breakdown_chart(
                            rm, "vneid_level2_rate", "area", filters, province, "vneid_by_area"
                        ),
                        lang,
                    ),
                    lg=7,
                ),
                dbc.Col(
                    section(
                        t("trajectory", lang),
                        lambda: targets.panel(
                            rm, "vneid_level2_activations", area, filters.period, lang, local_today()
                        ),
                        lang,
                    ),
                    lg=5,
                ),
            ]
        ),
        section(
            t("ranking", lang),
            lambda: ranking_table(
                numbers.breakdown(rm, "vneid_level2_rate", "area", filters, province),
                filters,
                by="area",
                limit=200,
            ),
            lang,
        ),
    ]


def socio(rm: Any, filters: Filters, province: str) -> list[Component]:
    """Indicators vs. targets in a table with the source's flags, series charts, trajectories."""
    lang = filters.lang
    area = numbers.area_of(filters, province)
    kpis = rm.kpis("socio_economic")
    charts = [k.id for k in kpis if k.type == "latest" and not k.id.endswith("_plan")][:6]
    return [
        _period_line(filters),
        section(t("socio", lang), lambda: indicator_table(rm, [k.id for k in kpis], filters, province), lang),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        rm.library.get(k).name.vi if lang == "vi" else rm.library.get(k).name.en,
                        lambda k=k: trend_chart(rm, k, filters, province),
                        lang,
                    ),
                    lg=4,
                )
                for k in charts
            ]
        ),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t("trajectory", lang)
                        + " · "
                        + (rm.library.get(k).name.vi if lang == "vi" else rm.library.get(k).name.en),
                        lambda k=k: targets.panel(rm, k, area, filters.period, lang, local_today()),
                        lang,
                    ),
                    lg=4,
                )
                for k in ("budget_revenue_ytd", "exports_ytd", "fdi_registered_ytd")
            ]
        ),
    ]


def flag_badge(flag: str | None, lang: str) -> Component | None:
    if not flag or flag in ("..", "official"):
        return None
    return dbc.Badge(t(flag, lang), color="secondary", className="ms-1 desk-flag")


def source_flag(rm: Any, kpi_id: str, observed: str, filters: Filters, province: str) -> str | None:
    """The source's flag ('provisional' → "Sơ bộ") of the observation a value comes from."""
    if rm.library.get(kpi_id).type != "latest":
        return None
    points = numbers.series(rm, kpi_id, filters, province, periods=[observed]).points
    return points[0].flag if points else None


def indicator_table(rm: Any, kpi_ids: list[str], filters: Filters, province: str) -> dbc.Table:
    lang = filters.lang
    found = numbers.tiles(rm, kpi_ids, filters, province)
    head = html.Thead(
        html.Tr([html.Th(t(k, lang)) for k in ("kpi", "period", "value", "vs", "target", "status")])
    )
    rows = []
    for kpi_id in kpi_ids:
        tile = found[kpi_id]
        unit = tile.unit_en if lang == "en" else tile.unit_vi
        observed = getattr(tile, "observed_period", None) or tile.period
        flag = source_flag(rm, kpi_id, observed, filters, province)
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            dcc.Link(
                                tile.name_en if lang == "en" else tile.name_vi, href=kpi_href(kpi_id, filters)
                            ),
                            " ",
                            explain_button(kpi_id, lang),
                        ]
                    ),
                    html.Td([describe(observed, lang), flag_badge(flag, lang)]),
                    html.Td(value_text(tile.value, unit, tile.decimals, lang), className="text-end"),
                    html.Td(
                        value_text(tile.delta, "", tile.decimals, lang) if tile.delta is not None else "—",
                        className="text-end",
                    ),
                    html.Td(
                        value_text(tile.target, unit, tile.decimals, lang)
                        if tile.target is not None
                        else "—",
                        className="text-end",
                    ),
                    html.Td(status_badge(tile.status, lang)),
                ]
            )
        )
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, className="desk-table")
