"""The scheduler: aligned triggers, advisory locks, two real `ioc worker` processes, SIGTERM."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text

from ioc import runs
from ioc.config import ConfigError, Schedule, Settings, SourceConfig
from ioc.connector import register_connector, unregister_connector
from ioc.cron import crontab_weekdays
from ioc.database import make_engine
from ioc.runner import STOPPED, run_source
from ioc.scheduler import SourceJob, build_scheduler, current_slot, make_trigger
from tests.conftest import REPO_ROOT
from tests.sample_connectors import TickConnector

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(autouse=True)
def ticks() -> Iterator[None]:
    register_connector("test_ticks", TickConnector)
    yield
    unregister_connector("test_ticks")


def with_sources(settings: Settings, **sources: SourceConfig) -> Settings:
    return settings.model_copy(update={"sources": sources})


def test_interval_triggers_agree_across_workers() -> None:
    schedule = Schedule(every="15m")
    first = make_trigger(schedule, "Asia/Ho_Chi_Minh")
    time.sleep(0.01)
    second = make_trigger(schedule, "Asia/Ho_Chi_Minh")
    now = datetime(2026, 5, 4, 10, 7, 12, tzinfo=ZONE)
    assert first.get_next_fire_time(None, now) == second.get_next_fire_time(None, now)
    assert first.get_next_fire_time(None, now) == datetime(2026, 5, 4, 10, 15, tzinfo=ZONE)
    assert current_slot(first, now, timedelta(minutes=20)) == datetime(2026, 5, 4, 10, 0, tzinfo=ZONE)
    assert current_slot(first, now, timedelta(minutes=5)) is None

    cron = make_trigger(Schedule(cron="30 6 * * 1-5"), "Asia/Ho_Chi_Minh")
    monday = datetime(2026, 5, 4, 6, 31, tzinfo=ZONE)
    assert current_slot(cron, monday, timedelta(minutes=10)) == datetime(2026, 5, 4, 6, 30, tzinfo=ZONE)
    saturday = datetime(2026, 5, 9, 6, 31, tzinfo=ZONE)  # crontab 1-5 is Monday to Friday
    assert current_slot(cron, saturday, timedelta(hours=12)) is None
    friday = cron.get_next_fire_time(None, datetime(2026, 5, 8, 6, 0, tzinfo=ZONE))
    assert friday == datetime(2026, 5, 8, 6, 30, tzinfo=ZONE)
    for sunday in ("0", "7"):
        trigger = make_trigger(Schedule(cron=f"0 3 * * {sunday}"), "Asia/Ho_Chi_Minh")
        assert trigger.get_next_fire_time(None, monday).strftime("%A %d %H:%M") == "Sunday 10 03:00"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert crontab_weekdays("mon-fri") == "mon,tue,wed,thu,fri"
    for bad in ("61 * * * *", "* * *", "0 3 * * 8", "0 0 30 2 *", "0 6 * * mon-fri-sat", "1-5/0 * * * *"):
        with pytest.raises(ValidationError, match="cron"):  # refused when the config is read
            Schedule(cron=bad)


def test_lock_keys_are_stable_signed_64_bit() -> None:
    keys = {runs.lock_key(name) for name in ("igate", "city311", "gso", "demo")}
    assert len(keys) == 4 and all(-(2**63) <= key < 2**63 for key in keys)
    # Pinned: workers of different releases on one database must agree on the key.
    assert runs.lock_key("igate") == -8982826070295687407


def test_advisory_lock_is_exclusive_between_sessions(engine: Engine, database_url: str) -> None:
    other = make_engine(database_url)
    try:
        with runs.source_lock(engine, "igate") as mine:
            assert mine
            with runs.source_lock(other, "igate") as theirs, runs.source_lock(other, "gso") as unrelated:
                assert not theirs and unrelated
        with runs.source_lock(other, "igate") as after_release:
            assert after_release
    finally:
        other.dispose()


def test_two_jobs_for_one_trigger_run_once(db: Engine, database_url: str, settings: Settings) -> None:
    # Called at any time of day: the grace makes today's midnight instant the trigger being served.
    schedule = Schedule(every="1d", jitter="0s", misfire_grace="1d")
    cfg = with_sources(
        settings,
        ticks=SourceConfig(connector="test_ticks", schedule=schedule, options={"pages": 3, "delay": 0.2}),
    )
    engines = [db, make_engine(database_url)]
    stop = threading.Event()
    jobs = [SourceJob(e, cfg, "ticks", make_trigger(schedule, cfg.timezone), stop) for e in engines]
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda job=job: outcomes.append(job())) for job in jobs]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        late_comer = jobs[1]()  # a worker whose jitter put it after the run: same trigger, skipped
    finally:
        engines[1].dispose()
    assert sorted(outcomes) in (["locked", "success"], ["done elsewhere", "success"])
    assert late_comer == "done elsewhere"
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM connector_run")).scalar_one() == 1


def test_build_scheduler_makes_one_job_per_scheduled_source(database_url: str, settings: Settings) -> None:
    cfg = with_sources(
        settings,
        often=SourceConfig(connector="test_ticks", schedule=Schedule(every="2s", misfire_grace="5m")),
        nightly=SourceConfig(connector="test_ticks", schedule=Schedule(cron="0 2 * * *")),
        manual=SourceConfig(connector="test_ticks"),
        disabled=SourceConfig(connector="test_ticks", enabled=False, schedule=Schedule(every="1h")),
    )
    scheduler = build_scheduler(cfg, database_url)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"often", "nightly"}
        assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
        assert jobs["often"].misfire_grace_time == 300
        assert jobs["often"].func.jitter == timedelta(seconds=1)  # 30 s jitter capped at half the period
    finally:
        scheduler.ioc_engine.dispose()
    with pytest.raises(ConfigError, match="no enabled source has a `schedule:`"):
        build_scheduler(with_sources(settings, manual=SourceConfig(connector="test_ticks")), database_url)


# --------------------------------------------------------------------------- real worker processes


def write_config(tmp_path: Path, options: str, schedule: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"province: {{code: '66'}}\nkpi_dir: {REPO_ROOT / 'kpi_definitions'}\n"
        f"sources:\n  ticks:\n    connector: test_ticks\n    schedule: {schedule}\n"
        f"    expected_every: 1m\n    options: {options}\n",
        encoding="utf-8",
    )
    return path


class Worker:
    """One `ioc worker` subprocess with its log in a file."""

    def __init__(self, config: Path, log: Path, database_url: str) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(REPO_ROOT),
            "IOC_EXTRA_CONNECTORS": "test_ticks=tests.sample_connectors:TickConnector",
        }
        self.log = log
        self._file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from ioc.cli import main; main()", "--config", str(config), "worker"],
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_for(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, f"no {needle!r} in:\n{self.text()}"
            time.sleep(0.05)

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._file.close()


def run_rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(text("SELECT * FROM connector_run ORDER BY started_at")).all()


def test_two_workers_run_each_trigger_once(db: Engine, database_url: str, tmp_path: Path) -> None:
    period = 2
    config = write_config(
        tmp_path,
        options="{pages: 2, rows: 3, delay: 0.2, wrap: true}",
        schedule=f"{{every: {period}s, jitter: 1s, misfire_grace: 5s}}",
    )
    workers = [Worker(config, tmp_path / f"worker{i}.log", database_url) for i in (1, 2)]
    try:
        for worker in workers:
            worker.wait_for("worker started")
        both_up = time.time()
        time.sleep(10)
        stopping = time.time()
        codes = [worker.stop() for worker in workers]
    finally:
        for worker in workers:
            worker.stop()
    assert codes == [0, 0], [w.text() for w in workers]

    rows = run_rows(db)
    slots = [int(row.started_at.timestamp()) // period for row in rows]
    assert len(slots) == len(set(slots)), "a trigger ran twice"
    for earlier, later in itertools.pairwise(rows):
        assert earlier.finished_at <= later.started_at, "two runs of one source overlapped"
    assert all(row.status in ("success", "failed") for row in rows)
    assert all(row.status == "success" or row.error == STOPPED for row in rows)

    # Every trigger while both workers were up ran (its jitter window ends before the stop).
    covered = range(int(both_up) // period + 1, int(stopping - 1) // period)
    ran = set(slots)
    assert len(covered) >= 3
    assert sum(slot in ran for slot in covered) >= len(covered) - 1, (list(covered), sorted(ran))
    skipped = sum(w.text().count("ticks: skipped") for w in workers)
    assert skipped >= len(covered) - 2, [w.text() for w in workers]  # the other worker stood aside


def test_sigterm_finishes_the_current_batch_and_exits(
    db: Engine, database_url: str, tmp_path: Path, settings: Settings
) -> None:
    options = "{pages: 8, rows: 3, delay: 0.5}"
    config = write_config(tmp_path, options=options, schedule="{every: 2s, jitter: 0s}")
    worker = Worker(config, tmp_path / "worker.log", database_url)
    try:
        deadline = time.monotonic() + 30
        while True:
            rows = run_rows(db)
            if rows and rows[0].rows_read >= 3:
                break
            assert time.monotonic() < deadline and worker.process.poll() is None, worker.text()
            time.sleep(0.05)
        code = worker.stop()
    finally:
        worker.stop()
    assert code == 0, worker.text()
    assert "received SIGTERM" in worker.text() and "worker stopped" in worker.text()

    [run] = run_rows(db)
    assert (run.status, run.error) == ("failed", STOPPED) and run.finished_at is not None
    page = run.cursor["page"]
    assert 1 <= page < 8
    with db.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM incident")).scalar_one()
    assert stored == run.rows_inserted == page * 3

    cfg = with_sources(settings, ticks=SourceConfig(connector="test_ticks", options={"pages": 8, "rows": 3}))
    rest = run_source(db, cfg, "ticks")
    assert (rest.status, rest.rows_inserted, rest.rows_updated) == ("success", (8 - page) * 3, 0)
