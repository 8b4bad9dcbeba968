"""What the read model answers: plain frozen dataclasses, the same for the wall, the desktop and PDFs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ioc.formatting import format_age, format_coverage, format_datetime, format_number, format_value
from ioc.freshness import FAILED, FRESH, NEVER, STALE
from ioc.kpi.result import KpiRow

NO_DATA_VI = "Không có dữ liệu"

FRESHNESS_NOTES_VI = {
    FRESH: "Số liệu đến {as_of}",
    STALE: "Số liệu cũ · cập nhật {age} trước",
    FAILED: "Nguồn lỗi: {sources}",
    NEVER: "Chưa có số liệu từ nguồn",
}


@dataclass(frozen=True)
class Scope:
    """What one reader may see: None means everything (leaders); staff get their departments/areas."""

    departments: frozenset[str] | None = None
    areas: frozenset[str] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.departments is None and self.areas is None


EVERYTHING = Scope()


@dataclass(frozen=True)
class Tile:
    kpi_id: str
    name_vi: str
    name_en: str
    unit_vi: str
    unit_en: str
    decimals: int
    direction: str
    period: str
    area: str
    value: float | None
    previous: float | None
    previous_period: str | None
    delta: float | None
    target: float | None
    status: str
    data_as_of: datetime | None
    data_age: timedelta | None
    freshness: str
    sources: tuple[str, ...] = ()
    failed_sources: tuple[str, ...] = ()
    coverage: tuple[int, int] | None = None
    sparkline: tuple[float | None, ...] = ()
    observed_period: str | None = None
    running: bool = False  # see KpiResult.running

    @property
    def stale(self) -> bool:
        return self.freshness != FRESH

    def value_text(self) -> str:
        """vi-VN value with its unit ('94,3%', '1.234 hồ sơ'); no data in words, never '—%'."""
        return format_value(self.value, self.decimals, self.unit_vi, no_data=NO_DATA_VI)

    def delta_text(self) -> str:
        """'+1,2 điểm %' style change vs. the comparison period ('' when there is none, or when the
        period is still running: see `running`)."""
        if self.delta is None or self.running:
            return ""
        sign = "+" if self.delta > 0 else "−" if self.delta < 0 else "±"
        unit = "điểm %" if self.unit_vi == "%" else self.unit_vi
        return f"{sign}{format_number(abs(self.delta), self.decimals)} {unit}".rstrip()

    def coverage_text(self) -> str:
        """'100/102 xã' when only part of the areas reported ('' when all did or it does not apply)."""
        if self.coverage is None or self.coverage[0] == self.coverage[1]:
            return ""
        return format_coverage(self.coverage)

    def freshness_note(self) -> str:
        template = FRESHNESS_NOTES_VI[self.freshness]
        return template.format(
            as_of=format_datetime(self.data_as_of),
            age=format_age(self.data_age),
            sources=", ".join(self.failed_sources),
        )


@dataclass(frozen=True)
class SeriesPoint:
    period: str
    start: date
    value: float | None
    target: float | None = None
    flag: str | None = None
    """The source's status flag of the observation ('provisional' is shown as "Sơ bộ")."""
    running: bool = False
    """A count or sum over a period still running: charts draw it apart (it is a part of a period)."""


@dataclass(frozen=True)
class Series:
    kpi_id: str
    name_vi: str
    name_en: str
    unit_vi: str
    decimals: int
    area: str
    points: tuple[SeriesPoint, ...]


@dataclass(frozen=True)
class BreakdownResult:
    kpi_id: str
    name_vi: str
    unit_vi: str
    decimals: int
    direction: str
    by: str
    period: str
    area: str
    value: float | None
    rows: tuple[KpiRow, ...]


@dataclass(frozen=True)
class RowPage:
    """One keyset page of the fact rows behind a number (never personal data)."""

    dataset: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    next_after: str | None
    total: int | None = None


@dataclass(frozen=True)
class RunLine:
    run_id: int
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    error: str | None


@dataclass(frozen=True)
class Lineage:
    kpi_id: str
    name_vi: str
    name_en: str
    description_vi: str | None
    description_en: str | None
    kpi_type: str
    formula_vi: str
    dataset: str | None
    unit_vi: str
    grain: str
    direction: str
    owner: str
    legal_source: str | None
    targets: tuple[tuple[int | None, str | None, float], ...]
    thresholds: tuple[float, float, str] | None
    freshness_expected: str
    freshness: str
    data_as_of: datetime | None
    sources: tuple[str, ...]
    runs: tuple[RunLine, ...] = field(default_factory=tuple)
    computed_from: tuple[str, ...] = ()
