"""Target trajectories, checked against values computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from ioc.kpi.trajectory import trajectory

YEAR = {"start": date(2026, 1, 1), "end": date(2027, 1, 1)}  # 365 days


def test_behind_schedule_and_reach_date_next_year() -> None:
    # 31/3 is day 90: 365,000 · 90/365 = 90,000 due; 80,000 done is 888.9 a day,
    # so 365,000 needs ⌈410.6⌉ = 411 days: 1/1/2026 + 410 days = 15/2/2027.
    result = trajectory(80_000, 365_000, on=date(2026, 3, 31), **YEAR)
    assert result.expected == pytest.approx(90_000)
    assert not result.on_track and result.status_text() == "chậm tiến độ"
    assert result.reach_date == date(2027, 2, 15)
    assert result.progress == pytest.approx(80_000 / 90_000)


def test_on_track_with_a_baseline() -> None:
    # Stock of 1,000 on 1/1, target 1,365: 1 a day due. On 10/1 (day 10) 1,010 is due; 1,020 done
    # is 2 a day, so the 365 to gain take 183 days (182,5 rounded up): 1/1 + 182 days = 2/7/2026.
    result = trajectory(1_020, 1_365, baseline=1_000, on=date(2026, 1, 10), **YEAR)
    assert result.expected == pytest.approx(1_010)
    assert result.on_track and result.status_text("en") == "on track"
    assert result.reach_date == date(2026, 7, 2)


def test_exact_pace_reaches_on_the_last_day() -> None:
    result = trajectory(100, 365, on=date(2026, 4, 10), **YEAR)  # day 100
    assert result.on_track and result.reach_date == date(2026, 12, 31)


def test_reached_and_no_progress() -> None:
    assert trajectory(400, 365, on=date(2026, 6, 1), **YEAR).reached
    assert trajectory(400, 365, on=date(2026, 6, 1), **YEAR).reach_date is None
    stalled = trajectory(0, 365, on=date(2026, 6, 1), **YEAR)
    assert stalled.reach_date is None and not stalled.on_track


def test_before_and_after_the_window() -> None:
    assert trajectory(0, 365, on=date(2025, 12, 1), **YEAR).expected == 0
    assert trajectory(300, 365, on=date(2027, 3, 1), **YEAR).expected == 365
    with pytest.raises(ValueError):
        trajectory(0, 1, start=date(2026, 1, 1), end=date(2026, 1, 1), on=date(2026, 1, 1))
