"""Data access for pages: the only place pages get numbers from (no SQL here; it calls `ioc`)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from ioc.config import Settings
from ioc.database import Database
from ioc.overview import TableSummary, org_unit_name, table_summaries


def current_database() -> Database:
    database = current_app.config["IOC_DATABASE"]
    assert isinstance(database, Database)
    return database


def current_settings() -> Settings:
    settings = current_app.config["IOC_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


def system_overview(now: datetime | None = None) -> list[TableSummary]:
    """Rows and data age of every table, for the status page."""
    return table_summaries(current_database().read_engine, now=now)


def province_name() -> str | None:
    """The configured province's name from the areas table (None before areas are loaded)."""
    return org_unit_name(current_database().read_engine, current_settings().province.code)
