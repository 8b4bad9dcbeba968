"""Fill `kpi.work_calendar` from :class:`ioc.workdays.WorkCalendar` (the `holidays` package + config).

Working-day arithmetic then becomes an indexed join in SQL: the working days in (a, b] are
`working_day_number(b) - working_day_number(a)`, the same as `WorkCalendar.working_days_between`.

The table follows the config: :func:`sync` runs after every `ioc db upgrade` / `ioc demo` start and
in `ioc kpi calendar`; it rewrites the table when its days differ from what the config and the
installed `holidays` package say, and then refreshes the dossier rollups (they hold sums of
working-day processing times), in the same transaction.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, delete, func, insert, select

from ioc.config import CalendarConfig
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


def configured(config: CalendarConfig | None = None, years: tuple[int, int] = DEFAULT_YEARS) -> WorkCalendar:
    """The calendar the config asks for over `years` (default config: VN, no extra days)."""
    return WorkCalendar.from_config(config or CalendarConfig(), range(years[0], years[1] + 1))


def stored_years(connection: Connection) -> tuple[int, int] | None:
    """The first and last year the table holds (None when empty): a sync keeps the range an operator
    chose with `ioc kpi calendar --first-year/--last-year`."""
    query = select(func.min(work_calendar.c.day), func.max(work_calendar.c.day))
    first, last = connection.execute(query).one()
    if not isinstance(first, date) or not isinstance(last, date):
        return None
    return first.year, last.year


def fill(connection: Connection, calendar: WorkCalendar | None = None) -> int:
    """Replace the table's contents with `calendar`'s days (default: VN, 2015–2035)."""
    rows = calendar_rows(calendar or configured())
    _replace(connection, rows)
    return len(rows)


def _replace(connection: Connection, rows: list[dict[str, object]]) -> None:
    connection.execute(delete(work_calendar))
    connection.execute(insert(work_calendar), rows)


def sync(connection: Connection, calendar: WorkCalendar) -> bool:
    """Make the table hold `calendar`; when that changed anything, refresh the built dossier rollups
    (processing days are summed in them). Returns whether the table changed."""
    from ioc.kpi import rollup  # the rollups read this table: import at call time

    wanted = calendar_rows(calendar)
    columns = (work_calendar.c.day, work_calendar.c.is_working_day, work_calendar.c.holiday)
    stored = connection.execute(select(*columns).order_by(work_calendar.c.day)).all()
    if [tuple(row) for row in stored] == [(r["day"], r["is_working_day"], r["holiday"]) for r in wanted]:
        return False
    _replace(connection, wanted)
    built = tuple(n for n in rollup.ROLLUP_DATASETS if rollup.state(connection, n).refreshed_at is not None)
    if built:
        rollup.refresh(connection, datasets=built)
    return True
