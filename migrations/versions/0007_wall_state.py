"""wall state: screen heartbeats, operator overrides (pins, topics), alerts until acknowledged

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "wall_heartbeat",
        sa.Column("screen_id", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scene", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=True, comment="data version the screen was sent"),
        sa.Column("error", sa.Text(), nullable=True, comment="the page's last error (e.g. connection lost)"),
        sa.PrimaryKeyConstraint("screen_id", name=op.f("pk_wall_heartbeat")),
    )
    op.create_table(
        "wall_override",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("screens", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("scene", sa.Text(), nullable=True),
        sa.Column("topic", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True, comment="null: until released"),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind in ('scene','topic')", name=op.f("ck_wall_override_kind")),
        sa.CheckConstraint(
            "(kind = 'scene') = (scene is not null)", name=op.f("ck_wall_override_scene_given")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wall_override")),
    )
    op.create_table(
        "wall_alert",
        sa.Column("key", sa.Text(), nullable=False, comment="what it is about, e.g. kpi:<id>:<area>"),
        sa.Column("kind", sa.Text(), nullable=False, comment="kpi_red, source_failed, incident"),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wall_alert")),
    )
    op.create_index(
        "ix_wall_alert_open", "wall_alert", ["raised_at"], postgresql_where=sa.text("acknowledged_at is null")
    )


def downgrade() -> None:
    op.drop_index("ix_wall_alert_open", table_name="wall_alert")
    op.drop_table("wall_alert")
    op.drop_table("wall_override")
    op.drop_table("wall_heartbeat")
