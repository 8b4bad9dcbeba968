"""vi-VN formatting of numbers, percentages, dates and data ages (`1.234`, `94,3%`, `22/11/2026`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NO_DATA = "—"


def format_number(value: float | int | None, decimals: int = 0) -> str:
    """1234567.891 → '1.234.567,89' (decimals=2); None → '—'."""
    if value is None:
        return NO_DATA
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_percent(ratio: float | None, decimals: int = 1) -> str:
    """0.943 → '94,3%'."""
    if ratio is None:
        return NO_DATA
    return f"{format_number(ratio * 100, decimals)}%"


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return NO_DATA
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ).date() if value.tzinfo else value.date()
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return NO_DATA
    local = value.astimezone(LOCAL_TZ) if value.tzinfo else value
    return local.strftime("%d/%m/%Y %H:%M")


def format_age(age: timedelta | None, language: str = "vi") -> str:
    """A data age as people say it: '5 phút' / '3 giờ' / '2 ngày' (or English)."""
    if age is None:
        return NO_DATA
    seconds = max(0, int(age.total_seconds()))
    units = (
        (86400, "ngày", "d"),
        (3600, "giờ", "h"),
        (60, "phút", "min"),
        (1, "giây", "s"),
    )
    for size, vi, en in units:
        if seconds >= size or size == 1:
            amount = seconds // size
            return f"{amount} {vi}" if language == "vi" else f"{amount} {en}"
    raise AssertionError("unreachable")
