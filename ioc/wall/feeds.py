"""What wall tickers and maps list: newest overdue dossiers, latest incidents, incident points.

No personal data: dossier code, procedure, department, commune and age; incident category, service,
commune, severity and time. Each query is one indexed statement (`ix_dossier_open_due`,
`ix_incident_category_reported_at`, `ix_incident_reported_at`), cheap at 10 million dossiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

_IN_AREA = (
    "(CAST(:area AS text) IS NULL OR {col} IN "
    "(SELECT code FROM org_unit WHERE code = :area OR parent_code = :area))"
)


@dataclass(frozen=True)
class OverdueDossier:
    code: str
    procedure: str
    department: str
    area: str
    due_at: datetime


@dataclass(frozen=True)
class IncidentItem:
    external_id: str
    category: str
    service: str | None
    area: str
    severity: int | None
    status: str
    reported_at: datetime
    lat: float | None
    lon: float | None


def overdue_dossiers(
    connection: Connection, *, now: datetime, area: str | None, department: str | None, limit: int
) -> list[OverdueDossier]:
    """Open dossiers past their due time, the most recently overdue first."""
    sql = text(
        "SELECT d.code, coalesce(p.name, d.procedure_code, '') AS procedure, "
        "coalesce(dep.name, d.department_code, '') AS department, coalesce(o.name, '') AS area, d.due_at "
        "FROM dossier d LEFT JOIN procedure p ON p.code = d.procedure_code "
        "LEFT JOIN department dep ON dep.code = d.department_code "
        "LEFT JOIN org_unit o ON o.code = d.org_unit_code "
        "WHERE d.finished_at IS NULL AND d.due_at < :now "
        "AND (CAST(:department AS text) IS NULL OR d.department_code = :department) "
        f"AND {_IN_AREA.format(col='d.org_unit_code')} "
        "ORDER BY d.due_at DESC LIMIT :limit"
    )
    rows = connection.execute(sql, {"now": now, "area": area, "department": department, "limit": limit})
    return [OverdueDossier(r.code, r.procedure, r.department, r.area, r.due_at) for r in rows]


def latest_incidents(
    connection: Connection,
    *,
    since: datetime | None = None,
    area: str | None,
    category: str | None,
    min_severity: int | None = None,
    limit: int,
) -> list[IncidentItem]:
    """Newest incidents first (optionally of one category, at or above a severity, since a moment)."""
    sql = text(
        "SELECT i.external_id, i.category, i.service_code, coalesce(o.name, '') AS area, i.severity, "
        "i.status, i.reported_at, i.lat, i.lon FROM incident i "
        "LEFT JOIN org_unit o ON o.code = i.org_unit_code "
        "WHERE (CAST(:category AS text) IS NULL OR i.category = :category) "
        "AND (CAST(:since AS timestamptz) IS NULL OR i.reported_at >= :since) "
        "AND (CAST(:severity AS int) IS NULL OR i.severity >= :severity) "
        f"AND {_IN_AREA.format(col='i.org_unit_code')} "
        "ORDER BY i.reported_at DESC LIMIT :limit"
    )
    params = {"category": category, "since": since, "severity": min_severity, "area": area, "limit": limit}
    rows: list[Any] = list(connection.execute(sql, params))
    return [IncidentItem(*row) for row in rows]


@dataclass(frozen=True)
class MapPoint:
    lat: float
    lon: float
    count: int
    severity: int
    category: str


def incident_points(
    connection: Connection,
    *,
    now: datetime,
    days: int,
    area: str | None,
    category: str | None,
    cluster_above: int,
    cell_degrees: float = 0.05,
) -> list[MapPoint]:
    """Incidents of the last `days` days with a position; clustered on a grid when there are many."""
    params: dict[str, Any] = {"since": now - timedelta(days=days), "category": category, "area": area}
    where = (
        "WHERE i.reported_at >= :since AND i.lat IS NOT NULL AND i.lon IS NOT NULL "
        "AND (CAST(:category AS text) IS NULL OR i.category = :category) "
        f"AND {_IN_AREA.format(col='i.org_unit_code')}"
    )
    total: int = connection.execute(text(f"SELECT count(*) FROM incident i {where}"), params).scalar_one()
    if total <= cluster_above:
        sql = text(
            "SELECT i.lat, i.lon, 1 AS n, coalesce(i.severity, 1) AS severity, i.category "
            f"FROM incident i {where}"
        )
    else:
        sql = text(
            "SELECT avg(i.lat) AS lat, avg(i.lon) AS lon, count(*) AS n, max(coalesce(i.severity, 1)), "
            "mode() WITHIN GROUP (ORDER BY i.category) "
            f"FROM incident i {where} GROUP BY floor(i.lat / :cell), floor(i.lon / :cell)"
        )
        params["cell"] = cell_degrees
    return [
        MapPoint(float(r[0]), float(r[1]), int(r[2]), int(r[3]), str(r[4]))
        for r in connection.execute(sql, params)
    ]
