"""rejected_row: one row per distinct bad record (fingerprint, occurrences, last seen); incident checks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rejected_row", sa.Column("fingerprint", sa.Text(), nullable=True))
    op.add_column(
        "rejected_row", sa.Column("occurrences", sa.BigInteger(), server_default=sa.text("1"), nullable=False)
    )
    op.add_column(
        "rejected_row",
        sa.Column(
            "last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
    )
    # rows stored before fingerprints keep their own (they are never merged with new ones)
    op.execute("UPDATE rejected_row SET fingerprint = 'legacy:' || id, last_seen_at = created_at")
    op.alter_column("rejected_row", "fingerprint", nullable=False)
    op.create_index("uq_rejected_row_key", "rejected_row", ["source", "fingerprint"], unique=True)
    # rules the load path always enforced, now declared where it reads them (the model) and in the database
    op.create_check_constraint(
        op.f("ck_incident_severity"), "incident", "severity is null or severity between 1 and 3"
    )
    op.create_check_constraint(
        op.f("ck_incident_closed_after_reported"), "incident", "closed_at is null or closed_at >= reported_at"
    )


def downgrade() -> None:
    op.drop_constraint("ck_incident_closed_after_reported", "incident", type_="check")
    op.drop_constraint("ck_incident_severity", "incident", type_="check")
    op.drop_index("uq_rejected_row_key", table_name="rejected_row")
    op.drop_column("rejected_row", "last_seen_at")
    op.drop_column("rejected_row", "occurrences")
    op.drop_column("rejected_row", "fingerprint")
