"""briefing: the archive of PDF briefings (file, period, area, schedule) and their delivery state

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "briefing",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=True, comment="schedule name; null: built on demand"),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("status", sa.Text(), server_default="building", nullable=False),
        sa.Column("file", sa.Text(), nullable=True, comment="path under briefings.archive_dir"),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("build_seconds", sa.Double(), nullable=True),
        sa.Column("delivery", sa.Text(), server_default="none", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status in ('building', 'built', 'failed')", name=op.f("ck_briefing_status")),
        sa.CheckConstraint(
            "delivery in ('none', 'pending', 'sent', 'failed')", name=op.f("ck_briefing_delivery")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing")),
    )
    op.create_index(
        "ux_briefing_scheduled",
        "briefing",
        ["schedule", "period", "area"],
        unique=True,
        postgresql_where=sa.text("schedule is not null"),
    )
    op.create_index("ix_briefing_created_at", "briefing", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_briefing_created_at", table_name="briefing")
    op.drop_index("ux_briefing_scheduled", table_name="briefing")
    op.drop_table("briefing")
