"""Draw a desktop page from its URL: filters parsed, read model asked, frame around the content."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dash import callback, html
from dash.development.base_component import Component

from dashboard.data import current_scope, current_settings, read_model
from dashboard.desk import drill, filter_bar, lineage, listing, services
from dashboard.desk.filter_bar import FilterOptions, options
from dashboard.desk.frame import frame
from dashboard.desk.texts import t
from dashboard.url import Filters, parse_filters
from ioc.kpi.periods import local_today


def register_callbacks() -> None:
    """The desktop's shared callbacks (filter bar → URL, lineage panel, drill-down), for the app being
    built. Dash gives module-level callbacks to the first app only, while it runs the page modules
    again for every app, so one page module calls this."""
    shared = (
        (filter_bar.DEPENDENCIES, filter_bar.filters_changed),
        (lineage.DEPENDENCIES, lineage.open_lineage),
        (drill.DEPENDENCIES, drill.drill),
    )
    for dependencies, function in shared:
        callback(*dependencies, prevent_initial_call=True)(function)
    callback(*services.LOAD_LIST)(services.load_list)
    callback(*listing.LOAD_TOTAL)(listing.load_total)


Build = Callable[[Any, Filters, str], Component | Sequence[Component]]


def filter_options(rm: Any, filters: Filters, province: str, lang: str) -> FilterOptions:
    name = rm.area_name(province) or province
    areas = [{"label": f"{t('whole_province', lang)} ({name})", "value": province}]
    areas += options([a for a in rm.areas(province) if not getattr(a, "merged_into", None)], indent=1)
    if filters.area and filters.area not in {a["value"] for a in areas}:
        areas.append({"label": rm.area_name(filters.area) or filters.area, "value": filters.area})
    return FilterOptions(
        areas=areas,
        departments=options(rm.departments()),
        procedures=options(rm.procedures(filters.department)),
    )


def page(
    name: str,
    query: Mapping[str, Any],
    build: Build,
    *,
    fields: Sequence[str] | None = (),
    title: str | None = None,
    path: str | None = None,
    extra: Mapping[str, str | None] | None = None,
) -> html.Div:
    today = local_today()
    filters = parse_filters(query, today)
    rm = read_model()
    province = current_settings().province.code
    choices = filter_options(rm, filters, province, filters.lang) if fields is not None else None
    question = ("desk-page", name, path, _items(query), _items(extra or {}), current_scope(), today)
    # built once per data version and clock tick (web.desk_refresh) for every reader with this
    # scope and URL; with web.serve_stale_for, the previous one while the new one is built in the
    # background. Data ages and "overdue now" move with the clock.
    body = rm.cache.get_or_compute(
        question, (rm.data_version(), rm.clock_tick()), lambda: build(rm, filters, province)
    )
    return frame(
        name,
        filters,
        body,
        title=title or t(name, filters.lang),
        choices=choices,
        fields=fields or (),
        path=path,
        extra=dict(extra or {}),
    )


def _items(mapping: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(key), str(value)) for key, value in mapping.items()))


def kpi_title(kpi_id: str, query: Mapping[str, Any]) -> str:
    """A KPI page's title in the page's language (its id when the KPI is unknown)."""
    lang = parse_filters(query, local_today()).lang
    library = read_model().library
    if kpi_id not in library:
        return kpi_id
    name = library.get(kpi_id).name
    return name.en if lang == "en" else name.vi
