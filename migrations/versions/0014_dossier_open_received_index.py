"""lists of open dossiers in their default order (received_at) read from an index of the open rows
only: scanning every dossier's received_at index for the open ones fetched ten heap rows per listed
row (a commune's overdue list: 51,000 fetches for page 1 at 10 million dossiers)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("finished_at is null")


def upgrade() -> None:
    op.create_index(
        "ix_dossier_open_received", "dossier", ["received_at", "source", "code"], postgresql_where=OPEN
    )


def downgrade() -> None:
    op.drop_index("ix_dossier_open_received", table_name="dossier", postgresql_where=OPEN)
