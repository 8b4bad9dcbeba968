"""`ioc kpi list` and `ioc kpi show` against a real database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from typer.testing import CliRunner

from ioc.cli import app
from ioc.kpi import rollup as rollups
from ioc.kpi.periods import LOCAL_TZ
from ioc.models import Dossier, OrgUnit

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path: Path, db: Engine, database_env: str) -> Path:
    with db.begin() as connection:
        rollups.clear(connection)
        connection.execute(
            insert(OrgUnit.__table__),
            [
                {"code": "66", "name": "Tỉnh Đắk Lắk", "kind": "tỉnh", "level": 1, "parent_code": None},
                {"code": "66001", "name": "Xã A", "kind": "xã", "level": 2, "parent_code": "66"},
                {"code": "66002", "name": "Xã B", "kind": "xã", "level": 2, "parent_code": "66"},
            ],
        )
        connection.execute(
            insert(Dossier.__table__),
            [
                {
                    "source": "t",
                    "code": f"h{i}",
                    "org_unit_code": "66001" if i < 3 else "66002",
                    "channel": "online",
                    "received_at": datetime(2026, 10, 5 + i, 9, tzinfo=LOCAL_TZ),
                    "status": 4,
                }
                for i in range(5)
            ],
        )
    path = tmp_path / "config.yaml"
    path.write_text(f"province:\n  code: '66'\nkpi_dir: {REPO_ROOT / 'kpi_definitions'}\n", encoding="utf-8")
    return path


def test_list_shows_every_kpi(config: Path) -> None:
    result = CliRunner().invoke(app, ["--config", str(config), "kpi", "list", "--domain", "incidents"])
    assert result.exit_code == 0, result.output
    assert "incident_close_rate" in result.output and "dossiers_received" not in result.output


def test_show_a_kpi_with_a_breakdown(config: Path) -> None:
    args = [
        "--config",
        str(config),
        "kpi",
        "show",
        "dossiers_received",
        "--area",
        "66",
        "--period",
        "2026-10",
    ]
    result = CliRunner().invoke(app, [*args, "--breakdown", "area"])
    assert result.exit_code == 0, result.output
    assert "kỳ 2026-10, địa bàn 66: 5 hồ sơ" in result.output
    assert "1. Xã A" in result.output and "2. Xã B" in result.output


def test_show_errors_exit_2(config: Path) -> None:
    base = ["--config", str(config), "kpi", "show"]
    unknown_area = CliRunner().invoke(
        app, [*base, "dossiers_received", "--area", "99", "--period", "2026-10"]
    )
    assert unknown_area.exit_code == 2
    assert "unknown area '99'" in unknown_area.output
    unknown_kpi = CliRunner().invoke(app, [*base, "nope", "--period", "2026-10"])
    assert unknown_kpi.exit_code == 2 and "unknown KPI 'nope'" in unknown_kpi.output
    bad_period = CliRunner().invoke(app, [*base, "dossiers_received", "--period", "Oct"])
    assert bad_period.exit_code == 2 and "expected a period" in bad_period.output


def test_show_no_data_without_the_unit(config: Path) -> None:
    args = [
        "--config",
        str(config),
        "kpi",
        "show",
        "dossiers_on_time_rate",
        "--area",
        "66",
        "--period",
        "2026-10",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "địa bàn 66: không có dữ liệu\n" in result.output  # nothing finished: not "không có dữ liệu%"
    assert "dữ liệu%" not in result.output
