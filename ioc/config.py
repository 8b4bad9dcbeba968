"""The province's configuration: `config.yaml` loaded into a frozen, typed settings object.

Every error names the file, the key path and what was expected, so an operator can fix the file
without reading code. Secrets never live in the file: config names the environment variable
(`token_env: IGATE_TOKEN`) and :func:`secret` reads it when the value is needed.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ioc.auth.config import AuthConfig
from ioc.briefings.config import BriefingsConfig
from ioc.cron import cron_trigger
from ioc.strict_yaml import YamlError, load_yaml
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
    try:
        return timedelta(**{_DURATION_UNITS[unit]: int(amount)})
    except OverflowError:
        raise ValueError(f"duration {text!r} is out of range") from None


def duration_between(text: str, low: timedelta, high: timedelta) -> timedelta:
    """`parse_duration`, refusing a value outside [low, high] with a message naming the range."""
    value = parse_duration(text)
    if not low <= value <= high:
        raise ValueError(f"duration {text!r} is out of range: expected {_show(low)} to {_show(high)}")
    return value


def _show(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def calendar_date(value: Any) -> str:
    """A calendar day from config (a YAML date or `YYYY-MM-DD` text) as ISO text; impossible days refused."""
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a real date (expected YYYY-MM-DD)") from None


def time_zone(name: str) -> ZoneInfo:
    """An IANA time zone (`Asia/Ho_Chi_Minh`); `ValueError` naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"unknown time zone {name!r} (expected an IANA name such as Asia/Ho_Chi_Minh)"
        ) from None


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
    cache_entries: int = Field(
        default=50_000, ge=100, le=10_000_000, description="answers each web process keeps (LRU)"
    )
    serve_stale_for: int = Field(
        default=120,
        ge=0,
        le=3_600,
        description="seconds a reader may get the previous data version's answer while the new one is "
        "computed in the background (0: always wait for the new answer)",
    )
    desk_refresh: int = Field(
        default=0,
        ge=0,
        le=3_600,
        description="seconds between two refreshes of the desktop pages' numbers (0: they follow every "
        "load, as the wall does); with N, every reader's pages are rebuilt at most every N seconds, "
        "for a server whose many departments' staff it cannot serve fresh after each load",
    )


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

    @field_validator("extra_days_off", "extra_working_days", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(calendar_date(item) for item in value)
        return value

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

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            cron_trigger(value, "UTC")  # refused at load: unparsable or never firing
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None:
            duration_between(value, timedelta(seconds=1), timedelta(days=366))
        return value

    @field_validator("jitter")
    @classmethod
    def _jitter(cls, value: str) -> str:
        duration_between(value, timedelta(0), timedelta(days=1))
        return value

    @field_validator("misfire_grace")
    @classmethod
    def _grace(cls, value: str) -> str:
        duration_between(value, timedelta(0), timedelta(days=7))
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> Schedule:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of `cron` or `every`")
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

    @field_validator("expected_every")
    @classmethod
    def _duration(cls, value: str) -> str:
        duration_between(value, timedelta(minutes=1), timedelta(days=3660))
        return value

    @field_validator("future_tolerance")
    @classmethod
    def _tolerance(cls, value: str) -> str:
        duration_between(value, timedelta(0), timedelta(days=366))
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
    briefings: BriefingsConfig = BriefingsConfig()
    auth: AuthConfig = AuthConfig()

    source_file: Path | None = Field(default=None, exclude=True)

    @property
    def zone(self) -> ZoneInfo:
        """The province's time zone (`timezone`), for every local date and time shown."""
        return ZoneInfo(self.timezone)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        time_zone(value)
        return value


def _format_location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _format_validation_error(path: Path, error: ValidationError) -> str:
    """One line per problem: `file: key.path: what is wrong`."""
    lines = []
    for item in error.errors():
        where = _format_location(item["loc"])
        if item["type"] == "extra_forbidden":
            lines.append(f"{path}: {where}: unknown key (check the spelling; see config.yaml in the README)")
        elif item["type"] == "missing":
            lines.append(f"{path}: {where}: required key is missing")
        else:
            got = item.get("input")
            message = str(item["msg"]).removeprefix("Value error, ")
            shown = f" (got {got!r})" if not isinstance(got, dict | list) and repr(got) not in message else ""
            if isinstance(got, bool) and item["type"] != "bool_type":
                shown += "; YAML reads unquoted yes/no/on/off/true/false as booleans: quote the value"
            lines.append(f"{path}: {where}: {message}{shown}")
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
    raw = load_yaml_file(config_path, what="configuration file")
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


def load_yaml_file(path: Path, *, what: str) -> Any:
    """A hand-edited YAML file read strictly (:mod:`ioc.strict_yaml`); problems are one-line ConfigErrors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found (use --config PATH or set {CONFIG_ENV})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {what} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text; save the file as UTF-8") from None
    try:
        return load_yaml(text)
    except YamlError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _relative_to(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def secret(env_name: str, *, purpose: str) -> str:
    """Read a secret named by config; a missing variable is a configuration error."""
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(f"environment variable {env_name} is not set (needed for {purpose})")
    return value
