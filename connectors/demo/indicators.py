"""Socio-economic indicators of the demo province (table indicator_observation).

Indicator codes are a contract with the KPI library — do not rename them:

| code | grain | area | unit | meaning |
|---|---|---|---|---|
| grdp_growth | quarter, year | province | % | GRDP growth vs the same period of the previous year |
| budget_revenue | month | province | tỷ đồng | state budget revenue collected in the month |
| budget_revenue_plan | year | province | tỷ đồng | annual revenue plan (estimate assigned) |
| iip | month | province | % | index of industrial production vs the same month last year (108.4) |
| retail_sales | month | province | tỷ đồng | retail sales of goods and services |
| exports | month | province | triệu USD | export turnover (coffee-driven seasonality) |
| cpi | month | province | % | consumer price index vs the same month last year (103.1) |
| fdi_registered | month | province | triệu USD | newly registered FDI capital (lumpy; 0 in many months) |
| poverty_rate | year | province and communes | % | multidimensional poverty rate |
| vneid_level2 | month | communes | tài khoản | cumulative VNeID level-2 activations |
| vneid_target | year | communes | tài khoản | activation target for the year |
| dvc_accounts | month | communes | tài khoản | cumulative national public-service portal accounts |

Magnitudes are plausible for Đắk Lắk after the 2025 merger (with former Phú Yên), not official data.
A period is published on the 6th of the following month (GSO practice); the latest period of each
series is `provisional`; about 1–2 % of cells are missing (value None, status ".."). Each series is
drawn from a fixed epoch, so a month's value does not change when the snapshot date moves.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from connectors.demo.province import STREAM_INDICATORS, DemoProvince
from connectors.demo.timeline import Timeline

EPOCH_YEAR = 2000
PUBLICATION_DAY = 6
BASE_YEAR = 2024  # magnitudes below are for 2024
MISSING_SHARE = 0.015

INDICATOR_IDS = {
    name: i
    for i, name in enumerate(
        (
            "grdp_growth",
            "budget_revenue",
            "budget_revenue_plan",
            "iip",
            "retail_sales",
            "exports",
            "cpi",
            "fdi_registered",
            "poverty_rate",
            "vneid_level2",
            "vneid_target",
            "dvc_accounts",
            "_missing",
        )
    )
}


def _month_index(day: date) -> int:
    return (day.year - EPOCH_YEAR) * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(EPOCH_YEAR + index // 12, index % 12 + 1, 1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _uniform_hash(key: np.ndarray) -> np.ndarray:
    """splitmix64 of each key → a uniform number in [0, 1): stable, uncorrelated between keys."""
    with np.errstate(over="ignore"):
        x = key.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class _Builder:
    """Collects rows; marks the latest period of each series provisional and some cells missing."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rows: list[dict[str, Any]] = []

    def rng(self, name: str, *extra: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, STREAM_INDICATORS, INDICATOR_IDS[name], *extra])

    def add(
        self,
        indicator: str,
        unit: str,
        grain: str,
        periods: list[tuple[date, str, date]],
        values: np.ndarray,
        org_unit: str,
        *,
        provisional: bool = True,
        missing: bool = True,
        salt: int = 0,
    ) -> None:
        """One series: periods are (start, display code, publication date)."""
        if not periods:
            return
        miss = np.zeros(len(periods), dtype=bool)
        if missing:
            starts = np.array([p[0].toordinal() for p in periods], dtype=np.uint64)
            key = starts + np.uint64(
                self.seed * 1_000_003 + INDICATOR_IDS[indicator] * 7_919 + salt * 104_729
            )
            miss = _uniform_hash(key) < MISSING_SHARE
            miss[-1] = False  # the newest value is the one screens show; keep it present
        for i, ((start, code, published), value) in enumerate(zip(periods, values, strict=True)):
            status = "provisional" if provisional and i == len(periods) - 1 else None
            self.rows.append(
                {
                    "indicator": indicator,
                    "org_unit_code": org_unit,
                    "grain": grain,
                    "period_start": start,
                    "period": code,
                    "value": None if miss[i] else float(value),
                    "status": ".." if miss[i] else status,
                    "unit": unit,
                    "vintage": published.isoformat(),
                }
            )


def _periods(timeline: Timeline) -> tuple[list[int], list[tuple[date, str, date]], list, list]:
    """Months (epoch indexes and periods), quarters and years published before the snapshot."""
    last_published = _month_index(timeline.now.date() - timedelta(days=PUBLICATION_DAY)) - 1
    first = _month_index(timeline.origin)
    month_ids = list(range(first, last_published + 1))
    months = []
    for m in month_ids:
        start = _month_start(m)
        months.append((start, f"{start:%Y-%m}", _next_month(start).replace(day=PUBLICATION_DAY)))
    quarters = []
    for m in range(first - first % 3, last_published - 1, 3):
        if m + 2 > last_published:
            break
        start = _month_start(m)
        published = _next_month(_month_start(m + 2)).replace(day=PUBLICATION_DAY)
        quarters.append((start, f"{start.year}-Q{(start.month - 1) // 3 + 1}", published))
    years = []
    for year in range(timeline.origin.year, EPOCH_YEAR + (last_published + 1) // 12):
        years.append((date(year, 1, 1), str(year), date(year + 1, 1, PUBLICATION_DAY)))
    return month_ids, months, quarters, years


def generate(province: DemoProvince, timeline: Timeline) -> pd.DataFrame:
    b = _Builder(province.seed)
    month_ids, months, quarters, years = _periods(timeline)
    p = province.code
    m = np.asarray(month_ids, dtype=np.int64)
    calendar_month = m % 12
    years_from_base = (m / 12 + EPOCH_YEAR) - BASE_YEAR

    def monthly(name: str, sigma: float, stream: int = 0) -> np.ndarray:
        """Noise for every month since the epoch, indexed by month id (stable across snapshots)."""
        draws = b.rng(name, stream).normal(0.0, sigma, size=int(m.max(initial=0)) + 1)
        return draws[m] if m.size else np.zeros(0)

    # ---- monthly province series
    revenue_season = np.array([1.25, 0.75, 0.95, 1.0, 0.9, 0.95, 0.9, 0.9, 0.9, 0.95, 1.0, 1.55])
    revenue_season = revenue_season / revenue_season.mean()
    revenue = (
        16_800
        / 12
        * 1.08**years_from_base
        * revenue_season[calendar_month]
        * (1 + monthly("budget_revenue", 0.08))
    )
    b.add("budget_revenue", "tỷ đồng", "month", months, np.round(revenue, 1), p)

    iip = 100 + 8.5 + np.where(calendar_month == 1, -3.0, 0.0) + monthly("iip", 2.5)
    b.add("iip", "%", "month", months, np.round(iip, 1), p)

    retail_season = np.array([1.1, 1.08, 0.97, 0.97, 0.98, 0.98, 0.98, 0.99, 0.98, 1.0, 1.0, 1.07])
    retail = (
        11_500 * 1.10**years_from_base * retail_season[calendar_month] * (1 + monthly("retail_sales", 0.02))
    )
    b.add("retail_sales", "tỷ đồng", "month", months, np.round(retail, 1), p)

    export_season = np.array([1.4, 1.1, 1.3, 1.25, 1.05, 0.85, 0.75, 0.7, 0.7, 0.75, 0.9, 1.25])
    exports = 210 * 1.12**years_from_base * export_season[calendar_month] * (1 + monthly("exports", 0.08))
    b.add("exports", "triệu USD", "month", months, np.round(exports, 1), p)

    cpi = 103.0 + 0.6 * np.sin(m / 5.0) + monthly("cpi", 0.3)
    b.add("cpi", "%", "month", months, np.round(cpi, 2), p)

    lumpy = b.rng("fdi_registered", 1).random(int(m.max(initial=0)) + 1)[m] if m.size else np.zeros(0)
    fdi = np.where(lumpy < 0.45, 0.0, np.exp(2.7 + 1.0 * monthly("fdi_registered", 1.0)))
    b.add("fdi_registered", "triệu USD", "month", months, np.round(fdi, 2), p)

    # ---- GRDP growth: quarters, and years as the mean of their four quarters (same draws)
    quarter_ids = [_month_index(q[0]) // 3 for q in quarters]
    year_quarters = [[(y[0].year - EPOCH_YEAR) * 4 + k for k in range(4)] for y in years]
    size = max([*quarter_ids, *(q for qs in year_quarters for q in qs)], default=0) + 1
    q_noise = b.rng("grdp_growth").normal(0.0, 0.8, size=size)

    def q_growth(qid: int) -> float:
        return 7.2 - (0.6 if qid % 4 == 0 else 0.0) + q_noise[qid]

    b.add("grdp_growth", "%", "quarter", quarters, np.round([q_growth(q) for q in quarter_ids], 2), p)
    annual = [np.mean([q_growth(q) for q in qs]) for qs in year_quarters]
    b.add("grdp_growth", "%", "year", years, np.round(annual, 2), p)

    # ---- plans and targets: known from January of their year, never provisional nor missing
    plan_years = [
        (date(y, 1, 1), str(y), date(y, 1, 1)) for y in range(timeline.origin.year, timeline.now.year + 1)
    ]
    plan = [round(16_800 * 1.08 ** (s.year - BASE_YEAR) * 0.93, -2) for s, _, _ in plan_years]
    b.add(
        "budget_revenue_plan",
        "tỷ đồng",
        "year",
        plan_years,
        np.asarray(plan),
        p,
        provisional=False,
        missing=False,
    )

    # ---- poverty: province and communes
    communes = province.communes
    population = communes["population"].to_numpy(dtype=float)
    remote = communes["remote"].to_numpy()
    profile = 0.2 + 2.5 * remote**2
    profile = profile / np.average(profile, weights=population)
    year_numbers = np.array([s.year for s, _, _ in years], dtype=float)
    province_poverty = 7.5 * 0.86 ** (year_numbers - 2023)
    b.add("poverty_rate", "%", "year", years, np.round(province_poverty, 2), p)
    poverty_noise = b.rng("poverty_rate").normal(0, 0.08, size=len(communes))
    for i, code in enumerate(communes["code"]):
        values = np.clip(province_poverty * profile[i] * (1 + poverty_noise[i]), 0.1, 60)
        b.add("poverty_rate", "%", "year", years, np.round(values, 2), code, salt=i)

    # ---- digital citizens per commune
    adults = population * 0.72
    month_float = m.astype(float)

    def logistic(mid: np.ndarray, tau: float) -> np.ndarray:
        return 1 / (1 + np.exp(-(month_float[None, :] - mid[:, None]) / tau))

    vneid_mid = _month_index(date(2024, 3, 1)) + 8 * remote
    vneid = np.floor(adults[:, None] * (0.95 - 0.25 * remote)[:, None] * logistic(vneid_mid, 5.0))
    dvc_mid = _month_index(date(2025, 3, 1)) + 6 * remote
    dvc = np.floor(population[:, None] * (0.45 - 0.2 * remote)[:, None] * logistic(dvc_mid, 7.0))
    target_years = plan_years
    for i, code in enumerate(communes["code"]):
        b.add("vneid_level2", "tài khoản", "month", months, vneid[i], code, salt=i)
        b.add("dvc_accounts", "tài khoản", "month", months, dvc[i], code, salt=10_000 + i)
        target = [round(adults[i] * min(0.6 + 0.12 * (s.year - 2023), 0.95), -1) for s, _, _ in target_years]
        b.add(
            "vneid_target",
            "tài khoản",
            "year",
            target_years,
            np.asarray(target),
            code,
            provisional=False,
            missing=False,
        )

    return pd.DataFrame(b.rows)
