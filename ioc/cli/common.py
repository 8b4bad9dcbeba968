"""State shared by the CLI commands: the config path, the settings and the database, opened lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from ioc.config import Settings, load_settings
from ioc.database import Database, open_database


@dataclass
class AppState:
    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def open_database(self) -> Database:
        return open_database(self.settings)


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj
