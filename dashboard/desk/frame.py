"""The frame of every desktop page: URL, navigation, language switch, filter bar, lineage panel."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.briefings.web import button as briefing_button
from dashboard.desk import ids
from dashboard.desk.filter_bar import FilterOptions, filter_bar
from dashboard.desk.links import PAGES, page_href
from dashboard.desk.texts import t
from dashboard.url import Filters, to_search

NAV = ("overview", "services", "socio", "incidents", "digital", "sources", "catalogue")


def nav(page: str, filters: Filters, path: str, extra: dict[str, str | None]) -> dbc.Nav:
    lang = filters.lang
    other = filters.with_(lang="en" if lang == "vi" else "vi")
    links = [
        dbc.NavItem(dbc.NavLink(t(name, lang), href=page_href(name, filters), active=name == page))
        for name in NAV
    ]
    switch = dbc.NavItem(
        dbc.NavLink(
            t("language", lang),
            href=path + to_search(other, **extra),
            id="desk-language",
            className="desk-language",
        ),
        className="ms-auto",
    )
    return dbc.Nav([*links, switch], pills=True, className="desk-nav mb-2", navbar=False)


def frame(
    page: str,
    filters: Filters,
    body: Component | Sequence[Component],
    *,
    title: str,
    choices: FilterOptions | None = None,
    fields: Sequence[str] = (),
    path: str | None = None,
    extra: dict[str, str | None] | None = None,
) -> html.Div:
    """A desktop page: `fields` are the filters shown (period always); `extra` page parameters stay in
    the links that switch language."""
    path = path or PAGES[page]
    extra = extra or {}
    search = to_search(filters, **extra)
    parts: list[Component] = [
        html.A(t("skip", filters.lang), href="#desk-main", className="visually-hidden-focusable"),
        dcc.Location(id=ids.LOCATION, refresh="callback-nav"),
        dcc.Store(id=ids.STATE, data={"page": page, "path": path, "search": search}),
        nav(page, filters, path, extra),
        html.H2(title, className="desk-title h4"),
    ]
    if choices is not None:
        parts.append(filter_bar(filters, choices, fields=fields))
        parts.append(briefing_button(filters))  # briefings: "tải bản tin" for these filters
    parts += [
        html.Main(body, id="desk-main", tabIndex="-1"),
        dbc.Offcanvas(
            html.Div(id=ids.LINEAGE_BODY),
            id=ids.LINEAGE,
            title=t("lineage", filters.lang),
            placement="end",
            is_open=False,
            scrollable=True,
            style={"width": "min(560px, 100vw)"},
        ),
    ]
    return html.Div(parts, className="desk", lang=filters.lang)
