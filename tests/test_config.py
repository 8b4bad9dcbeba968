"""Configuration errors name the file, the key path and what was expected; the CLI exits 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ioc.config import ConfigError, load_settings, parse_duration, secret

REPO_ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_config_is_valid() -> None:
    settings = load_settings(REPO_ROOT / "config.yaml")
    assert settings.province.code == "66"
    assert settings.sources["demo"].connector == "demo"
    assert settings.database.embedded_dir == REPO_ROOT / "var" / "pgdata"


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "province:\n  code: '66'\ndatabase:\n  embeded_dir: x\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert str(path) in message
    assert "database.embeded_dir: unknown key" in message


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    path = write(tmp_path, "province:\n  code: '66'\nweb:\n  port: eighty\n")
    with pytest.raises(ConfigError, match=r"web\.port: Input should be a valid integer.*'eighty'"):
        load_settings(path)


def test_missing_required_key(tmp_path: Path) -> None:
    path = write(tmp_path, "language: vi\n")
    with pytest.raises(ConfigError, match=r"province: required key is missing"):
        load_settings(path)


def test_bad_schedule_is_explained(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "province: {code: '66'}\nsources:\n  demo:\n    connector: demo\n    schedule: {every: soon}\n",
    )
    with pytest.raises(ConfigError, match=r"sources\.demo\.schedule.*expected a duration"):
        load_settings(path)


def test_missing_file_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.yaml")
    path = write(tmp_path, "province: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+ is not valid YAML"):
        load_settings(path)


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "province: {code: '01'}\n")
    monkeypatch.setenv("IOC_CONFIG", str(path))
    assert load_settings().province.code == "01"


def test_settings_are_frozen() -> None:
    settings = load_settings(REPO_ROOT / "config.yaml")
    with pytest.raises(ValueError, match="frozen"):
        settings.web.port = 1  # type: ignore[misc]


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IGATE_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="IGATE_TOKEN is not set"):
        secret("IGATE_TOKEN", purpose="source igate")
    monkeypatch.setenv("IGATE_TOKEN", "s3cret")
    assert secret("IGATE_TOKEN", purpose="source igate") == "s3cret"


def test_durations() -> None:
    assert parse_duration("15m").total_seconds() == 900
    assert parse_duration("2h").total_seconds() == 7200
    with pytest.raises(ValueError):
        parse_duration("fortnight")


def test_cli_exits_2_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "province:\n  code: '66'\nwbe:\n  port: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "ioc", "--config", str(path), "db", "current"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "wbe: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
