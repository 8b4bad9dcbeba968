"""Màn hình tường / One wall screen: `/wall/<screen-id>` in a kiosk browser."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, clientside_callback, html

from dashboard.data import current_settings
from dashboard.wall import routes
from dashboard.wall.layout import LAYER, TILE, screen_layout

dash.register_page(__name__, path_template="/wall/<screen_id>", order=101, title="IOC · Màn hình tường")
routes.register(dash.get_app().server)


def layout(screen_id: str | None = None, scene: str | None = None, **_query: str) -> html.Div:
    return screen_layout(current_settings().wall, screen_id or "", hold=scene)


clientside_callback(
    dash.ClientsideFunction("wall", "tick"),
    Output({"type": LAYER, "scene": ALL}, "className"),
    Output("wall-topic", "className"),
    Output("wall-scene-name", "children"),
    Output("wall-status", "children"),
    Output("wall-status", "className"),
    Input("wall-tick", "n_intervals"),
    State("wall-config", "data"),
)

clientside_callback(
    dash.ClientsideFunction("wall", "refresh"),
    Output({"type": TILE, "key": ALL}, "children"),
    Output({"type": TILE, "key": ALL}, "className"),
    Output("wall-alerts", "children"),
    Output("wall-topic", "children"),
    Input("wall-refresh", "n_intervals"),
    State("wall-config", "data"),
)
