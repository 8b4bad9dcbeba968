"""Names and choices for filters: areas (the org_unit tree), departments, procedures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, text

from ioc.kpi.areas import area_codes


@dataclass(frozen=True)
class Option:
    code: str
    name: str
    level: int | None = None
    merged_into: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Rejection:
    """Why a record was refused (the record itself stays in the database, minus personal fields)."""

    run_id: int | None
    table: str
    reason: str
    created_at: datetime


def areas(connection: Connection, parent: str | None) -> list[Option]:
    """Children of `parent` (the province's communes and wards), or the roots; current units first."""
    query = text(
        "SELECT code, name, level, successor_code, lat, lon FROM org_unit "
        "WHERE (CAST(:parent AS text) IS NULL AND parent_code IS NULL AND successor_code IS NULL) "
        "   OR parent_code = :parent "
        "ORDER BY successor_code IS NOT NULL, name"
    )
    return [
        Option(r.code, r.name, r.level, r.successor_code, r.lat, r.lon)
        for r in connection.execute(query, {"parent": parent})
    ]


def area_name(connection: Connection, code: str) -> str | None:
    return connection.execute(text("SELECT name FROM org_unit WHERE code = :code"), {"code": code}).scalar()


def subtree(connection: Connection, roots: Iterable[str]) -> frozenset[str]:
    """Every area code under the given ones, by the engine's own rule (`ioc.kpi.areas.area_codes`)."""
    return area_codes(connection, roots)


def departments(connection: Connection) -> list[Option]:
    query = text("SELECT code, name FROM department ORDER BY name")
    return [Option(r.code, r.name) for r in connection.execute(query)]


def procedures(connection: Connection, department: str | None) -> list[Option]:
    query = text(
        "SELECT code, name FROM procedure "
        "WHERE CAST(:department AS text) IS NULL OR department_code = :department ORDER BY name"
    )
    return [Option(r.code, r.name) for r in connection.execute(query, {"department": department})]


def rejections(connection: Connection, source: str, limit: int) -> list[Rejection]:
    query = text(
        "SELECT run_id, target_table, reason, created_at FROM rejected_row WHERE source = :source "
        "ORDER BY created_at DESC, id DESC LIMIT :limit"
    )
    return [
        Rejection(r.run_id, r.target_table, r.reason, r.created_at)
        for r in connection.execute(query, {"source": source, "limit": limit})
    ]


def indicator_flags(connection: Connection, indicator: str, grain: str, area: str) -> dict[date, str]:
    """Period start → the source's status flag ('provisional', 'estimated'…) of one area's indicator."""
    query = text(
        "SELECT period_start, status FROM indicator_observation WHERE indicator = :indicator "
        "AND grain = :grain AND org_unit_code = :area AND status IS NOT NULL"
    )
    rows = connection.execute(query, {"indicator": indicator, "grain": grain, "area": area})
    return {row.period_start: row.status for row in rows}
