"""Logins, roles, scope, kiosks, CSRF and headers through a real server (issue 11).

One demo province, a server with logins on, and accounts: an admin, an operator, a leader, and two
staff members of different departments. HTTP-level checks use httpx; where a person clicks, Chromium.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine, text

from dashboard.security import rules
from ioc.auth import accounts, kiosk
from ioc.config import Settings, load_settings
from ioc.database import Database, make_engine, temporary_database
from ioc.formatting import format_number
from ioc.kpi.periods import Period, local_today, parse_period
from ioc.migrate import upgrade
from ioc.runner import run_source
from tests.web import serve_app

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "mat-khau-thu-nghiem-1"
YEAR = datetime.now(UTC).year
XSS = "<script>window.__xss=1</script>Cháy <b>kho</b>"


class Env:
    def __init__(self, settings: Settings, engine: Engine, url: str, departments: list[str]) -> None:
        self.settings, self.engine, self.url, self.departments = settings, engine, url, departments


@pytest.fixture(scope="module")
def env(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("security")
    wall = yaml.safe_load((REPO_ROOT / "config.yaml").read_text(encoding="utf-8"))["wall"]
    config = {
        "province": {"code": "66"},
        "kpi_dir": str(REPO_ROOT / "kpi_definitions"),
        "drop_dir": str(folder / "drop"),
        "demo": {"scale": 0.02, "years": 1},
        "sources": {"demo": {"connector": "demo"}},
        "wall": wall,
        "auth": {"idle_timeout": 6, "lockout": {"after_failures": 3, "base_seconds": 60}},
        "briefings": {"archive_dir": str(folder / "briefings")},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    settings = load_settings(path)
    with temporary_database(admin_url, prefix="ioc_sec") as url:
        engine = make_engine(url)
        upgrade(engine)
        assert run_source(engine, settings, "demo", full=True).ok
        with engine.begin() as connection:
            departments = list(
                connection.execute(
                    text("SELECT department_code FROM dossier GROUP BY 1 ORDER BY count(*) DESC LIMIT 2")
                ).scalars()
            )
            accounts.add(connection, "quantri", PASSWORD, ["admin"])
            accounts.add(connection, "vanhanh", PASSWORD, ["operator"])
            accounts.add(connection, "lanhdao", PASSWORD, ["leader"])
            accounts.add(connection, "canbo.a", PASSWORD, ["staff"], departments=[departments[0]])
            accounts.add(connection, "canbo.b", PASSWORD, ["staff"], departments=[departments[1]])
            connection.execute(
                text(
                    "UPDATE incident SET external_id = :t WHERE (source, external_id) IN "
                    "(SELECT source, external_id FROM incident WHERE category = 'field_report' "
                    "ORDER BY reported_at DESC LIMIT 1)"
                ),
                {"t": XSS},
            )
        database = Database(url=url, engine=engine, read_engine=engine)
        with serve_app(settings, database) as base:
            yield Env(settings, engine, base, departments)
        engine.dispose()


def client(env: Env) -> httpx.Client:
    return httpx.Client(base_url=env.url, follow_redirects=False, timeout=60, headers={"Origin": env.url})


def login(c: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    form = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, form.text
    return c.post("/login", data={"username": username, "password": password, "csrf_token": token.group(1)})


def router_request(path: str, search: str = "") -> dict[str, Any]:
    """The body Dash's page router posts to render a page (what a hand-made request would copy)."""
    return rules.router_body(path, search)


def test_every_page_callback_and_export_needs_a_login(env: Env) -> None:
    with client(env) as c:
        page = c.get("/desk/services")
        assert page.status_code == 302 and page.headers["location"].startswith(
            "/login?next=%2Fdesk%2Fservices"
        )
        assert c.get("/desk/export.csv?kpi=dossiers_received").status_code == 302
        assert c.post("/_dash-update-component", json=router_request("/")).status_code == 401
        assert c.get("/wall/data/ops-1").status_code == 401
        assert c.get("/login").status_code == 200 and "Đăng nhập" in c.get("/login").text


_LUMINANCE = """([selector]) => {
  const rgb = (css) => css.match(/[\\d.]+/g).map(Number);
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const [r, g, b, a = 1] = rgb(getComputedStyle(document.querySelector(selector)).color);
  const back = rgb(getComputedStyle(document.querySelector(".ioc-navbar")).backgroundColor);
  const seen = [r, g, b].map((c, i) => a * c + (1 - a) * back[i]);
  return [luminance(seen), luminance(back)];
}"""


def _contrast_on_navbar(page: Any, selector: str) -> float:
    """WCAG contrast ratio of an element's text against the navbar's background."""
    text_luminance, back_luminance = page.evaluate(_LUMINANCE, [selector])
    light, dark = max(text_luminance, back_luminance), min(text_luminance, back_luminance)
    return float((light + 0.05) / (dark + 0.05))


def test_login_and_logout_in_the_browser(env: Env, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(env.url + "/desk/services")
    page.wait_for_url(re.compile(r"/login\?"))
    page.fill("#username", "lanhdao")
    page.fill("#password", "sai-mat-khau-9")
    page.click("button[type=submit]")
    assert "không đúng" in page.locator(".msg").inner_text()
    page.fill("#username", "lanhdao")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/services$"))
    page.locator("#ioc-user").wait_for(timeout=30_000)
    assert page.locator("#ioc-user").inner_text() == "lanhdao"
    cookie = next(c for c in context.cookies() if c["name"] == "ioc_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    for link in ("#ioc-user", "#ioc-logout"):  # readable on the dark navbar (WCAG AA: 4.5)
        assert _contrast_on_navbar(page, link) >= 4.5, link
    page.click("#ioc-logout")
    page.wait_for_url(re.compile(r"/login\?reason=logout"))
    page.goto(env.url + "/desk/services")
    page.wait_for_url(re.compile(r"/login\?"))
    context.close()
    with env.engine.connect() as connection:
        actions = (
            connection.execute(text("SELECT action FROM audit WHERE actor = 'lanhdao' ORDER BY id"))
            .scalars()
            .all()
        )
    assert actions[:3] == ["login.failed", "login", "logout"]


def test_lockout_refuses_even_the_right_password(env: Env) -> None:
    with env.engine.begin() as connection:
        accounts.add(connection, "khoa", PASSWORD, ["leader"])
    with client(env) as c:
        assert [login(c, "khoa", "sai-mat-khau-1").status_code for _ in range(2)] == [401, 401]
        third = login(c, "khoa", "sai-mat-khau-1")
        assert "tạm khoá" in third.text
        right = login(c, "khoa")
        assert right.status_code == 401 and "tạm khoá" in right.text


def test_an_idle_page_goes_to_the_login_page_at_its_next_request(env: Env, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(env.url + "/login?next=/desk/services")
    page.fill("#username", "lanhdao")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/services$"))
    page.locator("#ioc-user").wait_for(timeout=30_000)
    time.sleep(7)  # auth.idle_timeout: 6 s
    navigate = "history.pushState({}, '', '/desk/incidents'); dispatchEvent(new PopStateEvent('popstate'))"
    page.evaluate(navigate)  # a click on a link: Dash's router asks the server, which answers 401
    page.wait_for_url(re.compile(r"/login\?reason=idle&next=%2Fdesk%2Fincidents"), timeout=30_000)
    assert "không thao tác" in page.locator(".msg").inner_text()
    context.close()


def test_idle_timeout_ends_the_session(env: Env) -> None:
    with client(env) as c:
        assert login(c, "lanhdao").status_code == 302
        assert c.get("/desk/services").status_code == 200
        time.sleep(7)  # auth.idle_timeout: 6 s in this module's config
        expired = c.get("/desk/services")
        assert expired.status_code == 302 and "reason=idle" in expired.headers["location"]
        assert c.get("/desk/services").status_code == 302  # the session is gone, not just refused once


def test_the_login_page_ends_an_idle_session_instead_of_sending_it_on(env: Env) -> None:
    """/login is public (the guard does not look at its session): it checks the idle clock itself."""
    with client(env) as c:
        assert login(c, "lanhdao").status_code == 302
        assert c.get("/login?next=/desk/services").status_code == 302  # still logged in: sent on
        time.sleep(7)  # auth.idle_timeout: 6 s in this module's config
        page = c.get("/login?reason=idle&next=/desk/incidents")
        assert page.status_code == 200 and "không thao tác" in page.text
        assert c.get("/desk/services").status_code == 302  # the session is gone


def _live_sessions(env: Env, username: str) -> int:
    with env.engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM web_session s JOIN app_user u ON u.id = s.account_id "
                    "WHERE u.username = :u"
                ),
                {"u": username},
            ).scalar_one()
        )


def test_a_logout_ends_the_session_for_every_copy_of_its_cookie(env: Env) -> None:
    """A request sent before the logout (a stylesheet, a callback) answers after it: its response must
    not set the old session cookie again (Flask re-sends a permanent session on every response), and
    the old cookie (that request's, another tab's, a stolen one) opens nothing any more."""
    with client(env) as c:
        assert login(c, "lanhdao").status_code == 302
        before_logout = dict(c.cookies)
        assert c.get("/desk/services").status_code == 200
        live = _live_sessions(env, "lanhdao")
        assert c.get("/logout", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 302
    assert _live_sessions(env, "lanhdao") == live - 1
    with httpx.Client(base_url=env.url, cookies=before_logout, follow_redirects=False) as late:
        asset = late.get("/assets/ioc.css")
        assert asset.status_code == 200 and "set-cookie" not in asset.headers
        refused = late.get("/desk/services")
        assert refused.status_code == 302 and refused.headers["location"].startswith("/login")


def _codes_of(env: Env, department: str) -> set[str]:
    with env.engine.connect() as connection:
        return set(
            connection.execute(
                text("SELECT code FROM dossier WHERE department_code = :d"),
                {"d": department},
            ).scalars()
        )


def test_staff_see_only_their_department_in_lists_exports_and_crafted_callbacks(env: Env) -> None:
    _mine, theirs = env.departments
    their_codes = _codes_of(env, theirs)
    assert their_codes
    with client(env) as c:
        login(c, "canbo.a")
        export = c.get(f"/desk/export.csv?kpi=dossiers_received&area=66&period={YEAR}")
        assert export.status_code == 200
        assert export.headers["Content-Type"] == "text/csv; charset=utf-8"  # once, not twice
        lines = export.text.splitlines()
        assert len(lines) > 10 and not any(code in export.text for code in their_codes)
        assert c.get(f"/desk/export.csv?kpi=dossiers_received&period={YEAR}&dept={theirs}").status_code == 403
        crafted = c.post(
            "/_dash-update-component",
            json=router_request("/desk/list", f"?kpi=dossiers_received&period={YEAR}&dept={theirs}"),
        )
        assert crafted.status_code == 403 or not any(code in crafted.text for code in their_codes)
        own = c.post(
            "/_dash-update-component",
            json=router_request("/desk/list", f"?kpi=dossiers_received&period={YEAR}"),
        )
        assert own.status_code == 200 and not any(code in own.text for code in their_codes)
        assert c.get("/wall/ops-1").status_code == 403  # the wall shows the whole province
        assert c.get("/admin/audit").status_code == 403
    with env.engine.connect() as connection:
        detail = (
            connection.execute(
                text(
                    "SELECT detail FROM audit WHERE action = 'export' AND actor = 'canbo.a' ORDER BY id DESC"
                )
            )
            .scalars()
            .first()
        )
    my_codes = _codes_of(env, _mine)
    assert detail is not None and detail["rows"] == sum(line.split(",")[0] in my_codes for line in lines)


def lineage_request(kpi_id: str, search: str) -> dict[str, Any]:
    """The body the desk posts when "Giải thích" is clicked (dashboard/desk/lineage.py), by hand."""
    explain = {"kpi": kpi_id, "type": "desk-explain"}
    page = {"page": "services", "path": "/desk/services", "search": search}
    return {
        "output": "..desk-lineage.is_open...desk-lineage-body.children..",
        "outputs": [
            {"id": "desk-lineage", "property": "is_open"},
            {"id": "desk-lineage-body", "property": "children"},
        ],
        "inputs": [[{"id": explain, "property": "n_clicks", "value": 1}]],
        "changedPropIds": [json.dumps(explain, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
        "state": [{"id": "desk-state", "property": "data", "value": page}],
    }


def test_staff_get_no_lineage_panel_of_another_department(env: Env) -> None:
    mine, theirs = env.departments
    with client(env) as c:
        login(c, "canbo.a")
        own = c.post("/_dash-update-component", json=lineage_request("dossiers_received", f"?dept={mine}"))
        assert own.status_code == 200 and "desk-lineage-rows" in own.text
        crafted = c.post(
            "/_dash-update-component",
            json=lineage_request("dossiers_received", f"?period={YEAR}&dept={theirs}"),
        )
        assert crafted.status_code == 403 and "desk-lineage" not in crafted.text


def form_token(c: httpx.Client, path: str = "/desk/services") -> str:
    """The "tải bản tin" form's token, from the page as the browser gets it (Dash's page router)."""
    page = c.post("/_dash-update-component", json=router_request(path))
    assert page.status_code == 200
    found = [
        value
        for props in _props(page.json())
        if props.get("name") == "csrf_token"
        for value in [props["value"]]
    ]
    assert len(found) == 1 and found[0], page.text[:500]
    return str(found[0])


def _props(tree: Any) -> Iterator[dict[str, Any]]:
    """Every component's props in a Dash JSON answer."""
    if isinstance(tree, dict):
        if isinstance(tree.get("props"), dict):
            yield tree["props"]
        for value in tree.values():
            yield from _props(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _props(value)


def _archived(env: Env) -> int:
    with env.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM briefing")).scalar_one())


def _received(env: Env, department: str | None, period: Period) -> int:
    """Dossiers received in a month (local days), by hand."""
    with env.engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM dossier WHERE (CAST(:d AS text) IS NULL OR department_code = :d) "
                    "AND received_at >= CAST(:start AS timestamp) AT TIME ZONE 'Asia/Ho_Chi_Minh' "
                    "AND received_at < CAST(:end AS timestamp) AT TIME ZONE 'Asia/Ho_Chi_Minh'"
                ),
                {"d": department, "start": period.start, "end": period.end},
            ).scalar_one()
        )


def test_briefings_are_built_by_a_same_origin_post_within_the_readers_scope(env: Env, tmp_path: Path) -> None:
    mine, theirs = env.departments
    today = local_today()
    period = parse_period(f"{today.replace(day=1) - timedelta(days=1):%Y-%m}", today=today)  # last month
    before = _archived(env)
    with client(env) as c:
        login(c, "canbo.a")
        token = form_token(c)
        form = {"csrf_token": token, "period": period.label}
        assert c.get(f"/briefings/new?period={period.label}").status_code == 303  # a link builds nothing
        assert (
            c.post("/briefings/new", data=form, headers={"Origin": "http://evil.example"}).status_code == 403
        )
        assert c.post("/briefings/new", data={**form, "dept": theirs}).status_code == 403
        assert c.post("/briefings/new", data={**form, "area": "66", "csrf_token": "x"}).status_code == 400
        own = c.post("/briefings/new", data=form, timeout=300)  # seconds of work; more under load
        assert own.status_code == 200 and own.content.startswith(b"%PDF")
    assert _archived(env) == before  # neither the GET nor the refused posts, nor a department's briefing
    pdf = tmp_path / "own.pdf"
    pdf.write_bytes(own.content)
    layout = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    received = re.findall(r"Hồ sơ tiếp nhận\s+([\d.]+) hồ sơ", layout.stdout)
    counted, everyone = _received(env, mine, period), _received(env, None, period)
    assert counted < everyone and received
    assert set(received) == {format_number(counted)}  # the headline and services tables: mine only
    with env.engine.connect() as connection:
        names = dict(connection.execute(text("SELECT code, name FROM department")).all())
    flat = " ".join(layout.stdout.split())
    assert f"Số liệu hồ sơ của: {names[mine]}" in flat and names[theirs] not in flat
    with client(env) as leader:
        login(leader, "lanhdao")
        archived = leader.post(
            "/briefings/new", data={"csrf_token": form_token(leader), "period": period.label}, timeout=300
        )
        assert archived.status_code == 200 and archived.content.startswith(b"%PDF")
    assert _archived(env) == before + 1
    with env.engine.connect() as connection:
        newest = connection.execute(text("SELECT max(id) FROM briefing")).scalar_one()
    with client(env) as c:
        login(c, "canbo.a")
        assert c.get(f"/briefings/{newest}.pdf").status_code == 403  # every department's numbers
        assert (
            f"/briefings/{newest}.pdf"
            not in c.post("/_dash-update-component", json=router_request("/briefings")).text
        )


def test_the_briefing_button_downloads_the_pdf_in_the_browser(env: Env, browser: Any) -> None:
    # this module's 6-second idle timeout is shorter than a briefing's build under load: a server of its own
    auth = env.settings.auth.model_copy(update={"idle_timeout": 900})
    settings = env.settings.model_copy(update={"auth": auth})
    database = Database(url=str(env.engine.url), engine=env.engine, read_engine=env.engine)
    with serve_app(settings, database) as base:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.goto(base + "/login?next=/desk/services")
        page.fill("#username", "lanhdao")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/desk/services$"))
        button = page.locator("#desk-briefing")
        button.wait_for(timeout=60_000)
        before = _archived(env)
        with page.expect_download(timeout=240_000) as download:
            button.click()
        path = download.value.path()
        assert path is not None and Path(path).read_bytes().startswith(b"%PDF")
        assert download.value.suggested_filename.startswith("ban-tin-66-")
        assert page.url.endswith("/desk/services")  # the page stays
        assert _archived(env) == before + 1
        context.close()


def test_a_kiosk_token_opens_its_screen_only_and_revoking_it_stops_the_screen(env: Env, browser: Any) -> None:
    with env.engine.begin() as connection:
        token = kiosk.issue(connection, "ops-1")
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(f"{env.url}/wall/ops-1?token={token}")
    page.wait_for_url(re.compile(r"/wall/ops-1$"))  # the token left the URL
    page.locator(".wall-tile .kpi-tile, .wall-tile .wall-value, .wall-tile svg").first.wait_for(
        timeout=60_000
    )
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["ioc_kiosk"]["httpOnly"] and token == cookies["ioc_kiosk"]["value"]
    request = context.request
    assert request.get(f"{env.url}/wall/data/ops-1").status == 200
    assert request.get(f"{env.url}/wall/data/ops-2").status == 403
    assert request.get(f"{env.url}/desk/services", max_redirects=0).status in (302, 403)
    with env.engine.begin() as connection:
        kiosk.revoke(connection, "ops-1")
    assert request.get(f"{env.url}/wall/data/ops-1").status == 403
    page.reload()
    assert page.locator(".wall-tile").count() == 0
    context.close()


def test_source_text_on_the_wall_renders_as_text(env: Env, browser: Any) -> None:
    with env.engine.begin() as connection:
        token = kiosk.issue(connection, "ops-4")
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{env.url}/wall/ops-4?scene=tong-quan&token={token}")
    page.wait_for_url(re.compile(r"/wall/ops-4\?scene=tong-quan$"))
    page.locator(".wall-ticker__code", has_text="window.__xss=1").first.wait_for(timeout=60_000)
    assert page.evaluate("window.__xss") is None and page.locator(".wall-tile script").count() == 0
    assert not violations, violations
    context.close()


def test_cross_origin_and_non_json_posts_are_refused(env: Env) -> None:
    with client(env) as c:
        login(c, "lanhdao")
        body = router_request("/desk/services")
        assert c.post("/_dash-update-component", json=body).status_code == 200
        evil = {"Origin": "http://evil.example"}
        assert c.post("/_dash-update-component", json=body, headers=evil).status_code == 403
        assert (
            c.post(
                "/_dash-update-component", content=str(body), headers={"Content-Type": "text/plain"}
            ).status_code
            == 403
        )
    bare = httpx.Client(base_url=env.url, follow_redirects=False, timeout=60)  # no Origin, no Referer
    with bare:
        assert bare.post("/login", data={"username": "lanhdao", "password": PASSWORD}).status_code == 403
    with client(env) as c:  # same origin but no form token
        c.get("/login")
        refused = c.post("/login", data={"username": "lanhdao", "password": PASSWORD})
        assert refused.status_code == 400 and "ioc_session" not in str(refused.headers.get("set-cookie", ""))


def test_headers_and_source_text_rendered_as_text(env: Env, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(env.url + "/login")
    page.fill("#username", "lanhdao")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    response = page.goto(
        f"{env.url}/desk/list?kpi=incidents_new&period={YEAR}&cat=field_report&sort=reported_at&desc=1"
    )
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert (
        "frame-ancestors 'none'" in csp
        and "'sha256-" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    page.get_by_text("window.__xss=1", exact=False).first.wait_for(timeout=60_000)
    assert page.evaluate("window.__xss") is None
    assert not violations, violations
    context.close()


def test_roles_open_their_pages_and_the_audit_log_lists_logins(env: Env) -> None:
    with client(env) as operator:
        login(operator, "vanhanh")
        assert operator.get("/wall/control").status_code == 200
        assert operator.get("/admin/audit").status_code == 403
        control = router_request("/wall/control")
        assert operator.post("/_dash-update-component", json=control).status_code == 200
    with client(env) as leader:
        login(leader, "lanhdao")
        assert leader.get("/wall/control").status_code == 403
        assert leader.post("/_dash-update-component", json=router_request("/wall/control")).status_code == 403
        assert leader.get("/wall/ops-1").status_code == 200  # the room preview frames screens
    with client(env) as admin:
        login(admin, "quantri")
        page = admin.get("/admin/audit")
        assert page.status_code == 200 and "vanhanh" in page.text and "login" in page.text


def test_trusted_header_is_honoured_from_the_proxy_only(env: Env) -> None:
    from dashboard.app import create_app
    from ioc.auth.config import AuthConfig, TrustedHeaderConfig

    settings = env.settings.model_copy(
        update={"auth": AuthConfig(trusted_header=TrustedHeaderConfig(enabled=True, proxies=("10.0.0.1",)))}
    )
    app = create_app(settings, Database(url=str(env.engine.url), engine=env.engine, read_engine=env.engine))
    client = app.server.test_client()

    def get(address: str, user: str | None) -> int:
        headers = {"X-Remote-User": user} if user else {}
        return client.get(
            "/desk/services", headers=headers, environ_base={"REMOTE_ADDR": address}
        ).status_code

    assert get("10.0.0.1", "lanhdao") == 200
    assert get("10.0.0.7", "lanhdao") == 302  # not the proxy: the header means nothing
    assert get("10.0.0.1", "nguoi.la") == 403  # the proxy vouches for someone without an account
    assert get("10.0.0.1", None) == 302
