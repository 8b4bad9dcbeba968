"""`ioc demo` end to end: migrate, load the demo province, worker + web; the page shows the load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Engine, text

from tests.loopback import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_ioc_demo_serves_the_loaded_counts(db: Engine, database_url: str, tmp_path: Path, browser) -> None:
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        "province: {code: '66'}\n"
        f"web: {{port: {port}}}\n"
        f"kpi_dir: {REPO_ROOT / 'kpi_definitions'}\n"
        "demo: {scale: 0.02, years: 1}\n"
        "sources:\n  demo:\n    connector: demo\n    schedule: {every: 1h}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DATABASE_URL": database_url, "IOC_DEMO_PASSWORD": "demo-password-1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ioc", "--config", str(config), "demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Overview:" in line:
                break
        assert any("Overview:" in line for line in output), "".join(output)
        assert any("login: demo / (mật khẩu trong $IOC_DEMO_PASSWORD)" in line for line in output)
        with db.connect() as connection:
            dossiers = connection.execute(text("SELECT count(*) FROM dossier")).scalar_one()
        assert dossiers > 1000
        page = browser.new_page()
        for _ in range(50):
            try:
                page.goto(f"http://127.0.0.1:{port}/desk/sources")
                break
            except Exception:  # the server is still binding its port
                time.sleep(0.2)
        page.fill("#username", "demo")  # logins are on: the demo admin's password from the env
        page.fill("#password", "demo-password-1")
        page.click("button[type=submit]")
        page.goto(f"http://127.0.0.1:{port}/desk/sources")
        cell = page.locator('[id=\'{"source":"demo","type":"source-read"}\']')
        cell.wait_for(timeout=15_000)
        with db.connect() as connection:
            read = connection.execute(
                text("SELECT rows_read FROM connector_run WHERE source = 'demo' ORDER BY id DESC LIMIT 1")
            ).scalar_one()
        assert read > dossiers and cell.inner_text() == f"{read:,}".replace(",", ".")
        page.close()
        children = psutil.Process(process.pid).children(recursive=True)
        assert any("worker" in " ".join(child.cmdline()) for child in children)
    finally:
        process.send_signal(signal.SIGTERM)  # a service manager's stop; Ctrl-C takes the same path
        rest, _ = process.communicate(timeout=60)
        output.append(rest)
    assert process.returncode == 0, "".join(output)
    assert "Stopped." in "".join(output)
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)


def test_ioc_demo_without_a_demo_source_is_a_config_error(
    db: Engine, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("province: {code: '66'}\nsources: {}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ioc", "--config", str(config), "demo", "--no-worker"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "no `sources.demo` entry" in result.stderr
    assert "Traceback" not in result.stderr
