"""The `wall:` section: the shipped wall is valid, names only real KPIs; errors name the key path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ioc.config import ConfigError, load_settings
from ioc.kpi import load_library
from ioc.wall.config import unknown_kpis

REPO_ROOT = Path(__file__).resolve().parent.parent

HEAD = "province: {code: '66'}\n"


def wall_config(tmp_path: Path, screens: str, scenes: str = "[{id: a, name: A, duration: 30}]") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        HEAD
        + f"wall:\n  rooms:\n    ops:\n      name: Ops\n      scenes: {scenes}\n      screens:\n{screens}",
        encoding="utf-8",
    )
    return path


def test_shipped_wall_has_the_operations_room_and_only_known_kpis() -> None:
    settings = load_settings(REPO_ROOT / "config.yaml")
    ops = settings.wall.rooms["ops"]
    assert (ops.layout, len(ops.screens)) == ((3, 3), 9)
    assert "monitor" in settings.wall.rooms
    library = load_library(settings.kpi_dir)
    assert unknown_kpis(settings.wall, set(library.kpis)) == []
    kinds = {
        tile.kind
        for room in settings.wall.rooms.values()
        for screen in room.screens
        for tiles in (screen.default, *screen.scenes.values())
        for tile in tiles
    }
    assert kinds == {"kpi", "ranking", "trend", "ticker", "map", "table", "clock", "notice"}
    assert "vneid_level2_rate" in settings.wall.kpi_ids()


def test_overlapping_tiles_are_named_with_their_path(tmp_path: Path) -> None:
    path = wall_config(
        tmp_path,
        "        - id: s1\n          name: S\n          grid: 2x2\n          scenes:\n            a:\n"
        "              - {kind: clock, at: [1, 1], span: [2, 1]}\n"
        "              - {kind: clock, at: [2, 1]}\n",
    )
    with pytest.raises(ConfigError, match=r"wall\.rooms\.ops\.screens\.0: .*scenes\.a\.1: overlaps tile 0"):
        load_settings(path)


def test_tile_outside_the_grid_and_missing_fields(tmp_path: Path) -> None:
    path = wall_config(
        tmp_path,
        "        - id: s1\n          name: S\n          grid: 1x2\n          scenes:\n            a:\n"
        "              - {kind: clock, at: [1, 2], span: [1, 2]}\n",
    )
    with pytest.raises(ConfigError, match=r"leaves the 1x2 grid"):
        load_settings(path)
    path = wall_config(
        tmp_path,
        "        - id: s1\n          name: S\n          scenes:\n            a:\n"
        "              - {kind: kpi, at: [1, 1], period: next_century}\n",
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert "wall.rooms.ops.screens.0.scenes.a.0.period" in str(error.value)
    path = wall_config(
        tmp_path,
        "        - id: s1\n          name: S\n          scenes:\n            a:\n"
        "              - {kind: kpi, at: [1, 1]}\n",
    )
    with pytest.raises(
        ConfigError, match=r"wall\.rooms\.ops\.screens\.0\.scenes\.a\.0: .*a kpi tile needs `kpi`"
    ):
        load_settings(path)


def test_unknown_scene_and_tile_kind(tmp_path: Path) -> None:
    path = wall_config(
        tmp_path,
        "        - id: s1\n          name: S\n          scenes:\n            b:\n"
        "              - {kind: gauge, at: [1, 1]}\n",
    )
    with pytest.raises(ConfigError, match=r"wall\.rooms\.ops\.screens\.0\.scenes\.b\.0\.kind"):
        load_settings(path)
    path = wall_config(
        tmp_path,
        "        - id: s1\n          name: S\n          scenes:\n            b:\n"
        "              - {kind: clock, at: [1, 1]}\n",
    )
    with pytest.raises(ConfigError, match=r"unknown scene 'b'"):
        load_settings(path)


def test_cli_exits_2_on_a_bad_wall(tmp_path: Path) -> None:
    path = wall_config(tmp_path, "        - id: Bad Id\n          name: S\n          default: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "ioc", "--config", str(path), "db", "current"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "wall.rooms.ops.screens.0.id" in result.stderr
    assert "Traceback" not in result.stderr
