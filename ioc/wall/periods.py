"""Relative period codes of wall tiles (`current_month`, `year_to_date`, …) → periods on a given day."""

from __future__ import annotations

from datetime import date

from ioc.kpi.periods import Period, current, parse_period, previous_period

_GRAINS = {"today": "day", "current_week": "week", "current_month": "month", "latest": "month"}
_GRAINS |= {"current_quarter": "quarter", "current_year": "year"}


def resolve_period(code: str, today: date) -> Period:
    """The period a tile shows today; absolute codes (`2026-11`) pass through."""
    if code in _GRAINS:
        return current(_GRAINS[code], today)
    if code == "previous_month":
        return previous_period(current("month", today))
    if code == "year_to_date":
        return parse_period(f"{today.year}-YTD", today=today)
    return parse_period(code)
