"""The wall's state in Postgres: screen heartbeats, operator overrides (pins and topics) and alerts.

All the wall's SQL for these three tables is here (DESIGN §2: never in callbacks). Everything is
keyed by screen id from config.yaml; no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import Text

LIVE, LATE, OFFLINE, NEVER = "live", "late", "offline", "never"


@dataclass(frozen=True)
class Heartbeat:
    screen_id: str
    seen_at: datetime
    scene: str | None
    version: str | None
    error: str | None


@dataclass(frozen=True)
class Override:
    id: int
    screens: tuple[str, ...]
    kind: str  # scene | topic
    scene: str | None
    topic: dict[str, Any] | None
    created_at: datetime
    until: datetime | None


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    message: str
    raised_at: datetime


def record_heartbeat(
    connection: Connection,
    screen_id: str,
    *,
    now: datetime,
    scene: str | None,
    version: str,
    error: str | None,
) -> None:
    connection.execute(
        text(
            "INSERT INTO wall_heartbeat (screen_id, seen_at, scene, version, error) "
            "VALUES (:screen, :now, :scene, :version, :error) ON CONFLICT (screen_id) DO UPDATE SET "
            "seen_at = excluded.seen_at, scene = excluded.scene, version = excluded.version, "
            "error = coalesce(excluded.error, wall_heartbeat.error)"
        ),
        {"screen": screen_id, "now": now, "scene": scene or None, "version": version, "error": error or None},
    )


def heartbeats(connection: Connection) -> dict[str, Heartbeat]:
    rows = connection.execute(text("SELECT screen_id, seen_at, scene, version, error FROM wall_heartbeat"))
    return {row.screen_id: Heartbeat(**row._mapping) for row in rows}


def liveness(beat: Heartbeat | None, now: datetime, *, late_after: int, offline_after: int) -> str:
    """live, late (silent longer than `late_after` seconds), offline, or never seen."""
    if beat is None:
        return NEVER
    silent = now - beat.seen_at
    if silent > timedelta(seconds=offline_after):
        return OFFLINE
    return LATE if silent > timedelta(seconds=late_after) else LIVE


def add_override(
    connection: Connection,
    screens: Sequence[str],
    *,
    scene: str | None = None,
    topic: dict[str, Any] | None = None,
    until: datetime | None = None,
) -> int:
    """Pin `scene`, or put `topic` ({kind: map|dossiers|notice, …}), on `screens` until `until`
    (None: until released). The newest override of a screen wins."""
    if (scene is None) == (topic is None):
        raise ValueError("give a scene or a topic")
    statement = text(
        "INSERT INTO wall_override (screens, kind, scene, topic, until) "
        "VALUES (:screens, :kind, :scene, :topic, :until) RETURNING id"
    ).bindparams(bindparam("screens", type_=ARRAY(Text)), bindparam("topic", type_=JSONB))
    params = {
        "screens": list(screens),
        "kind": "scene" if scene else "topic",
        "scene": scene,
        "topic": topic,
        "until": until,
    }
    return int(connection.execute(statement, params).scalar_one())


def release_override(connection: Connection, override_id: int, *, now: datetime) -> None:
    connection.execute(
        text("UPDATE wall_override SET released_at = :now WHERE id = :id AND released_at IS NULL"),
        {"id": override_id, "now": now},
    )


def active_overrides(connection: Connection, *, now: datetime) -> list[Override]:
    """Overrides neither released nor expired, newest first."""
    rows = connection.execute(
        text(
            "SELECT id, screens, kind, scene, topic, created_at, until FROM wall_override "
            "WHERE released_at IS NULL AND (until IS NULL OR until > :now) ORDER BY created_at DESC, id DESC"
        ),
        {"now": now},
    )
    return [Override(r.id, tuple(r.screens), r.kind, r.scene, r.topic, r.created_at, r.until) for r in rows]


def override_for(overrides: Sequence[Override], screen_id: str) -> Override | None:
    return next((o for o in overrides if screen_id in o.screens), None)


def raise_alerts(
    connection: Connection, alerts: Sequence[tuple[str, str, str]], *, now: datetime, gap: timedelta
) -> None:
    """(key, kind, message) of conditions seen now. A key seen within `gap` only gets `last_seen_at`
    (an acknowledged alert stays acknowledged while its condition lasts); a condition that went away
    for longer than `gap` and came back (a KPI crossing into red again) is raised anew."""
    if not alerts:
        return
    connection.execute(
        text(
            "INSERT INTO wall_alert (key, kind, message, raised_at, last_seen_at) "
            "VALUES (:key, :kind, :message, :now, :now) "
            "ON CONFLICT (key) DO UPDATE SET last_seen_at = excluded.last_seen_at, "
            "raised_at = CASE WHEN wall_alert.last_seen_at < :since THEN excluded.raised_at "
            "ELSE wall_alert.raised_at END, "
            "acknowledged_at = CASE WHEN wall_alert.last_seen_at < :since THEN NULL "
            "ELSE wall_alert.acknowledged_at END"
        ),
        [{"key": k, "kind": kind, "message": m, "now": now, "since": now - gap} for k, kind, m in alerts],
    )


def open_alerts(connection: Connection, limit: int = 20) -> list[Alert]:
    rows = connection.execute(
        text(
            "SELECT key, kind, message, raised_at FROM wall_alert WHERE acknowledged_at IS NULL "
            "ORDER BY raised_at DESC LIMIT :limit"
        ),
        {"limit": limit},
    )
    return [Alert(**row._mapping) for row in rows]


def acknowledge(connection: Connection, keys: Sequence[str] | None, *, now: datetime) -> int:
    """Acknowledge the given alerts (None: all open ones); returns how many."""
    if keys is None:
        sql = text("UPDATE wall_alert SET acknowledged_at = :now WHERE acknowledged_at IS NULL")
        return connection.execute(sql, {"now": now}).rowcount or 0
    sql = text(
        "UPDATE wall_alert SET acknowledged_at = :now WHERE acknowledged_at IS NULL AND key = ANY(:keys)"
    ).bindparams(bindparam("keys", type_=ARRAY(Text)))
    return connection.execute(sql, {"now": now, "keys": list(keys)}).rowcount or 0


def screen_control(
    connection: Connection,
    screen_id: str,
    *,
    now: datetime,
    scene: str | None,
    version: str,
    error: str | None,
) -> tuple[Override | None, list[Alert]]:
    """One screen's refresh: record its heartbeat, then read what the operator wants on it and the
    open alerts (three statements on one connection)."""
    record_heartbeat(connection, screen_id, now=now, scene=scene, version=version, error=error)
    return override_for(active_overrides(connection, now=now), screen_id), open_alerts(connection)
