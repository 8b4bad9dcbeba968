"""The province's configuration: `config.yaml` loaded into a frozen, typed settings object.

Every error names the file, the key path and what was expected, so an operator can fix the file
without reading code. Secrets never live in the file: config names the environment variable
(`token_env: IGATE_TOKEN`) and :func:`secret` reads it when the value is needed.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ioc.wall.config import WallConfig

DEFAULT_CONFIG_PATH = Path("config.yaml")
CONFIG_ENV = "IOC_CONFIG"

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class ConfigError(Exception):
    """A configuration problem an operator must fix; the message is complete on its own."""


def parse_duration(text: str | int | timedelta) -> timedelta:
    """`15m`, `2h`, `1d`, `1w` or a number of seconds → timedelta."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int):
        return timedelta(seconds=text)
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"expected a duration such as 30s, 15m, 2h, 1d or 1w, got {text!r}")
    amount, unit = match.groups()
    return timedelta(**{_DURATION_UNITS[unit]: int(amount)})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProvinceConfig(_Strict):
    code: str = Field(description="Province code in the `vietnam-provinces` package, e.g. '66' for Đắk Lắk")
    areas_file: Path | None = Field(
        default=None, description="CSV of org units to use instead of the package's list"
    )


class DatabaseConfig(_Strict):
    url_env: str = "DATABASE_URL"
    read_url_env: str = "DATABASE_READ_URL"
    embedded_dir: Path = Path("var/pgdata")
    pool_size: int = Field(default=5, ge=1, le=100)


class WebConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)


class CalendarConfig(_Strict):
    """Working-day calendar for statutory deadlines (weekends and Vietnamese public holidays)."""

    country: str = "VN"
    extra_days_off: tuple[str, ...] = Field(
        default=(),
        validation_alias=AliasChoices("extra_days_off", "extra_holidays"),
        description="Days off the `holidays` package does not know (ISO dates); `extra_holidays` also read",
    )
    extra_working_days: tuple[str, ...] = Field(
        default=(), description="Compensatory working days (ngày làm bù) the `holidays` package does not know"
    )

    @model_validator(mode="after")
    def _off_or_working(self) -> CalendarConfig:
        both = sorted(set(self.extra_days_off) & set(self.extra_working_days))
        if both:
            raise ValueError(f"{', '.join(both)} listed both in extra_days_off and in extra_working_days")
        return self


class Schedule(_Strict):
    """When a source runs: exactly one of `cron` (crontab syntax) or `every` (duration)."""

    cron: str | None = None
    every: str | None = None
    jitter: str = "30s"
    misfire_grace: str = "10m"

    @model_validator(mode="after")
    def _one_trigger(self) -> Schedule:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of `cron` or `every`")
        for name in ("every", "jitter", "misfire_grace"):
            value = getattr(self, name)
            if value is not None:
                parse_duration(value)
        return self


class SourceConfig(_Strict):
    connector: str = Field(description="Connector name, e.g. pxweb, sdmx, worldbank, open311, dossiers, demo")
    enabled: bool = True
    schedule: Schedule | None = None
    expected_every: str = Field(default="1d", description="How often fresh data should arrive")
    future_tolerance: str = Field(
        default="1h", description="How far past now a record's received/finished time may lie (clock skew)"
    )
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("expected_every", "future_tolerance")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class DemoConfig(_Strict):
    seed: int = 20251
    scale: float = Field(default=1.0, gt=0)
    years: int = Field(default=3, ge=1, le=10)


class Settings(_Strict):
    """Everything `config.yaml` says about one province's IOC."""

    province: ProvinceConfig
    language: Literal["vi", "en"] = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    database: DatabaseConfig = DatabaseConfig()
    web: WebConfig = WebConfig()
    calendar: CalendarConfig = CalendarConfig()
    demo: DemoConfig = DemoConfig()
    kpi_dir: Path = Path("kpi_definitions")
    drop_dir: Path = Path("var/drop")
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    wall: WallConfig = WallConfig()

    source_file: Path | None = Field(default=None, exclude=True)

    @property
    def zone(self) -> ZoneInfo:
        """The province's time zone (`timezone`), for every local date and time shown."""
        return ZoneInfo(self.timezone)


def _format_location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _format_validation_error(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: {error.error_count()} error(s) in configuration"]
    for item in error.errors():
        where = _format_location(item["loc"])
        if item["type"] == "extra_forbidden":
            lines.append(f"  - {where}: unknown key (check the spelling; see config.yaml in the README)")
        elif item["type"] == "missing":
            lines.append(f"  - {where}: required key is missing")
        else:
            got = item.get("input")
            shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
            lines.append(f"  - {where}: {item['msg']}{shown}")
    return "\n".join(lines)


def resolve_config_path(path: Path | str | None = None) -> Path:
    """`--config PATH` wins, then `IOC_CONFIG`, then `./config.yaml`."""
    if path is not None:
        return Path(path)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG_PATH


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate a config file; raise :class:`ConfigError` with a readable message."""
    config_path = resolve_config_path(path)
    if not config_path.is_file():
        raise ConfigError(
            f"{config_path}: configuration file not found (use --config PATH or set {CONFIG_ENV})"
        )
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{config_path}:{where} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path}: expected a mapping of settings at the top level")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(config_path, exc)) from None
    base = config_path.resolve().parent
    return settings.model_copy(
        update={
            "source_file": config_path,
            "kpi_dir": _relative_to(base, settings.kpi_dir),
            "drop_dir": _relative_to(base, settings.drop_dir),
            "database": settings.database.model_copy(
                update={"embedded_dir": _relative_to(base, settings.database.embedded_dir)}
            ),
            "province": settings.province.model_copy(
                update={
                    "areas_file": _relative_to(base, settings.province.areas_file)
                    if settings.province.areas_file
                    else None
                }
            ),
        }
    )


def _relative_to(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def secret(env_name: str, *, purpose: str) -> str:
    """Read a secret named by config; a missing variable is a configuration error."""
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(f"environment variable {env_name} is not set (needed for {purpose})")
    return value
