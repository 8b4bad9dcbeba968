"""How recent the data behind a KPI is (`data_as_of`), and periods the data does not reach yet.

The one freshness rule (:mod:`ioc.freshness`): a dataset is as of the newest successful run of the
sources loading it, read from `connector_run`. Only for rows no run has loaded (direct SQL, tests)
does the newest change recorded by the rollups (or, before any rollup, the fact table) stand in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ioc import freshness
from ioc.kpi.context import Context
from ioc.kpi.datasets import DATASETS
from ioc.kpi.periods import Period
from ioc.kpi.spec import FactKpi, Kpi, KpiLibrary, LatestKpi
from ioc.models import IndicatorObservation

INDICATORS = IndicatorObservation.__tablename__


def kpi_tables(library: KpiLibrary, kpi: Kpi) -> tuple[str, ...]:
    """The fact tables a KPI is computed from (through growth and derived KPIs too)."""
    if isinstance(kpi, LatestKpi):
        return (INDICATORS,)
    if isinstance(kpi, FactKpi):
        return (DATASETS[kpi.dataset].table.name,)
    found: set[str] = set()
    for ref in sorted(kpi.references()):
        found.update(kpi_tables(library, library.get(ref)))
    return tuple(sorted(found))


def kpi_freshness(
    library: KpiLibrary, kpi: Kpi, known: dict[str, freshness.DatasetFreshness], now: datetime
) -> freshness.Freshness:
    """Fresh, stale, failed or never loaded, as of when: for tiles and lineage."""
    return freshness.combine(kpi_tables(library, kpi), known, kpi.freshness_delta, now)


def _loaded(ctx: Context) -> dict[str, freshness.DatasetFreshness]:
    if ctx.loads is None:
        ctx.loads = freshness.dataset_freshness(freshness.source_runs(ctx.connection))
    return ctx.loads


def _table_as_of(ctx: Context, table: str) -> datetime | None:
    """When a fact table's data is as of: its sources' newest successful run, else its newest change."""
    if table not in ctx.as_of_cache:
        loaded = _loaded(ctx).get(table)
        if loaded is not None and loaded.data_as_of is not None:
            ctx.as_of_cache[table] = loaded.data_as_of
        elif table == INDICATORS:
            column = IndicatorObservation.__table__.c.loaded_at
            ctx.as_of_cache[table] = ctx.connection.execute(select(func.max(column))).scalar()
        else:
            dataset = next(d for d in DATASETS.values() if d.table.name == table)
            state = ctx.dataset_state(dataset.name)
            if state.built and ctx.use_rollups:
                ctx.as_of_cache[table] = state.data_as_of
            else:
                query = select(func.max(dataset.table.c[dataset.freshness_column]))
                ctx.as_of_cache[table] = ctx.connection.execute(query).scalar()
    return ctx.as_of_cache[table]


def data_as_of(ctx: Context, kpi: Kpi) -> datetime | None:
    """The oldest of the KPI's tables' as-of times (None when one of them has no data)."""
    stamps = [_table_as_of(ctx, table) for table in kpi_tables(ctx.library, kpi)]
    known = [stamp for stamp in stamps if stamp is not None]
    return None if not stamps or len(known) < len(stamps) else min(known)


def beyond_data(ctx: Context, kpi: FactKpi, period: Period) -> bool:
    """True when the period has no data yet, so its value is "no data", never 0: it starts in the
    future, or after the data's as-of time, or (a snapshot KPI) after the moment it would be measured
    at (today's open dossiers are not next month's)."""
    start = ctx.start_at(period)
    if start > ctx.now:
        return True
    if any(part.snapshot for part in kpi.parts().values()) and ctx.moment(period) < start:
        return True
    newest = _table_as_of(ctx, DATASETS[kpi.dataset].table.name)
    return newest is None or start > newest
