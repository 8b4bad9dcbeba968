"""Alembic glue: migrations live in the `migrations` package and run on a given engine."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ioc.config import CalendarConfig


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head", calendar: CalendarConfig | None = None) -> None:
    """Bring the schema to `revision` (idempotent); with the config's `calendar:`, make the working-day
    calendar table follow it (:func:`ioc.kpi.calendar.sync`)."""
    command.upgrade(alembic_config(engine), revision)
    if calendar is not None:
        from ioc.kpi.calendar import DEFAULT_YEARS, configured, stored_years, sync

        with engine.begin() as connection:
            sync(connection, configured(calendar, stored_years(connection) or DEFAULT_YEARS))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
