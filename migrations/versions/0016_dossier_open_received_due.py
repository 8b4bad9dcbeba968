"""due-soon lists in received order checked in the index: ix_dossier_open_received gets due_at as
its last key, so walking the open rows in received order tests each one's due date in the index and
fetches only the rows listed (due soon by received_at at 10M: 27,000 rows fetched by their due
window and sorted, 250-360 ms at load 7; walking the index: 33 ms)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("finished_at is null")
NAME = "ix_dossier_open_received"


def upgrade() -> None:
    op.drop_index(NAME, table_name="dossier", postgresql_where=OPEN)
    op.create_index(NAME, "dossier", ["received_at", "source", "code", "due_at"], postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index(NAME, table_name="dossier", postgresql_where=OPEN)
    op.create_index(NAME, "dossier", ["received_at", "source", "code"], postgresql_where=OPEN)
