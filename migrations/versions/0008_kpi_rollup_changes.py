"""kpi rollups kept exact by change logs: statement-level triggers log the old and new images of
changed dossier/incident rows; refreshes add and take away exactly those (unique keys, NULL counts)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: rollup-shaped tables as of this revision: name -> (key columns, summed columns)
TABLES = {
    "dossier_received_day": (("period_start", "org_unit_code", "channel"), ()),
    "dossier_finished_day": (("period_start", "org_unit_code", "channel", "on_time"), ("processing_days",)),
    "dossier_received_month": (
        ("period_start", "org_unit_code", "department_code", "procedure_code", "channel"),
        (),
    ),
    "dossier_finished_month": (
        ("period_start", "org_unit_code", "department_code", "procedure_code", "channel", "on_time"),
        ("processing_days",),
    ),
    "incident_reported_day": (("period_start", "org_unit_code", "category", "severity", "status"), ()),
    "incident_closed_day": (
        ("period_start", "org_unit_code", "category", "severity", "closed_on_time"),
        ("hours_to_close",),
    ),
    "dossier_open": (("due_day", "org_unit_code", "channel"), ()),
    "dossier_open_history": (("moment_day", "due_day", "org_unit_code", "channel"), ()),
    "incident_open": (("due_day", "org_unit_code", "category", "severity"), ()),
    "incident_open_history": (("moment_day", "due_day", "org_unit_code", "category", "severity"), ()),
}

#: fact table -> the columns its change log keeps (what the rollups group, filter and sum on)
CHANGES = {
    "dossier": {
        "received_at": sa.DateTime(timezone=True),
        "due_at": sa.DateTime(timezone=True),
        "finished_at": sa.DateTime(timezone=True),
        "org_unit_code": sa.Text(),
        "department_code": sa.Text(),
        "procedure_code": sa.Text(),
        "channel": sa.Text(),
        "updated_at": sa.DateTime(timezone=True),
    },
    "incident": {
        "reported_at": sa.DateTime(timezone=True),
        "due_at": sa.DateTime(timezone=True),
        "closed_at": sa.DateTime(timezone=True),
        "status": sa.Text(),
        "org_unit_code": sa.Text(),
        "category": sa.Text(),
        "severity": sa.SmallInteger(),
        "updated_at": sa.DateTime(timezone=True),
    },
}

LOG_FUNCTION = """
CREATE FUNCTION kpi.log_{table}_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO kpi.{table}_change (sign, {columns}) SELECT -1, {columns} FROM old_rows;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO kpi.{table}_change (sign, {columns}) SELECT 1, {columns} FROM new_rows;
  END IF;
  RETURN NULL;
END $$
"""

FULL_REBUILD_FUNCTION = """
CREATE FUNCTION kpi.rollup_needs_full_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE kpi.rollup_state SET pending_full = true WHERE dataset = ANY (TG_ARGV);
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    # The rollups are derived data: emptied here (they need the new columns filled and unique keys),
    # the engine reads the fact tables until the next refresh rebuilds them.
    op.execute("TRUNCATE kpi.rollup_state, " + ", ".join(f"kpi.{name}" for name in TABLES))
    op.add_column(
        "rollup_state",
        sa.Column(
            "pending_full",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
            comment="a full rebuild is due (first build, TRUNCATE, calendar change); set before it starts",
        ),
        schema="kpi",
    )
    op.add_column(
        "rollup_state",
        sa.Column(
            "events_until",
            sa.DateTime(timezone=True),
            comment="latest opening or closing time in the data (future-dated rows): the snapshot "
            "rollups serve moments from max(refreshed_at, events_until) on",
        ),
        schema="kpi",
    )
    for name, (keys, sums) in TABLES.items():
        for column in sums:
            op.add_column(name, sa.Column(f"total_{column}", sa.Numeric()), schema="kpi")
            op.add_column(
                name,
                sa.Column(f"nulls_{column}", sa.BigInteger(), nullable=False, server_default="0"),
                schema="kpi",
            )
        op.execute(f"CREATE UNIQUE INDEX uq_{name}_key ON kpi.{name} ({', '.join(keys)}) NULLS NOT DISTINCT")
        op.execute(f"CREATE INDEX ix_{name}_empty ON kpi.{name} ({keys[0]}) WHERE n = 0")
    for table, columns in CHANGES.items():
        op.create_table(
            f"{table}_change",
            sa.Column("sign", sa.SmallInteger(), nullable=False),
            *(sa.Column(column, kind) for column, kind in columns.items()),
            schema="kpi",
        )
        op.execute(LOG_FUNCTION.format(table=table, columns=", ".join(columns)))
        for event, referencing in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER kpi_log_{event.lower()} AFTER {event} ON public.{table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION kpi.log_{table}_change()"
            )
    op.execute(FULL_REBUILD_FUNCTION)
    for table in CHANGES:
        op.execute(
            f"CREATE TRIGGER kpi_full_rebuild AFTER TRUNCATE ON public.{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION kpi.rollup_needs_full_rebuild('{table}')"
        )
    # processing days are counted on the working-day calendar: a new calendar recounts them all
    op.execute(
        "CREATE TRIGGER kpi_full_rebuild AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpi.work_calendar "
        "FOR EACH STATEMENT EXECUTE FUNCTION kpi.rollup_needs_full_rebuild('dossier')"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER kpi_full_rebuild ON kpi.work_calendar")
    for table in CHANGES:
        op.execute(f"DROP TRIGGER kpi_full_rebuild ON public.{table}")
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER kpi_log_{event} ON public.{table}")
        op.execute(f"DROP FUNCTION kpi.log_{table}_change()")
        op.drop_table(f"{table}_change", schema="kpi")
    op.execute("DROP FUNCTION kpi.rollup_needs_full_rebuild()")
    op.execute("TRUNCATE kpi.rollup_state, " + ", ".join(f"kpi.{name}" for name in TABLES))
    for name, (_keys, sums) in TABLES.items():
        op.execute(f"DROP INDEX kpi.uq_{name}_key")
        op.execute(f"DROP INDEX kpi.ix_{name}_empty")
        for column in sums:
            op.drop_column(name, f"nulls_{column}", schema="kpi")
            op.drop_column(name, f"total_{column}", schema="kpi")
    op.drop_column("rollup_state", "events_until", schema="kpi")
    op.drop_column("rollup_state", "pending_full", schema="kpi")
