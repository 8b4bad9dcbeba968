"""Crontab expressions (`min hour day month weekday`) as APScheduler 3 cron triggers, checked strictly.

`cron_trigger` refuses what crontab would not accept or what would never run, with a message an
operator can act on:

* not five fields; a field APScheduler cannot parse (`61`, `1-5/0`, `*/0`);
* a weekday field that is not crontab's grammar (`mon-fri-sat`, `mon-fri/0`, `8`);
* both day of month and weekday restricted (crontab fires when EITHER matches, APScheduler only
  when both do: the same line would mean two different things);
* an expression that never fires, or not within `HORIZON` (`0 0 30 2 *`).

APScheduler numbers weekdays from Monday = 0 and `CronTrigger.from_crontab` does not translate, so
crontab's `1-5` would mean Tuesday to Saturday; weekday numbers and names are turned into day names.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

#: An expression whose next run is further than this is refused as never firing.
HORIZON = timedelta(days=5 * 366)

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY = r"(\d+|[a-z]{3})"
_WEEKDAY_PART = re.compile(rf"^(?:\*|{_DAY}(?:-{_DAY})?)(?:/(\d+))?$")


def _weekday_number(token: str, part: str) -> int:
    if token.isdigit():
        number = int(token)
        if not 0 <= number <= 7:
            raise ValueError(f"weekday {part!r}: days are 0–7 (0 and 7 are Sunday)")
        return number
    if token not in _WEEKDAYS:
        raise ValueError(f"weekday {part!r}: {token!r} is not a day (sun, mon, … sat)")
    return _WEEKDAYS.index(token)


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0 or 7 = Sunday, 1 = Monday, or names) as APScheduler day names."""
    if field == "*":
        return field
    days: list[str] = []
    for part in field.lower().split(","):
        part = part.strip()
        match = _WEEKDAY_PART.match(part)
        if not match:
            raise ValueError(f"weekday {part!r}: expected a day, a range such as mon-fri or 1-5, or */N")
        start, end, step = match.groups()
        if step is not None and int(step) < 1:
            raise ValueError(f"weekday {part!r}: the step must be at least 1")
        if start is None:  # `*` or `*/N`
            first, last = 0, 6
        else:
            first = _weekday_number(start, part)
            last = _weekday_number(end, part) if end is not None else (6 if step else first)
        if last < first:
            raise ValueError(f"weekday {part!r}: the range goes backwards")
        days.extend(_WEEKDAYS[day % 7] for day in range(first, last + 1, int(step or 1)))
    return ",".join(dict.fromkeys(days))


def cron_trigger(expression: str, timezone: str | ZoneInfo, *, now: datetime | None = None) -> CronTrigger:
    """The trigger of a crontab expression; `ValueError` (with the reason) when it is refused."""
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron {expression!r}: expected 5 fields (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise ValueError(
            f"cron {expression!r}: give a day of month or a weekday, not both "
            "(crontab runs when either matches, this scheduler only when both do)"
        )
    try:
        trigger = CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday),
            timezone=zone,
        )
    except ValueError as exc:
        raise ValueError(f"cron {expression!r}: {exc}") from None
    start = now or datetime.now(zone)
    following = trigger.get_next_fire_time(None, start)
    if following is None or following - start > HORIZON:
        raise ValueError(f"cron {expression!r} never fires (no run in the next {HORIZON.days // 366} years)")
    return trigger
