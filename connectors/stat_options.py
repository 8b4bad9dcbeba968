"""Options shared by the statistical connectors (PxWeb, SDMX, World Bank)."""

from __future__ import annotations

from pydantic import Field, field_validator

from connectors.periods import compile_pattern
from ioc.connector import ConnectorOptions


class StatisticsOptions(ConnectorOptions):
    """A web API root and the source's own period patterns, tried before the built-in ones."""

    base_url: str
    period_regex: list[str] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("period_regex")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            compile_pattern(pattern)
        return value
