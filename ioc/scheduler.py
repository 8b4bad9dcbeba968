"""`ioc worker`: APScheduler 3 runs each scheduled source; Postgres decides who runs it.

One job per enabled source with a `schedule:` (`cron:` in crontab syntax, or `every:`), with
`max_instances=1`, `coalesce=True` and the source's misfire grace time. Several workers may run on
one database (for availability); each trigger still runs once:

* Triggers fire at the same instants in every worker: `every:` intervals are anchored at
  2000-01-01 00:00 local time (`every: 15m` fires at :00, :15, :30, :45), cron is wall-clock.
* Jitter is a random wait inside the job (APScheduler's own trigger jitter accumulates drift,
  which would make workers disagree about the instants).
* The job takes the source's session advisory lock (`pg_try_advisory_lock`) on its own connection
  for the whole run; a worker that cannot take it skips. A worker that takes it after another
  worker finished this trigger's run sees a run started since the trigger instant, and skips too.

A stop event (SIGTERM/SIGINT in `ioc worker`) makes running jobs stop after their current batch
and jobs not started yet return at once; then the scheduler shuts down.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from ioc import runs
from ioc.config import ConfigError, Schedule, Settings, parse_duration
from ioc.connector import connector_class, validate_options
from ioc.cron import cron_trigger
from ioc.database import make_engine
from ioc.runner import call_hooks, run_source, source_config

log = logging.getLogger(__name__)

#: Where `every:` intervals are counted from, so all workers agree on the trigger instants.
INTERVAL_ANCHOR = datetime(2000, 1, 1)

#: How far back to look for the trigger instant a job belongs to, beyond its misfire grace.
_SLOT_LOOKBACK = timedelta(minutes=1)


def make_trigger(schedule: Schedule, timezone: str) -> BaseTrigger:
    """The jitter-free trigger of a schedule (jitter is applied by the job itself)."""
    zone = ZoneInfo(timezone)
    if schedule.cron is not None:
        try:
            return cron_trigger(schedule.cron, zone)
        except ValueError as exc:
            raise ConfigError(f"schedule {exc}") from None
    assert schedule.every is not None
    every = parse_duration(schedule.every)
    if every <= timedelta(0):
        raise ConfigError(f"schedule every {schedule.every!r}: must be longer than 0 s")
    return IntervalTrigger(seconds=int(every.total_seconds()), start_date=INTERVAL_ANCHOR, timezone=zone)


def trigger_period(trigger: BaseTrigger, now: datetime) -> timedelta:
    """Time between the trigger's next two instants after `now` (bounds the jitter)."""
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first) if first else None
    if first is None or second is None:
        return timedelta(days=1)
    return second - first


def current_slot(trigger: BaseTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest instant of `trigger` at or before `now`, looking back at most `lookback`."""
    slot = None
    when = trigger.get_next_fire_time(None, now - lookback)
    for _ in range(100_000):
        if when is None or when > now:
            break
        slot = when
        when = trigger.get_next_fire_time(when, when + timedelta(microseconds=1))
    return slot


class SourceJob:
    """The callable APScheduler runs for one source."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        source: str,
        trigger: BaseTrigger,
        stop: threading.Event,
    ) -> None:
        schedule = settings.sources[source].schedule
        assert schedule is not None
        self.engine = engine
        self.settings = settings
        self.source = source
        self.trigger = trigger
        self.stop = stop
        self.zone = ZoneInfo(settings.timezone)
        now = datetime.now(self.zone)
        # At most half the period, so a jittered run never slides into the next trigger's slot.
        self.jitter = min(parse_duration(schedule.jitter), trigger_period(trigger, now) / 2)
        self.lookback = parse_duration(schedule.misfire_grace) + _SLOT_LOOKBACK

    def __call__(self) -> str:
        """Run the source unless another worker has it or ran it for this trigger; return what happened."""
        if self.stop.is_set():
            return "stopping"
        slot = current_slot(self.trigger, datetime.now(self.zone), self.lookback)
        wait = random.uniform(0, self.jitter.total_seconds())
        if wait and self.stop.wait(wait):
            return "stopping"
        with runs.source_lock(self.engine, self.source) as acquired:
            if not acquired:
                log.info("%s: skipped, another worker is running it", self.source)
                return "locked"
            if slot is not None:
                with self.engine.connect() as connection:
                    if runs.ran_since(connection, self.source, slot):
                        log.info("%s: skipped, the %s trigger already ran elsewhere", self.source, slot)
                        return "done elsewhere"
            summary = run_source(self.engine, self.settings, self.source, stop=self.stop)
            return summary.status


def preflight(settings: Settings, sources: Iterable[str]) -> None:
    """Refuse, as a one-line `ConfigError`, what can be known wrong about sources without running them.

    An unknown connector, options its model refuses, and an environment variable named by an
    `…_env` option (`token_env`, `url_env`, `api_key_env`) that is not set — named, never its value.
    Schedules were checked when the config was read.
    """
    where = settings.source_file or "config"
    for name in sources:
        config = source_config(settings, name)
        try:
            connector_class(config.connector)
        except ConfigError as exc:
            raise ConfigError(f"{where}: sources.{name}.connector: {exc}") from None
        options = validate_options(name, config, settings)
        for key, value in options.model_dump().items():
            if key.endswith("_env") and isinstance(value, str) and not os.environ.get(value):
                raise ConfigError(
                    f"{where}: sources.{name}.options.{key}: environment variable {value} is not set"
                )


def scheduled_sources(settings: Settings) -> list[str]:
    return [name for name, config in settings.sources.items() if config.enabled and config.schedule]


def build_scheduler(
    settings: Settings,
    database_url: str | None = None,
    *,
    engine: Engine | None = None,
    stop: threading.Event | None = None,
) -> BlockingScheduler:
    """A BlockingScheduler with one job per enabled, scheduled source.

    Give `database_url` (an engine is made) or an `engine`. The stop event (made when not given)
    is `scheduler.ioc_stop`; setting it makes jobs stop between batches.
    """
    if engine is None:
        if database_url is None:
            raise ValueError("build_scheduler needs a database_url or an engine")
        engine = make_engine(database_url, pool_size=settings.database.pool_size)
    stop = stop or threading.Event()
    sources = scheduled_sources(settings)
    if not sources:
        where = settings.source_file or "config"
        raise ConfigError(f"{where}: no enabled source has a `schedule:` (nothing for the worker to do)")
    preflight(settings, sources)
    zone = ZoneInfo(settings.timezone)
    scheduler = BlockingScheduler(
        timezone=zone,
        executors={"default": ThreadPoolExecutor(max_workers=max(1, min(len(sources), 5)))},
    )
    for source in sources:
        schedule = settings.sources[source].schedule
        assert schedule is not None
        trigger = make_trigger(schedule, settings.timezone)
        scheduler.add_job(
            SourceJob(engine, settings, source, trigger, stop),
            trigger,
            id=source,
            name=f"source {source}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(parse_duration(schedule.misfire_grace).total_seconds())),
            replace_existing=True,
        )
    for entry in entry_points(group="ioc.jobs"):  # other packages' jobs (the dashboard's briefings)
        entry.load()(scheduler, settings, engine)
    scheduler.ioc_stop = stop
    scheduler.ioc_engine = engine
    return scheduler


def install_signal_handlers(scheduler: BlockingScheduler, stop: threading.Event) -> threading.Thread:
    """SIGTERM/SIGINT: set `stop` (jobs finish their batch) and shut the scheduler down.

    The shutdown (which waits for running jobs) runs in the returned thread, started by the first
    signal, so the handler returns at once; join the thread after `scheduler.start()` returns.
    """
    shutdown = threading.Thread(target=_shutdown, args=(scheduler,), name="ioc-shutdown", daemon=True)

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            return
        log.info("received %s: finishing the current batch, then stopping", signal.Signals(signum).name)
        stop.set()
        shutdown.start()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return shutdown


def _shutdown(scheduler: BlockingScheduler) -> None:
    try:
        scheduler.shutdown(wait=True)
    except Exception:  # already stopped
        log.debug("scheduler already stopped", exc_info=True)


def run_worker(settings: Settings, engine: Engine) -> None:
    """Build the scheduler, handle signals, block until stopped (what `ioc worker` runs)."""
    stop = threading.Event()
    scheduler = build_scheduler(settings, engine=engine, stop=stop)
    call_hooks(engine, "(worker start)", frozenset())  # complete what a killed process left pending
    shutdown = install_signal_handlers(scheduler, stop)
    for job in scheduler.get_jobs():
        log.info("scheduled %s: %s", job.id, job.trigger)
    log.info("worker started with %d job(s)", len(scheduler.get_jobs()))
    scheduler.start()
    if shutdown.is_alive():
        shutdown.join()  # running jobs end after their current batch
    log.info("worker stopped")
