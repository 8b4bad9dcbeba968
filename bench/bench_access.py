"""Load with logins on, against the same load with logins off (the true baseline, same run): the wall's
screens polling their data as kiosks (token cookie) and staff sessions clicking through desktop pages
(the page router's callback, as a browser asks for a page) and exports, on loopback, bounded in time.

    python bench/bench_access.py [--scale 0.02] [--seconds 30] [--staff 20] [--poll 5]

Prints, for each mode, requests, errors, p50/p95 response time per kind, the ratio logins-on/off of
p95, and the load average next to each figure. Not a locust run: plain threads and httpx, so the
bench needs nothing beyond the test extra. Demo scale only (the 10M database is left alone).
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from werkzeug.serving import make_server  # noqa: E402

from bench.demo_setup import demo_arguments  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.security.rules import router_body  # noqa: E402
from ioc.auth import accounts, kiosk  # noqa: E402
from ioc.config import Settings, load_settings  # noqa: E402
from ioc.database import Database, make_engine, temporary_database  # noqa: E402
from ioc.migrate import upgrade  # noqa: E402
from ioc.runner import run_source  # noqa: E402

PASSWORD = "bench-password-1"
PAGES = ["/", "/desk/services", "/desk/incidents", "/desk/socio", "/desk/list"]


def settings_for(scale: float, auth: bool, folder: Path) -> Settings:
    wall = yaml.safe_load((REPO_ROOT / "config.yaml").read_text(encoding="utf-8"))["wall"]
    config = {
        "province": {"code": "66"},
        "kpi_dir": str(REPO_ROOT / "kpi_definitions"),
        "drop_dir": str(folder / "drop"),
        "demo": {"scale": scale, "years": 1},
        "sources": {"demo": {"connector": "demo"}},
        "wall": wall,
        "auth": {"enabled": auth},
    }
    path = folder / f"config-{auth}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return load_settings(path)


class Recorder:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def timed(self, kind: str, call: Any) -> None:
        started = time.perf_counter()
        try:
            response = call()
            ok = response.status_code < 400
        except httpx.HTTPError:
            ok = False
        elapsed = time.perf_counter() - started
        with self.lock:
            self.times[kind].append(elapsed)
            if not ok:
                self.errors[kind] += 1


def login(c: httpx.Client) -> None:
    form = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    c.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)})


def run(
    settings: Settings, database: Database, screens: list[str], args: Any, tokens: dict[str, str]
) -> Recorder:
    app = create_app(settings, database)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    record = Recorder()
    stop = time.monotonic() + args.seconds
    auth = settings.auth.enabled

    def screen(screen_id: str) -> None:
        with httpx.Client(base_url=base, timeout=60, headers={"Origin": base}) as c:
            if auth:
                c.get(f"/wall/{screen_id}?token={tokens[screen_id]}")
            time.sleep(random.random() * args.poll)
            while time.monotonic() < stop:
                record.timed("wall data", lambda: c.get(f"/wall/data/{screen_id}?w=1920"))
                time.sleep(args.poll)

    def staff(number: int) -> None:
        rng = random.Random(number)
        with httpx.Client(base_url=base, timeout=120, headers={"Origin": base}) as c:
            if auth:
                login(c)
            while time.monotonic() < stop:
                if rng.random() < 0.1:
                    record.timed("export", lambda: c.get("/desk/export.csv?kpi=dossiers_open_overdue"))
                else:
                    page = rng.choice(PAGES)
                    record.timed(
                        "page", lambda page=page: c.post("/_dash-update-component", json=router_body(page))
                    )
                time.sleep(rng.uniform(1, 3))  # a person reads before the next click

    threads = [threading.Thread(target=screen, args=(s,)) for s in screens]
    threads += [threading.Thread(target=staff, args=(n,)) for n in range(args.staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.shutdown()
    return record


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values[0] if values else 0.0)


def main() -> None:
    import argparse

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--seconds", type=float, default=30)
    extra.add_argument("--staff", type=int, default=20)
    extra.add_argument("--poll", type=float, default=5, help="seconds between a screen's data requests")
    known, rest = extra.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    args = demo_arguments(__doc__, default_scale=0.02)
    args.seconds, args.staff, args.poll = known.seconds, known.staff, known.poll
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"ioc-bench-access-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    with temporary_database(args.admin_url, prefix="ioc_bench_access") as url:
        engine = make_engine(url)
        upgrade(engine)
        off = settings_for(args.scale, False, folder)
        on = settings_for(args.scale, True, folder)
        assert run_source(engine, off, "demo", full=True).ok
        screens = [s.id for room in off.wall.rooms.values() for s in room.screens]
        with engine.begin() as connection:
            accounts.add(connection, "bench", PASSWORD, ["leader"])
            tokens = {s: kiosk.issue(connection, s) for s in screens}
        database = Database(url=url, engine=engine, read_engine=engine)
        print(
            f"{len(screens)} screens polling every {args.poll:g} s, {args.staff} staff sessions, "
            f"{args.seconds:g} s each"
        )
        results = {}
        for name, settings in (("logins off (baseline)", off), ("logins on", on)):
            record = run(settings, database, screens, args, tokens)
            results[name] = record
            load = os.getloadavg()[0]
            for kind, values in sorted(record.times.items()):
                print(
                    f"{name:22} {kind:10} n={len(values):5} errors={record.errors[kind]:3} "
                    f"p50={statistics.median(values) * 1000:7.1f} ms p95={p95(values) * 1000:7.1f} ms  "
                    f"load {load:.1f}"
                )
        base, guarded = results["logins off (baseline)"], results["logins on"]
        for kind in sorted(guarded.times):
            if base.times.get(kind):
                ratio = p95(guarded.times[kind]) / p95(base.times[kind])
                print(f"p95 ratio logins on/off, {kind}: {ratio:.2f}  (load {os.getloadavg()[0]:.1f})")
        engine.dispose()


if __name__ == "__main__":
    main()
