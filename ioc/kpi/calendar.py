"""Fill `kpi.work_calendar` from :class:`ioc.workdays.WorkCalendar`.

Working-day arithmetic then becomes an indexed join in SQL: the working days in (a, b] are
`working_day_number(b) - working_day_number(a)`, the same as `WorkCalendar.working_days_between`.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

from ioc.kpi.tables import work_calendar
from ioc.workdays import WorkCalendar

DEFAULT_YEARS = (2015, 2035)


def calendar_rows(calendar: WorkCalendar) -> list[dict[str, object]]:
    rows = []
    number = 0
    for day, is_working, holiday in calendar.days():
        number += int(is_working)
        rows.append(
            {"day": day, "is_working_day": is_working, "working_day_number": number, "holiday": holiday}
        )
    return rows


def fill(connection: Connection, calendar: WorkCalendar | None = None) -> int:
    """Replace the table's contents with `calendar`'s days (default: VN, 2015–2035)."""
    calendar = calendar or WorkCalendar(*DEFAULT_YEARS)
    rows = calendar_rows(calendar)
    connection.execute(delete(work_calendar))
    connection.execute(insert(work_calendar), rows)
    return len(rows)
