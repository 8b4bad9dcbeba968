"""kpi change logs: an UPDATE logs only the rows whose rollup columns changed (a status-only update,
the most common correction, logs nothing)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: fact table -> (primary key, logged columns; the last one, updated_at, is not compared)
TABLES = {
    "dossier": (
        ("source", "code"),
        (
            "received_at",
            "due_at",
            "finished_at",
            "org_unit_code",
            "department_code",
            "procedure_code",
            "channel",
            "updated_at",
        ),
    ),
    "incident": (
        ("source", "external_id"),
        (
            "reported_at",
            "due_at",
            "closed_at",
            "status",
            "org_unit_code",
            "category",
            "severity",
            "updated_at",
        ),
    ),
}

LOG_FUNCTION = """
CREATE OR REPLACE FUNCTION kpi.log_{table}_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO kpi.{table}_change (sign, {columns}) SELECT -1, {columns} FROM old_rows;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO kpi.{table}_change (sign, {columns}) SELECT 1, {columns} FROM new_rows;
  ELSE
    -- pairs whose rollup columns differ (or whose key changed: one side missing)
    WITH changed AS (
      SELECT o, n FROM old_rows o FULL JOIN new_rows n ON {join}
      WHERE o.{first} IS NULL OR n.{first} IS NULL OR ({old_compared}) IS DISTINCT FROM ({new_compared})
    )
    INSERT INTO kpi.{table}_change (sign, {columns})
    SELECT -1, {old_columns} FROM changed WHERE {old_key} IS NOT NULL
    UNION ALL
    SELECT 1, {new_columns} FROM changed WHERE {new_key} IS NOT NULL;
  END IF;
  RETURN NULL;
END $$
"""

PREVIOUS_FUNCTION = """
CREATE OR REPLACE FUNCTION kpi.log_{table}_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO kpi.{table}_change (sign, {columns}) SELECT -1, {columns} FROM old_rows;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO kpi.{table}_change (sign, {columns}) SELECT 1, {columns} FROM new_rows;
  END IF;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    for table, (key, columns) in TABLES.items():
        compared = columns[:-1]
        op.execute(
            LOG_FUNCTION.format(
                table=table,
                columns=", ".join(columns),
                join=" AND ".join(f"o.{k} = n.{k}" for k in key),
                first=key[0],
                old_key=f"(o).{key[0]}",
                new_key=f"(n).{key[0]}",
                old_compared=", ".join(f"o.{c}" for c in compared),
                new_compared=", ".join(f"n.{c}" for c in compared),
                old_columns=", ".join(f"(o).{c}" for c in columns),
                new_columns=", ".join(f"(n).{c}" for c in columns),
            )
        )


def downgrade() -> None:
    for table, (_key, columns) in TABLES.items():
        op.execute(PREVIOUS_FUNCTION.format(table=table, columns=", ".join(columns)))
