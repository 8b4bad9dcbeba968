"""What a desktop reader's browser asks the server for each page: recorded once with Chromium, replayed
by the load test's staff sessions (so the load is the real sequence of Dash callbacks, not a guess).

`record(base, username, password, urls)` logs in through the login page, opens each URL in a fresh
navigation and keeps, in order, the bodies of the Dash callback requests (`POST /_dash-update-component`)
the page made until the network went quiet. The static files (Dash's bundles, `/assets/`) are left out:
a browser has them cached after the first page.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("BROWSER_PATH", "/usr/bin/chromium")
CALLBACK_PATH = "/_dash-update-component"


def default_urls(period_month: str, period_quarter: str, commune: str | None) -> list[str]:
    """Pages a department's staff open in a day: overview, services, lists, a KPI, socio-economic,
    incidents, digital citizens, under the month and the quarter, for the province or a commune."""
    area = f"&area={commune}" if commune else ""
    return [
        "/",
        f"/?period={period_quarter}",
        f"/?period={period_month}{area}",
        "/desk/services",
        "/desk/services?by=area",
        f"/desk/services?period={period_quarter}",
        "/desk/list?kpi=dossiers_open_overdue",
        "/desk/list?kpi=dossiers_due_soon",
        f"/desk/list?kpi=dossiers_received&period={period_month}",
        f"/desk/list?kpi=dossiers_finished_late&period={period_month}&page=3",
        "/desk/kpi/dossiers_on_time_rate",
        f"/desk/kpi/dossiers_received?period={period_quarter}",
        "/desk/socio",
        "/desk/incidents",
        "/desk/digital",
    ]


def record(base: str, username: str, password: str, urls: list[str]) -> dict[str, list[Any]]:
    """Each URL's callback bodies, in the order the browser sent them."""
    from playwright.sync_api import sync_playwright

    journeys: dict[str, list[Any]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{base}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        if "/login" in page.url:
            raise RuntimeError(f"{username}: the login page refused the load test's account")
        for url in urls:
            bodies: list[Any] = []

            def keep(request: Any, into: list[Any] = bodies) -> None:
                if request.method == "POST" and urlsplit(request.url).path == CALLBACK_PATH:
                    into.append(json.loads(request.post_data or "null"))

            page.on("request", keep)
            page.goto(base + url)
            _settle(page, bodies, url)
            page.remove_listener("request", keep)
            journeys[url] = bodies
        browser.close()
    return journeys


def _settle(page: Any, bodies: list[Any], url: str, quiet: float = 2.0, limit: float = 90.0) -> None:
    """Wait until the page has made its first callback and then none for `quiet` seconds (Dash fires
    chained callbacks as the first ones answer)."""
    deadline = time.monotonic() + limit
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        if len(bodies) != seen:
            seen, quiet_since = len(bodies), time.monotonic()
        elif bodies and time.monotonic() - quiet_since >= quiet:
            return
    raise RuntimeError(f"{url}: the page made no callback request in {limit:.0f} s (not logged in?)")


def save(journeys: dict[str, list[Any]], path: Path) -> None:
    path.write_text(json.dumps(journeys, ensure_ascii=False), encoding="utf-8")
