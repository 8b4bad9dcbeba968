"""web_session: login sessions kept on the server (sha256 of the cookie's random id), so that a
logout or an expiry ends a session for good, not only in the browser that logged out.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column(
            "session_hash", sa.Text(), nullable=False, comment="sha256 of the session id, never the id"
        ),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["app_user.id"],
            name=op.f("fk_web_session_account_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_hash", name=op.f("pk_web_session")),
    )


def downgrade() -> None:
    op.drop_table("web_session")
