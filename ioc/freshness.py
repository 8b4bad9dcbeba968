"""How fresh each dataset is: the one freshness rule, read from `connector_run` only.

A dataset (a fact table: `dossier`, `incident`, `indicator_observation`) is as fresh as the newest
successful run (status `success` or `partial`) of any source whose connector loads it. Its data is
*as of* that run's end. A KPI's data is as of the oldest of the datasets it is computed from, and it
is *stale* when that age passes the KPI's expected freshness. A source whose newest finished run
failed is reported as failed, never hidden behind older numbers.

Nothing here scans a fact table: one grouped query over `connector_run` (small: one row per run) is
all it costs, so a wall of 36 screens can ask every refresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Connection, text

FRESH, STALE, FAILED, NEVER = "fresh", "stale", "failed", "never_loaded"


@dataclass(frozen=True)
class SourceRuns:
    """One source's runs, reduced to what freshness needs."""

    source: str
    connector: str
    last_success: datetime | None
    last_status: str | None
    """Status of the newest run that has finished (a `running` run does not count yet)."""
    last_finished: datetime | None
    last_error: str | None

    @property
    def failing(self) -> bool:
        return self.last_status == "failed"


@dataclass(frozen=True)
class DatasetFreshness:
    dataset: str
    data_as_of: datetime | None
    sources: tuple[str, ...]
    failed_sources: tuple[str, ...]


_SOURCE_RUNS_SQL = text(
    """
    SELECT DISTINCT ON (source) source, connector, status, finished_at, error,
           max(finished_at) FILTER (WHERE status IN ('success', 'partial'))
               OVER (PARTITION BY source) AS last_success
      FROM connector_run
     WHERE status <> 'running'
     ORDER BY source, started_at DESC, id DESC
    """
)


def source_runs(connection: Connection) -> dict[str, SourceRuns]:
    """Per source that ever finished a run: its newest finished run and its last success."""
    return {
        row.source: SourceRuns(
            source=row.source,
            connector=row.connector,
            last_success=row.last_success,
            last_status=row.status,
            last_finished=row.finished_at,
            last_error=row.error,
        )
        for row in connection.execute(_SOURCE_RUNS_SQL)
    }


@lru_cache(maxsize=64)
def connector_targets(connector: str) -> tuple[str, ...]:
    """The tables a connector declares it loads (empty when the connector is unknown here)."""
    from ioc.config import ConfigError
    from ioc.connector import connector_class

    try:
        return tuple(connector_class(connector).targets)
    except (ConfigError, ImportError, AttributeError):
        return ()


def dataset_freshness(runs: Mapping[str, SourceRuns]) -> dict[str, DatasetFreshness]:
    """Per fact table: the newest success of the sources loading it, and which of them are failing."""
    by_table: dict[str, list[SourceRuns]] = {}
    for run in runs.values():
        for table in connector_targets(run.connector):
            by_table.setdefault(table, []).append(run)
    out = {}
    for table, feeding in by_table.items():
        successes = [run.last_success for run in feeding if run.last_success is not None]
        out[table] = DatasetFreshness(
            dataset=table,
            data_as_of=max(successes, default=None),
            sources=tuple(sorted(run.source for run in feeding)),
            failed_sources=tuple(sorted(run.source for run in feeding if run.failing)),
        )
    return out


@dataclass(frozen=True)
class Freshness:
    """What a tile says about its data: as of when, how old, and fresh / stale / failed / never."""

    state: str
    data_as_of: datetime | None
    age: timedelta | None
    sources: tuple[str, ...] = ()
    failed_sources: tuple[str, ...] = ()

    @property
    def stale(self) -> bool:
        return self.state != FRESH


def combine(
    datasets: Iterable[str],
    known: Mapping[str, DatasetFreshness],
    expected_every: timedelta,
    now: datetime,
) -> Freshness:
    """Freshness of a number computed from several datasets: as old as its oldest input."""
    parts = [known.get(name) for name in datasets]
    present = [part for part in parts if part is not None]
    if not present or len(present) != len(parts) or any(p.data_as_of is None for p in present):
        sources = tuple(s for part in present for s in part.sources)
        failed = tuple(s for part in present for s in part.failed_sources)
        return Freshness(FAILED if failed else NEVER, None, None, sources, failed)
    as_of = min(part.data_as_of for part in present if part.data_as_of is not None)
    age = max(now - as_of, timedelta(0))
    sources = tuple(sorted({s for part in present for s in part.sources}))
    failed = tuple(sorted({s for part in present for s in part.failed_sources}))
    state = FAILED if failed else STALE if age > expected_every else FRESH
    return Freshness(state, as_of, age, sources, failed)
