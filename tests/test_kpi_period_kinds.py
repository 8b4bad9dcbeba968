"""Period kinds of Vietnamese reports: 6 and 9 months, year to date, custom ranges, and their comparisons."""

from __future__ import annotations

from datetime import date

import pytest

from ioc.kpi.periods import (
    PeriodError,
    compare_period,
    default_comparison,
    parse_period,
    previous_period,
    same_period_last_year,
)

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("code", "start", "last_day", "label"),
    [
        ("2026-6M", date(2026, 1, 1), date(2026, 6, 30), "2026-6M"),
        ("2026-9m", date(2026, 1, 1), date(2026, 9, 30), "2026-9M"),
        ("2026-YTD", date(2026, 1, 1), date(2026, 11, 30), "2026-YTD"),
        ("2025-ytd", date(2025, 1, 1), date(2025, 12, 31), "2025-YTD"),
        ("2027-YTD", date(2027, 1, 1), date(2027, 1, 1), "2027-YTD"),
        ("2026-01-05..2026-03-20", date(2026, 1, 5), date(2026, 3, 20), "2026-01-05..2026-03-20"),
        ("2026-02-01..2026-02-01", date(2026, 2, 1), date(2026, 2, 1), "2026-02-01..2026-02-01"),
    ],
)
def test_kinds_parse_to_inclusive_days(code: str, start: date, last_day: date, label: str) -> None:
    period = parse_period(code, today=TODAY)
    assert (period.start, period.days, period.label) == (start, (last_day - start).days + 1, label)
    assert parse_period(period.label, today=TODAY) == period  # the label is a code that round-trips


def test_ytd_defaults_to_today_in_vietnam() -> None:
    period = parse_period("2026-YTD")
    assert period.start == date(2026, 1, 1) and period.days >= 1


@pytest.mark.parametrize("code", ["2026-7M", "2026-YTDX", "2026-03-20..2026-01-05", "2026-02-30..2026-03-01"])
def test_bad_codes(code: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(code, today=TODAY)


@pytest.mark.parametrize(
    ("code", "previous", "last_year"),
    [
        ("2026-6M", ("2025-07-01", "2025-12-31"), ("2025-01-01", "2025-06-30")),
        ("2026-9M", ("2025-04-01", "2025-12-31"), ("2025-01-01", "2025-09-30")),
        # 334 days from 1/1 to 30/11/2026; the 334 days before end on 31/12/2025
        ("2026-YTD", ("2025-02-01", "2025-12-31"), ("2025-01-01", "2025-11-30")),
        ("2026-01-05..2026-03-20", ("2025-10-22", "2026-01-04"), ("2025-01-05", "2025-03-20")),
        ("2024-02-01..2024-02-29", ("2024-01-03", "2024-01-31"), ("2023-02-01", "2023-02-28")),
    ],
)
def test_comparisons(code: str, previous: tuple[str, str], last_year: tuple[str, str]) -> None:
    period = parse_period(code, today=TODAY)

    def days(p: object) -> tuple[str, str]:
        return (p.start.isoformat(), date.fromordinal(p.end.toordinal() - 1).isoformat())  # type: ignore[attr-defined]

    assert days(previous_period(period)) == previous
    assert days(same_period_last_year(period)) == last_year
    assert compare_period(period, "same_period_last_year") == same_period_last_year(period)
    assert compare_period(period, "previous") == previous_period(period)


def test_same_period_last_year_of_6m_keeps_its_code() -> None:
    assert same_period_last_year(parse_period("2026-6M")).label == "2025-6M"


def test_a_cumulative_period_is_shown_against_the_same_period_last_year() -> None:
    """Leaders read "6 tháng đầu năm … so với cùng kỳ": the 181 days before 1 January are no benchmark."""
    for code, expected in (("2026-6M", "2025-6M"), ("2026-9M", "2025-9M")):
        assert default_comparison(parse_period(code), "previous_period").label == expected
    ytd = parse_period("2026-YTD", today=date(2026, 11, 30))
    last_year = default_comparison(ytd, "previous_period")
    assert (last_year.start, last_year.end) == (date(2025, 1, 1), date(2025, 12, 1))
    assert default_comparison(parse_period("2026-11"), "previous_period").label == "2026-10"
