"""The desktop's briefings: build for the current filters and download, the archive page, the
"tải bản tin" button, and failed deliveries on the sources page."""

from __future__ import annotations

from pathlib import Path

import pytest
from dash import html

from dashboard.app import create_app
from dashboard.briefings.web import archive_table, button, failed_deliveries
from dashboard.url import Filters
from ioc.auth.config import AuthConfig
from ioc.briefings import archive
from ioc.briefings.config import BriefingsConfig
from ioc.database import Database
from ioc.queries import ReadModel
from tests.test_briefing import model  # noqa: F401  (fixture)
from tests.test_kpi_engine import dossiers, incidents, indicators, kdb, library  # noqa: F401

pytestmark = pytest.mark.slow


def text_of(component: object) -> str:
    if isinstance(component, str | int | float):
        return str(component)
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, list | tuple):
        children = [children]
    return " ".join(text_of(child) for child in children)


def test_download_builds_archives_and_lists_the_briefing(model: ReadModel, tmp_path: Path) -> None:  # noqa: F811
    settings = model.settings.model_copy(
        update={
            "briefings": BriefingsConfig(archive_dir=tmp_path / "archive"),
            "auth": AuthConfig(enabled=False),  # logins: tests/test_security_web.py
        }
    )
    app = create_app(
        settings, Database(url=str(model.engine.url), engine=model.engine, read_engine=model.engine)
    )
    client = app.server.test_client()
    assert client.get("/briefings/new?period=2026-13").status_code == 400
    assert client.get("/briefings/new?period=2026-10&area=99999").status_code == 404
    assert client.get("/briefings/999.pdf").status_code == 404
    answer = client.get("/briefings/new?period=2026-10&area=66001")
    assert answer.status_code == 303
    (record,) = archive.recent(model.engine)
    assert answer.headers["Location"].endswith(f"/briefings/{record.id}.pdf")
    assert record.schedule is None and record.area == "66001" and record.delivery == "none"
    pdf = client.get(f"/briefings/{record.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert "ban-tin-66001-2026-10.pdf" in pdf.headers["Content-Disposition"]
    listing = text_of(archive_table(archive.recent(model.engine)))
    assert "Tháng 10/2026" in listing and "Theo yêu cầu" in listing and "Tải PDF" in listing


def test_button_follows_the_filters() -> None:
    link = button(Filters(period="2026-Q3", area="66001")).children[0]
    assert isinstance(link, html.A) and link.href == "/briefings/new?period=2026-Q3&area=66001"
    assert "Tải bản tin" in text_of(link)


def test_failed_delivery_is_shown_on_the_sources_page(model: ReadModel) -> None:  # noqa: F811
    assert "Không có bản tin nào gửi lỗi" in text_of(failed_deliveries(model.engine))
    briefing_id = archive.claim(model.engine, "2026-10", "66", "monthly")
    assert briefing_id is not None
    archive.delivered(
        model.engine, briefing_id, delivery="failed", attempts=3, error="ConnectionRefusedError: refused"
    )
    shown = text_of(failed_deliveries(model.engine))
    assert "Tháng 10/2026" in shown and "3 lần thử" in shown and "ConnectionRefusedError" in shown
