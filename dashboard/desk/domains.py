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
MAP_POINTS = 3000


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
    area = numbers.area_of(filters, province)
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
                dbc.Col(section(t("map", lang), lambda: incident_map(rm, filters, area), lang), lg=7),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t("by_area", lang),
                        lambda: ranking_table(
                            rm.breakdown("incidents_new", "area", area=area, period=filters.period),
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


def incident_map(rm: Any, filters: Filters, area: str) -> Component:
    """Incidents of the period at their coordinates (no map tiles); a point opens its area's list."""
    page = rm.rows(
        "incidents_new",
        area=area,
        period=filters.period,
        filters=numbers.list_filters(filters, "incident"),
        limit=MAP_POINTS,
        sort="reported_at",
        descending=True,
    )
    frame = pd.DataFrame(list(page.rows), columns=[*page.columns])
    if frame.empty:
        return graph(figures.empty(t("map", filters.lang), filters.lang), "incidents_new", "area")
    counts = (
        frame.groupby(["org_unit_code", "org_unit_name"], dropna=True)
        .agg(lat=("lat", "mean"), lon=("lon", "mean"), value=("external_id", "count"))
        .reset_index()
    )
    counts = counts.rename(columns={"org_unit_code": "key", "org_unit_name": "label"})
    figure = figures.area_map(
        counts, title=t("map", filters.lang), unit=t("incidents", filters.lang).lower(), lang=filters.lang
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
                rm.breakdown("vneid_level2_rate", "area", area=area, period=filters.period),
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
        flag = getattr(tile, "flag", None)
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
