"""kpi rollups and their refresh state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The rollups as of this revision: name -> (dimensions with kinds, summed columns).
ROLLUPS = {
    "dossier_received_day": ({"org_unit_code": "text", "channel": "text"}, ()),
    "dossier_finished_day": (
        {"org_unit_code": "text", "channel": "text", "on_time": "bool"},
        ("processing_days",),
    ),
    "dossier_received_month": (
        {"org_unit_code": "text", "department_code": "text", "procedure_code": "text", "channel": "text"},
        (),
    ),
    "dossier_finished_month": (
        {
            "org_unit_code": "text",
            "department_code": "text",
            "procedure_code": "text",
            "channel": "text",
            "on_time": "bool",
        },
        ("processing_days",),
    ),
    "incident_reported_day": (
        {"org_unit_code": "text", "category": "text", "severity": "int", "status": "text"},
        (),
    ),
    "incident_closed_day": (
        {"org_unit_code": "text", "category": "text", "severity": "int", "closed_on_time": "bool"},
        ("hours_to_close",),
    ),
}
TYPES = {"text": sa.Text, "int": sa.SmallInteger, "bool": sa.Boolean}


def upgrade() -> None:
    op.create_table(
        "rollup_state",
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data_as_of",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="newest change in the dataset at refresh",
        ),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dataset", name="pk_rollup_state"),
        schema="kpi",
    )
    for name, (dims, sums) in ROLLUPS.items():
        op.create_table(
            name,
            sa.Column("period_start", sa.Date(), nullable=False),
            *(sa.Column(dim, TYPES[kind]()) for dim, kind in dims.items()),
            sa.Column("n", sa.BigInteger(), nullable=False),
            *(sa.Column(f"sum_{column}", sa.Numeric()) for column in sums),
            schema="kpi",
        )
        op.create_index(f"ix_{name}_period", name, ["period_start", "org_unit_code"], schema="kpi")


def downgrade() -> None:
    for name in ROLLUPS:
        op.drop_table(name, schema="kpi")
    op.drop_table("rollup_state", schema="kpi")
