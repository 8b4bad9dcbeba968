"""Cả bức tường / The whole wall: every screen of a room in its place (one PC, or a preview)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.data import current_settings
from dashboard.wall.layout import room_layout

dash.register_page(__name__, path="/wall", order=102, title="IOC · Bức tường màn hình")


def layout(room: str | None = None, **_query: str) -> html.Div:
    return room_layout(current_settings().wall, room)
