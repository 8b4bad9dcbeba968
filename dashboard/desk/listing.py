"""The list behind a number: keyset-paged, sorted and filtered in SQL by the read model; exportable."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component

from dashboard.desk import ids, numbers
from dashboard.desk.links import PAGES, export_href, kpi_href
from dashboard.desk.parts import explain_button
from dashboard.desk.period_text import describe
from dashboard.desk.tables import rows_table
from dashboard.desk.texts import t
from dashboard.url import Filters, ListState, parse_filters, parse_list, to_search
from ioc.formatting import format_number
from ioc.kpi.datasets import CATEGORY_LABELS, CHANNEL_LABELS
from ioc.kpi.periods import local_today

PAGE_SIZE = 50
DEFAULT_KPI = "dossiers_open_overdue"


ROW_UNITS = {"dossier": ("hồ sơ", "dossiers"), "incident": ("vụ việc", "incidents")}


def filter_names(rm: Any, name: str, filters: Filters) -> dict[str, str]:
    if name == "department":
        return {o.code: o.name for o in rm.departments()}
    if name == "procedure":
        return {o.code: o.name for o in rm.procedures(filters.department)}
    if name == "channel":
        return {k: v for k, v in CHANNEL_LABELS.items()}
    return dict(CATEGORY_LABELS)


def filter_summary(rm: Any, filters: Filters, province: str) -> str:
    """'Tháng 10/2026 · Đắk Lắk · Đơn vị: Sở Tư pháp' (names, not codes)."""
    lang = filters.lang
    parts = [describe(filters.period, lang), rm.area_name(numbers.area_of(filters, province)) or province]
    for name, value in filters.row_filters().items():
        parts.append(f"{t(name, lang)}: {filter_names(rm, name, filters).get(value, value)}")
    return " · ".join(parts)


TOTAL = "desk-list-total"


def load_total(_id: str, state: dict[str, str]) -> str:
    """How many rows the list has, counted after the page is drawn (a count can take seconds at
    10 million dossiers; the first page of rows does not wait for it)."""
    from dashboard.data import current_settings, read_model

    rm = read_model()
    query = dict(parse_qsl(state.get("search", "").lstrip("?")))
    filters = parse_filters(query, local_today())
    listing = parse_list(query, default_kpi=DEFAULT_KPI)
    province = current_settings().province.code
    asked = numbers.rows_query(filters, listing, province)
    total = rm.row_count(
        listing.kpi, area=asked["area"], period=asked["period"], part=asked["part"], filters=asked["filters"]
    )
    dataset = rm.library.get(listing.kpi).dataset or "dossier"
    unit = ROW_UNITS.get(dataset, ("", ""))[filters.lang == "en"]
    return f"{format_number(total)} {unit}" if total is not None else ""


LOAD_TOTAL = (Output(TOTAL, "children"), Input(TOTAL, "id"), State(ids.STATE, "data"))


def view(
    rm: Any, filters: Filters, province: str, *, listing: ListState, page_number: int = 1
) -> list[Component]:
    lang = filters.lang
    if listing.kpi not in rm.library:
        return [dbc.Alert(f"{t('kpi', lang)} {listing.kpi!r}: {t('no_data', lang)}", color="warning")]
    kpi = rm.library.get(listing.kpi)
    page = rm.rows(
        listing.kpi,
        **numbers.rows_query(filters, listing, province),
        after=listing.after,
        limit=PAGE_SIZE,
    )
    pager = []
    if listing.after:
        first = ListState(
            kpi=listing.kpi, part=listing.part, sort=listing.sort, descending=listing.descending
        )
        pager.append(
            dcc.Link(
                "« " + t("first_page", lang),
                href=PAGES["list"] + to_search(filters, first),
                className="btn btn-outline-secondary btn-sm me-2",
            )
        )
    if page.next_after:
        following = ListState(
            kpi=listing.kpi,
            part=listing.part,
            sort=listing.sort,
            descending=listing.descending,
            after=page.next_after,
        )
        pager.append(
            dcc.Link(
                t("next_page", lang) + " »",
                href=PAGES["list"] + to_search(filters, following, page=str(page_number + 1)),
                className="btn btn-outline-primary btn-sm me-2",
                id="desk-next-page",
            )
        )
    return [
        html.Div(
            [
                html.H3(
                    [
                        dcc.Link(
                            kpi.name.en if lang == "en" else kpi.name.vi, href=kpi_href(kpi.id, filters)
                        ),
                        " ",
                        explain_button(kpi.id, lang),
                    ],
                    className="h5",
                ),
                html.P(
                    [
                        filter_summary(rm, filters, province),
                        " · ",
                        html.Span("…", id=TOTAL),  # counted by its own callback (`load_total`)
                    ],
                    className="text-muted mb-2",
                    id="desk-list-summary",
                ),
                html.Div(
                    [
                        html.A(
                            t("export_csv", lang),
                            href=export_href("csv", filters, listing),
                            className="btn btn-success btn-sm me-2",
                            id="desk-export-csv",
                            download="",
                        ),
                        html.A(
                            t("export_xlsx", lang),
                            href=export_href("xlsx", filters, listing),
                            className="btn btn-success btn-sm me-2",
                            id="desk-export-xlsx",
                            download="",
                        ),
                        html.Span(
                            f"{t('page', lang)} {page_number}",
                            className="ms-2 text-muted",
                            id="desk-page-number",
                        ),
                    ],
                    className="mb-2",
                ),
            ]
        ),
        rows_table(page, filters, listing),
        html.Div(pager, className="mt-2"),
    ]
