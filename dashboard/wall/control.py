"""Per-request state of a screen: operator pins and topics, the alert strip, the heartbeat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from dashboard.wall.content import Context, TileView


def screen_state(
    engine: Engine, ctx: Context, screen_id: str, *, scene: str, error: str, views: dict[str, TileView]
) -> dict[str, Any]:
    return {"control": None, "alerts": {"hash": "", "children": []}, "topic": None}
