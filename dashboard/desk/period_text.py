"""Periods as Vietnamese reports name them, and the choices of the period filter."""

from __future__ import annotations

from datetime import date, timedelta

from ioc.formatting import format_date
from ioc.kpi.periods import Period, PeriodError, month, parse_period, previous_period, quarter, year_to_day

ROMAN = ("I", "II", "III", "IV")


def describe(period: Period | str, lang: str = "vi", *, today: date | None = None) -> str:
    """'Tháng 11/2026', 'Quý III/2026', '6 tháng đầu năm 2026', 'Từ 01/01/2026 đến 30/11/2026'…"""
    try:
        p = parse_period(period, today=today) if isinstance(period, str) else period
    except PeriodError:
        return str(period)
    y = p.start.year
    last = p.end - timedelta(days=1)
    vi = lang != "en"
    if p.grain == "month":
        return f"Tháng {p.start.month}/{y}" if vi else f"{p.start:%B} {y}"
    if p.grain == "quarter":
        number = (p.start.month - 1) // 3 + 1
        return f"Quý {ROMAN[number - 1]}/{y}" if vi else f"Q{number} {y}"
    if p.grain == "year":
        return f"Năm {y}" if vi else f"Year {y}"
    if p.grain in ("6M", "9M"):
        months = p.grain[0]
        return f"{months} tháng đầu năm {y}" if vi else f"First {months} months of {y}"
    if p.grain == "week":
        return f"Tuần {p.start.isocalendar().week}/{p.start.isocalendar().year}" if vi else p.label
    if p.grain == "day":
        return f"Ngày {format_date(p.start)}" if vi else format_date(p.start)
    prefix = "Từ đầu năm đến " if vi and p.grain == "ytd" else ("Year to " if p.grain == "ytd" else "")
    if p.grain == "ytd":
        return f"{prefix}{format_date(last)}"
    return (
        f"Từ {format_date(p.start)} đến {format_date(last)}"
        if vi
        else f"{format_date(p.start)} – {format_date(last)}"
    )


def period_choices(today: date, lang: str = "vi", current: str | None = None) -> list[dict[str, str]]:
    """The periods a user picks from: year to date, the last 13 months, 8 quarters, 6 and 9 months and
    years of the last 3 years; `current` is kept when it is not among them (a custom range from a link)."""
    codes: list[str] = [year_to_day(today.year, today).label]
    for latest, count in (
        (month(today.year, today.month), 13),
        (quarter(today.year, (today.month + 2) // 3), 8),
    ):
        for _ in range(count):
            codes.append(latest.label)
            latest = previous_period(latest)
    for y in range(today.year, today.year - 3, -1):
        codes += [f"{y}-6M", f"{y}-9M", f"{y}"]
    if current and current not in codes:
        codes.insert(0, current)
    return [{"label": describe(code, lang, today=today), "value": code} for code in dict.fromkeys(codes)]
