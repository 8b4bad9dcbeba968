"""PDF briefings (issue 10) built from the engine tests' known October 2026 dataset.

Hand-computed (tests/test_kpi_engine.py): in October 8 dossiers received in the province, 1 in
September; finished in October: d1, d2 (late), d5, d6, d7 (no deadline: on time), d8, d9 (late) →
on time 5/7 = 71,4%; Sở Nội vụ 4/6 = 66,7%, Sở Y tế 1/1; d3 open and overdue at 31/10, d4 due soon;
4 incidents, 3 closed (75,0%).

One briefing is built per test that needs it (a build costs a Chromium start), so the checks of
one PDF live in one test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine
from typer.testing import CliRunner

from dashboard.briefings import ChromiumMissing, build_briefing
from dashboard.briefings.cli import register
from dashboard.briefings.commentary import commentary
from dashboard.briefings.content import collect
from ioc.config import Settings
from ioc.kpi import KpiLibrary
from ioc.queries import ReadModel
from tests.test_kpi_engine import at, dossiers, incidents, indicators, kdb, library  # noqa: F401
from tests.test_queries import Clock, record_run

NOW = at("2026-10-31", "12:00")

pytestmark = pytest.mark.slow


@pytest.fixture
def model(
    dossiers: Engine,  # noqa: F811
    incidents: Engine,  # noqa: F811
    indicators: Engine,  # noqa: F811
    library: KpiLibrary,  # noqa: F811
    settings: Settings,
) -> ReadModel:
    record_run(dossiers, "success", source="test")
    return ReadModel(dossiers, library, settings, clock=Clock(NOW))


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def test_monthly_briefing_pdf(model: ReadModel, tmp_path: Path) -> None:
    messages: list[str] = []
    briefing = build_briefing(model, "2026-10", out=tmp_path / "ban-tin.pdf", progress=messages.append)
    assert messages and briefing.exists()
    check_text(briefing)
    check_commentary(briefing, model)
    check_vector_charts(briefing)
    flat = " ".join(pdf_text(briefing).split())
    for title in ("đúng hạn · 12 tháng", "Sự cố theo lĩnh vực", "Tỷ lệ định danh mức 2 theo xã, phường"):
        assert title in flat  # each chart's own title, drawn as SVG text
    assert flat.count("Tỷ lệ đúng hạn theo sở, ngành") == 2  # the chart and its table
    render_pages(briefing)


def check_text(briefing: Path) -> None:
    text = pdf_text(briefing)
    flat = " ".join(text.split())
    assert "BẢN TIN ĐIỀU HÀNH" in flat and "Tháng 10/2026" in flat
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in flat  # diacritics survive extraction
    assert "71,4%" in flat and "66,7%" in flat  # on time 5/7; Sở Nội vụ 4/6
    assert "8 hồ sơ" in flat and "1 hồ sơ" in flat  # received in October, and in September
    assert "75,0%" in flat  # incidents closed 3/4
    assert "Sở Nội vụ" in flat and "Sở Y tế" in flat
    pages = page_count(briefing)
    assert 3 <= pages <= 8
    # period and "số liệu đến" on every page, and page numbers
    for number, page in enumerate(text.split("\f")[:pages], start=1):
        one = " ".join(page.split())
        assert "Tháng 10/2026" in one and "Số liệu đến" in one, number
        assert f"Trang {number}/{pages}" in one


def check_commentary(briefing: Path, model: ReadModel) -> None:
    content = collect(model, "2026-10")
    sentences = commentary(content)
    assert 3 <= len(sentences) <= 6
    text = " ".join(pdf_text(briefing).split())
    for sentence in sentences:
        assert sentence.text in text
        assert sentence.values and re.search(r"\d", sentence.text)
        for value in sentence.values:
            assert text.count(value) >= 2, (value, sentence.text)  # the sentence and a table


def check_vector_charts(briefing: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(briefing)
    images = sum(len(page.images) for page in reader.pages)
    assert images == 0  # no raster image at all: charts are paths
    drawn = 0
    for page in reader.pages:
        stream = page.get_contents()
        data = stream.get_data() if stream is not None else b""
        forms = page["/Resources"].get("/XObject", {}) if "/Resources" in page else {}
        for name in forms:
            data += forms[name].get_object().get_data()
        drawn += len(re.findall(rb"\s(?:re|l|c)\s", data))
    assert drawn > 200  # bars, lines and axes drawn as path operators


def test_missing_chromium_names_the_fix(model: ReadModel, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    with pytest.raises(ChromiumMissing, match="apt-get install chromium"):
        build_briefing(model, "2026-10", out=tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def render_pages(briefing: Path) -> None:
    """Pages as PNG under /tmp/briefing-pages, for a person to look at."""
    target = Path("/tmp/briefing-pages")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(briefing), str(target / "page")], check=True)
    assert len(list(target.glob("page-*.png"))) == page_count(briefing)


def cli_app() -> typer.Typer:
    from ioc.cli import app

    if not any(getattr(c.callback, "__name__", "") == "briefing" for c in app.registered_commands):
        register(app)
    return app


def test_cli_refuses_a_bad_period_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("province:\n  code: '66'\n", encoding="utf-8")
    result = CliRunner().invoke(cli_app(), ["--config", str(config), "briefing", "--period", "2026-13"])
    assert result.exit_code == 2
    assert "--period '2026-13'" in result.output and "2026-W47" in result.output


def test_cli_builds_the_pdf_with_progress(
    model: ReadModel, database_env: str, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "cli.pdf"
    args = ["--config", str(settings.source_file), "briefing", "--period", "2026-10", "--out", str(out)]
    result = CliRunner().invoke(cli_app(), args)
    assert result.exit_code == 0, result.output
    assert "Vẽ biểu đồ" in result.output and str(out) in result.output
    assert "Tháng 10/2026" in pdf_text(out)
    bad_area = CliRunner().invoke(cli_app(), [*args[:-2], "--area", "99999", "--out", str(out)])
    assert bad_area.exit_code == 2 and "no such area" in bad_area.output
