"""The runner: everything around a connector's `read` (DESIGN §4).

    summary = run_source(engine, settings, "igate")

1. The source's options are validated by its connector's model (a problem is a `ConfigError`).
2. The connector gets a :class:`~ioc.connector.ConnectorContext` with a retrying HTTP client and
   the answers to the state queries it asks for (`ioc.runs.STATE_QUERIES`).
3. A `connector_run` row is committed with status `running` and the cursor the run continues from
   (the last committed cursor of the source; none for `full=True`).
4. Each batch is stored in ONE transaction: the upsert (`ioc.load.load_batch`), the connector's own
   rejects, the run's counters and the batch's cursor. A failure rolls back that batch only.
5. The run ends `success`, `partial` (some records rejected) or `failed` (error text stored; the
   batches committed before the failure stay, and so does their cursor, so the next run continues).
   A stop request (`stop` event, e.g. SIGTERM in `ioc worker`) is honoured between batches and ends
   the run as `failed` with an error saying it was stopped.
6. The post-load hooks registered with :func:`after_load` run (e.g. rollups), changed rows or not.

A failing source never deletes or changes stored data: nothing is written before a batch is read
completely, and nothing is ever deleted by the runner.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import entry_points
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine

from ioc import runs
from ioc.config import ConfigError, Settings, SourceConfig, parse_duration
from ioc.connector import (
    PERSONAL_FIELDS,
    Batch,
    CheckResult,
    Connector,
    ConnectorContext,
    ConnectorOptions,
    SourceError,
    connector_class,
    drop_personal_fields,
    validate_options,
)
from ioc.http import RetryPolicy, SourceHttp
from ioc.load import LOCAL_TZ, LoadError, LoadResult, load_batch, record_rejects

log = logging.getLogger(__name__)

#: Environment overrides of the HTTP retry policy (ops tuning; tests use them to be fast).
POLICY_ENV = {
    "attempts": "IOC_HTTP_ATTEMPTS",
    "base_delay": "IOC_HTTP_BASE_DELAY",
    "max_delay": "IOC_HTTP_MAX_DELAY",
    "timeout": "IOC_HTTP_TIMEOUT",
}

#: Connector option names read into the retry policy when a connector's Options declares them.
POLICY_OPTIONS = {
    "attempts": "attempts",
    "retries": "attempts",
    "base_delay": "base_delay",
    "backoff": "base_delay",
    "max_delay": "max_delay",
    "timeout": "timeout",
}

STOPPED = "stopped before the end (worker shutting down); the next run continues from the cursor"


# --------------------------------------------------------------------------- results and hooks


@dataclass
class RunSummary:
    """What one run did; mirrors its `connector_run` row."""

    run_id: int
    source: str
    connector: str
    full: bool
    status: str = "running"
    batches: int = 0
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    error: str | None = None
    cursor: dict[str, Any] | None = None
    duration: float = 0.0
    stopped: bool = False
    notices: list[str] = field(default_factory=list)
    """Problems that did not stop the run (e.g. a cursor kept from running into the future)."""
    tables_changed: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.status in runs.SUCCESS_STATUSES

    def add(self, result: LoadResult) -> None:
        self.rows_read += result.read
        self.rows_inserted += result.inserted
        self.rows_updated += result.updated
        self.rows_unchanged += result.unchanged
        self.rows_rejected += result.rejected


@dataclass(frozen=True)
class BatchProgress:
    """Given to the `progress` callback after each committed batch."""

    number: int
    table: str
    description: str
    result: LoadResult
    summary: RunSummary

    def __str__(self) -> str:
        r = self.result
        what = f" {self.description}" if self.description else ""
        return (
            f"batch {self.number} → {self.table}{what}: {r.read} read, {r.inserted} inserted, "
            f"{r.updated} updated, {r.rejected} rejected"
        )


ProgressCallback = Callable[[BatchProgress], None]
AfterLoadHook = Callable[[Engine, str, frozenset[str]], None]

_AFTER_LOAD: list[AfterLoadHook] = []

#: Entry-point group of post-load hooks, so every process (worker, `ioc run`, `ioc demo`) has them
#: without the runner importing their modules: `kpi_rollups = "ioc.kpi.rollups:refresh"`.
HOOK_ENTRY_POINT_GROUP = "ioc.after_load"
_entry_point_hooks_loaded = False


def after_load(hook: AfterLoadHook) -> AfterLoadHook:
    """Register `hook(engine, source, tables_changed)`, called after every run (`tables_changed` may
    be empty: a hook can complete work a killed process left pending) and at worker start.

    Usable as a decorator; hooks declared in the `ioc.after_load` entry-point group are registered
    on first use. Hooks run after the run's row is final; a hook's failure is logged and does not
    change the run's status. Registering the same function twice has no effect.
    """
    if hook not in _AFTER_LOAD:
        _AFTER_LOAD.append(hook)
    return hook


def remove_after_load(hook: AfterLoadHook) -> None:
    if hook in _AFTER_LOAD:
        _AFTER_LOAD.remove(hook)


# --------------------------------------------------------------------------- building a connector


def source_config(settings: Settings, source: str) -> SourceConfig:
    try:
        return settings.sources[source]
    except KeyError:
        known = ", ".join(sorted(settings.sources)) or "none configured"
        where = settings.source_file or "config"
        raise ConfigError(f"{where}: no source named {source!r} under `sources:` (known: {known})") from None


def retry_policy(options: ConnectorOptions | None = None, base: RetryPolicy | None = None) -> RetryPolicy:
    """The HTTP policy of a run: defaults ← `IOC_HTTP_*` environment ← the connector's own options."""
    policy = base or RetryPolicy()
    changes: dict[str, Any] = {}
    for name, env in POLICY_ENV.items():
        value = os.environ.get(env)
        if value:
            try:
                changes[name] = int(value) if name == "attempts" else float(value)
            except ValueError:
                raise ConfigError(f"environment variable {env}: expected a number, got {value!r}") from None
    if options is not None:
        declared = type(options).model_fields
        for option, name in POLICY_OPTIONS.items():
            value = getattr(options, option, None) if option in declared else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                changes[name] = int(value) if name == "attempts" else float(value)
    return replace(policy, **changes)


@dataclass(frozen=True)
class PreparedSource:
    """A source's configuration checked once: its connector class and validated options."""

    name: str
    config: SourceConfig
    cls: type[Connector]
    options: ConnectorOptions


def prepare_source(settings: Settings, source: str) -> PreparedSource:
    """Find the source's connector and validate its options (problems raise `ConfigError`)."""
    config = source_config(settings, source)
    cls = connector_class(config.connector)
    return PreparedSource(source, config, cls, validate_options(source, config, settings, cls))


def instantiate(
    prepared: PreparedSource,
    settings: Settings,
    *,
    state: dict[str, Any] | None = None,
    http_policy: RetryPolicy | None = None,
    stop: threading.Event | None = None,
) -> Connector:
    """The prepared source's connector with its context (HTTP client, state mapping)."""
    http = SourceHttp(policy=http_policy or retry_policy(prepared.options))
    if stop is not None:
        http.sleep = stop.wait
    context = ConnectorContext(
        source=prepared.name, settings=settings, http=http, state=state if state is not None else {}
    )
    return prepared.cls(prepared.options, context)


def build_connector(
    settings: Settings,
    source: str,
    *,
    state: dict[str, Any] | None = None,
    http_policy: RetryPolicy | None = None,
    stop: threading.Event | None = None,
) -> Connector:
    """Validate the source's options and instantiate its connector.

    `state` is the mapping the connector sees as `context.state`; the runner fills it after the
    connector says which state queries it needs. With `stop`, HTTP retry waits end early on stop.
    """
    prepared = prepare_source(settings, source)
    return instantiate(prepared, settings, state=state, http_policy=http_policy, stop=stop)


# --------------------------------------------------------------------------- cursors

_ISO_INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def _instant(value: Any) -> datetime | None:
    """A cursor value as an aware instant when it is a date, a date-time or ISO 8601 text."""
    if isinstance(value, str) and _ISO_INSTANT.match(value.strip()):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(LOCAL_TZ))
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=ZoneInfo(LOCAL_TZ))
    return None


def _now_like(value: Any, now: datetime) -> Any:
    """`now` in the form of the cursor value it replaces (a date, a date-time, or their text)."""
    local = now.astimezone(ZoneInfo(LOCAL_TZ))
    if isinstance(value, str):
        text = value.strip()
        return (
            local.date().isoformat()
            if len(text) == 10
            else _now_like(datetime.fromisoformat(text), now).isoformat()
        )
    if isinstance(value, datetime):
        return local.replace(tzinfo=None) if value.tzinfo is None else now.astimezone(value.tzinfo)
    return local.date()


def clamp_cursor(cursor: Any, now: datetime, tolerance: timedelta) -> tuple[Any, list[str]]:
    """The cursor with every instant later than now + tolerance set to now, and where that happened."""
    moved: list[str] = []
    limit = now + tolerance

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        stamp = _instant(value)
        if stamp is not None and stamp > limit:
            moved.append(path or "value")
            return _now_like(value, now)
        return value

    return (walk(cursor, "") if cursor is not None else None), moved


# --------------------------------------------------------------------------- running


def _clean_records(records: pd.DataFrame | list[dict[str, Any]]) -> pd.DataFrame | list[dict[str, Any]]:
    """Drop citizens' personal fields a connector forgot to drop (they are never stored)."""
    if isinstance(records, pd.DataFrame):
        personal = [c for c in records.columns if c in PERSONAL_FIELDS]
        return records.drop(columns=personal) if personal else records
    return [drop_personal_fields(record) for record in records]


def _describe_error(exc: BaseException, batch_number: int) -> str:
    where = f" (while reading batch {batch_number})" if batch_number else ""
    if isinstance(exc, SourceError):
        return f"{exc}{where}"
    if isinstance(exc, LoadError):
        return f"load: {exc} (batch {batch_number})"
    return f"{exc.__class__.__name__}: {exc}{where}"


def _store_batch(
    engine: Engine, summary: RunSummary, batch: Batch, reject_fields: frozenset[str], tolerance: timedelta
) -> LoadResult:
    """Load one batch, its rejects, counters and cursor in one transaction.

    The batch's cursor never moves past now + `tolerance`: a value beyond it (a record dated in the
    future) is kept at now and the run gets a notice (it ends `partial`).
    """
    now = datetime.now(UTC)
    cursor, moved = clamp_cursor(batch.cursor, now, tolerance)
    if moved:
        note = (
            f"cursor {', '.join(moved)}: later than now + {tolerance} (a record dated in the future?); "
            "kept at now"
        )
        if note not in summary.notices:
            summary.notices.append(note)
            log.warning("%s: run %d: %s", summary.source, summary.run_id, note)
    with engine.begin() as connection:
        result = load_batch(
            connection,
            batch.table,
            _clean_records(batch.records),
            source=summary.source,
            run_id=summary.run_id,
            now=now,
            future_tolerance=tolerance,
        )
        if batch.rejects:
            rejected = record_rejects(
                connection,
                source=summary.source,
                target_table=batch.table,
                run_id=summary.run_id,
                rejects=((drop_personal_fields(record), reason) for record, reason in batch.rejects),
                fields=reject_fields,
            )
            result.read += rejected
            result.rejected += rejected
        runs.record_batch(
            connection,
            summary.run_id,
            read=result.read,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
            cursor=cursor,
        )
    batch.cursor = cursor
    return result


def run_source(
    engine: Engine,
    settings: Settings,
    source: str,
    *,
    full: bool = False,
    stop: threading.Event | None = None,
    progress: ProgressCallback | None = None,
    http_policy: RetryPolicy | None = None,
) -> RunSummary:
    """Run one source now and return what happened (see the module docstring).

    Raises `ConfigError` for configuration problems (unknown source, invalid options), before any
    run row is written. Every other problem ends the run as `failed` and is returned, not raised.
    `http_policy` overrides the retry policy (otherwise: defaults, `IOC_HTTP_*`, connector options).
    """
    prepared = prepare_source(settings, source)  # configuration problems raise before any run row
    config = prepared.config
    tolerance = parse_duration(config.future_tolerance)
    started = time.monotonic()
    with engine.begin() as connection:
        cursor = None if full else runs.last_cursor(connection, source)
        run_id = runs.start_run(
            connection, source=source, connector=config.connector, full=full, cursor=cursor
        )
    summary = RunSummary(run_id=run_id, source=source, connector=config.connector, full=full, cursor=cursor)
    log.info("%s: run %d started (%s)", source, run_id, "full" if full else f"cursor {cursor}")
    state: dict[str, Any] = {}
    connector: Connector | None = None
    batches: Iterator[Batch] | None = None
    try:
        connector = instantiate(prepared, settings, state=state, http_policy=http_policy, stop=stop)
        with engine.connect() as connection:
            state.update(runs.answer_state_queries(connection, source, connector.state_queries()))
        batches = connector.read(cursor, full=full)
        for batch in batches:
            result = _store_batch(engine, summary, batch, connector.reject_fields, tolerance)
            summary.batches += 1
            summary.add(result)
            if batch.cursor is not None:
                summary.cursor = batch.cursor
            if result.changed:
                summary.tables_changed.add(batch.table)
            if progress is not None:
                progress(BatchProgress(summary.batches, batch.table, batch.description, result, summary))
            if stop is not None and stop.is_set():
                summary.stopped = True
                break
    except ConfigError as exc:
        _finish(engine, summary, "failed", f"configuration: {exc}", started)
        raise
    except Exception as exc:
        summary.status = "failed"
        summary.error = _describe_error(exc, summary.batches + 1)
        level = logging.WARNING if isinstance(exc, SourceError | LoadError) else logging.ERROR
        log.log(
            level, "%s: run %d failed: %s", source, run_id, summary.error, exc_info=level == logging.ERROR
        )
    except BaseException:
        _finish(engine, summary, "failed", "interrupted (KeyboardInterrupt or exit) during the run", started)
        raise
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            try:
                close()  # let the connector's generator clean up (files, cursors)
            except Exception:
                log.exception("%s: closing the connector's reader failed", source)
        if connector is not None:
            connector.context.http.close()

    if summary.status != "failed":
        if summary.stopped:
            summary.status, summary.error = "failed", STOPPED
        else:
            summary.status = "partial" if summary.rows_rejected or summary.notices else "success"
            summary.error = "; ".join(summary.notices) or None
    _finish(engine, summary, summary.status, summary.error, started)
    log.info(
        "%s: run %d %s in %.1f s: %d read, %d inserted, %d updated, %d rejected",
        source,
        run_id,
        summary.status,
        summary.duration,
        summary.rows_read,
        summary.rows_inserted,
        summary.rows_updated,
        summary.rows_rejected,
    )
    call_hooks(engine, source, frozenset(summary.tables_changed))
    return summary


def _finish(engine: Engine, summary: RunSummary, status: str, error: str | None, started: float) -> None:
    summary.status, summary.error = status, error
    summary.duration = time.monotonic() - started
    with engine.begin() as connection:
        runs.finish_run(connection, summary.run_id, status=status, error=error)


def _load_entry_point_hooks() -> None:
    global _entry_point_hooks_loaded
    if _entry_point_hooks_loaded:
        return
    _entry_point_hooks_loaded = True
    for entry in entry_points(group=HOOK_ENTRY_POINT_GROUP):
        try:
            after_load(entry.load())
        except Exception:
            log.exception("after-load hook %s (%s) could not be loaded", entry.name, entry.value)


def call_hooks(engine: Engine, source: str, tables: frozenset[str]) -> None:
    """Run the after-load hooks (after every run, and at worker start with no tables)."""
    _load_entry_point_hooks()
    for hook in list(_AFTER_LOAD):
        try:
            hook(engine, source, tables)
        except Exception:
            log.exception("%s: after-load hook %r failed", source, hook)


def check_source(settings: Settings, source: str, *, http_policy: RetryPolicy | None = None) -> CheckResult:
    """Run the connector's `check` (no database needed). Config problems raise `ConfigError`."""
    connector = build_connector(settings, source, http_policy=http_policy)
    try:
        return connector.check()
    except SourceError as exc:
        return CheckResult(False, str(exc))
    except Exception as exc:
        log.exception("%s: check failed", source)
        return CheckResult(False, f"{exc.__class__.__name__}: {exc}")
    finally:
        connector.context.http.close()
