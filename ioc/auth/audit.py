"""The audit log: who did what and when (logins, failed logins, exports with their filters and row
counts, operator and admin actions, briefing deliveries). Never anything about citizens: details are
filters, codes and counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import bindparam

_INSERT = text(
    "INSERT INTO audit (actor, action, detail, address) VALUES (:actor, :action, :detail, :address)"
)
_INSERT = _INSERT.bindparams(bindparam("detail", type_=JSONB))


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str | None
    action: str
    detail: dict[str, Any] | None
    address: str | None


def record(
    connection: Connection,
    actor: str | None,
    action: str,
    detail: dict[str, Any] | None = None,
    address: str | None = None,
) -> None:
    connection.execute(_INSERT, {"actor": actor, "action": action, "detail": detail, "address": address})


def recent(
    connection: Connection, limit: int = 200, action: str | None = None, actor: str | None = None
) -> list[Entry]:
    rows = connection.execute(
        text(
            "SELECT id, at, actor, action, detail, address FROM audit "
            "WHERE (CAST(:action AS text) IS NULL OR action = :action) "
            "AND (CAST(:actor AS text) IS NULL OR actor = :actor) ORDER BY id DESC LIMIT :n"
        ),
        {"action": action, "actor": actor, "n": min(max(limit, 1), 5_000)},
    )
    return [Entry(**row._mapping) for row in rows]
