"""The archive of briefings: `briefing` rows (SQL lives here) plus files under `archive_dir`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, text

from ioc.briefings.config import BriefingsConfig

_COLUMNS = (
    "id, schedule, period, area, created_at, status, file, size_bytes, build_seconds, delivery, attempts, "
    "last_error, sent_at"
)


@dataclass(frozen=True)
class BriefingRecord:
    id: int
    schedule: str | None
    period: str
    area: str
    created_at: datetime
    status: str
    file: str | None
    size_bytes: int | None
    build_seconds: float | None
    delivery: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


def file_name(period: str, area: str, briefing_id: int) -> str:
    """Relative path of a briefing's PDF: one folder per year, the id keeps names unique."""
    return f"{period[:4]}/ban-tin-{area}-{period}-{briefing_id}.pdf"


def path_of(config: BriefingsConfig, record: BriefingRecord) -> Path | None:
    """The PDF of a built briefing, only inside the archive folder."""
    if record.file is None or record.status != "built":
        return None
    root = config.archive_dir.resolve()
    path = (root / record.file).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def claim(engine: Engine, period: str, area: str, schedule: str | None = None) -> int | None:
    """A new `building` row; for a schedule, None when this (schedule, period, area) is already
    claimed (another worker, or an earlier run, has it)."""
    with engine.begin() as connection:
        return connection.execute(
            text(
                "INSERT INTO briefing (schedule, period, area) VALUES (:schedule, :period, :area) "
                "ON CONFLICT (schedule, period, area) WHERE schedule IS NOT NULL DO NOTHING RETURNING id"
            ),
            {"schedule": schedule, "period": period, "area": area},
        ).scalar()


def built(engine: Engine, briefing_id: int, *, file: str, size_bytes: int, seconds: float) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE briefing SET status = 'built', file = :file, size_bytes = :size, "
                "build_seconds = :seconds WHERE id = :id"
            ),
            {"id": briefing_id, "file": file, "size": size_bytes, "seconds": seconds},
        )


def build_failed(engine: Engine, briefing_id: int, error: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE briefing SET status = 'failed', last_error = :error WHERE id = :id"),
            {"id": briefing_id, "error": error[:500]},
        )


def delivered(engine: Engine, briefing_id: int, *, delivery: str, attempts: int, error: str | None) -> None:
    """Record the delivery's outcome: 'sent' (with the time), 'pending' or 'failed' (with the error)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE briefing SET delivery = :delivery, attempts = :attempts, last_error = :error, "
                "sent_at = CASE WHEN :delivery = 'sent' THEN now() END WHERE id = :id"
            ),
            {"id": briefing_id, "delivery": delivery, "attempts": attempts, "error": error},
        )


def _rows(engine: Engine, where: str, params: dict[str, object], limit: int) -> list[BriefingRecord]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT {_COLUMNS} FROM briefing {where} ORDER BY created_at DESC, id DESC LIMIT :limit"),
            {**params, "limit": limit},
        )
        return [BriefingRecord(**row._mapping) for row in rows]


def recent(engine: Engine, limit: int = 100) -> list[BriefingRecord]:
    """The archive, newest first."""
    return _rows(engine, "", {}, limit)


def get(engine: Engine, briefing_id: int) -> BriefingRecord | None:
    found = _rows(engine, "WHERE id = :id", {"id": briefing_id}, 1)
    return found[0] if found else None


def failed_deliveries(engine: Engine, limit: int = 20) -> list[BriefingRecord]:
    """Briefings whose e-mail could not be delivered (the sources page shows them)."""
    return _rows(engine, "WHERE delivery = 'failed'", {}, limit)
