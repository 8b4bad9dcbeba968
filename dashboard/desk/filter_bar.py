"""The filter bar: period, comparison, area, department, procedure, channel, category.

Changing a control writes the URL (one callback); the page is then drawn from the URL, so a reload,
the back button and a sent link all give the same view. Controls a page does not use are hidden, not
absent, so the callback's inputs always exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard.desk import ids
from dashboard.desk.period_text import period_choices
from dashboard.desk.texts import t
from dashboard.url import COMPARES, KEYS, Filters, filters_query, parse_filters
from ioc.kpi.datasets import CATEGORY_LABELS, CHANNEL_LABELS
from ioc.kpi.periods import local_today

CHANNELS_EN = {"online": "Online", "in_person": "In person", "postal": "Postal"}
CATEGORIES_EN = {
    "field_report": "Field report",
    "traffic_accident": "Traffic accident",
    "public_order": "Public order",
    "infosec": "Information security",
    "fire": "Fire",
}
# page parameters that no longer apply once the filters change (a keyset cursor, a page number)
RESET_ON_CHANGE = ("after", "page")


@dataclass(frozen=True)
class FilterOptions:
    areas: list[dict[str, str]] = field(default_factory=list)
    departments: list[dict[str, str]] = field(default_factory=list)
    procedures: list[dict[str, str]] = field(default_factory=list)


def attr(item: Any, name: str, default: Any = None) -> Any:
    """A field of a read-model row, whether it is a dict or an object."""
    return item.get(name, default) if isinstance(item, Mapping) else getattr(item, name, default)


def options(items: Iterable[Any], *, indent: int = 0) -> list[dict[str, str]]:
    pad = "\u00a0" * 4 * indent
    return [{"label": f"{pad}{attr(item, 'name')}", "value": str(attr(item, "code"))} for item in items]


def next_search(current: str, changed: Mapping[str, str | None], today: date) -> str:
    """The query string after the user changed some filters: other page parameters are kept, the
    keyset cursor is dropped, the filters written in their fixed order."""
    params = dict(parse_qsl(current.lstrip("?")))
    filters = parse_filters(params, today).with_(**changed)
    kept = {k: v for k, v in params.items() if k not in KEYS.values() and k not in RESET_ON_CHANGE}
    query = filters_query(filters) | kept
    return "?" + urlencode(query)


def _select(
    name: str, value: str | None, choices: Sequence[dict[str, str]], lang: str, *, shown: bool
) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(t(name, lang), html_for=ids.field(name), className="small mb-0"),
            dcc.Dropdown(
                id=ids.field(name),
                options=list(choices),
                value=value,
                placeholder=t("whole_province" if name == "area" else "all", lang),
                clearable=name != "compare",
                searchable=True,
            ),
        ],
        md=3,
        lg=2,
        className="mb-2" + ("" if shown else " d-none"),
    )


def filter_bar(
    filters: Filters, choices: FilterOptions, *, fields: Sequence[str], today: date | None = None
) -> html.Form:
    lang = filters.lang
    today = today or local_today()
    is_range = ".." in filters.period
    start, end = filters.period.split("..") if is_range else (None, None)
    compares = [{"label": t(name, lang), "value": name} for name in COMPARES]
    channels = [
        {"label": (label if lang == "vi" else CHANNELS_EN[k]), "value": k}
        for k, label in CHANNEL_LABELS.items()
    ]
    categories = [
        {"label": (label if lang == "vi" else CATEGORIES_EN.get(k, k)), "value": k}
        for k, label in CATEGORY_LABELS.items()
    ]
    lists = {
        "compare": compares,
        "area": choices.areas,
        "department": choices.departments,
        "procedure": choices.procedures,
        "channel": channels,
        "category": categories,
    }
    controls = [
        dbc.Col(
            [
                dbc.Label(t("period", lang), html_for=ids.PERIOD, className="small mb-0"),
                dcc.Dropdown(
                    id=ids.PERIOD,
                    options=period_choices(today, lang, current=filters.period),
                    value=filters.period,
                    clearable=False,
                ),
            ],
            md=3,
            lg=2,
            className="mb-2",
        ),
        dbc.Col(
            [
                dbc.Label(t("range", lang), html_for=ids.RANGE, className="small mb-0"),
                dcc.DatePickerRange(  # DD/MM/YYYY whatever the browser's language (a native date
                    id=ids.RANGE,  # input follows it: 12/01 would read as 1 December to some)
                    start_date=start,
                    end_date=end,
                    display_format="DD/MM/YYYY",
                    month_format="MM/YYYY",
                    first_day_of_week=1,
                    start_date_placeholder_text=t("from", lang),
                    end_date_placeholder_text=t("to", lang),
                    clearable=True,
                    className="desk-range",
                ),
            ],
            md=4,
            lg=3,
            className="mb-2",
        ),
        *[
            _select(name, getattr(filters, name), lists[name], lang, shown=name in fields)
            for name in ids.FILTER_FIELDS
        ],
    ]
    return html.Form(
        dbc.Row(controls, className="g-2 align-items-end"), className="desk-filters", role="search"
    )


DEPENDENCIES = (
    Output(ids.LOCATION, "search"),
    Input(ids.PERIOD, "value"),
    Input(ids.RANGE, "start_date"),
    Input(ids.RANGE, "end_date"),
    *[Input(ids.field(name), "value") for name in ids.FILTER_FIELDS],
    State(ids.LOCATION, "search"),
)


def filters_changed(period: str, start: str | None, end: str | None, *rest: Any) -> str:
    *values, current = rest
    changed: dict[str, str | None] = dict(zip(ids.FILTER_FIELDS, values, strict=True))
    if ctx.triggered_id == ids.RANGE:
        if not (start and end):
            return no_update
        changed["period"] = f"{start[:10]}..{end[:10]}"
    else:
        changed["period"] = period
    if changed.get("compare") is None:
        changed["compare"] = "previous_period"
    search = next_search(current or "", changed, local_today())
    return no_update if search == (current or "") else search
