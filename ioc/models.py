"""The database schema as SQLAlchemy 2 typed models (DESIGN §3).

Facts (`dossier`, `incident`, `indicator_observation`) carry the natural key of their source, so a
re-loaded batch upserts instead of duplicating. No column holds personal data of citizens.
Migrations in `migrations/versions/` are the source of truth for the live schema; these models must
match them (a test compares the two).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Column `info` of instants that have already happened when a source reports them (received,
#: finished, reported…): the load path rejects values later than now + the source's tolerance.
HAPPENED: dict[str, Any] = {"happened": True}
#: Column `info` of free text a source writes (may name people): never copied into `rejected_row`.
FREE_TEXT: dict[str, Any] = {"free_text": True}

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it as a plain dict
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
    }


class OrgUnit(Base):
    """An area: the province, its communes and wards; merged units keep a successor."""

    __tablename__ = "org_unit"
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, comment="tỉnh, thành phố, xã, phường, đặc khu, huyện (historic)")
    level: Mapped[int] = mapped_column(SmallInteger, comment="1 province, 2 commune/ward, 3 below")
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("org_unit.code"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successor_code: Mapped[str | None] = mapped_column(ForeignKey("org_unit.code"))
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)

    __table_args__ = (
        CheckConstraint("level between 1 and 4", name="level_range"),
        CheckConstraint("valid_to is null or valid_from is null or valid_to >= valid_from", name="validity"),
        Index(None, "parent_code"),
    )


class Department(Base):
    """A department, agency or commune people's committee that processes dossiers."""

    __tablename__ = "department"
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(
        Text, comment="so (department), ban, nganh (central agency), xa (commune)"
    )
    org_unit_code: Mapped[str | None] = mapped_column(ForeignKey("org_unit.code"))


class Procedure(Base):
    """An administrative procedure (thủ tục hành chính) with its statutory processing time."""

    __tablename__ = "procedure"
    code: Mapped[str] = mapped_column(Text, primary_key=True, comment="MaTTHC")
    name: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(Text, comment="lĩnh vực")
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    processing_days: Mapped[int | None] = mapped_column(
        SmallInteger, comment="statutory processing time in working days"
    )
    level: Mapped[str | None] = mapped_column(Text, comment="provincial or commune level")

    __table_args__ = (
        CheckConstraint("processing_days is null or processing_days >= 0", name="processing_days"),
        Index(None, "department_code"),
    )


class IndicatorObservation(Base):
    """One value of a socio-economic indicator series for an area and a period."""

    __tablename__ = "indicator_observation"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    indicator: Mapped[str] = mapped_column(Text)
    org_unit_code: Mapped[str] = mapped_column(Text, comment="org_unit code or an ISO country code")
    grain: Mapped[str] = mapped_column(Text, comment="day, week, month, quarter, year")
    period_start: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(Text, comment="display code, e.g. 2026-10, 2026-Q3, 2026")
    value: Mapped[Decimal | None] = mapped_column(Numeric)
    status: Mapped[str | None] = mapped_column(
        Text, comment="provider flag: provisional, '..' missing, '-' nil, estimated…"
    )
    unit: Mapped[str | None] = mapped_column(Text)
    vintage: Mapped[str | None] = mapped_column(Text, comment="source's own last-updated stamp")
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("grain in ('day','week','month','quarter','year')", name="grain"),
        Index(
            "uq_indicator_observation_key",
            "source",
            "indicator",
            "org_unit_code",
            "grain",
            "period_start",
            unique=True,
        ),
        Index(None, "indicator", "org_unit_code", "grain", "period_start"),
    )


class Dossier(Base):
    """A public-service dossier's status; counts only, never the applicant's data."""

    __tablename__ = "dossier"
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    code: Mapped[str] = mapped_column(Text, primary_key=True, comment="MaHoSo")
    procedure_code: Mapped[str | None] = mapped_column(Text, comment="MaTTHC")
    department_code: Mapped[str | None] = mapped_column(Text, comment="DonViXuLy")
    org_unit_code: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(
        Text, comment="online, in_person, postal (KenhThucHien 2/1/3)"
    )
    received_at: Mapped[datetime] = mapped_column(comment="NgayTiepNhan", info=HAPPENED)
    due_at: Mapped[datetime | None] = mapped_column(comment="NgayHenTra")
    due_date_only: Mapped[bool] = mapped_column(
        server_default=text("false"),
        comment="NgayHenTra came as a date only: due_at is the end of that local day (ioc.workdays)",
    )
    finished_at: Mapped[datetime | None] = mapped_column(comment="NgayKetThucXuLy", info=HAPPENED)
    returned_at: Mapped[datetime | None] = mapped_column(comment="NgayTra", info=HAPPENED)
    status: Mapped[int] = mapped_column(SmallInteger, comment="TrangThaiHoSo 1–10")
    supplement_count: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("status between 1 and 10", name="status_range"),
        CheckConstraint("channel in ('online','in_person','postal')", name="channel"),
        CheckConstraint("finished_at is null or finished_at >= received_at", name="finished_after_received"),
        Index(None, "received_at"),
        Index(None, "department_code", "received_at"),
        Index(None, "org_unit_code", "received_at"),
        Index(None, "finished_at", "received_at", "due_at"),
        Index(
            "ix_dossier_open_due", "due_at", "source", "code", postgresql_where=text("finished_at is null")
        ),
        Index(
            "ix_dossier_open_received",
            "received_at",
            "source",
            "code",
            "due_at",
            postgresql_where=text("finished_at is null"),
        ),
    )


class Incident(Base):
    """A citizen report or an event (accident, fire, security alert)."""

    __tablename__ = "incident"
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, primary_key=True)
    category: Mapped[str] = mapped_column(
        Text, comment="field_report, traffic_accident, public_order, infosec, fire, …"
    )
    service_code: Mapped[str | None] = mapped_column(Text)
    org_unit_code: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)
    reported_at: Mapped[datetime] = mapped_column(info=HAPPENED)
    due_at: Mapped[datetime | None] = mapped_column(comment="expected_datetime / SLA")
    closed_at: Mapped[datetime | None] = mapped_column(info=HAPPENED)
    status: Mapped[str] = mapped_column(Text, comment="open or closed")
    status_detail: Mapped[str | None] = mapped_column(
        Text, comment="source's own extended status", info=FREE_TEXT
    )
    severity: Mapped[int | None] = mapped_column(SmallInteger, comment="1 minor … 3 major")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("status in ('open','closed')", name="status"),
        CheckConstraint("lat is null or lat between -90 and 90", name="lat"),
        CheckConstraint("lon is null or lon between -180 and 180", name="lon"),
        CheckConstraint("severity is null or severity between 1 and 3", name="severity"),
        CheckConstraint("closed_at is null or closed_at >= reported_at", name="closed_after_reported"),
        Index(None, "reported_at"),
        Index(None, "category", "reported_at"),
        Index("ix_incident_open_due", "due_at", postgresql_where=text("status = 'open'")),
    )


class ConnectorRun(Base):
    """One run of one source: what was read, loaded, rejected, and the cursor it reached."""

    __tablename__ = "connector_run"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    connector: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(Text, server_default=text("'running'"))
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    rows_inserted: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    rows_updated: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    rows_unchanged: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    rows_rejected: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    cursor: Mapped[dict[str, Any] | None]
    full_refresh: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        CheckConstraint("status in ('running','success','partial','failed')", name="status"),
        Index(None, "source", "started_at"),
    )


class RejectedRow(Base):
    """A record that failed validation: its non-personal fields (an allow-list) and the reason.

    The same bad record sent again (same source, table, stored fields and reason: the same
    `fingerprint`) is counted on its row, not stored again; `run_id` is the last run that saw it.
    """

    __tablename__ = "rejected_row"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("connector_run.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(Text)
    target_table: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    occurrences: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index(None, "run_id"),
        Index("uq_rejected_row_key", "source", "fingerprint", unique=True),
    )


class WallHeartbeat(Base):
    """The last time each wall screen asked for its data: what it showed and its last error."""

    __tablename__ = "wall_heartbeat"
    screen_id: Mapped[str] = mapped_column(Text, primary_key=True)
    seen_at: Mapped[datetime]
    scene: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text, comment="data version the screen was sent")
    error: Mapped[str | None] = mapped_column(Text, comment="the page's last error (e.g. connection lost)")


class WallOverride(Base):
    """An operator's pin of a scene, or a topic put on chosen screens, until a time or release."""

    __tablename__ = "wall_override"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    screens: Mapped[list[str]] = mapped_column(ARRAY(Text))
    kind: Mapped[str] = mapped_column(Text)
    scene: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    until: Mapped[datetime | None] = mapped_column(comment="null: until released")
    released_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("kind in ('scene','topic')", name="kind"),
        CheckConstraint("(kind = 'scene') = (scene is not null)", name="scene_given"),
    )


class WallAlert(Base):
    """An alert shown on every screen's alert strip until an operator acknowledges it."""

    __tablename__ = "wall_alert"
    key: Mapped[str] = mapped_column(Text, primary_key=True, comment="what it is about, e.g. kpi:<id>:<area>")
    kind: Mapped[str] = mapped_column(Text, comment="kpi_red, source_failed, incident")
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    acknowledged_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_wall_alert_open", "raised_at", postgresql_where=text("acknowledged_at is null")),
    )


class AppUser(Base):
    """A staff account: Argon2 hash, roles, scope (departments and/or areas), lockout state."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text, comment="Argon2id; null: trusted header only")
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    departments: Mapped[list[str] | None] = mapped_column(
        ARRAY(Text), comment="staff scope; null: not limited by department"
    )
    areas: Mapped[list[str] | None] = mapped_column(
        ARRAY(Text), comment="staff scope; null: not limited by area"
    )
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    session_epoch: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            "roles <@ ARRAY['admin','operator','leader','staff']::text[] AND cardinality(roles) > 0",
            name="known_roles",
        ),
    )


class KioskToken(Base):
    """A wall screen's kiosk token, stored as its sha256 (the token itself is shown once)."""

    __tablename__ = "kiosk_token"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    screen_id: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True, comment="sha256 of the token, never the token")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class WebSession(Base):
    """A live login session (`ioc.auth.web_sessions`): the sha256 of the cookie's random id."""

    __tablename__ = "web_session"
    session_hash: Mapped[str] = mapped_column(
        Text, primary_key=True, comment="sha256 of the session id, never the id"
    )
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("app_user.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Audit(Base):
    """Who did what, when (logins, exports, operator and admin actions); nothing about citizens."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str | None] = mapped_column(Text, comment="user name, kiosk:<screen>, cli:<os user>")
    action: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None]
    address: Mapped[str | None] = mapped_column(Text, comment="client address of a web request")

    __table_args__ = (Index("ix_audit_at", "at"),)


class Briefing(Base):
    """One PDF briefing in the archive (issue 10): what it covers, where its file is, delivery state.

    A scheduled briefing is claimed once per (schedule, period, area), so several workers build and
    send it once; an on-demand one has no schedule. `delivery` is 'sent' only after the relay accepted
    the message; a delivery that failed all its attempts is 'failed' with the last error."""

    __tablename__ = "briefing"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    schedule: Mapped[str | None] = mapped_column(Text, comment="schedule name; null: built on demand")
    period: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    status: Mapped[str] = mapped_column(Text, server_default="building")
    file: Mapped[str | None] = mapped_column(Text, comment="path under briefings.archive_dir")
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    build_seconds: Mapped[float | None] = mapped_column(Double)
    delivery: Mapped[str] = mapped_column(Text, server_default="none")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status in ('building', 'built', 'failed')", name="status"),
        CheckConstraint("delivery in ('none', 'pending', 'sent', 'failed')", name="delivery"),
        Index(
            "ux_briefing_scheduled",
            "schedule",
            "period",
            "area",
            unique=True,
            postgresql_where=text("schedule is not null"),
        ),
        Index("ix_briefing_created_at", "created_at"),
    )


FACT_TABLES = ("dossier", "incident", "indicator_observation")
#: accounts, kiosk tokens and the audit log (issue 11)
ACCESS_TABLES = ("app_user", "kiosk_token", "audit")
ALL_TABLES = (
    "org_unit",
    "department",
    "procedure",
    *FACT_TABLES,
    "connector_run",
    "rejected_row",
    *ACCESS_TABLES,
    "briefing",
)

__all__ = [
    "ACCESS_TABLES",
    "ALL_TABLES",
    "FACT_TABLES",
    "AppUser",
    "Audit",
    "Base",
    "Briefing",
    "ConnectorRun",
    "Department",
    "Dossier",
    "Incident",
    "IndicatorObservation",
    "KioskToken",
    "OrgUnit",
    "Procedure",
    "RejectedRow",
]
