"""The connector contract: `spec + check + read` (DESIGN §4).

A connector declares its options as a pydantic model (`Options`), can `check` that its source
answers with the expected shape, and `read`s batches of records for one target table at a time.
Everything else — schedule, retries, cursor, validation, rejected rows, the upsert and the
`connector_run` row — belongs to the runner (`ioc.runner`).

Connectors are found by name through the `ioc.connectors` entry-point group, so this core package
never imports a connector module.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from ioc.config import ConfigError, Settings, SourceConfig

if TYPE_CHECKING:
    from ioc.http import SourceHttp

ENTRY_POINT_GROUP = "ioc.connectors"

#: Fields of citizens' personal data that no connector may pass on (DVCQG, iGate, OpenCPS names).
PERSONAL_FIELDS = frozenset(
    {
        "ChuHoSo",
        "Email",
        "SoDienThoai",
        "Fax",
        "ThongTinKhac",
        "DiaChi",
        "SoCMND",
        "SoCCCD",
        "MaDoiTuong",
        "applicant",
        "applicantName",
        "applicant_name",
        "email",
        "phone",
        "fullname",
        "address",
        "contactTelNo",
        "contactEmail",
    }
)


class SourceError(Exception):
    """The source did not answer as expected (down, refused, wrong shape). Nothing stored changes."""


class ConnectorOptions(BaseModel):
    """Base of every connector's options: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class Batch:
    """Records for one target table, plus what the runner should remember once they are stored.

    `rejects` are records the connector could not even parse (a malformed row of a file, a date
    that is not a date); they are stored in `rejected_row` with their reasons, like records that
    fail the load path's validation. `cursor` is the incremental state after this batch; it is
    committed in the same transaction as the batch's rows.
    """

    table: str
    records: pd.DataFrame | list[dict[str, Any]]
    cursor: dict[str, Any] | None = None
    rejects: list[tuple[Mapping[str, Any], str]] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


@dataclass(frozen=True)
class ConnectorContext:
    """What the runner hands a connector: who it is, the province's settings and an HTTP client."""

    source: str
    settings: Settings
    http: SourceHttp
    state: Mapping[str, Any] = field(default_factory=dict)
    """Read-only facts from the database the connector may need (e.g. ids of open incidents)."""


class Connector:
    """Base class of every connector. Subclasses set `name`, `Options`, and implement check/read."""

    name: ClassVar[str]
    Options: ClassVar[type[ConnectorOptions]] = ConnectorOptions
    #: Tables this connector writes to, in load order.
    targets: ClassVar[tuple[str, ...]] = ()
    #: The source's own field names a rejected record may keep (non-personal only, e.g. DVCQG's
    #: `MaHoSo`); besides these, only the target table's columns are kept (`ioc.load.reject_record`).
    reject_fields: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, options: ConnectorOptions, context: ConnectorContext) -> None:
        self.options = options
        self.context = context

    def check(self) -> CheckResult:
        raise NotImplementedError

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        raise NotImplementedError

    def state_queries(self) -> tuple[str, ...]:
        """Names of `ioc.runs.STATE_QUERIES` the runner should answer into `context.state`."""
        return ()


#: Connectors registered in this process (tests, embedding code); consulted before entry points.
_REGISTERED: dict[str, type[Connector]] = {}

#: `name=module:Class[,name=module:Class…]`: extra connectors for processes that cannot see
#: in-process registrations (e.g. `ioc worker` subprocesses started by tests).
EXTRA_CONNECTORS_ENV = "IOC_EXTRA_CONNECTORS"


def register_connector(name: str, cls: type[Connector]) -> None:
    """Make `cls` available as connector `name` in this process (overrides an entry point)."""
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"{cls!r} is not a Connector class")
    _REGISTERED[name] = cls


def unregister_connector(name: str) -> None:
    _REGISTERED.pop(name, None)


def _extra_connectors() -> dict[str, str]:
    extra: dict[str, str] = {}
    for item in os.environ.get(EXTRA_CONNECTORS_ENV, "").split(","):
        if item.strip():
            name, _, target = item.partition("=")
            if not target:
                raise ConfigError(f"{EXTRA_CONNECTORS_ENV}: expected name=module:Class, got {item!r}")
            extra[name.strip()] = target.strip()
    return extra


def _load_target(target: str) -> object:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def connector_class(name: str) -> type[Connector]:
    """Find a connector class: in-process registrations, `IOC_EXTRA_CONNECTORS`, then entry points."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    extra = _extra_connectors()
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name in extra:
        cls = _load_target(extra[name])
    elif name in found:
        cls = found[name].load()
    else:
        known = ", ".join(sorted({*_REGISTERED, *extra, *found})) or "none installed"
        raise ConfigError(f"unknown connector {name!r} (known: {known})")
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigError(f"connector {name!r} does not name a Connector class")
    return cls


def validate_options(
    source: str, config: SourceConfig, settings: Settings, cls: type[Connector] | None = None
) -> ConnectorOptions:
    """Validate a source's `options:` with its connector's model; errors name the key path."""
    cls = cls or connector_class(config.connector)
    try:
        return cls.Options.model_validate(config.options)
    except ValidationError as exc:
        where = settings.source_file or "config"
        lines = [f"{where}: source {source!r} ({config.connector}) has invalid options"]
        for item in exc.errors():
            path = ".".join(str(p) for p in ("sources", source, "options", *item["loc"]))
            msg = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
            lines.append(f"  - {path}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def drop_personal_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `record` without citizens' personal data (applied before anything is stored)."""
    return {k: v for k, v in record.items() if k not in PERSONAL_FIELDS}
