"""Drill-down: a click on a bar or a map point opens the list of rows behind it."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, ctx, no_update

from dashboard.desk import ids
from dashboard.desk.links import list_href
from dashboard.url import parse_filters
from ioc.kpi.periods import local_today


def clicked_key(click: dict[str, Any] | None) -> str | None:
    """The key a figure put in `customdata` of the clicked point."""
    points = (click or {}).get("points") or []
    if not points:
        return None
    key = points[0].get("customdata")
    if isinstance(key, list):
        key = key[0] if key else None
    return None if key is None else str(key)


DEPENDENCIES = (
    Output(ids.LOCATION, "href"),
    Input(ids.chart(ALL, ALL), "clickData"),  # type: ignore[arg-type]
    State(ids.STATE, "data"),
)


def drill(clicks: list[dict[str, Any] | None], state: dict[str, str]) -> str:
    trigger = ctx.triggered_id
    if not trigger:
        return no_update
    index = next((i for i, item in enumerate(ctx.inputs_list[0]) if item["id"] == trigger), None)
    key = clicked_key(clicks[index]) if index is not None else None
    if key is None:
        return no_update
    filters = parse_filters(state.get("search", ""), local_today())
    return list_href(filters, trigger["kpi"], by=trigger["by"], key=key)
