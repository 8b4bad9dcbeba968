"""What the engine answers: a value with its context (previous, delta, target, status, data age)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

STATUSES = ("green", "amber", "red", "none")


@dataclass(frozen=True)
class KpiRow:
    """One row of a breakdown (an area, department, procedure, channel or category), ranked."""

    key: str | None
    label: str
    value: float | None
    rank: int | None = None
    target: float | None = None
    status: str = "none"


@dataclass(frozen=True)
class KpiResult:
    kpi_id: str
    name_vi: str
    name_en: str
    unit_vi: str
    unit_en: str
    period: str
    area: str
    value: float | None
    previous: float | None
    previous_period: str | None
    delta: float | None
    target: float | None
    status: str
    direction: str
    decimals: int
    data_as_of: datetime | None
    data_age: timedelta | None
    stale: bool
    breakdown: str | None = None
    rows: list[KpiRow] = field(default_factory=list)
    observed_period: str | None = None
    moment: datetime | None = None
    path: str = "raw"  # raw, rollup, series, derived or merged: how the value was computed
    #: series summed over units: (units that reported, units expected), e.g. (100, 102) → "100/102 xã"
    coverage: tuple[int, int] | None = None
    #: the area is an old unit, merged into `merged_into` from `merged_on` (its own history is shown;
    #: periods from `merged_on` on have no data)
    merged_into: str | None = None
    merged_on: date | None = None
    #: a count or sum over a period still running (now, or as_of, falls inside it): its change from
    #: the whole previous period is no trend (1 December's 17 dossiers against November's 11.831)
    running: bool = False

    @property
    def has_data(self) -> bool:
        return self.value is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "kpi": self.kpi_id,
            "name": self.name_vi,
            "period": self.period,
            "area": self.area,
            "value": self.value,
            "previous": self.previous,
            "delta": self.delta,
            "target": self.target,
            "status": self.status,
            "unit": self.unit_vi,
            "data_as_of": self.data_as_of.isoformat() if self.data_as_of else None,
            "stale": self.stale,
            "coverage": list(self.coverage) if self.coverage else None,
            "merged_into": self.merged_into,
            "merged_on": self.merged_on.isoformat() if self.merged_on else None,
            "rows": [row.__dict__ for row in self.rows],
        }


def status_of(
    value: float | None,
    *,
    direction: str,
    target: float | None,
    green: float | None,
    amber: float | None,
    basis: str = "value",
) -> str:
    """green / amber / red / none; `none` when there is no value or nothing to compare with."""
    if value is None or direction == "neutral":
        return "none"
    if green is None or amber is None:
        if target is None:
            return "none"
        meets = value >= target if direction == "higher_is_better" else value <= target
        return "green" if meets else "red"
    measured = value
    if basis == "percent_of_target":
        if not target:
            return "none"
        measured = value / target * 100.0
    if direction == "higher_is_better":
        return "green" if measured >= green else "amber" if measured >= amber else "red"
    return "green" if measured <= green else "amber" if measured <= amber else "red"
