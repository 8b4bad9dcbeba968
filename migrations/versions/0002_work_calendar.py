"""kpi schema and working-day calendar

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS kpi")
    op.create_table(
        "work_calendar",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working_day", sa.Boolean(), nullable=False),
        sa.Column(
            "working_day_number",
            sa.Integer(),
            nullable=False,
            comment="working days from the calendar's first day up to and including this day",
        ),
        sa.Column("holiday", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("day", name="pk_work_calendar"),
        schema="kpi",
    )
    op.create_index("ix_work_calendar_number", "work_calendar", ["working_day_number"], schema="kpi")
    # Default calendar (VN weekends and public holidays, 2015–2035); `ioc kpi calendar` refills it
    # with the province's extra holidays and working days from config.
    from ioc.kpi.calendar import fill

    fill(op.get_bind())


def downgrade() -> None:
    op.drop_table("work_calendar", schema="kpi")
    op.execute("DROP SCHEMA IF EXISTS kpi")
