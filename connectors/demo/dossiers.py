"""Public-service dossiers of the demo province, fully vectorised (DVCQG record shape, no personal data).

Shape of the data, all from seeded draws:

* volume: ~430 dossiers per working day at scale 1, Mondays busiest, few on weekends and holidays
  (online only), a rush before Tết and a slow restart after it, an end-of-year peak, +7 % a year;
* channel: online share rising over time (mid-point at the July 2025 reorganisation), capped per field
  (certification stays mostly in person, tax and enterprise registration go fully online); ~2 % postal;
* deadline: a date only, like real one-stop systems give (`due_date_only`), stored as the end of that
  local day (:func:`ioc.workdays.end_of_day`); the procedure's statutory working days counted from
  the day of receipt, or from the next working day when received on a day off (weekends, holidays
  and compensatory working days from :class:`ioc.workdays.WorkCalendar`); a same-day procedure
  received after hours is due the next working day;
* outcome: on-time probability by department, improving over time, dipping around Tết and after
  supplement requests (two requests count as late, Decision 766); a thin tail of stuck dossiers
  that stay open far past their deadline; ~1.2 % rejected at intake (3), withdrawn (7), stopped (8);
* status at the snapshot instant: done (9 processed, 10 returned) when finished before it, else open
  (1 new online, 2 accepted, 4 processing, 5 supplement requested, 6 payment requested).

`finished_at` is NgayKetThucXuLy: set for 9/10 and also for the terminal 3/7/8 (the time processing
ended); `returned_at` (NgayTra) only for 10.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd

from connectors.demo.catalogue import COMMUNE_DEPARTMENT_PREFIX, ON_TIME_BASE
from connectors.demo.province import (
    STREAM_CATALOGUE,
    STREAM_DOSSIERS,
    DemoProvince,
    daily_draws,
    local_timestamps,
    pick,
)
from connectors.demo.timeline import Timeline
from ioc.workdays import END_OF_DAY

PER_WORKING_DAY = 430.0
MONTH_FACTOR = np.array([0.88, 0.82, 1.0, 1.02, 1.0, 0.97, 1.02, 1.03, 1.0, 1.05, 1.08, 1.12])
WEEKDAY_FACTOR = np.array([1.12, 1.02, 1.0, 0.98, 0.9, 0.6, 0.6])
NON_WORKING_FACTOR = 0.05
TREND_ORIGIN = date(2024, 1, 1)
ONLINE_MIDPOINT = date(2025, 7, 1)

_HOURS_IN_PERSON = np.zeros(24)
_HOURS_IN_PERSON[[7, 8, 9, 10, 11, 13, 14, 15, 16]] = [0.5, 1.0, 1.0, 0.9, 0.45, 0.5, 0.9, 0.85, 0.55]
# fmt: off
_HOURS_ONLINE = np.array([0.1, 0.05, 0.03, 0.03, 0.05, 0.15, 0.4, 0.8, 1.0, 1.0, 0.95, 0.8,
                          0.6, 0.7, 0.9, 0.9, 0.85, 0.7, 0.6, 0.65, 0.7, 0.6, 0.4, 0.2])
# fmt: on

DAY_MINUTES = 1440
OFFICE_OPEN, OFFICE_CLOSE = 8 * 60, 17 * 60

# uniform columns
(U_PROC, U_COMMUNE, U_CHANNEL, U_HOUR, U_MINUTE, U_KIND, U_ONTIME, U_DURATION, U_FINISH_TOD, U_RETURN_LAG,
 U_SUPPLEMENT, U_STUCK, U_OPEN, U_RETURN_TOD) = range(14)  # fmt: skip
K = 14

COLUMNS = (
    "code",
    "procedure_code",
    "department_code",
    "org_unit_code",
    "channel",
    "received_at",
    "due_at",
    "due_date_only",
    "finished_at",
    "returned_at",
    "status",
    "supplement_count",
)


def _years_since(timeline: Timeline, days: np.ndarray, origin: date) -> np.ndarray:
    return (days + (timeline.origin - origin).days) / 365.25


def daily_rates(timeline: Timeline, scale: float) -> np.ndarray:
    """Expected dossiers per day of the window (shape (days, 1))."""
    days = np.arange(timeline.n_days)
    dates = timeline.dates(days)
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(int) % 12
    working = timeline.is_working[days]
    factor = np.where(working, np.where(weekday < 5, WEEKDAY_FACTOR[weekday], 1.0), NON_WORKING_FACTOR)
    tet = timeline.days_from_tet(days)
    factor = (
        factor * np.where((tet >= -12) & (tet <= -3), 1.15, 1.0) * np.where((tet > 3) & (tet <= 12), 0.8, 1.0)
    )
    trend = 1.07 ** _years_since(timeline, days, TREND_ORIGIN)
    return (PER_WORKING_DAY * scale * factor * MONTH_FACTOR[month] * trend)[:, None]


def department_on_time(seed: int, codes: list[str]) -> np.ndarray:
    """Base on-time rate of each processing unit (fixed per seed)."""
    rng = np.random.default_rng([seed, STREAM_CATALOGUE, 2])
    drawn = np.where(
        np.char.startswith(np.array(codes, dtype=str), COMMUNE_DEPARTMENT_PREFIX),
        0.86 + 0.13 * rng.beta(4, 1.5, size=len(codes)),
        0.90 + 0.085 * rng.random(len(codes)),
    )
    return np.array([ON_TIME_BASE.get(code, rate) for code, rate in zip(codes, drawn, strict=True)])


def generate(province: DemoProvince, timeline: Timeline, procedures: pd.DataFrame) -> pd.DataFrame:
    """All dossiers received in the window before the snapshot instant, with their state at it."""
    days_of_window = np.arange(timeline.n_days)
    ordinals = np.array([timeline.ordinal(int(d)) for d in days_of_window])
    day, _, seq, u = daily_draws(
        province.seed, STREAM_DOSSIERS, ordinals, daily_rates(timeline, province.scale), K
    )

    proc = pick(procedures["weight"].to_numpy(), u[:, U_PROC])
    communes = province.communes
    commune = pick(communes["population"].to_numpy(dtype=float), u[:, U_COMMUNE])
    working = timeline.is_working[day]

    # channel and time of day
    years = (day + (timeline.origin - ONLINE_MIDPOINT).days) / 180.0
    p_online = procedures["online"].to_numpy()[proc] * (0.35 + 0.5 / (1 + np.exp(-years)))
    online = ~working | (u[:, U_CHANNEL] < p_online)
    postal = ~online & (u[:, U_CHANNEL] > 0.98)
    channel = np.where(online, "online", np.where(postal, "postal", "in_person"))
    hour = np.where(online, pick(_HOURS_ONLINE, u[:, U_HOUR]), pick(_HOURS_IN_PERSON, u[:, U_HOUR]))
    tod = hour * 60 + np.floor(u[:, U_MINUTE] * 60).astype(np.int64)
    received = day * DAY_MINUTES + tod
    after_hours = ~working | (tod >= OFFICE_CLOSE)

    # deadline: a due day (date only), counted from the first working day on or after receipt
    start_day = timeline.first_working_day(day)
    n = procedures["processing_days"].to_numpy()[proc]
    due_day = timeline.add_working_days(start_day, n)
    due_day = np.where((n == 0) & after_hours, timeline.next_working_day(day), due_day)

    # processing units and their punctuality
    by_commune = procedures["by_commune"].to_numpy()[proc]
    commune_codes = communes["code"].to_numpy(dtype=str)
    dept_codes = np.where(
        by_commune,
        np.char.add(COMMUNE_DEPARTMENT_PREFIX, commune_codes[commune]),
        procedures["department_code"].to_numpy(dtype=str)[proc],
    )
    unit_codes, unit_index = np.unique(dept_codes, return_inverse=True)
    base_rate = department_on_time(province.seed, list(unit_codes))[unit_index]

    supplements = np.where(u[:, U_SUPPLEMENT] < 0.008, 2, np.where(u[:, U_SUPPLEMENT] < 0.05, 1, 0))
    tet = timeline.days_from_tet(day)
    p_on_time = (
        base_rate
        + 0.02 * _years_since(timeline, day, TREND_ORIGIN)
        - np.where((tet >= -10) & (tet <= 15), 0.07, 0.0)
        - 0.12 * (supplements > 0)
    )
    on_time = (u[:, U_ONTIME] < np.clip(p_on_time, 0.3, 0.995)) & (supplements < 2)
    stuck = u[:, U_STUCK] < 0.006

    # outcome kind: 0 normal, else the terminal status code 3/7/8
    kind = np.select([u[:, U_KIND] < 0.012, u[:, U_KIND] < 0.019, u[:, U_KIND] < 0.024], [3, 7, 8], 0)
    ud = u[:, U_DURATION]
    duration = np.where(
        on_time, np.minimum(np.floor(ud**1.5 * (n + 1)), n), n + 1 + np.floor(-np.log1p(-ud) * 4)
    ).astype(np.int64)
    duration = np.where(stuck, n + 20 + np.floor(ud * 80).astype(np.int64), duration)
    duration = np.where(kind > 0, np.floor(ud * 3).astype(np.int64), duration)
    finish_day = np.where(
        duration == 0,
        np.where(after_hours, timeline.next_working_day(day), day),
        timeline.add_working_days(start_day, duration),
    )
    finished = finish_day * DAY_MINUTES + OFFICE_OPEN + np.floor(u[:, U_FINISH_TOD] * 540).astype(np.int64)
    finished = np.maximum(finished, received + 15)

    lag = np.floor(np.where(online, u[:, U_RETURN_LAG] ** 3 * 2, u[:, U_RETURN_LAG] ** 2 * 4)).astype(
        np.int64
    )
    returned_day = timeline.add_working_days(finish_day, lag)
    returned = returned_day * DAY_MINUTES + OFFICE_OPEN + np.floor(u[:, U_RETURN_TOD] * 540).astype(np.int64)
    returned = np.maximum(returned, finished + 5)

    # state at the snapshot instant
    now = timeline.now_minutes
    keep = received < now
    done = finished <= now
    elapsed = now - received
    open_status = np.select(
        [
            online & (elapsed < DAY_MINUTES) & (u[:, U_OPEN] < 0.35),
            supplements > 0,
            u[:, U_OPEN] > 0.97,
            elapsed < 2 * DAY_MINUTES,
        ],
        [1, 5, 6, 2],
        4,
    )
    status = np.where(done, np.where(kind > 0, kind, np.where(returned <= now, 10, 9)), open_status)

    codes = _dossier_codes(province.code, timeline, day, seq)
    origin = np.datetime64(timeline.origin, "m")
    frame = pd.DataFrame(
        {
            "code": codes,
            "procedure_code": procedures["code"].to_numpy()[proc],
            "department_code": dept_codes,
            "org_unit_code": commune_codes[commune],
            "channel": channel,
            "received_at": local_timestamps(received, origin),
            "due_at": local_timestamps(due_day * DAY_MINUTES, origin) + END_OF_DAY,
            "due_date_only": np.ones(len(day), dtype=bool),
            "finished_at": local_timestamps(finished, origin, mask=~done),
            "returned_at": local_timestamps(returned, origin, mask=~(done & (status == 10))),
            "status": status.astype(np.int16),
            "supplement_count": supplements.astype(np.int16),
        }
    )
    return frame[keep].reset_index(drop=True)


def _dossier_codes(province_code: str, timeline: Timeline, day: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """MaHoSo-like codes: H<province>-<yymmdd>-<sequence of the day>, stable whatever `as_of` is."""
    stamps = pd.to_datetime(timeline.dates(np.arange(timeline.n_days))).strftime("%y%m%d").to_numpy(dtype=str)
    prefix = np.char.add(f"H{province_code}-", stamps)[day]
    return np.char.add(np.char.add(prefix, "-"), np.char.zfill(seq.astype(str), 5))


def chunks(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]
