"""Which period a scheduled briefing covers, and its e-mail's subject and body."""

from __future__ import annotations

from datetime import date

from ioc.briefings.config import RelativePeriod
from ioc.kpi.periods import Period, current, previous_period


def relative_period(name: RelativePeriod, today: date) -> Period:
    """The period a scheduled briefing covers on `today` ('previous_week' on a Monday: last week)."""
    kind, grain = name.split("_", 1)
    period = current(grain, today)
    return previous_period(period) if kind == "previous" else period


def mail_text(province: str, period_text: str, area_name: str | None = None) -> tuple[str, str]:
    """Subject and body of a briefing's e-mail (Vietnamese; no personal data)."""
    where = f" · {area_name}" if area_name else ""
    subject = f"Bản tin điều hành {province} · {period_text}{where}"
    body = (
        f"Kính gửi Quý lãnh đạo,\n\nTrung tâm IOC gửi kèm bản tin điều hành {period_text}{where} "
        f"của {province} (tệp PDF đính kèm).\n\n"
        "Thư gửi tự động từ hệ thống IOC; vui lòng không trả lời thư này.\n"
    )
    return subject, body
