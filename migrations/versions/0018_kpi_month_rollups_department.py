"""a department's months read from the monthly rollups by an index: (department_code, period_start)
on kpi.dossier_received_month and kpi.dossier_finished_month, for the questions of staff scoped to a
department (their filter is in the query's WHERE, `ioc.kpi.facts.shared_filters`). At 10M a quarter
of one department read 285,000 rollup rows to sum 14,000.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 20:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("dossier_received_month", "dossier_finished_month")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_department", table, ["department_code", "period_start"], schema="kpi")


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_department", table_name=table, schema="kpi")
