"""kpi snapshot rollups: open dossiers and incidents by due day, now and at past month starts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = {
    "dossier_open": {"org_unit_code": sa.Text, "channel": sa.Text},
    "incident_open": {"org_unit_code": sa.Text, "category": sa.Text, "severity": sa.SmallInteger},
}


def upgrade() -> None:
    for name, dims in ROLLUPS.items():
        op.create_table(
            name,
            sa.Column("due_day", sa.Date(), nullable=True),
            *(sa.Column(dim, kind()) for dim, kind in dims.items()),
            sa.Column("n", sa.BigInteger(), nullable=False),
            schema="kpi",
        )
        op.create_index(f"ix_{name}_due_day", name, ["due_day"], schema="kpi")
        op.create_table(
            f"{name}_history",
            sa.Column("moment_day", sa.Date(), nullable=False),
            sa.Column("due_day", sa.Date(), nullable=True),
            *(sa.Column(dim, kind()) for dim, kind in dims.items()),
            sa.Column("n", sa.BigInteger(), nullable=False),
            schema="kpi",
        )
        op.create_index(
            f"ix_{name}_history_moment", f"{name}_history", ["moment_day", "due_day"], schema="kpi"
        )


def downgrade() -> None:
    for name in ROLLUPS:
        op.drop_table(f"{name}_history", schema="kpi")
        op.drop_table(name, schema="kpi")
