"""What one computation carries around: the connection, the library, the area, the moment, rollup state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from ioc.freshness import DatasetFreshness
from ioc.kpi.datasets import Dataset, Frame
from ioc.kpi.periods import LOCAL_TZ, Period, local_midnight
from ioc.kpi.rollup import RollupState
from ioc.kpi.rollup import state as rollup_state
from ioc.kpi.spec import KpiLibrary


class KpiQueryError(ValueError):
    """A question the engine cannot answer: unknown KPI or area, a breakdown the KPI does not allow."""


#: A breakdown's values by key (area code, department code, channel…); None is "no data".
Rows = dict[Any, float | None]


@dataclass
class Computed:
    """One KPI's value (and breakdown rows) for one period, and how it was computed."""

    value: float | None
    rows: Rows | None = None
    observed_period: str | None = None
    path: str = "raw"
    #: (units that reported, units expected) when a series value sums units' observations
    coverage: tuple[int, int] | None = None


@dataclass
class Context:
    connection: Connection
    library: KpiLibrary
    area: str
    area_is_root: bool
    as_of: datetime | None
    now: datetime
    use_rollups: bool
    historic: bool = False  # the area is an old (merged or ended) unit: see ioc.kpi.areas
    merged_on: date | None = None  # an old unit's first day without it: later periods have no data
    zone: ZoneInfo = LOCAL_TZ  # the configured time zone (Settings.zone): periods are local dates
    _states: dict[str, RollupState] = field(default_factory=dict)
    as_of_cache: dict[str, datetime | None] = field(default_factory=dict)
    loads: dict[str, DatasetFreshness] | None = None  # per fact table, from connector_run (ioc.freshness)

    def dataset_state(self, dataset: str) -> RollupState:
        if dataset not in self._states:
            self._states[dataset] = rollup_state(self.connection, dataset)
        return self._states[dataset]

    def start_at(self, period: Period) -> datetime:
        return local_midnight(period.start, self.zone)

    def end_at(self, period: Period) -> datetime:
        return local_midnight(period.end, self.zone)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def frame(self, dataset: Dataset) -> Frame:
        return Frame(dataset, self.zone.key)

    def moment(self, period: Period) -> datetime:
        """The instant a snapshot KPI is measured at: the period's end, or earlier (as_of / now)."""
        limit = self.as_of or self.now
        return min(self.end_at(period), limit)


def number(value: Any) -> float | None:
    return None if value is None else float(value)
