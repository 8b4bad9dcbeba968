"""Desktop pages in Chromium on the demo province: filters in the URL survive reload and back,
a bar drills down to its list, a lineage panel leads to the rows, exports equal the database.

One database, one server and one browser page per module; screenshots of every page at 1366×768 and
1920×1080 go to $DESK_SHOTS (default: a temporary directory).
"""

from __future__ import annotations

import csv
import io
import os
import re
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, text

from dashboard.desk.links import PAGES as DESK_PAGES
from ioc.config import Settings, load_settings
from ioc.database import Database, make_engine, temporary_database
from ioc.kpi.periods import current, local_today, parse_period
from ioc.migrate import upgrade
from tests.web import serve_app

pytestmark = pytest.mark.slow
expect.set_options(timeout=30_000)  # a page is redrawn from the URL; the machine may be busy
REPO_ROOT = Path(__file__).resolve().parent.parent
PAGES = {name: path for name, path in DESK_PAGES.items() if name != "list"} | {
    "kpi": "/desk/kpi/dossiers_on_time_rate",
    "list": "/desk/list?kpi=dossiers_open_overdue",
}


@pytest.fixture(scope="module")
def demo(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Settings]]:
    pytest.importorskip("connectors.demo")
    from ioc.runner import run_source

    folder = tmp_path_factory.mktemp("desk")
    config = folder / "config.yaml"
    config.write_text(
        "province:\n  code: '66'\n"
        f"kpi_dir: {REPO_ROOT / 'kpi_definitions'}\n"
        f"drop_dir: {folder / 'drop'}\n"
        "demo:\n  scale: 0.02\n  years: 2\n"
        "sources:\n  demo:\n    connector: demo\n"
        "auth:\n  enabled: false\n",  # logins are tested in tests/test_security_web.py
        encoding="utf-8",
    )
    settings = load_settings(config)
    with temporary_database(admin_url, prefix="ioc_desk") as url:
        engine = make_engine(url)
        upgrade(engine)
        assert run_source(engine, settings, "demo", full=True).ok
        yield engine, settings
        engine.dispose()


@pytest.fixture(scope="module")
def base_url(demo: tuple[Engine, Settings]) -> Iterator[str]:
    engine, settings = demo
    with serve_app(settings, Database(url=str(engine.url), engine=engine, read_engine=engine)) as url:
        yield url


@pytest.fixture(scope="module")
def page(browser, base_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def month() -> str:
    """The last complete month (the demo's data reaches today)."""
    return current("month", current("month", local_today()).start - timedelta(days=1)).label


def _open(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.wait_for_selector("#desk-main")
    page.wait_for_load_state("networkidle")  # the page's callbacks answered: a click now is not lost


def _callbacks_answered(page, quiet_ms: int = 400) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page's Dash callbacks have answered and none started for `quiet_ms`: a filter's
    change re-renders the page, and what is typed before that ends is lost (as it would be for a person)."""
    page.wait_for_function(
        """(quiet) => {
          const pending = performance.getEntriesByType("resource")
            .filter((e) => e.name.includes("_dash-update-component"));
          const last = pending.length ? Math.max(...pending.map((e) => e.responseEnd || Infinity)) : 0;
          return last !== Infinity && performance.now() - last > quiet;
        }""",
        arg=quiet_ms,
        timeout=90_000,
    )


def _query(url: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlparse(url).query).items()}


def _wait_query(page, **expected: str | None) -> None:  # type: ignore[no-untyped-def]
    def matches(url: str) -> bool:
        query = _query(url)
        return all(query.get(key) == value for key, value in expected.items())

    page.wait_for_url(matches)


def test_filters_survive_reload_and_back(page, base_url: str, month: str) -> None:  # type: ignore[no-untyped-def]
    _open(page, f"{base_url}/desk/services?period={month}")
    page.click("#desk-f-department")
    option = page.locator("[role=option]").nth(1)
    expect(option).not_to_have_text("")
    name = option.inner_text()
    option.click()
    _wait_query(page, period=month)
    page.wait_for_url(re.compile(r"dept="), timeout=90_000)
    department = _query(page.url)["dept"]
    _callbacks_answered(page)
    page.fill("#desk-f-range", "01/09/2026")  # typed as people here write dates, whatever the browser
    page.press("#desk-f-range", "Tab")
    page.fill("#desk-f-range-end-date", "30/09/2026")
    page.press("#desk-f-range-end-date", "Tab")
    _wait_query(page, period="2026-09-01..2026-09-30", dept=department)
    expect(page.locator(".desk-period")).to_have_text("Từ 01/09/2026 đến 30/09/2026")

    page.reload()
    expect(page.locator(".desk-period")).to_have_text("Từ 01/09/2026 đến 30/09/2026")
    expect(page.locator("#desk-f-department-value")).to_have_text(name)
    expect(page.locator("#desk-f-range")).to_have_value("01/09/2026")

    page.go_back()
    _wait_query(page, period=month, dept=department)
    expect(page.locator("#desk-f-range")).to_have_value("")
    expect(page.locator("#desk-f-department-value")).to_have_text(name)
    page.go_back()
    _wait_query(page, period=month, dept=None)
    expect(page.locator("#desk-f-department-value")).not_to_have_text(name)


def _received(engine: Engine, month: str, where: str = "") -> list[tuple]:
    """Dossiers received in `month`, in the list's order (due date, source, code)."""
    period = parse_period(month)
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT code, department_code, channel FROM dossier "
                    f"WHERE received_at >= :s AND received_at < :e {where} ORDER BY received_at, source, code"
                ),
                {"s": period.start_at, "e": period.end_at},
            )
        )


def _list_codes(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".desk-rows tbody tr td:first-child").all_inner_texts()


def test_a_bar_drills_down_to_its_dossiers(page, base_url: str, month: str, demo) -> None:  # type: ignore[no-untyped-def]
    engine, _ = demo
    _open(page, f"{base_url}/desk/services?period={month}&by=department")
    chart = page.locator('[id*="dossiers_on_time_rate"][id*="desk-chart"]')
    chart.locator(".point path").first.click(force=True)  # plotly listens on its drag layer above the bars
    page.wait_for_url(re.compile(r"/desk/list\?"))
    query = _query(page.url)
    assert query["kpi"] == "dossiers_on_time_rate" and query["period"] == month
    department = query["dept"]
    period = parse_period(month)
    with engine.connect() as connection:
        expected = connection.execute(
            text(
                "SELECT count(*) FROM dossier "
                "WHERE department_code = :d AND finished_at >= :s AND finished_at < :e"
            ),
            {"d": department, "s": period.start_at, "e": period.end_at},
        ).scalar()
    assert expected
    expect(page.locator("#desk-list-total")).to_have_text(f"{expected:,} hồ sơ".replace(",", "."))
    names = page.locator(".desk-rows tbody tr td:nth-child(3)").all_inner_texts()
    assert len(set(names)) == 1, names  # every dossier of the list belongs to the clicked department


def test_lineage_panel_leads_to_the_rows(page, base_url: str, month: str, demo) -> None:  # type: ignore[no-untyped-def]
    engine, _ = demo
    _open(page, f"{base_url}/desk/services?period={month}")
    page.locator('[id*="desk-explain"][id*="dossiers_received"]').click()
    panel = page.locator("#desk-lineage")
    panel.locator(".desk-lineage").wait_for()
    text_shown = panel.inner_text()
    assert (
        "Hồ sơ tiếp nhận" in text_shown and "demo" in text_shown and "Nghị định 61/2018/NĐ-CP" in text_shown
    )
    panel.locator("#desk-lineage-rows").click()
    page.wait_for_url(re.compile(r"/desk/list\?.*kpi=dossiers_received"))
    page.wait_for_selector("#desk-list-total")
    received = _received(engine, month)
    first, second = received[:50], received[50:100]
    assert _list_codes(page) == [row.code for row in first]
    page.click("#desk-next-page")
    page.wait_for_selector("#desk-page-number:has-text('2')")
    page.wait_for_function(
        "code => document.querySelector('.desk-rows td').innerText !== code", arg=first[0].code
    )
    assert _list_codes(page) == [row.code for row in second]


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def test_exports_equal_the_database(page, base_url: str, month: str, demo) -> None:  # type: ignore[no-untyped-def]
    engine, _ = demo
    _open(page, f"{base_url}/desk/list?kpi=dossiers_received&period={month}&channel=online")
    csv_href = page.get_attribute("#desk-export-csv", "href")
    xlsx_href = page.get_attribute("#desk-export-xlsx", "href")
    assert csv_href and xlsx_href and "channel=online" in csv_href
    expected = _received(engine, month, "AND channel = 'online'")
    assert expected

    data = _download(base_url + csv_href)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    blank = lines.index([])
    header = dict(line for line in lines[:blank])
    assert header["Kỳ báo cáo"].endswith(f"({month})") and header["Kênh"] == "Trực tuyến (online)"
    titles = lines[blank + 1]
    rows = [dict(zip(titles, line, strict=True)) for line in lines[blank + 2 :]]
    got = [(r["Mã hồ sơ"], r["Mã đơn vị xử lý"], r["Kênh"]) for r in rows]
    assert got == [tuple(row) for row in expected]

    with urllib.request.urlopen(base_url + xlsx_href, timeout=120) as response:
        book = openpyxl.load_workbook(io.BytesIO(response.read()), read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(sheet) if row and row[0] == "Mã hồ sơ")
    index = {title: i for i, title in enumerate(sheet[start])}
    got_xlsx = [
        (r[index["Mã hồ sơ"]], r[index["Mã đơn vị xử lý"]], r[index["Kênh"]]) for r in sheet[start + 1 :]
    ]
    assert got_xlsx == [tuple(row) for row in expected]
    assert ("Kênh", "Trực tuyến (online)") in [row[:2] for row in sheet[:start]]


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_every_page_renders(browser, base_url: str, month: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    shots = Path(os.environ.get("DESK_SHOTS", "/tmp/desk-shots"))
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for name, path in PAGES.items():
            joiner = "&" if "?" in path else "?"
            _open(page, f"{base_url}{path}{joiner}period={month}")
            page.wait_for_load_state("networkidle")
            page.wait_for_function(  # every chart drawn before the picture is taken
                "() => [...document.querySelectorAll('.desk-graph')].every(g => g.querySelector('.main-svg'))"
            )
            assert page.locator(".desk-title").inner_text()
            assert page.locator("text=Không tải được phần này").count() == 0, name
            if name == "incidents":  # the commune bubbles are placed (areas carry lat/lon)
                assert page.locator('[id*="incidents_new"][id*="desk-chart"][id*="area"] .point').count() > 0
            page.screenshot(path=str(shots / f"desk-{name}-{size[0]}x{size[1]}.png"))
        assert not errors, errors
    finally:
        context.close()


def test_english_switch_and_keyboard(page, base_url: str, month: str) -> None:  # type: ignore[no-untyped-def]
    _open(page, f"{base_url}/desk/services?period={month}")
    page.click("#desk-language")
    _wait_query(page, lang="en", period=month)
    page.wait_for_selector(".desk-title:has-text('Public services')")
    page.keyboard.press("Tab")  # the first stop is the skip link, then the navigation
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#desk-main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.innerText") == "Overview"
