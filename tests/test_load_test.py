"""The load test (bench/load_test.py) still runs end to end: gunicorn, the worker pulling the DVCQG
feed, locust's kiosks and staff (callbacks recorded from Chromium), the report. A small province and a
short run: this checks the machinery (no errors, heartbeats, the worker's loads), not the 300 ms goal,
which needs a quiet machine and the full run (README, "Load test")."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_load_test_runs_end_to_end_on_a_small_province(admin_url: str) -> None:
    command = [
        sys.executable,
        "bench/load_test.py",
        *("--scale", "0.02", "--minutes", "1.3", "--warmup", "0", "--staff", "4", "--screens", "13"),
        *("--spawn-rate", "10", "--think", "2", "4", "--pages", "3", "--admin-url", admin_url),
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    report = done.stdout
    assert "== Server time per request" in report, done.stderr[-3000:]
    rows = re.findall(r"^(desk callback|wall data \(heartbeat\)|export csv)\s+(\d+)\s+(\d+)\s", report, re.M)
    assert {kind for kind, _, _ in rows} >= {"desk callback", "wall data (heartbeat)"}, report
    assert all(int(n) > 0 and int(errors) == 0 for _, n, errors in rows), report
    assert "13 screens" in report and "screens missing a heartbeat: none" in report, report
    assert re.search(r"UTC success .* \+\d+ new", report), report  # the worker loaded a batch on time
    assert "== Locust: 0 client failures and exceptions" in report, report
