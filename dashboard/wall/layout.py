"""Layouts of the wall pages: one physical screen (kiosk), the whole room as one grid (preview).

Every scene of a screen is a layer in the page from the start; the browser shows the layer the clock
says (assets/wall.js), so switching scenes costs no request and no layout shift. Tiles are empty slots
with pattern-matching ids, filled and refreshed by the clientside callbacks of `pages/wall/screen.py`.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.wall.clock import rotation
from dashboard.wall.content import tile_key
from ioc.wall.config import TileConfig, WallConfig

TILE = "wall-tile"
LAYER = "wall-layer"


def _grid_style(rows: int, cols: int) -> dict[str, str]:
    return {
        "gridTemplateRows": f"repeat({rows}, minmax(0, 1fr))",
        "gridTemplateColumns": f"repeat({cols}, minmax(0, 1fr))",
    }


def _slot(key: str, tile: TileConfig) -> html.Div:
    row, col = tile.at
    return html.Div(
        html.Div("Đang tải…", className="wall-empty"),
        id={"type": TILE, "key": key},
        className=f"wall-tile wall-tile--{tile.kind}",
        style={"gridRow": f"{row} / span {tile.span[0]}", "gridColumn": f"{col} / span {tile.span[1]}"},
    )


def screen_config(wall: WallConfig, screen_id: str, hold: str | None = None) -> dict[str, Any]:
    """What the browser needs to run the screen on its own (also while the server is away)."""
    room_id, room, screen = wall.screen(screen_id) or (None, None, None)
    assert room is not None and screen is not None
    return {
        "screen": screen.id,
        "room": room_id,
        "scenes": rotation(room),
        "refresh": wall.refresh,
        "hold": hold if hold in {scene.id for scene in room.scenes} else None,
    }


def screen_layout(wall: WallConfig, screen_id: str, hold: str | None = None) -> html.Div:
    """One screen; `hold` keeps one scene on (`/wall/ops-1?scene=chi-tiet`, to preview a scene)."""
    found = wall.screen(screen_id)
    if found is None:
        known = ", ".join(s.id for room in wall.rooms.values() for s in room.screens) or "không có"
        return html.Div(
            [html.H1("Không có màn hình này"), html.P(f"Mã màn hình: {screen_id}. Các màn hình: {known}.")],
            className="wall-root wall-missing",
        )
    _, room, screen = found
    rows, cols = screen.grid
    layers = [
        html.Div(
            [_slot(tile_key(scene.id, index), tile) for index, tile in enumerate(screen.tiles_for(scene.id))],
            id={"type": LAYER, "scene": scene.id},
            className="wall-layer" + (" is-active" if position == 0 else ""),
            style=_grid_style(rows, cols),
        )
        for position, scene in enumerate(room.scenes)
    ]
    topic = html.Div(id="wall-topic", className="wall-layer wall-topic", style=_grid_style(1, 1))
    header = html.Header(
        [
            html.Div(screen.name, className="wall-header__name"),
            html.Div(room.scenes[0].name, id="wall-scene-name", className="wall-header__scene"),
            html.Div("", id="wall-status", className="wall-status"),
            html.Div(
                [html.Span("--:--", className="js-wall-time"), html.Span("", className="js-wall-date")],
                className="wall-header__clock",
            ),
        ],
        className="wall-header",
    )
    return html.Div(
        [
            header,
            html.Div(id="wall-alerts", className="wall-alerts"),
            html.Main([*layers, topic], className="wall-stage"),
            dcc.Store(id="wall-config", data=screen_config(wall, screen_id, hold)),
            dcc.Interval(id="wall-tick", interval=250),
            dcc.Interval(id="wall-refresh", interval=wall.refresh * 1000),
        ],
        className="wall-root",
        **{"data-screen": screen.id},
    )


def room_layout(wall: WallConfig, room_id: str | None) -> html.Div:
    """The whole room on one display: each screen's own page in its place (a wall driven by one PC)."""
    if not wall.rooms:
        return html.Div(html.H1("Chưa cấu hình màn hình (wall: trong config.yaml)"), className="wall-root")
    room_id = room_id if room_id in wall.rooms else next(iter(wall.rooms))
    room = wall.rooms[room_id]
    rows, cols = room.layout
    frames = [
        html.Iframe(src=f"/wall/{screen.id}", className="wall-frame", title=screen.name)
        for screen in room.screens
    ]
    tabs = [
        html.A(
            other.name,
            href=f"/wall?room={other_id}",
            className="wall-room-tab" + (" is-active" if other_id == room_id else ""),
        )
        for other_id, other in wall.rooms.items()
    ]
    return html.Div(
        [
            html.Nav(tabs, className="wall-room-tabs"),
            html.Div(frames, className="wall-room", style=_grid_style(rows, cols)),
        ],
        className="wall-root wall-root--room",
    )
