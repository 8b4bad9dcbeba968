"""The demo's days: window, working-day index arrays for vectorised deadline arithmetic, Tết.

Days are integers: offsets from `Timeline.origin` (the first day of the window). `add_working_days`
works on whole arrays with the same meaning as :meth:`ioc.workdays.WorkCalendar.add_working_days`
(the start day itself is not counted), using a precomputed cumulative count of working days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from ioc.config import CalendarConfig
from ioc.workdays import WorkCalendar

#: Days after the window kept in the index, so late deadlines and finishes stay inside it.
TAIL_DAYS = 500


def window_start(as_of: date, years: int) -> date:
    """First day of the `years` years that end with the day before `as_of`."""
    try:
        start = as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        start = as_of.replace(year=as_of.year - years, day=28)
    return start


@dataclass
class Timeline:
    """Days from `origin` up to the snapshot instant `now` (naive local time), plus a tail."""

    origin: date
    now: datetime
    calendar: WorkCalendar
    is_working: np.ndarray = field(init=False)
    cum_working: np.ndarray = field(init=False)
    working_days: np.ndarray = field(init=False)

    @classmethod
    def build(cls, as_of: date | datetime, years: int, config: CalendarConfig) -> Timeline:
        now = as_of if isinstance(as_of, datetime) else datetime.combine(as_of, datetime.min.time())
        now = now.replace(tzinfo=None, second=0, microsecond=0)
        origin = window_start(now.date(), years)
        last = now.date() + timedelta(days=TAIL_DAYS)
        calendar = WorkCalendar.from_config(config, range(origin.year, last.year + 1))
        return cls(origin=origin, now=now, calendar=calendar)

    def __post_init__(self) -> None:
        span = (self.now.date() - self.origin).days + 1 + TAIL_DAYS
        self.is_working = np.fromiter(
            (self.calendar.is_working_day(self.origin + timedelta(days=i)) for i in range(span)),
            dtype=bool,
            count=span,
        )
        self.cum_working = np.cumsum(self.is_working)
        self.working_days = np.flatnonzero(self.is_working)

    # ------------------------------------------------------------------ days

    @property
    def n_days(self) -> int:
        """Days with data: from origin to the day of `now` (inclusive when `now` is after midnight)."""
        days = (self.now.date() - self.origin).days
        return days + 1 if self.now.time() != datetime.min.time() else days

    @property
    def now_minutes(self) -> int:
        """The snapshot instant in minutes since origin."""
        delta = self.now - datetime.combine(self.origin, datetime.min.time())
        return int(delta.total_seconds() // 60)

    def dates(self, days: np.ndarray) -> np.ndarray:
        return np.datetime64(self.origin, "D") + days.astype("timedelta64[D]")

    def ordinal(self, day: int) -> int:
        return (self.origin + timedelta(days=day)).toordinal()

    def day_of(self, when: date) -> int:
        return (when - self.origin).days

    # ------------------------------------------------------------------ working days

    def add_working_days(self, days: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Day index `n` working days after each `days` (n = 0 gives the day itself)."""
        n = np.asarray(n)
        target = self.cum_working[days] + n - 1
        target = np.clip(target, 0, len(self.working_days) - 1)
        return np.where(n <= 0, days, self.working_days[target])

    def first_working_day(self, days: np.ndarray) -> np.ndarray:
        """Each day when it is a working day, else the next working day (as
        :meth:`ioc.workdays.WorkCalendar.first_working_day`)."""
        return np.where(self.is_working[days], days, self.next_working_day(days))

    def next_working_day(self, days: np.ndarray) -> np.ndarray:
        """The first working day strictly after each day."""
        return self.add_working_days(days, np.ones_like(days))

    # ------------------------------------------------------------------ Tết

    def tet_days(self) -> list[int]:
        """Day index of each Tết (first day of the lunar year) near the window, from the holidays.

        The holiday block between 15 January and 25 February is Tết; its first day is the 29th/30th of
        the last lunar month, so the new year is taken as two days later (± a day is enough here).
        """
        found = []
        for year in range(self.calendar.first_year, self.calendar.last_year + 1):
            block = [
                d
                for d in self.calendar.holidays
                if d.year == year and date(year, 1, 15) <= d <= date(year, 2, 25)
            ]
            if block:
                found.append(self.day_of(min(block) + timedelta(days=2)))
        return found

    def days_from_tet(self, days: np.ndarray) -> np.ndarray:
        """Signed distance (days) from each day to the nearest Tết; large when there is none."""
        tets = np.asarray(self.tet_days(), dtype=np.int64)
        if tets.size == 0:
            return np.full(days.shape, 10_000, dtype=np.int64)
        distance = days[:, None] - tets[None, :]
        nearest = np.abs(distance).argmin(axis=1)
        return distance[np.arange(days.size), nearest]
