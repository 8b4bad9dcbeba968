"""Reporting periods: parse `2026`, `2026-Q3`, `2026-10`, `2026-W42`, `2026-10-05` or a date range.

Vietnamese reports also use cumulative kinds: `2026-6M` (6 tháng đầu năm), `2026-9M` (9 tháng đầu năm),
`2026-YTD` (từ đầu năm đến nay: 1 January to today, or the whole year once it is over) and custom
ranges `2026-01-05..2026-03-20` (both days inclusive).

A period is a half-open interval of local dates `[start, end)`. Its bounds as instants are local
midnight in Asia/Ho_Chi_Minh, so a dossier received at 23:30 on 31/10 belongs to October.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)

GRAINS = ("day", "week", "month", "quarter", "year")

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTHS_TO_DATE = re.compile(r"^(\d{4})-(6|9)M$", re.IGNORECASE)
_YTD = re.compile(r"^(\d{4})-YTD$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
CUMULATIVE_GRAINS = ("6M", "9M", "ytd")


class PeriodError(ValueError):
    """A period that cannot be parsed."""


@dataclass(frozen=True)
class Period:
    """Local dates `[start, end)`; `grain` is day/week/month/quarter/year or `range`."""

    start: date
    end: date
    grain: str
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return local_midnight(self.end)

    def is_month_aligned(self) -> bool:
        return self.start.day == 1 and self.end.day == 1

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def local_midnight(day: date, zone: ZoneInfo = LOCAL_TZ) -> datetime:
    """Midnight starting `day` in `zone` (the configured `Settings.zone`; the module default only
    for code paths without settings)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def zone_of(value: ZoneInfo | str | None) -> ZoneInfo:
    """A time zone from settings (`Settings.zone` or its name); None → the module default."""
    if value is None:
        return LOCAL_TZ
    return value if isinstance(value, ZoneInfo) else ZoneInfo(value)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29/02 → 28/02
        return day.replace(year=day.year + years, day=28)


def month(year: int, number: int) -> Period:
    start = date(year, number, 1)
    return Period(start, _add_months(start, 1), "month", f"{year:04d}-{number:02d}")


def quarter(year: int, number: int) -> Period:
    start = date(year, 3 * (number - 1) + 1, 1)
    return Period(start, _add_months(start, 3), "quarter", f"{year:04d}-Q{number}")


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number + 1, 1, 1), "year", f"{number:04d}")


def week(year_number: int, number: int) -> Period:
    start = date.fromisocalendar(year_number, number, 1)
    return Period(start, start + timedelta(days=7), "week", f"{year_number:04d}-W{number:02d}")


def day(value: date) -> Period:
    return Period(value, value + timedelta(days=1), "day", value.isoformat())


def date_range(start: date, end_inclusive: date) -> Period:
    if end_inclusive < start:
        raise PeriodError(f"range ends ({end_inclusive}) before it starts ({start})")
    label = f"{start.isoformat()}..{end_inclusive.isoformat()}"
    return Period(start, end_inclusive + timedelta(days=1), "range", label)


def first_months(year_number: int, months: int) -> Period:
    """The first 6 or 9 months of a year (`2026-6M`, `2026-9M`)."""
    start = date(year_number, 1, 1)
    return Period(start, _add_months(start, months), f"{months}M", f"{year_number:04d}-{months}M")


def year_to_day(year_number: int, today: date) -> Period:
    """`2026-YTD`: 1 January to `today` inclusive; a past year is whole, a future year only its first day."""
    start = date(year_number, 1, 1)
    end = min(max(today + timedelta(days=1), start + timedelta(days=1)), date(year_number + 1, 1, 1))
    return Period(start, end, "ytd", f"{year_number:04d}-YTD")


def local_today(zone: ZoneInfo = LOCAL_TZ) -> date:
    return datetime.now(zone).date()


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PeriodError(f"expected a date such as 2026-10-05, got {value!r}") from exc


def parse_period(value: str | Period | tuple[date | str, date | str], *, today: date | None = None) -> Period:
    """A period from its code, or a `(first day, last day)` range (both inclusive).

    `today` (default: today in Asia/Ho_Chi_Minh) only matters for `YYYY-YTD`."""
    if isinstance(value, Period):
        return value
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise PeriodError("a range is (first day, last day)")
        return date_range(_as_date(value[0]), _as_date(value[1]))
    text = str(value).strip()
    try:
        if match := _YEAR.match(text):
            return year(int(match[1]))
        if match := _QUARTER.match(text):
            return quarter(int(match[1]), int(match[2]))
        if match := _MONTH.match(text):
            return month(int(match[1]), int(match[2]))
        if match := _WEEK.match(text):
            return week(int(match[1]), int(match[2]))
        if _DAY.match(text):
            return day(date.fromisoformat(text))
        if match := _MONTHS_TO_DATE.match(text):
            return first_months(int(match[1]), int(match[2]))
        if match := _YTD.match(text):
            return year_to_day(int(match[1]), today or local_today())
        if match := _RANGE.match(text):
            return date_range(date.fromisoformat(match[1]), date.fromisoformat(match[2]))
    except ValueError as exc:
        raise PeriodError(f"invalid period {text!r}: {exc}") from exc
    raise PeriodError(
        "expected a period such as 2026, 2026-Q3, 2026-10, 2026-W42, 2026-10-05, 2026-6M, 2026-9M, "
        f"2026-YTD or 2026-01-01..2026-03-31, got {text!r}"
    )


def current(grain: str, today: date) -> Period:
    """The period of `grain` that contains `today`."""
    if grain == "year":
        return year(today.year)
    if grain == "quarter":
        return quarter(today.year, (today.month - 1) // 3 + 1)
    if grain == "month":
        return month(today.year, today.month)
    if grain == "week":
        iso = today.isocalendar()
        return week(iso.year, iso.week)
    return day(today)


def previous_period(period: Period) -> Period:
    """The period of the same grain just before (a range: the same number of days before)."""
    if period.grain == "year":
        return year(period.start.year - 1)
    if period.grain == "quarter":
        start = _add_months(period.start, -3)
        return quarter(start.year, (start.month - 1) // 3 + 1)
    if period.grain == "month":
        start = _add_months(period.start, -1)
        return month(start.year, start.month)
    if period.grain == "week":
        iso = (period.start - timedelta(days=7)).isocalendar()
        return week(iso.year, iso.week)
    if period.grain == "day":
        return day(period.start - timedelta(days=1))
    if period.grain in ("6M", "9M"):  # the same number of months just before
        months = int(period.grain[0])
        return date_range(_add_months(period.start, -months), period.start - timedelta(days=1))
    return date_range(period.start - timedelta(days=period.days), period.start - timedelta(days=1))


def same_period_last_year(period: Period) -> Period:
    if period.grain == "year":
        return year(period.start.year - 1)
    if period.grain == "quarter":
        return quarter(period.start.year - 1, (period.start.month - 1) // 3 + 1)
    if period.grain == "month":
        return month(period.start.year - 1, period.start.month)
    if period.grain == "week":
        iso = period.start.isocalendar()
        try:
            return week(iso.year - 1, iso.week)
        except ValueError:  # week 53 in a year with 52
            return week(iso.year - 1, 52)
    if period.grain == "day":
        return day(_shift_year(period.start, -1))
    if period.grain in ("6M", "9M"):
        return first_months(period.start.year - 1, int(period.grain[0]))
    return date_range(_shift_year(period.start, -1), _shift_year(period.end - timedelta(days=1), -1))


def compare_period(period: Period, compare: str) -> Period:
    if compare == "same_period_last_year":
        return same_period_last_year(period)
    return previous_period(period)


def default_comparison(period: Period, compare: str) -> Period:
    """The period a KPI's change is shown against unless the reader chooses: the KPI's own rule,
    except that a cumulative period from 1 January (6 or 9 months, year to date) is compared with
    the same period last year ("so với cùng kỳ"), as Vietnamese reports do: the equally long stretch
    just before it spans two years and is no benchmark."""
    if period.grain in CUMULATIVE_GRAINS:
        return same_period_last_year(period)
    return compare_period(period, compare)


def measured_period(asked: Period, observed: str | None) -> Period:
    """The period a value is of: the one asked for, or the last one a source published before it (a
    quarterly GRDP asked for December is 2026-Q3's). Its change is measured from the period before
    that one (Q2), not from the one before the asked period (November: the same Q3 figure, ±0)."""
    if observed is None or observed == asked.label:
        return asked
    try:
        return parse_period(observed)
    except PeriodError:
        return asked


def year_to_date(period: Period) -> Period:
    """From 1 January of the period's (last) year to the period's end."""
    last_day = period.end - timedelta(days=1)
    return date_range(date(last_day.year, 1, 1), last_day)
