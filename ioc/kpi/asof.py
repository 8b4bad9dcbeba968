"""How recent the data behind a KPI is (`data_as_of`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ioc.kpi.context import Context
from ioc.kpi.datasets import DATASETS
from ioc.kpi.spec import FactKpi, Kpi, LatestKpi
from ioc.models import IndicatorObservation


def data_as_of(ctx: Context, kpi: Kpi) -> datetime | None:
    if isinstance(kpi, LatestKpi):
        table = IndicatorObservation.__table__
        query = select(func.max(table.c.loaded_at)).where(table.c.indicator == kpi.indicator)
        return ctx.connection.execute(query).scalar()
    if not isinstance(kpi, FactKpi):
        stamps = [data_as_of(ctx, ctx.library.get(ref)) for ref in sorted(kpi.references())]
        known = [stamp for stamp in stamps if stamp is not None]
        return None if not stamps or len(known) < len(stamps) else min(known)
    dataset = DATASETS[kpi.dataset]
    state = ctx.dataset_state(dataset.name)
    if state.built and ctx.use_rollups:
        return state.data_as_of
    return ctx.connection.execute(select(func.max(dataset.table.c[dataset.freshness_column]))).scalar()
