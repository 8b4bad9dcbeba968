"""Components of /wall/control (pure: data in, components out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard.wall.operator import STATUS_LABELS, ScreenLine
from ioc.formatting import format_datetime
from ioc.wall import state
from ioc.wall.config import WallConfig

STATUS_COLOURS = {
    state.LIVE: "success",
    state.LATE: "warning",
    state.OFFLINE: "danger",
    state.NEVER: "secondary",
}


def _card(line: ScreenLine) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.Strong(line.name),
                    dbc.Badge(
                        STATUS_LABELS[line.status], color=STATUS_COLOURS[line.status], className="ms-2"
                    ),
                ],
                className="d-flex justify-content-between align-items-start",
            ),
            html.Div(f"{line.screen_id} · cảnh: {line.scene or '—'}", className="small text-muted"),
            html.Div(f"Làm mới: {line.last_seen}", className="small"),
            html.Div(line.override, className="small text-primary") if line.override else None,
            html.Div(f"Lỗi: {line.error}", className="small text-danger") if line.error else None,
        ],
        className=f"wall-ctl-screen wall-ctl-screen--{line.status} border rounded p-2",
        **{"data-screen": line.screen_id, "data-status": line.status},
    )


def wall_map(wall: WallConfig, lines: Sequence[ScreenLine]) -> list[html.Div]:
    """Each room as its screens hang on the wall (rows × cols)."""
    rooms = []
    for room_id, room in wall.rooms.items():
        rows, cols = room.layout
        cards = [_card(line) for line in lines if line.room == room_id]
        rooms.append(
            html.Div(
                [
                    html.H5(room.name),
                    html.Div(
                        cards,
                        className="wall-ctl-room",
                        style={
                            "display": "grid",
                            "gap": "6px",
                            "gridTemplateColumns": f"repeat({cols}, 1fr)",
                        },
                        **{"data-rows": str(rows)},
                    ),
                ],
                className="mb-3",
            )
        )
    return rooms


def _row(text: str, button: dbc.Button, extra: str = "") -> html.Div:
    return html.Div(
        [html.Span(text), button],
        className=f"d-flex align-items-center justify-content-between border-bottom py-1 {extra}".strip(),
    )


def override_list(overrides: Sequence[state.Override], describe: Callable[[state.Override], str]) -> Any:
    if not overrides:
        return html.P("Không có ghim hay chủ đề nào.", className="text-muted")
    return [
        _row(
            f"{', '.join(o.screens)}: {describe(o)}",
            dbc.Button(
                "Gỡ", id={"type": "wall-release", "id": o.id}, size="sm", color="secondary", className="ms-2"
            ),
        )
        for o in overrides
    ]


def alert_list(alerts: Sequence[state.Alert]) -> Any:
    if not alerts:
        return html.P("Không có cảnh báo đang mở.", className="text-muted")
    return [
        _row(
            f"{format_datetime(a.raised_at)} · {a.message}",
            dbc.Button(
                "Xác nhận", id={"type": "wall-ack", "key": a.key}, size="sm", color="danger", className="ms-2"
            ),
            "wall-ctl-alert",
        )
        for a in alerts
    ]
