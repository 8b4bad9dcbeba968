"""How recent the data behind a KPI is (`data_as_of`), and periods the data does not reach yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ioc import freshness
from ioc.kpi.context import Context
from ioc.kpi.datasets import DATASETS
from ioc.kpi.periods import Period
from ioc.kpi.spec import FactKpi, Kpi, LatestKpi
from ioc.models import IndicatorObservation


def dataset_as_of(ctx: Context, name: str) -> datetime | None:
    """When a fact dataset's data is as of: the one freshness rule (`ioc.freshness`, from
    `connector_run`); for data that no connector run loaded (tests, a direct SQL load) the rollup
    state, else the newest change in the table."""
    if name not in ctx.as_of_cache:
        dataset = DATASETS[name]
        by_runs = freshness.dataset_freshness(freshness.source_runs(ctx.connection))
        known = by_runs.get(dataset.table.name)
        state = ctx.dataset_state(name)
        if known is not None and known.data_as_of is not None:
            ctx.as_of_cache[name] = known.data_as_of
        elif state.built and ctx.use_rollups:
            ctx.as_of_cache[name] = state.data_as_of
        else:
            query = select(func.max(dataset.table.c[dataset.freshness_column]))
            ctx.as_of_cache[name] = ctx.connection.execute(query).scalar()
    return ctx.as_of_cache[name]


def data_as_of(ctx: Context, kpi: Kpi) -> datetime | None:
    if isinstance(kpi, LatestKpi):
        table = IndicatorObservation.__table__
        query = select(func.max(table.c.loaded_at)).where(table.c.indicator == kpi.indicator)
        return ctx.connection.execute(query).scalar()
    if not isinstance(kpi, FactKpi):
        stamps = [data_as_of(ctx, ctx.library.get(ref)) for ref in sorted(kpi.references())]
        known = [stamp for stamp in stamps if stamp is not None]
        return None if not stamps or len(known) < len(stamps) else min(known)
    return dataset_as_of(ctx, kpi.dataset)


def beyond_data(ctx: Context, kpi: FactKpi, period: Period) -> bool:
    """True when the period has no data yet, so its value is "no data", never 0: it starts in the
    future, or after the newest change in the dataset, or (a snapshot KPI) after the moment it would
    be measured at (today's open dossiers are not next month's)."""
    start = ctx.start_at(period)
    if start > ctx.now:
        return True
    if any(part.snapshot for part in kpi.parts().values()) and ctx.moment(period) < start:
        return True
    newest = dataset_as_of(ctx, kpi.dataset)
    return newest is None or start > newest
