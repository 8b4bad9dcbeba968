"""Freshness and status (`ioc.runs.source_status`, `ioc status`) and the `ioc run/check` commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from ioc import freshness, runs
from ioc.cli import app
from ioc.config import ConfigError, Settings, load_settings
from ioc.connector import register_connector, unregister_connector
from ioc.database import temporary_database
from ioc.runner import run_source
from tests.conftest import REPO_ROOT
from tests.sample_connectors import TickConnector

CONFIG = """\
province: {{code: '66'}}
kpi_dir: {root}/kpi_definitions
sources:
  ticks:
    connector: test_ticks
    expected_every: 1h
    options: {{pages: 2, rows: 3}}
  broken:
    connector: test_ticks
    expected_every: 1d
    options: {{pages: 3, rows: 2, fail_at: 2}}
  never:
    connector: test_ticks
    expected_every: 30m
  paused:
    connector: test_ticks
    enabled: false
"""


@pytest.fixture(autouse=True)
def ticks() -> Iterator[None]:
    register_connector("test_ticks", TickConnector)
    yield
    unregister_connector("test_ticks")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(root=REPO_ROOT), encoding="utf-8")
    return path


@pytest.fixture
def cfg(config_file: Path) -> Settings:
    return load_settings(config_file)


def by_name(statuses: list[runs.SourceStatus]) -> dict[str, runs.SourceStatus]:
    return {s.source: s for s in statuses}


def test_status_of_sources_and_datasets(db: Engine, cfg: Settings) -> None:
    before = by_name(runs.source_status(db, cfg))
    assert before["ticks"].last_run is None and before["ticks"].late and before["ticks"].data_age is None
    assert before["paused"].late is False  # a disabled source is never late

    ok = run_source(db, cfg, "ticks")
    first_broken = run_source(db, cfg, "broken")
    assert (ok.status, first_broken.status) == ("success", "failed")

    now = datetime.now(UTC)
    status = by_name(runs.source_status(db, cfg, now=now))
    ticks = status["ticks"]
    assert ticks.last_run is not None and ticks.last_run.id == ok.run_id
    last = ticks.last_run
    assert (last.status, last.rows_read, last.rows_inserted) == ("success", 6, 6)
    assert ticks.expected_every == timedelta(hours=1)
    assert ticks.last_success == ticks.last_run.finished_at
    assert timedelta(0) <= ticks.data_age < timedelta(minutes=1)
    assert not ticks.late
    [dataset] = ticks.datasets
    assert (dataset.table, dataset.last_success, dataset.late) == ("incident", ticks.last_success, False)

    broken = status["broken"]
    assert broken.last_run.status == "failed" and "broke on page 2" in broken.last_run.error
    assert broken.last_success is None and broken.late
    assert broken.datasets[0].last_success is None and broken.datasets[0].late
    assert status["never"].late and status["never"].last_run is None

    # Two hours later the hourly source is late; the daily one still has no success at all.
    later = by_name(runs.source_status(db, cfg, now=now + timedelta(hours=2)))
    assert later["ticks"].late and later["ticks"].data_age > timedelta(hours=1)
    assert later["ticks"].datasets[0].late

    # A failed run after a success keeps the last success (data age does not reset).
    with db.begin() as connection:
        run_id = runs.start_run(connection, source="ticks", connector="test_ticks", full=False, cursor=None)
        runs.finish_run(connection, run_id, status="failed", error="GET http://x: HTTP 500")
    again = by_name(runs.source_status(db, cfg, now=now))["ticks"]
    assert again.last_run.status == "failed" and again.last_success == ticks.last_success and not again.late

    with db.connect() as connection:
        fresh = freshness.dataset_freshness(freshness.source_runs(connection))
    incident = fresh["incident"]
    assert incident.data_as_of == ticks.last_success
    assert incident.sources == ("broken", "ticks") and incident.failed_sources == ("broken", "ticks")

    assert [r.id for r in runs.recent_runs(db, "ticks")] == [run_id, ok.run_id]


def test_lock_holder_closes_runs_a_dead_process_left_running(db: Engine, cfg: Settings) -> None:
    with db.begin() as connection:
        orphan = runs.start_run(connection, source="ticks", connector="test_ticks", full=False, cursor=None)
    assert by_name(runs.source_status(db, cfg))["ticks"].running
    with runs.source_lock(db, "ticks") as acquired:
        assert acquired
    with db.connect() as connection:
        row = runs.run_row(connection, orphan)
    assert (row["status"], row["error"]) == ("failed", runs.INTERRUPTED) and row["finished_at"]


@pytest.fixture
def cli_env(database_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "260")


def test_ioc_status_prints_a_table(db: Engine, config_file: Path, cfg: Settings, cli_env: None) -> None:
    run_source(db, cfg, "ticks")
    run_source(db, cfg, "broken")
    result = CliRunner().invoke(app, ["--config", str(config_file), "status"])
    assert result.exit_code == 0, result.output
    out = result.output
    for header in ("Nguồn / Source", "Tuổi dữ liệu / Data age", "Trạng thái / State", "Bảng / Table"):
        assert header in out
    sources_part, datasets_part = out.split("Bộ dữ liệu / Datasets")
    lines = {line.split("│")[1].strip(): line for line in sources_part.splitlines() if line.count("│") > 5}
    assert "thành công / success" in lines["ticks"] and "đúng hạn / on time" in lines["ticks"]
    assert "lỗi / failed" in lines["broken"] and "trễ / late" in lines["broken"]
    assert "chưa chạy / never run" in lines["never"] and "tắt / disabled" in lines["paused"]
    assert "1 giờ" in lines["ticks"]  # expected every 1 h, in Vietnamese units
    datasets = [line for line in datasets_part.splitlines() if "incident" in line]
    assert len(datasets) == 4
    ticks_line = next(line for line in datasets if "ticks" in line)
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", ticks_line) and "đúng hạn / on time" in ticks_line
    assert "broken: RuntimeError: tick connector broke on page 2" in out


def test_ioc_run_and_check(db: Engine, config_file: Path, cli_env: None) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["--config", str(config_file), "run", "ticks"])
    assert ok.exit_code == 0, ok.output
    assert "thành công / success" in ok.output and "thêm / inserted 6" in ok.output

    again = runner.invoke(app, ["--config", str(config_file), "run", "ticks", "--full"])
    assert again.exit_code == 0, again.output
    assert "thêm / inserted 0" in again.output and "không đổi / unchanged 6" in again.output

    failed = runner.invoke(app, ["--config", str(config_file), "run", "broken"])
    assert failed.exit_code == 1
    assert "lỗi / error" in failed.output and "broke on page 2" in failed.output

    checked = runner.invoke(app, ["--config", str(config_file), "check", "ticks"])
    assert checked.exit_code == 0 and "OK 2 pages of 3 rows" in checked.output

    with db.connect() as connection:
        statuses = connection.execute(text("SELECT status FROM connector_run ORDER BY id")).scalars().all()
    assert statuses == ["success", "success", "failed"]


def test_run_refuses_a_source_another_process_is_running(
    db: Engine, config_file: Path, cli_env: None
) -> None:
    with runs.source_lock(db, "ticks") as acquired:
        assert acquired
        result = CliRunner().invoke(app, ["--config", str(config_file), "run", "ticks"])
    assert result.exit_code == 1 and "already running elsewhere" in result.output


def test_exit_code_2_for_configuration_errors(config_file: Path, database_env: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "IOC_EXTRA_CONNECTORS": "test_ticks=tests.sample_connectors:TickConnector",
    }
    command = [sys.executable, "-c", "from ioc.cli import main; main()", "--config", str(config_file)]
    result = subprocess.run([*command, "run", "nope"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no source named 'nope'" in result.stderr
    assert "known: broken, never, paused, ticks" in result.stderr


def test_status_on_an_empty_database_says_to_upgrade(
    admin_url: str, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with temporary_database(admin_url, prefix="ioc_empty") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(app, ["--config", str(config_file), "status"])
        assert isinstance(result.exception, ConfigError)
        assert "run `ioc db upgrade`" in str(result.exception)
