"""Briefings in the archive and on a schedule: build, file, e-mail, record.

`produce()` is the one path (CLI archive, desktop button, worker): claim a `briefing` row, build
the PDF into `briefings.archive_dir`, then, when asked, e-mail it with bounded retries and record
'sent' or 'failed'. `register_jobs()` is the worker's hook (entry point `ioc.jobs`): one APScheduler
job per `briefings.schedules` entry; the row's unique (schedule, period, area) makes several
workers send a scheduled briefing once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine

from dashboard.briefings.build import build_briefing
from dashboard.desk.period_text import describe
from ioc.briefings import archive, mail
from ioc.briefings.archive import BriefingRecord
from ioc.briefings.schedule import mail_text, relative_period
from ioc.config import Settings
from ioc.cron import cron_trigger
from ioc.kpi import load_library
from ioc.kpi.periods import Period
from ioc.queries import ReadModel

log = logging.getLogger(__name__)


def produce(
    read_model: ReadModel,
    period: Period,
    area: str | None = None,
    *,
    schedule: str | None = None,
    email: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    engine: Engine | None = None,
) -> BriefingRecord | None:
    """Build, archive and (optionally) e-mail one briefing; None when this scheduled one exists.
    `engine` writes the archive (default: the read model's; give the primary when it reads a replica)."""
    settings = read_model.settings
    config = settings.briefings
    area = area or settings.province.code
    engine = engine or read_model.engine
    briefing_id = archive.claim(engine, period.label, area, schedule)
    if briefing_id is None:
        log.info("briefing %s %s %s: already in the archive", schedule, period.label, area)
        return None
    relative = archive.file_name(period.label, area, briefing_id)
    started = time.monotonic()
    try:
        out = build_briefing(
            read_model, period, area, out=config.archive_dir / relative, emblem=config.emblem
        )
    except Exception as exc:
        archive.build_failed(engine, briefing_id, f"{type(exc).__name__}: {exc}")
        raise
    archive.built(
        engine, briefing_id, file=relative, size_bytes=out.stat().st_size, seconds=time.monotonic() - started
    )
    if email:
        archive.delivered(engine, briefing_id, delivery="pending", attempts=0, error=None)
        province = read_model.area_name(settings.province.code) or settings.province.code
        area_name = None if area == settings.province.code else read_model.area_name(area)
        subject, body = mail_text(province, describe(period), area_name)

        def note(attempt: int, error: str | None) -> None:
            if error:
                log.warning("briefing %d: delivery attempt %d failed: %s", briefing_id, attempt, error)
            delivery = "sent" if error is None else "pending"
            archive.delivered(engine, briefing_id, delivery=delivery, attempts=attempt, error=error)

        result = mail.deliver(config, subject, body, out, sleep=sleep, on_attempt=note)
        archive.delivered(
            engine, briefing_id, delivery=result.status, attempts=result.attempts, error=result.error
        )
    return archive.get(engine, briefing_id)


class ScheduledBriefing:
    """The callable APScheduler runs for one `briefings.schedules` entry."""

    def __init__(
        self, engine: Engine, settings: Settings, name: str, read_model: ReadModel | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.name = name
        self.read_model = read_model

    def __call__(self, now: datetime | None = None, sleep: Callable[[float], None] = time.sleep) -> str:
        schedule = self.settings.briefings.schedules[self.name]
        model = self.read_model or ReadModel(self.engine, load_library(self.settings.kpi_dir), self.settings)
        today = (now or model.clock()).astimezone(self.settings.zone).date()
        period = relative_period(schedule.period, today)
        record = produce(model, period, schedule.area, schedule=self.name, email=schedule.email, sleep=sleep)
        return "done elsewhere" if record is None else f"{record.status}/{record.delivery}"


def register_jobs(scheduler: BaseScheduler, settings: Settings, engine: Engine) -> None:
    """One job per briefing schedule (the worker calls this through the `ioc.jobs` entry point)."""
    for name, schedule in settings.briefings.schedules.items():
        scheduler.add_job(
            ScheduledBriefing(engine, settings, name),
            cron_trigger(schedule.cron, settings.zone),
            id=f"briefing:{name}",
            name=f"briefing {name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
            replace_existing=True,
        )
