"""Incidents of the demo province: field reports, traffic accidents, public order, infosec, fires.

Rates at scale 1 (per day, before seasonality): field reports 15, traffic accidents 2.5, public-order
events 3, information-security alerts 1.5, fires 0.8 — about 25,000 over three years. Each category
has its own hour-of-day and day-of-week profile (accidents peak in the evening and at weekends, and
around Tết; fires in the Central Highlands dry season, January–April). Points are scattered around
their commune's (demo) position and kept inside the province box. Field reports carry an SLA of 5
working days and infosec alerts 2 (`due_at`); a few field reports stay open past it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from connectors.demo.province import STREAM_INCIDENTS, DemoProvince, daily_draws, local_timestamps, pick
from connectors.demo.timeline import Timeline

DAY_MINUTES = 1440


@dataclass(frozen=True)
class Category:
    name: str
    prefix: str
    rate: float
    hours: tuple[float, ...]  # 24 relative weights
    weekdays: tuple[float, ...]  # Monday … Sunday
    months: tuple[float, ...]  # January … December
    tet: float  # factor within a week of Tết
    services: tuple[tuple[str, float], ...]
    severity: tuple[float, float, float]
    sla_working_days: int | None
    mean_hours_to_close: float


def _profile(*pairs: tuple[range, float]) -> tuple[float, ...]:
    weights = [0.05] * 24
    for hours, weight in pairs:
        for hour in hours:
            weights[hour] = weight
    return tuple(weights)


CATEGORIES: tuple[Category, ...] = (
    Category(
        "field_report", "PAHT", 15.0,
        _profile((range(6, 8), 0.5), (range(8, 12), 1.0), (range(12, 14), 0.6), (range(14, 18), 0.9),
                 (range(18, 22), 0.6), (range(22, 24), 0.2)),
        (1.1, 1.05, 1.0, 1.0, 0.95, 0.6, 0.55), (1.0,) * 12, 0.6,
        (("PAHT-MT", 0.25), ("PAHT-GT", 0.2), ("PAHT-DT", 0.2), ("PAHT-DD", 0.12), ("PAHT-DN", 0.15),
         ("PAHT-YT", 0.08)),
        (0.7, 0.25, 0.05), 5, 40.0,
    ),
    Category(
        "traffic_accident", "TNGT", 2.5,
        _profile((range(6, 9), 0.8), (range(9, 16), 0.5), (range(16, 19), 1.0), (range(19, 23), 1.2),
                 (range(23, 24), 0.5), (range(0, 3), 0.3)),
        (0.9, 0.85, 0.85, 0.9, 1.1, 1.4, 1.4),
        (1.1, 1.2, 1.0, 1.0, 0.95, 0.9, 0.9, 0.95, 1.0, 1.0, 1.0, 1.1), 1.8,
        (("TNGT-OTO", 0.3), ("TNGT-XEMAY", 0.6), ("TNGT-KHAC", 0.1)),
        (0.6, 0.3, 0.1), None, 30.0,
    ),
    Category(
        "public_order", "ANTT", 3.0,
        _profile((range(8, 18), 0.5), (range(18, 20), 0.9), (range(20, 24), 1.2), (range(0, 2), 0.7)),
        (0.9, 0.9, 0.9, 0.95, 1.1, 1.3, 1.3),
        (1.1, 1.15, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 1.0, 1.0, 1.0, 1.05), 1.3,
        (("ANTT-GAYROI", 0.4), ("ANTT-TROMCAP", 0.35), ("ANTT-CODE", 0.1), ("ANTT-KHAC", 0.15)),
        (0.6, 0.3, 0.1), None, 12.0,
    ),
    Category(
        "infosec", "ATTT", 1.5,
        _profile((range(7, 12), 1.0), (range(13, 18), 1.0), (range(18, 23), 0.2)),
        (1.1, 1.1, 1.0, 1.0, 1.0, 0.35, 0.3), (1.0,) * 12, 0.5,
        (("ATTT-MALWARE", 0.4), ("ATTT-PHISHING", 0.35), ("ATTT-DDOS", 0.1), ("ATTT-DEFACE", 0.15)),
        (0.5, 0.35, 0.15), 2, 20.0,
    ),
    Category(
        "fire", "CHAY", 0.8,
        _profile((range(9, 11), 0.6), (range(11, 17), 1.0), (range(17, 22), 0.6)),
        (1.0,) * 7, (2.2, 2.8, 3.0, 2.2, 0.8, 0.5, 0.4, 0.4, 0.4, 0.5, 0.6, 1.2), 1.4,
        (("CHAY-NHA", 0.35), ("CHAY-RUNG", 0.35), ("CHAY-CSKD", 0.2), ("CHAY-XE", 0.1)),
        (0.55, 0.35, 0.10), None, 3.0,
    ),
)  # fmt: skip

COLUMNS = (
    "external_id",
    "category",
    "service_code",
    "org_unit_code",
    "lat",
    "lon",
    "reported_at",
    "due_at",
    "closed_at",
    "status",
    "severity",
)

U_COMMUNE, U_HOUR, U_MINUTE, U_SERVICE, U_SEVERITY, U_LAT, U_LON, U_CLOSE, U_STUCK = range(9)
K = 9


def daily_rates(timeline: Timeline, scale: float) -> np.ndarray:
    days = np.arange(timeline.n_days)
    dates = timeline.dates(days)
    weekday = (dates.view("int64") - 4) % 7
    month = dates.astype("datetime64[M]").astype(int) % 12
    near_tet = np.abs(timeline.days_from_tet(days)) <= 7
    rates = np.empty((len(days), len(CATEGORIES)))
    for i, cat in enumerate(CATEGORIES):
        rates[:, i] = (
            cat.rate
            * scale
            * np.asarray(cat.weekdays)[weekday]
            * np.asarray(cat.months)[month]
            * np.where(near_tet, cat.tet, 1.0)
        )
    return rates


def generate(province: DemoProvince, timeline: Timeline) -> pd.DataFrame:
    ordinals = np.array([timeline.ordinal(int(d)) for d in range(timeline.n_days)])
    day, cat, seq, u = daily_draws(
        province.seed, STREAM_INCIDENTS, ordinals, daily_rates(timeline, province.scale), K
    )
    n = len(day)
    communes = province.communes
    commune = pick(communes["population"].to_numpy(dtype=float), u[:, U_COMMUNE])

    hour = np.zeros(n, dtype=np.int64)
    service = np.empty(n, dtype=object)
    severity = np.zeros(n, dtype=np.int64)
    close_after = np.zeros(n, dtype=np.int64)  # minutes
    due = np.full(n, -1, dtype=np.int64)
    for i, c in enumerate(CATEGORIES):
        mask = cat == i
        hour[mask] = pick(np.asarray(c.hours), u[mask, U_HOUR])
        codes = np.array([s for s, _ in c.services], dtype=object)
        service[mask] = codes[pick(np.array([w for _, w in c.services]), u[mask, U_SERVICE])]
        severity[mask] = 1 + pick(np.asarray(c.severity), u[mask, U_SEVERITY])
        close_after[mask] = np.ceil(-np.log1p(-u[mask, U_CLOSE]) * c.mean_hours_to_close * 60 + 20).astype(
            np.int64
        )
        if c.sla_working_days is not None:
            due[mask] = (
                timeline.add_working_days(day[mask], np.full(mask.sum(), c.sla_working_days)) * DAY_MINUTES
            )
            due[mask] += 17 * 60
    reported = day * DAY_MINUTES + hour * 60 + np.floor(u[:, U_MINUTE] * 60).astype(np.int64)
    # a few field reports are stuck for weeks, so open overdue reports exist at any snapshot
    stuck = (cat == 0) & (u[:, U_STUCK] < 0.02)
    close_after = np.where(
        stuck, close_after + (20 + np.floor(u[:, U_STUCK] * 2000)).astype(np.int64) * DAY_MINUTES, close_after
    )
    closed = reported + close_after

    now = timeline.now_minutes
    keep = reported < now
    is_closed = closed <= now

    lat, lon = _scatter(province, commune, u[:, U_LAT], u[:, U_LON])
    prefixes = np.array([c.prefix for c in CATEGORIES])[cat]
    stamps = pd.to_datetime(timeline.dates(np.arange(timeline.n_days))).strftime("%y%m%d").to_numpy(dtype=str)
    external_id = np.char.add(
        np.char.add(np.char.add(prefixes, "-"), stamps[day]),
        np.char.add("-", np.char.zfill(seq.astype(str), 4)),
    )
    origin = np.datetime64(timeline.origin, "m")
    frame = pd.DataFrame(
        {
            "external_id": external_id,
            "category": np.array([c.name for c in CATEGORIES])[cat],
            "service_code": service,
            "org_unit_code": communes["code"].to_numpy(dtype=str)[commune],
            "lat": lat,
            "lon": lon,
            "reported_at": local_timestamps(reported, origin),
            "due_at": local_timestamps(due, origin, mask=due < 0),
            "closed_at": local_timestamps(closed, origin, mask=~is_closed),
            "status": np.where(is_closed, "closed", "open"),
            "severity": severity.astype(np.int16),
        }
    )
    return frame[keep].reset_index(drop=True)


def _scatter(
    province: DemoProvince, commune: np.ndarray, u1: np.ndarray, u2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Points around each commune's position (Box–Muller, σ ≈ 3 km), clipped to the province box."""
    base_lat = province.communes["lat"].to_numpy(dtype=float)[commune]
    base_lon = province.communes["lon"].to_numpy(dtype=float)[commune]
    radius = np.sqrt(-2 * np.log1p(-u1)) * 0.025
    lat = base_lat + radius * np.cos(2 * np.pi * u2)
    lon = base_lon + radius * np.sin(2 * np.pi * u2)
    geo = province.geo
    if geo is not None:
        lat = np.clip(lat, geo.lat_min, geo.lat_max)
        lon = np.clip(lon, geo.lon_min, geo.lon_max)
    return np.round(lat, 5), np.round(lon, 5)
