"""Benchmark of the video wall: the server time of one screen refresh (GET /wall/data/<screen>), the
SQL statements it runs, and 36 screens refreshing at once.

    python bench/bench_wall.py --url postgresql://postgres@127.0.0.1:5432/ioc_wall_demo   # demo scale
    python bench/bench_wall.py --url postgresql://postgres@127.0.0.1:5432/ioc_bench_10m   # 10M dossiers

The database must hold the province's data and be migrated (`ioc db upgrade`; the wall's state
tables are migration 0007). The wall is the shipped one (config.yaml) plus, for the 36-screen case, a
monitoring room of 27 screens that reuse the operations room's tiles (as a real wall would).

Figures: cold = the first refresh of a data version (nothing cached: the baseline); warm = the same
screen again within the version (what 35 of 36 screens get). Every figure is printed with
os.getloadavg(); at load 3.5 the same work ran 2.5-3.5x slower here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import event

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from dashboard.app import create_app  # noqa: E402
from ioc.config import Settings, load_settings  # noqa: E402
from ioc.database import Database, make_engine  # noqa: E402
from ioc.wall.config import WallConfig  # noqa: E402


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


class StatementCounter:
    """Counts SQL statements sent on the given engines (SQLAlchemy `before_cursor_execute`)."""

    def __init__(self, *engines: Any) -> None:
        self.count = 0
        self._lock = threading.Lock()
        for engine in {id(e): e for e in engines}.values():
            event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        with self._lock:
            self.count += 1

    def measure(self, work: Callable[[], Any]) -> tuple[float, int, Any]:
        before = self.count
        started = time.perf_counter()
        result = work()
        return time.perf_counter() - started, self.count - before, result


def with_big_room(settings: Settings) -> Settings:
    """The shipped wall plus a monitoring room of 27 screens reusing the operations room's tiles."""
    ops = settings.wall.rooms["ops"]
    screens = [
        screen.model_copy(update={"id": f"big-{index + 1}", "name": f"{screen.name} ({index + 1})"})
        for index, screen in enumerate(list(ops.screens) * 3)
    ]
    big = ops.model_copy(update={"name": "Phòng giám sát (27)", "layout": (3, 9), "screens": tuple(screens)})
    wall = WallConfig.model_validate(
        {**settings.wall.model_dump(), "rooms": {**settings.wall.rooms, "big": big}}
    )
    return settings.model_copy(update={"wall": wall})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/ioc_wall_demo")
    parser.add_argument("--config", default=str(REPO_ROOT / "config.yaml"))
    parser.add_argument("--warm", type=int, default=15, help="warm refreshes per screen")
    parser.add_argument("--screens", default="", help="comma-separated screen ids (default: the ops room)")
    parser.add_argument("--no-many", action="store_true", help="skip the 36-screens part")
    args = parser.parse_args()

    settings = with_big_room(load_settings(args.config))
    # the server time of a refresh, not of the kiosk-token check (logins are on by default)
    settings = settings.model_copy(update={"auth": settings.auth.model_copy(update={"enabled": False})})
    engine = make_engine(args.url, pool_size=40)
    app = create_app(settings, Database(url=args.url, engine=engine, read_engine=engine))
    model = app.server.config["IOC_READ_MODEL"]
    counter = StatementCounter(engine, model.engine)
    client = app.server.test_client()
    screens = args.screens.split(",") if args.screens else [s.id for s in settings.wall.rooms["ops"].screens]
    print(f"database {args.url.rsplit('/', 1)[-1]}; screens {', '.join(screens)}; {load()}")

    def refresh(screen: str) -> Callable[[], Any]:
        return lambda: client.get(f"/wall/data/{screen}?w=1920&scene=tong-quan")

    print("\n== one screen refresh (server time, ms) ==")
    print(
        f"{'screen':8} {'cold':>9} {'stmts':>6} {'warm p50':>9} {'warm p90':>9} {'stmts':>6} "
        f"{'cold/warm':>9}  load"
    )
    medians = []
    for screen in screens:
        model.cache.clear()
        cold, cold_sql, response = counter.measure(refresh(screen))
        assert response.status_code == 200, response.status_code
        warm_times, warm_sql = [], []
        for _ in range(args.warm):
            seconds, statements, _ = counter.measure(refresh(screen))
            warm_times.append(seconds)
            warm_sql.append(statements)
        p50 = statistics.median(warm_times)
        p90 = sorted(warm_times)[int(0.9 * (len(warm_times) - 1))]
        medians.append(p50)
        print(
            f"{screen:8} {cold * 1000:9.0f} {cold_sql:6d} {p50 * 1000:9.1f} {p90 * 1000:9.1f} "
            f"{statistics.median(warm_sql):6.0f} {cold / p50:8.0f}x  {load()}"
        )
    print(f"median of warm medians: {statistics.median(medians) * 1000:.1f} ms (goal <= 100 ms); {load()}")

    if args.no_many:
        return
    print("\n== 36 screens refreshing at once (ops 9 + big room 27), after a new data version ==")
    all_ids = [s.id for s in settings.wall.rooms["ops"].screens] + [
        s.id for s in settings.wall.rooms["big"].screens
    ]
    model.cache.clear()
    misses_before = model.cache.misses
    statements_before = counter.count
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=36) as pool:
        codes = list(pool.map(lambda screen: refresh(screen)().status_code, all_ids))
    together = time.perf_counter() - started
    assert set(codes) == {200}, codes
    computed = model.cache.misses - misses_before
    tiles = sum(
        len(screen.tiles_for(scene.id))
        for room_id in ("ops", "big")
        for screen in settings.wall.rooms[room_id].screens
        for scene in settings.wall.rooms[room_id].scenes
    )
    print(
        f"36 screens: {together:.1f} s wall time, {counter.count - statements_before} SQL statements, "
        f"{computed} cache computations for {tiles} tiles shown; {load()}"
    )
    print("baseline, the same 36 refreshes one after another with nothing shared (cache cleared each time):")
    started = time.perf_counter()
    statements_before = counter.count
    sample = all_ids[:: max(1, len(all_ids) // 6)][:6]
    for screen in sample:
        model.cache.clear()
        refresh(screen)()
    alone = (time.perf_counter() - started) / len(sample)
    per_screen = (counter.count - statements_before) / len(sample)
    print(
        f"  {len(sample)} sampled: {alone:.1f} s per screen, {per_screen:.0f} "
        f"statements per screen -> 36 x {alone:.1f} s = {36 * alone:.0f} s; "
        f"shared: {together:.1f} s ({36 * alone / together:.1f}x less); {load()}"
    )


if __name__ == "__main__":
    main()
