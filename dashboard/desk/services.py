"""Public services: on-time, overdue and due soon by department, commune, procedure and channel;
rankings, trends, and the overdue and due-soon dossiers."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import MATCH, Input, Output, State, dcc, html
from dash.development.base_component import Component

from dashboard import figures
from dashboard.desk import ids, numbers
from dashboard.desk.links import list_href, page_href
from dashboard.desk.parts import graph, number_card, ranking_table, section
from dashboard.desk.period_text import describe
from dashboard.desk.tables import rows_table
from dashboard.desk.texts import t
from dashboard.url import Filters, ListState, parse_filters
from ioc.kpi.periods import local_today

HEADLINE = (
    "dossiers_on_time_rate",
    "dossiers_open_overdue",
    "dossiers_due_soon",
    "dossiers_received",
    "dossiers_finished",
    "dossiers_online_rate",
)
BYS = ("department", "area", "procedure", "channel")
CHARTS = (
    ("dossiers_on_time_rate", "on_time_by"),
    ("dossiers_open_overdue", "overdue_by"),
    ("dossiers_due_soon", "due_soon_by"),
)
FIELDS = ("compare", "area", "department", "procedure", "channel")


def cards(rm: Any, kpi_ids: tuple[str, ...], filters: Filters, province: str) -> dbc.Row:
    found = numbers.tiles(rm, kpi_ids, filters, province)
    return dbc.Row(
        [
            dbc.Col(number_card(found[k], filters, kpi_id=k), xs=12, sm=6, lg=4, xxl=2, className="mb-2")
            for k in kpi_ids
        ],
        className="g-2",
    )


def by_tabs(filters: Filters, by: str, page: str) -> dbc.Nav:
    return dbc.Nav(
        [
            dbc.NavItem(
                dbc.NavLink(
                    f"{t('by', filters.lang)} {t(name, filters.lang).lower()}",
                    href=page_href(page, filters, by=name),
                    active=name == by,
                )
            )
            for name in BYS
        ],
        pills=True,
        className="mb-2 desk-by",
    )


def breakdown_chart(
    rm: Any, kpi_id: str, by: str, filters: Filters, province: str, title_key: str
) -> Component:
    result = numbers.breakdown(rm, kpi_id, by, filters, province)
    kpi = rm.library.get(kpi_id)
    target = kpi.target_for(int(filters.period[:4]), numbers.area_of(filters, province))
    title = f"{t(title_key, filters.lang)} · {t(by, filters.lang).lower()}"
    rows = result.rows
    if kpi.type == "count":  # a count's zero rows are noise in a chart (the ranking table keeps them)
        rows = [row for row in rows if row.value]
    figure = figures.bars(
        rows,
        title=title,
        unit=result.unit_vi,
        decimals=result.decimals,
        target=target,
        lang=filters.lang,
    )
    return graph(figure, kpi_id, by)


def trend_chart(rm: Any, kpi_id: str, filters: Filters, province: str) -> Component:
    series = numbers.series(
        rm, kpi_id, filters, province, count=12, end=numbers.grain_end(rm, kpi_id, filters)
    )
    name = series.name_en if filters.lang == "en" else series.name_vi
    figure = figures.trend(
        series.points,
        title=f"{name} · {t('trend', filters.lang).lower()}",
        unit=series.unit_vi,
        decimals=series.decimals,
        lang=filters.lang,
    )
    return graph(figure, kpi_id, "period")


def dossier_list(rm: Any, kpi_id: str, filters: Filters, province: str, limit: int = 10) -> Component:
    page = rm.rows(
        kpi_id, **numbers.rows_query(filters, ListState(kpi=kpi_id, sort="due_at"), province), limit=limit
    )
    return html.Div(
        [
            rows_table(page, filters, None, sortable=False),
            dcc.Link(t("see_list", filters.lang) + " →", href=list_href(filters, kpi_id), className="small"),
        ]
    )


def lazy_list(kpi_id: str) -> Component:
    """A list drawn by its own callback (`load_list`), so the page's numbers do not wait for it."""
    return dcc.Loading(html.Div(id=ids.lazy_list(kpi_id), className="desk-lazy"), delay_show=300)


def load_list(_id: dict[str, str], state: dict[str, str]) -> Component:
    from dashboard.data import current_settings, read_model

    filters = parse_filters(state.get("search", ""), local_today())
    return dossier_list(read_model(), _id["kpi"], filters, current_settings().province.code)


LOAD_LIST = (
    Output(ids.lazy_list(MATCH), "children"),  # type: ignore[arg-type]
    Input(ids.lazy_list(MATCH), "id"),  # type: ignore[arg-type]
    State(ids.STATE, "data"),
)


def view(rm: Any, filters: Filters, province: str, *, by: str = "department") -> list[Component]:
    lang = filters.lang
    by = by if by in BYS else "department"
    return [
        html.P(describe(filters.period, lang), className="text-muted mb-2 desk-period"),
        section(
            t("services", lang),
            lambda: cards(rm, HEADLINE, filters, province),
            lang,
            className="mb-3 desk-cards",
        ),
        by_tabs(filters, by, "services"),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t(key, lang),
                        lambda k=kpi, key=key: breakdown_chart(rm, k, by, filters, province, key),
                        lang,
                    ),
                    lg=4,
                )
                for kpi, key in CHARTS
            ]
        ),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t("ranking", lang) + " · " + t("on_time_by", lang),
                        lambda: ranking_table(
                            numbers.breakdown(rm, "dossiers_on_time_rate", by, filters, province),
                            filters,
                            by=by,
                        ),
                        lang,
                    ),
                    lg=4,
                ),
                dbc.Col(
                    section(
                        t("trend", lang),
                        lambda: [
                            trend_chart(rm, "dossiers_on_time_rate", filters, province),
                            trend_chart(rm, "dossiers_received", filters, province),
                        ],
                        lang,
                    ),
                    lg=8,
                ),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t("overdue_list", lang),
                        lambda: lazy_list("dossiers_open_overdue"),
                        lang,
                    ),
                    xs=12,
                ),
                dbc.Col(
                    section(
                        t("due_soon_list", lang),
                        lambda: lazy_list("dossiers_due_soon"),
                        lang,
                    ),
                    xs=12,
                ),
            ]
        ),
    ]
