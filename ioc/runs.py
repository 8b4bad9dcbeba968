"""Bookkeeping of connector runs in Postgres: run rows, cursors, locks, freshness and state queries.

All SQL about `connector_run` lives here, so the runner, the scheduler, the CLI and the dashboard's
sources page share one definition of "last cursor", "last success", "data age" and "late".

* A run row is inserted (status `running`) and committed before the first batch; each batch then
  adds its counters and cursor in the batch's own transaction (:func:`record_batch`), so the row
  always matches what is stored.
* The last cursor of a source is the cursor of its most recent run that has one: a run that failed
  half-way keeps the cursor of its last committed batch, so the next run continues from there.
* A source is *late* when its last successful run (status `success` or `partial`) finished longer
  ago than the source's `expected_every`, or when it never succeeded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from ioc.config import Settings, parse_duration
from ioc.freshness import connector_targets
from ioc.models import Base

#: Statuses of a run that delivered data (a `partial` run loaded its good records).
SUCCESS_STATUSES = ("success", "partial")

#: Error stored on `running` rows a dead process left behind (see :func:`close_interrupted_runs`).
INTERRUPTED = "interrupted: the process ended before the run finished"


# --------------------------------------------------------------------------- run rows


def _json(value: Any) -> str | None:
    if value is None:
        return None

    def default(item: Any) -> Any:
        if isinstance(item, datetime | date):
            return item.isoformat()
        if isinstance(item, Decimal):
            return str(item)
        if isinstance(item, set | frozenset | tuple):
            return list(item)
        raise TypeError(f"cursor value {item!r} is not JSON serialisable")

    return json.dumps(value, default=default, ensure_ascii=False)


def start_run(
    connection: Connection,
    *,
    source: str,
    connector: str,
    full: bool,
    cursor: Mapping[str, Any] | None,
) -> int:
    """Insert a `running` row; its cursor starts at the cursor the run continues from."""
    return int(
        connection.execute(
            text(
                "INSERT INTO connector_run (source, connector, status, full_refresh, cursor) "
                "VALUES (:source, :connector, 'running', :full, CAST(:cursor AS jsonb)) RETURNING id"
            ),
            {"source": source, "connector": connector, "full": full, "cursor": _json(cursor)},
        ).scalar_one()
    )


def record_batch(
    connection: Connection,
    run_id: int,
    *,
    read: int,
    inserted: int,
    updated: int,
    unchanged: int,
    rejected: int,
    cursor: Mapping[str, Any] | None,
) -> None:
    """Add one batch's counters to its run and move the cursor (a batch without a cursor keeps it)."""
    connection.execute(
        text(
            "UPDATE connector_run SET rows_read = rows_read + :read, "
            "rows_inserted = rows_inserted + :inserted, rows_updated = rows_updated + :updated, "
            "rows_unchanged = rows_unchanged + :unchanged, rows_rejected = rows_rejected + :rejected, "
            "cursor = COALESCE(CAST(:cursor AS jsonb), cursor) WHERE id = :id"
        ),
        {
            "id": run_id,
            "read": read,
            "inserted": inserted,
            "updated": updated,
            "unchanged": unchanged,
            "rejected": rejected,
            "cursor": _json(cursor),
        },
    )


def finish_run(connection: Connection, run_id: int, *, status: str, error: str | None = None) -> None:
    connection.execute(
        text("UPDATE connector_run SET status = :status, error = :error, finished_at = now() WHERE id = :id"),
        {"id": run_id, "status": status, "error": error},
    )


def last_cursor(connection: Connection, source: str) -> dict[str, Any] | None:
    """The cursor of the source's most recent run that has one (None: start from the beginning)."""
    return connection.execute(
        text(
            "SELECT cursor FROM connector_run WHERE source = :source AND cursor IS NOT NULL "
            "ORDER BY started_at DESC, id DESC LIMIT 1"
        ),
        {"source": source},
    ).scalar_one_or_none()


def run_row(connection: Connection, run_id: int) -> dict[str, Any]:
    """One run as a dict of its columns (tests, the CLI)."""
    row = connection.execute(text("SELECT * FROM connector_run WHERE id = :id"), {"id": run_id}).mappings()
    return dict(row.one())


def close_interrupted_runs(connection: Connection, source: str) -> int:
    """Mark `running` rows of `source` as failed. Only call while holding the source's lock."""
    return connection.execute(
        text(
            "UPDATE connector_run SET status = 'failed', error = :error, finished_at = now() "
            "WHERE source = :source AND status = 'running'"
        ),
        {"source": source, "error": INTERRUPTED},
    ).rowcount


def ran_since(connection: Connection, source: str, since: datetime) -> bool:
    """Whether a run of `source` started at or after `since` (a trigger another worker served)."""
    return (
        connection.execute(
            text("SELECT 1 FROM connector_run WHERE source = :source AND started_at >= :since LIMIT 1"),
            {"source": source, "since": since},
        ).first()
        is not None
    )


# --------------------------------------------------------------------------- locks


def lock_key(source: str) -> int:
    """A stable signed 64-bit advisory-lock key for a source (same in every process and release)."""
    digest = hashlib.blake2b(f"ioc.source:{source}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def source_lock(engine: Engine, source: str) -> Iterator[bool]:
    """Hold the source's session advisory lock on a dedicated connection; yields whether it was taken.

    While it is held no other process that asks for it runs the source, so `running` rows left by a
    dead process are closed as interrupted. The lock goes with the connection if the process dies.
    """
    connection = engine.connect()
    acquired = False
    try:
        key = lock_key(source)
        acquired = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        connection.commit()  # hold the lock, not an idle transaction
        if acquired:
            with engine.begin() as bookkeeping:
                close_interrupted_runs(bookkeeping, source)
        yield acquired
    finally:
        if acquired:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(source)})
                connection.commit()
            except Exception:
                connection.invalidate()  # never return a connection that may still hold the lock
        connection.close()


# --------------------------------------------------------------------------- state queries


def open_incident_ids(connection: Connection, source: str) -> list[str]:
    """External ids of the source's incidents still open (Open311: re-poll them for closure)."""
    return list(
        connection.execute(
            text(
                "SELECT external_id FROM incident WHERE source = :source AND status = 'open' "
                "ORDER BY external_id"
            ),
            {"source": source},
        ).scalars()
    )


def open_dossier_codes(connection: Connection, source: str) -> list[str]:
    """Codes of the source's dossiers not finished yet (re-poll them for their outcome)."""
    return list(
        connection.execute(
            text(
                "SELECT code FROM dossier WHERE source = :source AND finished_at IS NULL "
                "AND returned_at IS NULL ORDER BY code"
            ),
            {"source": source},
        ).scalars()
    )


def indicator_vintages(connection: Connection, source: str) -> dict[str, str]:
    """Newest stored vintage per indicator of the source (skip tables that did not change)."""
    rows = connection.execute(
        text(
            "SELECT indicator, max(vintage) FROM indicator_observation "
            "WHERE source = :source AND vintage IS NOT NULL GROUP BY indicator"
        ),
        {"source": source},
    )
    return {str(row[0]): str(row[1]) for row in rows}


def last_success_at(connection: Connection, source: str) -> datetime | None:
    """When the source's last successful run finished (e.g. an `updatedAfter` fallback)."""
    return connection.execute(
        text(
            "SELECT max(finished_at) FROM connector_run WHERE source = :source "
            "AND status IN ('success', 'partial')"
        ),
        {"source": source},
    ).scalar_one()


StateQuery = Callable[[Connection, str], Any]

#: Read-only facts a connector may ask for by name (`Connector.state_queries()`); the runner puts
#: each answer into `ConnectorContext.state[name]`. Each takes (connection, source).
STATE_QUERIES: dict[str, StateQuery] = {
    "open_incident_ids": open_incident_ids,
    "open_dossier_codes": open_dossier_codes,
    "indicator_vintages": indicator_vintages,
    "last_success_at": last_success_at,
}


def answer_state_queries(connection: Connection, source: str, names: tuple[str, ...]) -> dict[str, Any]:
    unknown = [name for name in names if name not in STATE_QUERIES]
    if unknown:
        raise KeyError(f"unknown state queries {unknown} (known: {sorted(STATE_QUERIES)})")
    return {name: STATE_QUERIES[name](connection, source) for name in names}


# --------------------------------------------------------------------------- freshness and status


@dataclass(frozen=True)
class RunInfo:
    id: int
    source: str
    connector: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    error: str | None
    full_refresh: bool

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True)
class DatasetStatus:
    """One target table of a source, and how fresh the source keeps it (from its runs)."""

    table: str
    last_success: datetime | None
    data_age: timedelta | None
    late: bool


@dataclass(frozen=True)
class SourceStatus:
    source: str
    connector: str
    enabled: bool
    scheduled: bool
    expected_every: timedelta
    last_run: RunInfo | None
    last_success: datetime | None
    """`finished_at` of the last run with status success or partial."""
    data_age: timedelta | None
    late: bool
    datasets: tuple[DatasetStatus, ...] = field(default_factory=tuple)

    @property
    def running(self) -> bool:
        return self.last_run is not None and self.last_run.status == "running"


def is_late(last_success: datetime | None, expected_every: timedelta, now: datetime) -> bool:
    return last_success is None or now - last_success > expected_every


def _source_tables(connection: Connection, connector: str, source: str) -> tuple[str, ...]:
    """The connector's declared targets, else the tables holding rows of the source (index lookups)."""
    targets = connector_targets(connector)
    if targets:
        return targets
    stamped = [name for name, table in Base.metadata.tables.items() if "source" in table.c]
    return tuple(
        table
        for table in stamped
        if table not in ("connector_run", "rejected_row")
        and connection.execute(
            text(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE source = :source)"), {"source": source}
        ).scalar()
    )


def source_status(
    engine: Engine, settings: Settings, now: datetime | None = None, *, datasets: bool = True
) -> list[SourceStatus]:
    """Per configured source: last run, last success, data age, late; and its target tables.

    Everything comes from `connector_run` (the one freshness rule, see :mod:`ioc.freshness`): no
    fact table is counted or scanned, so this answers in milliseconds at any size.
    """
    now = now or datetime.now(UTC)
    names = list(settings.sources)
    with engine.connect() as connection:
        last_runs = {
            row["source"]: row
            for row in connection.execute(
                text(
                    "SELECT DISTINCT ON (source) * FROM connector_run WHERE source = ANY(:names) "
                    "ORDER BY source, started_at DESC, id DESC"
                ),
                {"names": names},
            ).mappings()
        }
        successes: dict[str, Any] = dict(
            connection.execute(
                text(
                    "SELECT source, max(finished_at) FROM connector_run WHERE source = ANY(:names) "
                    "AND status IN ('success', 'partial') GROUP BY source"
                ),
                {"names": names},
            ).all()
        )
        result = []
        for name, config in settings.sources.items():
            expected = parse_duration(config.expected_every)
            last_success = successes.get(name)
            late = config.enabled and is_late(last_success, expected, now)
            age = None if last_success is None else now - last_success
            tables = [
                DatasetStatus(table, last_success, age, late)
                for table in (_source_tables(connection, config.connector, name) if datasets else ())
            ]
            run = last_runs.get(name)
            result.append(
                SourceStatus(
                    source=name,
                    connector=config.connector,
                    enabled=config.enabled,
                    scheduled=config.schedule is not None,
                    expected_every=expected,
                    last_run=None if run is None else _run_info(run),
                    last_success=last_success,
                    data_age=age,
                    late=late,
                    datasets=tuple(tables),
                )
            )
    return result


def _run_info(row: Mapping[Any, Any]) -> RunInfo:
    return RunInfo(
        id=row["id"],
        source=row["source"],
        connector=row["connector"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        rows_read=row["rows_read"],
        rows_inserted=row["rows_inserted"],
        rows_updated=row["rows_updated"],
        rows_unchanged=row["rows_unchanged"],
        rows_rejected=row["rows_rejected"],
        error=row["error"],
        full_refresh=row["full_refresh"],
    )


def recent_runs(engine: Engine, source: str | None = None, limit: int = 20) -> list[RunInfo]:
    """The newest runs (of one source, or all), newest first — the sources page's history."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT * FROM connector_run WHERE (CAST(:source AS text) IS NULL OR source = :source) "
                "ORDER BY started_at DESC, id DESC LIMIT :limit"
            ),
            {"source": source, "limit": limit},
        ).mappings()
        return [_run_info(row) for row in rows]
