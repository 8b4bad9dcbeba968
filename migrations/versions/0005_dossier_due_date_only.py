"""dossier.due_date_only: the source gave the deadline as a date only (stored as the end of that day)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:00:00

Rows loaded before this revision keep `false`: which of them came date-only is unknown (they were
stored at 00:00 local). Re-run their sources (the upsert rewrites `due_at` as the end of the day).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "dossier",
        sa.Column(
            "due_date_only",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="NgayHenTra came as a date only: due_at is the end of that local day (ioc.workdays)",
        ),
    )


def downgrade() -> None:
    op.drop_column("dossier", "due_date_only")
