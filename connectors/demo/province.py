"""What every part of the demo shares: the communes with populations, the seed, and per-day draws.

Determinism: every random number comes from a generator seeded with (seed, stream, day). A dossier
or incident that happened on a given day is therefore the same whatever the snapshot date (`as_of`);
only its status moves on as `as_of` does, so a daily re-run changes few rows and a re-run with the
same `as_of` changes none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ioc.areas import ProvinceGeo, province_geo

#: Rough population after the 2025 merger (Đắk Lắk with former Phú Yên); others: per commune.
PROVINCE_POPULATION = {66: 3_350_000}
PEOPLE_PER_COMMUNE = 30_000

#: Random streams (the second element of every seed sequence).
STREAM_CATALOGUE, STREAM_COMMUNES, STREAM_DOSSIERS, STREAM_INCIDENTS, STREAM_INDICATORS = range(1, 6)


@dataclass
class DemoProvince:
    code: str
    communes: pd.DataFrame  # code, name, kind, lat, lon, population
    geo: ProvinceGeo | None
    seed: int
    scale: float

    @classmethod
    def build(
        cls, org_units: list[dict[str, Any]], province_code: str, seed: int, scale: float
    ) -> DemoProvince:
        units = pd.DataFrame(org_units)
        communes = units[
            (units["level"] == 2) & (units["parent_code"] == province_code) & units["valid_to"].isna()
        ].sort_values("code")
        communes = communes[["code", "name", "name_en", "kind", "lat", "lon"]].reset_index(drop=True)
        rng = np.random.default_rng([seed, STREAM_COMMUNES])
        weight = rng.lognormal(0.0, 0.45, size=len(communes)) * np.where(
            communes["kind"] == "phường", 1.8, 1.0
        )
        total = PROVINCE_POPULATION.get(int(province_code), PEOPLE_PER_COMMUNE * len(communes))
        communes["population"] = np.round(total * weight / weight.sum()).astype(np.int64)
        # A remoteness score (0 town … 1 remote) drives poverty and digital uptake.
        communes["remote"] = np.clip(
            rng.beta(2, 2, size=len(communes)) * np.where(communes["kind"] == "phường", 0.4, 1.0), 0, 1
        )
        return cls(province_code, communes, province_geo(province_code), seed, scale)


def daily_draws(
    seed: int, stream: int, ordinals: np.ndarray, rates: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Poisson counts per day (and per category) and `k` uniforms per event, each day its own stream.

    `rates` has shape (days, categories). Returns (day index, category, sequence number within the
    day and category starting at 1, uniforms of shape (events, k)).
    """
    days, cats, seqs, blocks = [], [], [], []
    for i, ordinal in enumerate(ordinals):
        rng = np.random.default_rng([seed, stream, int(ordinal)])
        counts = rng.poisson(rates[i])
        total = int(counts.sum())
        if total == 0:
            continue
        blocks.append(rng.random((total, k)))
        days.append(np.full(total, i, dtype=np.int64))
        cats.append(np.repeat(np.arange(len(counts)), counts))
        seqs.append(np.concatenate([np.arange(1, c + 1) for c in counts]))
    if not blocks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros((0, k))
    return np.concatenate(days), np.concatenate(cats), np.concatenate(seqs), np.vstack(blocks)


def pick(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF choice: index into `weights` for each uniform in `u`."""
    cdf = np.cumsum(weights, dtype=float)
    return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), len(weights) - 1)


def local_timestamps(minutes: np.ndarray, origin: np.datetime64, mask: np.ndarray | None = None) -> pd.Series:
    """Minutes since `origin` (local midnight) → tz-aware Asia/Ho_Chi_Minh timestamps (NaT where masked)."""
    values = origin + minutes.astype("timedelta64[m]")
    series = pd.Series(values.astype("datetime64[ns]"))
    if mask is not None:
        series = series.where(~mask)
    return series.dt.tz_localize("Asia/Ho_Chi_Minh")
