"""lists of open dossiers served by an index in their own order: the open rows' due-date index gets the
list's tie-breakers (due_at, source, code), so an overdue or due-soon page — page 1 or page 500 —
reads its 51 rows from the index instead of sorting every open dossier

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("finished_at is null")


def upgrade() -> None:
    op.drop_index("ix_dossier_open_due", table_name="dossier", postgresql_where=OPEN)
    op.create_index("ix_dossier_open_due", "dossier", ["due_at", "source", "code"], postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_dossier_open_due", table_name="dossier", postgresql_where=OPEN)
    op.create_index("ix_dossier_open_due", "dossier", ["due_at"], postgresql_where=OPEN)
