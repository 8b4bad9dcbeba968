"""vi-VN formatting of numbers, percentages, dates and data ages (`1.234`, `94,3%`, `22/11/2026`)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

#: Fallback only, for callers without settings: pass `Settings.zone`.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NO_DATA = "—"
AGE_UNITS = {"vi": ("ngày", "giờ", "phút", "giây"), "en": ("d", "h", "min", "s")}


def format_number(value: float | int | None, decimals: int = 0) -> str:
    """1234567.891 → '1.234.567,89' (decimals=2); None (or NaN, ±∞) → '—'."""
    if value is None or not math.isfinite(value):
        return NO_DATA
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_percent(ratio: float | None, decimals: int = 1) -> str:
    """0.943 → '94,3%'."""
    if ratio is None:
        return NO_DATA
    return f"{format_number(ratio * 100, decimals)}%"


def format_value(value: float | int | None, decimals: int, unit: str, no_data: str = NO_DATA) -> str:
    """A value with its unit: '94,3%', '94,3% chỉ tiêu', '1.234 hồ sơ' (vi-VN writes the percent sign
    without a space); no data is `no_data` alone, never '—%' or 'không có dữ liệu%'."""
    text = format_number(value, decimals)
    if text == NO_DATA:
        return no_data
    if not unit:
        return text
    return f"{text}{unit}" if unit.startswith("%") else f"{text} {unit}"


def format_coverage(coverage: tuple[int, int] | None, units: str = "xã") -> str:
    """(100, 102) → '100/102 xã' (how many units reported a summed value); None → ''."""
    if coverage is None:
        return ""
    return f"{format_number(coverage[0])}/{format_number(coverage[1])} {units}".rstrip()


def format_date(value: date | datetime | None, zone: ZoneInfo = LOCAL_TZ) -> str:
    """A date, or an instant's local date in `zone` (pass `Settings.zone`; the default is the fallback)."""
    if value is None:
        return NO_DATA
    if isinstance(value, datetime):
        value = value.astimezone(zone).date() if value.tzinfo else value.date()
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None, zone: ZoneInfo = LOCAL_TZ) -> str:
    if value is None:
        return NO_DATA
    local = value.astimezone(zone) if value.tzinfo else value
    return local.strftime("%d/%m/%Y %H:%M")


def format_age(age: timedelta | None, language: str = "vi") -> str:
    """A data age as people say it, to two units: '45 giây', '12 phút', '3 giờ 5 phút', '2 ngày 4 giờ'."""
    if age is None:
        return NO_DATA
    seconds = max(0, int(age.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    names = AGE_UNITS[language]
    parts = [(days, names[0]), (hours, names[1]), (minutes, names[2]), (seconds, names[3])]
    first = next((i for i, (amount, _) in enumerate(parts) if amount), 3)
    shown = [f"{amount} {name}" for amount, name in parts[first : first + 2] if amount or first == 3]
    return " ".join(shown[:1] if first >= 2 else shown)


def lower_first(text: str) -> str:
    """'Tỷ lệ kích hoạt VNeID' → 'tỷ lệ kích hoạt VNeID' inside a sentence (acronyms keep their case)."""
    return text[:1].lower() + text[1:]
