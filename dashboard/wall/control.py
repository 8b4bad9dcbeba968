"""Per-request state of a screen: heartbeat, the operator's pin or topic, alerts raised and shown.

Alerts are raised from what the screen's tiles show (a KPI in red, a failed source) and from recent
severe incidents, once per data version and screen; every screen shows all open alerts until an
operator acknowledges them on /wall/control.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from dashboard.components.alert_strip import alert_strip
from dashboard.wall.content import Context, TileView, tile_view, to_json
from dashboard.wall.render import CATEGORY_LABELS
from ioc.formatting import format_datetime
from ioc.wall import feeds, state
from ioc.wall.config import TileConfig

TOPIC_NAMES = {"map": "Bản đồ sự cố", "dossiers": "Hồ sơ quá hạn", "notice": "Thông báo"}


def topic_tile(topic: dict[str, Any]) -> TileConfig:
    """The one tile a topic fills the screen with."""
    kind = topic.get("kind")
    base: dict[str, Any] = {"at": (1, 1), "title": topic.get("title")}
    if kind == "map":
        return TileConfig(kind="map", category=topic.get("category"), **base)
    if kind == "dossiers":
        department = topic.get("department")
        title = topic.get("title") or f"Hồ sơ quá hạn · {topic.get('department_name') or department or ''}"
        return TileConfig(
            kind="ticker",
            feed="overdue_dossiers",
            department=department,
            limit=12,
            **{**base, "title": title},
        )
    return TileConfig(
        kind="notice", text=topic.get("text") or "", **{**base, "title": base["title"] or "Thông báo"}
    )


def _candidates(ctx: Context, views: dict[str, TileView]) -> list[tuple[str, str, str]]:
    """(key, kind, message) of alert conditions visible now."""
    found = [(f"kpi:{view.alert}", "kpi_red", view.alert) for view in views.values() if view.alert]
    settings = ctx.wall.alerts
    if settings.source_failed:
        for source in ctx.read_model.source_health():
            run = source.last_run
            if run is not None and run.status == "failed":
                message = f"Nguồn dữ liệu lỗi: {source.source} ({format_datetime(run.finished_at)})"
                found.append((f"source:{source.source}:{run.id}", "source_failed", message))
    with ctx.engine.connect() as connection:
        severe = feeds.latest_incidents(
            connection,
            since=ctx.now - timedelta(minutes=settings.incident_window_minutes),
            area=None,
            category=None,
            min_severity=settings.incident_severity,
            limit=10,
        )
    for item in severe:
        label = CATEGORY_LABELS.get(item.category, item.category)
        where = f" · {item.area}" if item.area else ""
        message = f"Sự cố nghiêm trọng: {label}{where} · {format_datetime(item.reported_at)}"
        found.append((f"incident:{item.external_id}", "incident", message))
    return found


def raise_alerts(writer: Engine, ctx: Context, views: dict[str, TileView]) -> None:
    """Raise the alerts a screen's new content shows (once per content computed, off the request
    path when the content is refreshed in the background)."""
    with writer.begin() as connection:
        gap = timedelta(seconds=max(600, 3 * ctx.wall.refresh))
        state.raise_alerts(connection, _candidates(ctx, views), now=ctx.now, gap=gap)


def _hashed(children: Any) -> dict[str, Any]:
    payload = to_json(children)
    return {
        "hash": hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16],
        "children": payload,
    }


def screen_state(
    engine: Engine,
    ctx: Context,
    screen_id: str,
    *,
    scene: str,
    error: str,
    views: dict[str, TileView],
) -> dict[str, Any]:
    """What /wall/data/<screen> adds to the tiles: control (pin or topic), topic content, alerts."""
    with engine.begin() as connection:
        override, alerts = state.screen_control(
            connection, screen_id, now=ctx.now, scene=scene, version=ctx.version, error=error
        )
    control: dict[str, Any] | None = None
    topic = None
    if override is not None and override.kind == "scene":
        control = {"scene": override.scene}
    elif override is not None and override.topic is not None:
        view = tile_view(ctx, topic_tile(override.topic))
        control = {"topic": True, "topic_name": TOPIC_NAMES.get(override.topic.get("kind", ""), "Chủ đề")}
        topic = {"hash": f"{override.id}:{view.hash}", "children": [_topic_slot(view)]}
    return {"control": control, "topic": topic, "alerts": _hashed(alert_strip(alerts))}


def _topic_slot(view: TileView) -> dict[str, Any]:
    return {
        "type": "Div",
        "namespace": "dash_html_components",
        "props": {"children": view.children, "className": view.classes},
    }
