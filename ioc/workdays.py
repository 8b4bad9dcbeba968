"""Working-day calendar for statutory deadlines, and the rule for due dates given without a time.

Deadlines of administrative procedures are counted in working days (Saturday and Sunday off, plus
public holidays such as Tết, 30/4, 1/5 and 2/9 from the `holidays` package). The province can add
days off and compensatory working days in config (`calendar:`).

**Due dates without a time** (`NgayHenTra` = `20261019`): the deadline is the END of that local day
(Asia/Ho_Chi_Minh). It is stored as the last microsecond of the day, 23:59:59.999999 local
(:func:`end_of_day`), so every path keeps the plain timestamp comparisons of Decision 766/OpenCPS:
on time when `finished_at <= due_at`, overdue at `moment` when `due_at < moment`, and the local date
of `due_at` is still the due day (rollups group by it). `dossier.due_date_only` records that the
source gave a date only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cached_property

import holidays as holiday_lib

from ioc.config import CalendarConfig

#: What a date-only deadline is stored as, from the local midnight that starts its day.
END_OF_DAY = timedelta(days=1) - timedelta(microseconds=1)


def end_of_day(day: date, tz: tzinfo) -> datetime:
    """The deadline a date-only due date means: the last microsecond of `day` in local time `tz`."""
    return datetime.combine(day, time.max, tzinfo=tz)


@dataclass(frozen=True)
class WorkCalendar:
    first_year: int
    last_year: int
    country: str = "VN"
    extra_holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    @classmethod
    def from_config(cls, config: CalendarConfig, years: Iterable[int]) -> WorkCalendar:
        years = list(years)
        return cls(
            first_year=min(years),
            last_year=max(years),
            country=config.country,
            extra_holidays=frozenset(date.fromisoformat(d) for d in config.extra_holidays),
            extra_working_days=frozenset(date.fromisoformat(d) for d in config.extra_working_days),
        )

    @cached_property
    def holidays(self) -> dict[date, str]:
        """Public holidays (observed days included) in the calendar's years."""
        found = holiday_lib.country_holidays(self.country, years=range(self.first_year, self.last_year + 1))
        days = {day: str(name) for day, name in found.items()}
        days.update({day: "extra" for day in self.extra_holidays})
        return days

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself is not counted)."""
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for n in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=n))
        )

    def days(self) -> list[tuple[date, bool, str | None]]:
        """Every day of the calendar's years: (date, is working day, holiday name)."""
        day = date(self.first_year, 1, 1)
        end = date(self.last_year, 12, 31)
        out = []
        while day <= end:
            out.append((day, self.is_working_day(day), self.holidays.get(day)))
            day += timedelta(days=1)
        return out
