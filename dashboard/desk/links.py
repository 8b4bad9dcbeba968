"""Links between desktop views: every link carries the filters, so the view it opens is the same one."""

from __future__ import annotations

from dashboard.url import Filters, ListState, to_search

PAGES = {
    "overview": "/",
    "services": "/desk/services",
    "socio": "/desk/socio",
    "incidents": "/desk/incidents",
    "digital": "/desk/digital",
    "sources": "/desk/sources",
    "catalogue": "/desk/kpi",
    "list": "/desk/list",
}
# a breakdown's key narrows this filter when a bar (or map point, or ranking row) is opened
BY_FILTER = {
    "area": "area",
    "department": "department",
    "procedure": "procedure",
    "channel": "channel",
    "category": "category",
}


def page_href(page: str, filters: Filters, **extra: str | None) -> str:
    return PAGES[page] + to_search(filters, **extra)


def kpi_href(kpi_id: str, filters: Filters) -> str:
    return f"{PAGES['catalogue']}/{kpi_id}" + to_search(filters)


def narrowed(filters: Filters, by: str | None, key: str | None) -> Filters:
    """The filters of one bar: the breakdown's key replaces the matching filter."""
    if by in BY_FILTER and key:
        return filters.with_(**{BY_FILTER[by]: str(key)})
    if by == "period" and key:  # a point of a trend: that period
        return filters.with_(period=str(key))
    return filters


def list_href(
    filters: Filters, kpi_id: str, *, part: str = "value", by: str | None = None, key: str | None = None
) -> str:
    """The list of rows a number counts (a bar's key narrows it)."""
    return PAGES["list"] + to_search(narrowed(filters, by, key), ListState(kpi=kpi_id, part=part))


def export_href(fmt: str, filters: Filters, listing: ListState) -> str:
    return f"/desk/export.{fmt}" + to_search(
        filters,
        ListState(kpi=listing.kpi, part=listing.part, sort=listing.sort, descending=listing.descending),
    )
