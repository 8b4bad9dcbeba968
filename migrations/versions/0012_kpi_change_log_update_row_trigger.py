"""kpi change logs: UPDATEs logged by a row-level trigger whose WHEN clause (evaluated without calling
a function) lets through only rows whose rollup columns or key changed; the statement-level UPDATE
trigger captured both transition tables of every update (+55 % on an all-rows update load)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
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

ROW_FUNCTION = """
CREATE FUNCTION kpi.log_{table}_row_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO kpi.{table}_change (sign, {columns})
  VALUES (-1, {old_columns}), (1, {new_columns});
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    for table, (key, columns) in TABLES.items():
        compared = (*key, *columns[:-1])
        op.execute(
            ROW_FUNCTION.format(
                table=table,
                columns=", ".join(columns),
                old_columns=", ".join(f"OLD.{c}" for c in columns),
                new_columns=", ".join(f"NEW.{c}" for c in columns),
            )
        )
        op.execute(f"DROP TRIGGER kpi_log_update ON public.{table}")
        old = ", ".join(f"OLD.{c}" for c in compared)
        new = ", ".join(f"NEW.{c}" for c in compared)
        op.execute(
            f"CREATE TRIGGER kpi_log_update AFTER UPDATE ON public.{table} FOR EACH ROW "
            f"WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION kpi.log_{table}_row_update()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER kpi_log_update ON public.{table}")
        op.execute(
            f"CREATE TRIGGER kpi_log_update AFTER UPDATE ON public.{table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION kpi.log_{table}_change()"
        )
        op.execute(f"DROP FUNCTION kpi.log_{table}_row_update()")
