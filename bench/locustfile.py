"""Locust users of the load test (`bench/load_test.py` starts locust with this file; not run alone).

* `Kiosk`: one per wall screen. Opens its screen once with its token (then a cookie carries it), asks
  `/wall/data/<screen>` every `refresh` seconds as the kiosk page does (that request is its heartbeat)
  and the server clock every tenth time.
* `Staff`: a department's staff member. Logs in through the form, then clicks: a page (the Dash
  callbacks a real browser sent for it, recorded by `bench/journeys.py`) or, one time in ten, an
  export of a month's dossiers as CSV; reads for `think` seconds between clicks.

The plan (accounts, tokens, journeys, timing) comes as JSON in the file named by `IOC_LOAD_PLAN`.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["IOC_LOAD_PLAN"]).read_text(encoding="utf-8"))
CALLBACK = "/_dash-update-component"
_screens = itertools.cycle(PLAN["screens"])
_staff = itertools.cycle(PLAN["staff"])


class Kiosk(HttpUser):
    fixed_count = len(PLAN["screens"])
    wait_time = constant(PLAN["refresh"])

    def on_start(self) -> None:
        self.screen, token = next(_screens)
        self.client.get(f"/wall/{self.screen}?token={token}", name="kiosk open")
        self.polls = 0

    @task
    def refresh(self) -> None:
        self.client.get(f"/wall/data/{self.screen}?w=1920", name="wall data")
        self.polls += 1
        if self.polls % 10 == 0:
            self.client.get("/wall/time", name="wall time")


class Staff(HttpUser):
    fixed_count = len(PLAN["staff"])
    wait_time = between(*PLAN["think"])

    def on_start(self) -> None:
        username = next(_staff)
        self.client.headers["Origin"] = self.host
        form = self.client.get("/login", name="login form")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        self.client.post(
            "/login",
            data={
                "username": username,
                "password": PLAN["password"],
                "csrf_token": token.group(1) if token else "",
            },
            name="login",
        )
        self.rng = random.Random(username)

    @task(9)
    def page(self) -> None:
        url = self.rng.choice(list(PLAN["journeys"]))
        for body in PLAN["journeys"][url]:
            with self.client.post(
                CALLBACK, json=body, name=f"page {url.split('?')[0]}", catch_response=True
            ) as reply:
                if reply.status_code == 204:  # Dash: no update for this output
                    reply.success()

    @task(1)
    def export(self) -> None:
        kpi = self.rng.choice(("dossiers_received", "dossiers_finished_late", "dossiers_open_overdue"))
        # read to the end, as a browser saving the file does (locust needs catch_response for a
        # with-block: without it, it raised, and the unread response held a server thread for good)
        with self.client.get(
            f"/desk/export.csv?kpi={kpi}&period={PLAN['month']}",
            name="export csv",
            stream=True,
            catch_response=True,
        ) as reply:
            for _ in reply.iter_content(65536):
                pass
