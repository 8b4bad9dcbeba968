"""Điều khiển bức tường / Wall control: screen heartbeats, pins and topics, alerts to acknowledge."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.data import current_settings, wall_read_model
from dashboard.wall import control_view, operator

dash.register_page(__name__, path="/wall/control", order=100, title="IOC · Điều khiển bức tường")

ACTIONS = [
    {"label": "Ghim một cảnh", "value": "scene"},
    {"label": "Bản đồ sự cố", "value": "map"},
    {"label": "Hồ sơ quá hạn của một đơn vị", "value": "dossiers"},
    {"label": "Thông báo", "value": "notice"},
]


def _form() -> dbc.Card:
    wall = current_settings().wall
    screens = [
        {"label": f"{screen.id} · {screen.name}", "value": screen.id}
        for room in wall.rooms.values()
        for screen in room.screens
    ]
    scenes = sorted({(scene.id, scene.name) for room in wall.rooms.values() for scene in room.scenes})
    departments = wall_read_model().departments()
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5("Đưa nội dung lên màn hình"),
                dbc.Checklist(id="wall-ctl-screens", options=screens, value=[], className="mb-2"),
                dbc.RadioItems(id="wall-ctl-action", options=ACTIONS, value="scene", className="mb-2"),
                dbc.Select(
                    id="wall-ctl-scene",
                    options=[{"label": f"{name} ({sid})", "value": sid} for sid, name in scenes],
                    value=scenes[0][0] if scenes else None,
                    className="mb-2",
                ),
                dbc.Select(
                    id="wall-ctl-department",
                    options=[{"label": d.name, "value": d.code} for d in departments],
                    placeholder="Đơn vị",
                    className="mb-2",
                ),
                dbc.Textarea(id="wall-ctl-text", placeholder="Nội dung thông báo", className="mb-2"),
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id="wall-ctl-minutes", type="number", min=1, placeholder="để trống: đến khi gỡ"
                        ),
                        dbc.InputGroupText("phút"),
                    ],
                    className="mb-2",
                ),
                dbc.Button("Đưa lên màn hình", id="wall-ctl-apply", color="primary"),
                html.Div(id="wall-ctl-message", className="mt-2"),
            ]
        )
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Điều khiển bức tường màn hình"),
            dbc.Row(
                [
                    dbc.Col([html.H4("Trạng thái màn hình"), html.Div(id="wall-ctl-map")], lg=8),
                    dbc.Col(
                        [
                            _form(),
                            html.H4("Ghim và chủ đề đang hiển thị", className="mt-3"),
                            html.Div(id="wall-ctl-overrides"),
                            html.Div(
                                [
                                    html.H4("Cảnh báo", className="mt-3 me-auto"),
                                    dbc.Button(
                                        "Xác nhận tất cả", id="wall-ctl-ack-all", size="sm", color="danger"
                                    ),
                                ],
                                className="d-flex align-items-center",
                            ),
                            html.Div(id="wall-ctl-alerts"),
                        ],
                        lg=4,
                    ),
                ]
            ),
            dcc.Interval(id="wall-ctl-tick", interval=3000),
            dcc.Store(id="wall-ctl-changed", data=0),
        ],
        className="wall-control",
    )


@callback(
    Output("wall-ctl-map", "children"),
    Output("wall-ctl-overrides", "children"),
    Output("wall-ctl-alerts", "children"),
    Input("wall-ctl-tick", "n_intervals"),
    Input("wall-ctl-changed", "data"),
)
def show(_tick: int | None, _changed: int) -> tuple[object, object, object]:
    wall, lines, overrides, alerts = operator.screens_now()
    return (
        control_view.wall_map(wall, lines),
        control_view.override_list(overrides, operator.describe),
        control_view.alert_list(alerts),
    )


@callback(
    Output("wall-ctl-message", "children"),
    Output("wall-ctl-changed", "data", allow_duplicate=True),
    Input("wall-ctl-apply", "n_clicks"),
    State("wall-ctl-screens", "value"),
    State("wall-ctl-action", "value"),
    State("wall-ctl-scene", "value"),
    State("wall-ctl-department", "value"),
    State("wall-ctl-text", "value"),
    State("wall-ctl-minutes", "value"),
    State("wall-ctl-changed", "data"),
    prevent_initial_call=True,
)
def apply(_n, screens, action, scene, department, text, minutes, changed):  # type: ignore[no-untyped-def]
    names = {d.code: d.name for d in wall_read_model().departments()}
    message = operator.apply(
        screens or [],
        action,
        scene=scene,
        department=department,
        department_name=names.get(department or ""),
        text=text,
        minutes=float(minutes) if minutes else None,
    )
    return message, (changed or 0) + 1


@callback(
    Output("wall-ctl-changed", "data", allow_duplicate=True),
    Input({"type": "wall-release", "id": ALL}, "n_clicks"),
    Input({"type": "wall-ack", "key": ALL}, "n_clicks"),
    Input("wall-ctl-ack-all", "n_clicks"),
    State("wall-ctl-changed", "data"),
    prevent_initial_call=True,
)
def act(_releases, _acks, _all, changed):  # type: ignore[no-untyped-def]
    trigger = ctx.triggered_id
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        return no_update
    if trigger == "wall-ctl-ack-all":
        operator.acknowledge(None)
    elif isinstance(trigger, dict) and trigger.get("type") == "wall-release":
        operator.release(int(trigger["id"]))
    elif isinstance(trigger, dict) and trigger.get("type") == "wall-ack":
        operator.acknowledge([trigger["key"]])
    return (changed or 0) + 1
