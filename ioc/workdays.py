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


#: Labels stored in `kpi.work_calendar.holiday` for days the `holidays` package does not name.
COMPENSATORY_LABEL = "Ngày làm bù"
EXTRA_DAY_OFF_LABEL = "Ngày nghỉ (cấu hình)"


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday–Friday, minus public holidays, plus compensatory working days.

    Precedence, first match wins: a day in `extra_days_off` (config) is off; a day in
    `extra_working_days` (config) is a working day; a compensatory working day the `holidays` package
    knows (`weekend_workdays`: Saturdays 04/05/2024, 26/04/2025, 22/08/2026…) is a working day; a
    public holiday (observed and substituted days off included) is off; else Monday–Friday work.
    A decree newer than the installed `holidays` package goes in config until the package knows it.
    """

    first_year: int
    last_year: int
    country: str = "VN"
    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    @classmethod
    def from_config(cls, config: CalendarConfig, years: Iterable[int]) -> WorkCalendar:
        years = list(years)
        return cls(
            first_year=min(years),
            last_year=max(years),
            country=config.country,
            extra_days_off=frozenset(date.fromisoformat(d) for d in config.extra_days_off),
            extra_working_days=frozenset(date.fromisoformat(d) for d in config.extra_working_days),
        )

    @cached_property
    def _package(self) -> holiday_lib.HolidayBase:
        # one year more: a compensatory day can be decreed with the next year's holidays (27/12/2014)
        years = range(self.first_year, self.last_year + 2)
        entity = holiday_lib.country_holidays(self.country, years=years)
        if "vi" in getattr(entity, "supported_languages", ()):
            entity = holiday_lib.country_holidays(self.country, years=years, language="vi")
        return entity

    @cached_property
    def holidays(self) -> dict[date, str]:
        """Days off other than weekends (public holidays, observed days, config) in the calendar's years."""
        years = range(self.first_year, self.last_year + 1)
        days = {day: str(name) for day, name in self._package.items() if day.year in years}
        days.update({day: EXTRA_DAY_OFF_LABEL for day in self.extra_days_off})
        return days

    @cached_property
    def compensatory_days(self) -> frozenset[date]:
        """Weekend days worked instead of a bridge holiday (ngày làm bù): the package's and config's."""
        known = frozenset(getattr(self._package, "weekend_workdays", ()))
        return (known | self.extra_working_days) - self.extra_days_off

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_days_off:
            return False
        if day in self.compensatory_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def first_working_day(self, day: date) -> date:
        """`day` if it is a working day, else the next working day (when a receipt starts counting)."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def deadline(self, received: date, days: int) -> date:
        """The due day of a procedure of `days` working days received on `received`: counted from the
        first working day on or after receipt (a receipt on a day off counts from the next working day)."""
        return self.add_working_days(self.first_working_day(received), days)

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

    def processing_days(self, received: date, finished: date) -> int:
        """Working days a dossier took: from the first working day on or after receipt to `finished`
        (not below 0); the same as the `processing_days` column of the KPI datasets."""
        return max(self.working_days_between(self.first_working_day(received), finished), 0)

    def label(self, day: date) -> str | None:
        """What a day is, when it is not an ordinary weekday or weekend: holiday name or ngày làm bù."""
        if day in self.compensatory_days:
            return COMPENSATORY_LABEL
        return self.holidays.get(day)

    def days(self) -> list[tuple[date, bool, str | None]]:
        """Every day of the calendar's years: (date, is working day, holiday or compensatory label)."""
        day = date(self.first_year, 1, 1)
        end = date(self.last_year, 12, 31)
        out = []
        while day <= end:
            out.append((day, self.is_working_day(day), self.label(day)))
            day += timedelta(days=1)
        return out
