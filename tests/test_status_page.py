"""The overview page shows each source's last run and data age, in vi-VN numbers, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, insert

from ioc import runs
from ioc.config import Settings, load_settings
from ioc.database import Database
from ioc.models import OrgUnit
from tests.web import serve_app


def test_overview_shows_sources_rows_and_data_age(
    db: Engine, settings: Settings, tmp_path: Path, browser
) -> None:
    assert settings.source_file is not None
    config = tmp_path / "with-source.yaml"
    config.write_text(
        settings.source_file.read_text(encoding="utf-8")
        + "sources:\n  igate:\n    connector: dossiers\n    expected_every: 1h\n"
        + "auth:\n  enabled: false\n",  # logins: tests/test_security_web.py
        encoding="utf-8",
    )
    with db.begin() as connection:
        connection.execute(
            insert(OrgUnit.__table__), [{"code": "66", "name": "Đắk Lắk", "kind": "tỉnh", "level": 1}]
        )
        run_id = runs.start_run(connection, source="igate", connector="dossiers", full=False, cursor=None)
        runs.record_batch(
            connection, run_id, read=1234, inserted=1200, updated=0, unchanged=34, rejected=0, cursor=None
        )
        runs.finish_run(connection, run_id, status="success")
    database = Database(url=str(db.url), engine=db, read_engine=db)
    with serve_app(load_settings(config), database) as base_url:
        page = browser.new_page()
        page.goto(base_url + "/desk/sources")
        cell = page.locator('[id=\'{"source":"igate","type":"source-read"}\']')
        cell.wait_for(timeout=15_000)
        assert cell.inner_text() == "1.234"
        row = page.locator("tr", has=cell)
        assert re.search(r"\b\d+ (giây|phút)\b", row.inner_text()), row.inner_text()
        assert "Đúng hạn" in row.inner_text() and "1.200" in row.inner_text()
        assert page.locator(".desk-title").inner_text() == "Nguồn dữ liệu"
        assert page.locator(".navbar-brand").inner_text().startswith("IOC Đắk Lắk")
        page.close()
