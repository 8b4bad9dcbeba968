"""Rollup planning: which rollup (if any) answers a fact query; None means the fact table is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from ioc.kpi.context import Context
from ioc.kpi.datasets import Dataset
from ioc.kpi.periods import LOCAL_TZ_NAME, Period
from ioc.kpi.rollup import ROLLUPS, OpenRollup, Rollup, find_open_rollup, history_moments
from ioc.kpi.spec import MeasureSpec


@dataclass(frozen=True)
class History:
    """Plan: the stored snapshot of open rows at a past month start."""

    rollup: OpenRollup


Plan = Rollup | OpenRollup | History | None


def plan(
    ctx: Context, dataset: Dataset, parts: list[MeasureSpec], period: Period, breakdown: str | None
) -> Plan:
    """The rollup that answers every part, if any (else the fact table is read)."""
    if not ctx.use_rollups or ctx.zone.key != LOCAL_TZ_NAME:
        return None  # rollups are built on local days in the module's zone; another zone reads raw
    state = ctx.dataset_state(dataset.name)
    if not state.built:
        return None
    column = dataset.breakdowns[breakdown].column if breakdown else None
    if all(part.snapshot for part in parts):
        moment = ctx.moment(period)
        found = find_open_rollup(dataset.name, parts, column)
        if found is None or state.refreshed_at is None or state.snapshot_from is None:
            return None
        if moment >= state.snapshot_from:  # refreshed, and no row opens or closes later
            return found
        local = moment.astimezone(ctx.zone)
        month_start = local.day == 1 and local.time() == time(0) and moment.utcoffset() is not None
        if month_start and local.date() in history_moments(state.refreshed_at):
            return History(found)
        return None  # another past moment: only the fact table knows
    if len({(part.time, bool(part.snapshot)) for part in parts}) != 1:
        return None
    for rollup in ROLLUPS:
        if rollup.dataset == dataset.name and all(rollup.serves(part, column, period) for part in parts):
            return rollup
    return None
