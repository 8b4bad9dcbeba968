"""The video wall in real Chromium against a real server and a real Postgres with the demo province.

One database (demo connector, small scale), one app server (restartable on the same port) and one
browser for the whole module; each test opens its own context. Screenshots go to
$WALL_SHOTS (default /tmp/ioc-wall-shots) so a person can look at them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, text
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.wall.clock import scene_at
from ioc.config import Settings, load_settings
from ioc.database import Database, make_engine, temporary_database
from ioc.migrate import upgrade
from ioc.runner import run_source
from ioc.wall import state

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("WALL_SHOTS", "/tmp/ioc-wall-shots"))
SIZES = ((1920, 1080), (3840, 2160))


class RestartableServer:
    """The app on a fixed loopback port, in a thread; stop() and start() again on the same port."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = 0
        self._server: Any = None

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _wall_section(refresh: int) -> dict[str, Any]:
    """The shipped wall, with short refresh and scene durations so tests see changes quickly."""
    raw = yaml.safe_load((REPO_ROOT / "config.yaml").read_text(encoding="utf-8"))["wall"]
    raw.update({"refresh": refresh, "late_after": 12, "offline_after": 40})
    for room in raw["rooms"].values():
        for scene in room["scenes"]:
            scene["duration"] = 6
    return raw


@pytest.fixture(scope="module")
def wall_env(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Engine]]:
    folder = tmp_path_factory.mktemp("wall")
    config = {
        "province": {"code": "66"},
        "kpi_dir": str(REPO_ROOT / "kpi_definitions"),
        "drop_dir": str(folder / "drop"),
        "demo": {"scale": 0.03, "years": 1},
        "sources": {"demo": {"connector": "demo", "expected_every": "1h"}},
        "wall": _wall_section(refresh=5),
        "auth": {"enabled": False},  # kiosk tokens and logins: tests/test_security_web.py
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    settings = load_settings(path)
    with temporary_database(admin_url, prefix="ioc_wall") as url:
        engine = make_engine(url)
        upgrade(engine)
        run_source(engine, settings, "demo", full=True)
        yield settings, engine
        engine.dispose()


@pytest.fixture(scope="module")
def server(wall_env: tuple[Settings, Engine]) -> Iterator[RestartableServer]:
    settings, engine = wall_env
    app = create_app(settings, Database(url=str(engine.url), engine=engine, read_engine=engine))
    running = RestartableServer(app.server)
    running.start()
    yield running
    running.stop()


def _open(
    browser: Any, url: str, width: int = 1920, height: int = 1080, shift_ms: int = 0, worker: bool = False
) -> Any:
    """A page in its own context (its own clock, cache and service worker; workers off unless asked)."""
    blocked = "allow" if worker else "block"
    context = browser.new_context(viewport={"width": width, "height": height}, service_workers=blocked)
    if shift_ms:  # a kiosk PC whose clock is off by shift_ms
        context.add_init_script(f"(() => {{ const n = Date.now; Date.now = () => n() + {shift_ms}; }})()")
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".wall-root[data-version]", timeout=120_000)  # a new data version is computed cold
    return page


def _screens(settings: Settings) -> list[tuple[str, list[str]]]:
    return [
        (screen.id, [scene.id for scene in room.scenes])
        for room in settings.wall.rooms.values()
        for screen in room.screens
    ]


CHECK_JS = """
() => {
  const root = document.querySelector('.wall-root');
  const doc = document.documentElement;
  const layer = document.querySelector('.wall-layer.is-active');
  const tiles = Array.from(layer.querySelectorAll(':scope > .wall-tile'));
  const overflowing = [];
  for (const tile of tiles) {
    const box = tile.getBoundingClientRect();
    for (const el of tile.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      if (el.closest('svg')) continue;
      if (r.bottom > box.bottom + 1 || r.right > box.right + 1) overflowing.push(el.className);
    }
  }
  const small = [];
  for (const el of root.querySelectorAll('.wall-header *, .wall-layer.is-active *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('svg')) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 24) small.push(el.className + ' ' + size + ' ' + el.textContent.slice(0, 30));
  }
  const size = e => parseFloat(getComputedStyle(e).fontSize);
  const values = Array.from(layer.querySelectorAll('.kpi-tile__value')).map(size);
  return {
    scroll: [doc.scrollWidth > doc.clientWidth, doc.scrollHeight > doc.clientHeight],
    overflowing, small, values, tiles: tiles.length,
    loading: layer.innerText.includes('Đang tải'), text: layer.innerText.length,
    name: document.querySelector('.wall-header__name').innerText,
    svgText: Array.from(layer.querySelectorAll('svg text')).map(size),
  };
}
"""


def test_every_shipped_screen_renders_legibly_at_hd_and_4k(
    browser: Any, server: RestartableServer, wall_env
) -> None:
    settings, _ = wall_env
    SHOTS.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
        page = context.new_page()
        for screen_id, scenes in _screens(settings):
            page.goto(f"{server.url}/wall/{screen_id}?scene={scenes[0]}")
            for scene in scenes if width == 1920 else scenes[:1]:
                page.evaluate(f"window.wallState.hold = '{scene}'")  # what ?scene= does, without a reload
                page.wait_for_selector(f".wall-root[data-version][data-scene='{scene}']", timeout=60_000)
                page.wait_for_function(
                    "() => !document.querySelector('.wall-layer.is-active').innerText.includes('Đang tải')"
                    " && !document.querySelector('.wall-layer.is-active .dash-graph--pending')",
                    timeout=30_000,
                )
                page.wait_for_timeout(700)  # fonts, plotly's first draw, the layer's fade
                shot = SHOTS / f"{screen_id}-{scene}-{width}.png"
                page.screenshot(path=str(shot))
                found = page.evaluate(CHECK_JS)
                where = f"{screen_id}/{scene}@{width}"
                if any(found["scroll"]):
                    failures.append(f"{where}: scrollbar {found['scroll']}")
                if found["overflowing"]:
                    failures.append(f"{where}: overflow {found['overflowing'][:3]}")
                if found["small"]:
                    failures.append(f"{where}: text under 24 px {found['small'][:3]}")
                if any(size < 64 for size in found["values"]):
                    failures.append(f"{where}: KPI value under 64 px {found['values']}")
                if found["svgText"] and min(found["svgText"]) < 24 * (width / 1920) * 0.9:
                    failures.append(f"{where}: chart text {min(found['svgText'])} px")
                if found["tiles"] == 0 or found["text"] < 20 or found["loading"]:
                    failures.append(f"{where}: empty ({found['text']} characters)")
                if shot.stat().st_size < 25_000:  # a blank dark page compresses to a few kB
                    failures.append(f"{where}: screenshot looks blank ({shot.stat().st_size} bytes)")
        context.close()
    room = browser.new_page()
    room.goto(f"{server.url}/wall?room=ops")
    frames = room.locator("iframe.wall-frame")
    frames.first.wait_for(timeout=30_000)
    assert frames.count() == 9
    assert frames.nth(4).get_attribute("src") == "/wall/ops-5"
    room.close()
    assert not failures, "\n".join(failures)


def test_two_screens_switch_together_even_with_a_clock_40_s_off(
    browser: Any, server: RestartableServer, wall_env
) -> None:
    settings, _ = wall_env
    room = settings.wall.rooms["ops"]
    left = _open(browser, f"{server.url}/wall/ops-1")
    right = _open(browser, f"{server.url}/wall/ops-4", shift_ms=40_000)
    right.wait_for_function(
        "() => Math.abs(Number(document.querySelector('.wall-root').dataset.offset) + 40000) < 2000"
    )
    seen = set()
    mismatches = 0
    deadline = time.time() + 14  # more than two scene changes (scenes last 6 s here)
    while time.time() < deadline:
        a = left.eval_on_selector(".wall-root", "e => e.dataset.scene")
        b = right.eval_on_selector(".wall-root", "e => e.dataset.scene")
        now = time.time()
        expected = scene_at(room, now).scene.id
        near_boundary = abs(now - round(now / 6) * 6) < 0.6
        if not near_boundary:
            assert a == b == expected, (a, b, expected)
        elif a != b:
            mismatches += 1
        seen.add(a)
        time.sleep(0.2)
    assert seen == {"tong-quan", "chi-tiet"}
    changed = [
        float(page.eval_on_selector(".wall-root", "e => e.dataset.changedAt")) for page in (left, right)
    ]
    # the last switch, in server time: ticks come every 250 ms, but a starved CPU (load 20 here) delays them
    assert abs(changed[0] - changed[1]) < 1500, changed
    for page in (left, right):
        page.context.close()


def test_a_late_source_turns_tiles_stale_and_a_failed_run_shows(
    browser: Any, server: RestartableServer, wall_env
) -> None:
    _, engine = wall_env
    page = _open(browser, f"{server.url}/wall/ops-1?scene=tong-quan")
    tile = page.locator(".wall-layer.is-active .wall-tile--kpi").first
    assert "ioc-fresh-fresh" in (tile.get_attribute("class") or "")
    # unchanged data: the next refresh leaves the tile's DOM alone (no redraw, no flicker)
    for _attempt in range(3):  # a refresh within the same data version (it moves once a minute)
        version, refreshed = page.eval_on_selector(
            ".wall-root", "e => [e.dataset.version, e.dataset.refreshed]"
        )
        page.eval_on_selector(".wall-layer.is-active .kpi-tile", "e => { e.__untouched = true; }")
        page.wait_for_function(
            f"() => document.querySelector('.wall-root').dataset.refreshed !== '{refreshed}'"
        )
        if page.eval_on_selector(".wall-root", "e => e.dataset.version") == version:
            assert page.eval_on_selector(".wall-layer.is-active .kpi-tile", "e => e.__untouched === true")
            break
    else:
        raise AssertionError("no two refreshes within one data version")
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE connector_run SET started_at = started_at - interval '3 days', "
                "finished_at = finished_at - interval '3 days'"
            )
        )
    try:
        page.wait_for_selector(".wall-layer.is-active .wall-tile.ioc-fresh-stale", timeout=20_000)
        assert page.eval_on_selector(
            ".wall-layer.is-active .kpi-tile", "e => e.__untouched !== true"
        )  # redrawn
        assert "Chậm cập nhật" in tile.inner_text()
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO connector_run (source, connector, started_at, finished_at, status, error) "
                    "VALUES ('demo', 'demo', now(), now(), 'failed', 'kết nối bị từ chối')"
                )
            )
        page.wait_for_selector(".wall-layer.is-active .wall-tile.ioc-fresh-failed", timeout=20_000)
        assert "Lỗi đồng bộ" in tile.inner_text()
        page.screenshot(path=str(SHOTS / "failed-source.png"))
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM connector_run WHERE status = 'failed'"))
            connection.execute(
                text(
                    "UPDATE connector_run SET started_at = started_at + interval '3 days', "
                    "finished_at = finished_at + interval '3 days'"
                )
            )
    page.wait_for_selector(".wall-layer.is-active .wall-tile.ioc-fresh-fresh", timeout=20_000)
    page.context.close()


def test_server_down_keeps_content_shows_banner_and_recovers(browser: Any, server: RestartableServer) -> None:
    page = _open(browser, f"{server.url}/wall/ops-1?scene=tong-quan", worker=True)
    page.wait_for_function("() => document.documentElement.dataset.wallSw === 'ready'", timeout=20_000)
    page.wait_for_selector(".wall-root[data-version]", timeout=30_000)  # after the service worker's reload
    before = page.locator(".wall-layer.is-active").inner_text()
    server.stop()
    try:
        page.wait_for_selector(".wall-status.is-lost", timeout=20_000)
        assert page.locator(".wall-status").inner_text().startswith("Mất kết nối · 0 phút")
        assert page.locator(".wall-layer.is-active").inner_text() == before
        page.screenshot(path=str(SHOTS / "server-down.png"))
        page.reload()  # a kiosk reboot while the server is down: the service worker serves the shell
        page.wait_for_selector(".wall-root[data-version] .kpi-tile__value", timeout=30_000)
        page.wait_for_selector(".wall-status.is-lost", timeout=20_000)
        page.screenshot(path=str(SHOTS / "server-down-reloaded.png"))
        values = page.locator(".wall-layer.is-active .kpi-tile__value").all_inner_texts()
        assert values and all(values)
    finally:
        server.start()
    page.wait_for_function("() => !document.querySelector('.wall-status.is-lost')", timeout=30_000)
    assert page.locator(".wall-status").inner_text() == ""
    page.context.close()


def test_screen_data_is_computed_once_per_data_version(server: RestartableServer, wall_env) -> None:
    import httpx

    first = httpx.get(f"{server.url}/wall/data/ops-1?w=1920", timeout=60).json()
    again = httpx.get(f"{server.url}/wall/data/ops-1?w=1920", timeout=60).json()
    assert (
        first["version"] == again["version"]
        or again["version"].split(":")[:-1] == first["version"].split(":")[:-1]
    )
    assert {k: v["hash"] for k, v in first["tiles"].items()} == {
        k: v["hash"] for k, v in again["tiles"].items()
    }
    assert datetime.fromtimestamp(again["t"] / 1000, UTC) >= datetime.fromtimestamp(first["t"] / 1000, UTC)


def _scene(page: Any) -> str:
    return str(page.eval_on_selector(".wall-root", "e => e.dataset.scene"))


def _scenes_during(pages: list[Any], seconds: float) -> list[set[str]]:
    seen: list[set[str]] = [set() for _ in pages]
    deadline = time.time() + seconds
    while time.time() < deadline:
        for index, page in enumerate(pages):
            seen[index].add(_scene(page))
        time.sleep(0.25)
    return seen


def test_a_pin_reaches_the_chosen_screens_only_and_ends(
    browser: Any, server: RestartableServer, wall_env
) -> None:
    _, engine = wall_env
    chosen = _open(browser, f"{server.url}/wall/ops-1")
    other = _open(browser, f"{server.url}/wall/ops-3")
    control = browser.new_page(viewport={"width": 1600, "height": 1000})
    control.goto(f"{server.url}/wall/control")
    control.wait_for_selector(".wall-ctl-screen", timeout=60_000)
    control.get_by_label("ops-1 · Dịch vụ công trực tuyến").check()
    control.get_by_label("Ghim một cảnh").check()
    control.select_option("#wall-ctl-scene", "chi-tiet")
    control.click("#wall-ctl-apply")
    control.wait_for_selector("#wall-ctl-message:has-text('Đã đưa lên 1 màn hình')")
    chosen.wait_for_function(
        "() => document.querySelector('.wall-root').dataset.scene === 'chi-tiet'", timeout=15_000
    )
    chosen.wait_for_timeout(6_000)  # settle: one data refresh (5 s here) confirms the pin
    pinned, free = _scenes_during([chosen, other], 8)  # longer than a scene (6 s here)
    assert pinned == {"chi-tiet"}
    assert free == {"tong-quan", "chi-tiet"}
    control.click("button:has-text('Gỡ')")  # released by the operator
    chosen.wait_for_function(
        "() => document.querySelector('.wall-root').dataset.scene === 'tong-quan'", timeout=15_000
    )
    # a topic for a few seconds: shown on the chosen screen only, then gone by itself
    with engine.begin() as connection:
        state.add_override(
            connection,
            ["ops-1"],
            topic={"kind": "notice", "text": "Diễn tập phòng cháy lúc 15:00"},
            until=datetime.now(UTC) + timedelta(seconds=9),
        )
    chosen.wait_for_selector(".wall-root[data-scene='topic'] .wall-topic.is-active", timeout=15_000)
    assert "Diễn tập phòng cháy" in chosen.locator(".wall-topic").inner_text()
    assert _scene(other) != "topic"
    chosen.wait_for_function(
        "() => document.querySelector('.wall-root').dataset.scene !== 'topic'", timeout=20_000
    )
    control.close()
    for page in (chosen, other):
        page.context.close()


def test_a_frozen_screen_shows_late_on_the_control_page(browser: Any, server: RestartableServer) -> None:
    screen = _open(browser, f"{server.url}/wall/ops-2")
    control = browser.new_page(viewport={"width": 1600, "height": 1000})
    control.goto(f"{server.url}/wall/control")
    card = "[data-screen='ops-2'].wall-ctl-screen"
    control.wait_for_selector(f"{card}[data-status='live']", timeout=30_000)
    session = screen.context.new_cdp_session(screen)
    session.send("Debugger.enable")
    session.send("Debugger.pause")  # the page's JavaScript stops, as in a hung kiosk browser
    control.wait_for_selector(f"{card}[data-status='late']", timeout=30_000)  # late_after is 12 s here
    assert "Chậm" in control.locator(card).inner_text()
    control.screenshot(path=str(SHOTS / "control-late.png"), full_page=True)
    session.send("Debugger.resume")
    control.wait_for_selector(f"{card}[data-status='live']", timeout=30_000)
    screen.context.close()
    control.close()


def test_an_alert_shows_on_every_screen_until_acknowledged(
    browser: Any, server: RestartableServer, wall_env
) -> None:
    _, engine = wall_env
    with engine.begin() as connection:
        connection.execute(text("UPDATE wall_alert SET acknowledged_at = now()"))
        connection.execute(
            text(
                "INSERT INTO incident (source, external_id, category, reported_at, status, severity) "
                "VALUES ('demo', 'ATTT-TEST-1', 'infosec', now(), 'open', 3)"
            )
        )
        connection.execute(  # a load ends: the data version moves, screens look again
            text(
                "INSERT INTO connector_run (source, connector, started_at, finished_at, status) "
                "VALUES ('demo', 'demo', now(), now(), 'success')"
            )
        )
    pages = [_open(browser, f"{server.url}/wall/{screen}") for screen in ("ops-1", "ops-7", "mon-3")]
    for page in pages:
        page.wait_for_selector(".wall-alerts .wall-alert--incident", timeout=20_000)
        assert "Sự cố nghiêm trọng: An toàn thông tin" in page.locator(".wall-alerts").inner_text()
    pages[1].screenshot(path=str(SHOTS / "alert-strip.png"))
    control = browser.new_page(viewport={"width": 1600, "height": 1000})
    control.goto(f"{server.url}/wall/control")
    control.wait_for_selector(".wall-ctl-alert", timeout=30_000)
    control.click("#wall-ctl-ack-all")
    control.wait_for_selector("text=Không có cảnh báo đang mở.", timeout=15_000)
    for page in pages:
        page.wait_for_function("() => !document.querySelector('.wall-alerts .wall-alert')", timeout=20_000)
        page.context.close()
    control.close()
