"""What is in the database: rows per table and how fresh each table's data is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from ioc.models import ALL_TABLES, Base

#: The column that says when a row last changed, per table (None: the table has no such column).
FRESHNESS_COLUMNS = {
    "dossier": "updated_at",
    "incident": "updated_at",
    "indicator_observation": "loaded_at",
    "connector_run": "finished_at",
    "rejected_row": "created_at",
}

TABLE_LABELS = {
    "org_unit": "Đơn vị hành chính / Areas",
    "department": "Cơ quan, đơn vị / Departments",
    "procedure": "Thủ tục hành chính / Procedures",
    "indicator_observation": "Chỉ tiêu KT-XH / Indicators",
    "dossier": "Hồ sơ TTHC / Dossiers",
    "incident": "Sự cố, phản ánh / Incidents",
    "connector_run": "Lượt đồng bộ / Connector runs",
    "rejected_row": "Bản ghi bị từ chối / Rejected records",
}


@dataclass(frozen=True)
class TableSummary:
    table: str
    label: str
    rows: int
    newest: datetime | None
    age: timedelta | None


def table_summaries(engine: Engine, *, now: datetime | None = None) -> list[TableSummary]:
    """Exact row counts and the newest change per table, in one round trip."""
    now = now or datetime.now(UTC)
    parts = []
    for table in ALL_TABLES:
        column = FRESHNESS_COLUMNS.get(table)
        assert table in Base.metadata.tables
        newest = f"max({column})" if column else "NULL::timestamptz"
        parts.append(f"SELECT '{table}' AS name, count(*) AS rows, {newest} AS newest FROM {table}")
    with engine.connect() as connection:
        rows = connection.execute(text(" UNION ALL ".join(parts))).all()
    by_name = {row.name: row for row in rows}
    return [
        TableSummary(
            table=table,
            label=TABLE_LABELS[table],
            rows=int(by_name[table].rows),
            newest=by_name[table].newest,
            age=(now - by_name[table].newest) if by_name[table].newest else None,
        )
        for table in ALL_TABLES
    ]


def org_unit_name(engine: Engine, code: str) -> str | None:
    """The name of one area (e.g. the province for the page header), or None when not loaded yet."""
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT name FROM org_unit WHERE code = :code"), {"code": code}
        ).scalar()
