"""The operator's view of the wall (/wall/control): screen liveness, overrides, alerts; and actions.

Callbacks of pages/wall/control.py call these; the SQL is in ioc.wall.state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Engine

from dashboard.data import current_settings
from ioc.formatting import format_age
from ioc.wall import state
from ioc.wall.config import WallConfig

STATUS_LABELS = {
    state.LIVE: "Trực tuyến",
    state.LATE: "Chậm",
    state.OFFLINE: "Mất tín hiệu",
    state.NEVER: "Chưa kết nối",
}


@dataclass(frozen=True)
class ScreenLine:
    room: str
    screen_id: str
    name: str
    status: str
    scene: str | None
    last_seen: str
    error: str | None
    override: str | None


def _engine() -> Engine:
    return current_app.config["IOC_DATABASE"].engine  # type: ignore[no-any-return]


def _now() -> datetime:
    return datetime.now(UTC)


def describe(override: state.Override) -> str:
    until = "đến khi gỡ" if override.until is None else f"còn {format_age(override.until - _now())}"
    if override.kind == "scene":
        return f"Ghim cảnh {override.scene} · {until}"
    topic = override.topic or {}
    what = {"map": "bản đồ sự cố", "dossiers": "hồ sơ quá hạn", "notice": "thông báo"}.get(
        topic.get("kind", ""), ""
    )
    return f"Chủ đề {what} · {until}"


def screens_now() -> tuple[WallConfig, list[ScreenLine], list[state.Override], list[state.Alert]]:
    wall = current_settings().wall
    now = _now()
    with _engine().connect() as connection:
        beats = state.heartbeats(connection)
        overrides = state.active_overrides(connection, now=now)
        alerts = state.open_alerts(connection, limit=50)
    lines = []
    for room_id, room in wall.rooms.items():
        for screen in room.screens:
            beat = beats.get(screen.id)
            override = state.override_for(overrides, screen.id)
            lines.append(
                ScreenLine(
                    room=room_id,
                    screen_id=screen.id,
                    name=screen.name,
                    status=state.liveness(
                        beat, now, late_after=wall.late_after, offline_after=wall.offline_after
                    ),
                    scene=beat.scene if beat else None,
                    last_seen=f"{format_age(now - beat.seen_at)} trước" if beat else "—",
                    error=beat.error if beat else None,
                    override=describe(override) if override else None,
                )
            )
    return wall, lines, overrides, alerts


def apply(
    screens: list[str],
    action: str,
    *,
    scene: str | None,
    department: str | None,
    department_name: str | None,
    text: str | None,
    minutes: float | None,
) -> str:
    """Put a pin or a topic on the chosen screens; returns what was done, in Vietnamese."""
    wall = current_settings().wall
    known = [s for s in screens if wall.screen(s) is not None]
    if not known:
        return "Chọn ít nhất một màn hình."
    until = _now() + timedelta(minutes=minutes) if minutes else None
    topic: dict[str, Any] | None = None
    if action == "scene":
        if not scene:
            return "Chọn cảnh cần ghim."
    elif action == "map":
        topic = {"kind": "map", "title": "Bản đồ sự cố"}
    elif action == "dossiers":
        if not department:
            return "Chọn đơn vị."
        topic = {"kind": "dossiers", "department": department, "department_name": department_name}
    elif action == "notice":
        if not text or not text.strip():
            return "Nhập nội dung thông báo."
        topic = {"kind": "notice", "text": text.strip(), "title": "Thông báo"}
    else:
        return "Chọn việc cần làm."
    with _engine().begin() as connection:
        state.add_override(
            connection, known, scene=scene if topic is None else None, topic=topic, until=until
        )
    how_long = f"trong {minutes:g} phút" if minutes else "đến khi gỡ"
    return f"Đã đưa lên {len(known)} màn hình ({', '.join(known)}), {how_long}."


def release(override_id: int) -> None:
    with _engine().begin() as connection:
        state.release_override(connection, override_id, now=_now())


def acknowledge(keys: list[str] | None) -> int:
    with _engine().begin() as connection:
        return state.acknowledge(connection, keys, now=_now())
