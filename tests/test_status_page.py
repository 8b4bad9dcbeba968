"""The overview page shows what the database holds, in vi-VN numbers, in a real browser."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine

from ioc.config import Settings
from ioc.database import Database
from ioc.load import load_batch
from tests.web import serve_app

ICT = timezone(timedelta(hours=7))


def test_overview_shows_row_counts_and_data_age(db: Engine, settings: Settings, browser) -> None:
    records = [
        {
            "code": f"H-{i}",
            "channel": "online",
            "received_at": datetime(2026, 10, 1, 8, tzinfo=ICT),
            "status": 2,
        }
        for i in range(1234)
    ]
    with db.begin() as connection:
        load_batch(connection, "dossier", records, source="test")
        load_batch(
            connection,
            "org_unit",
            [{"code": "66", "name": "Đắk Lắk", "kind": "tỉnh", "level": 1}],
            source="t",
        )
    database = Database(url=str(db.url), engine=db, read_engine=db)
    with serve_app(settings, database) as base_url:
        page = browser.new_page()
        page.goto(base_url + "/")
        cell = page.locator('[id=\'{"table":"dossier","type":"table-rows"}\']')
        cell.wait_for(timeout=15_000)
        assert cell.inner_text() == "1.234"
        row = page.locator("tr", has=cell)
        assert re.search(r"\b\d+ (giây|phút)\b", row.inner_text()), row.inner_text()
        assert page.locator("h2").inner_text().startswith("Tổng quan hệ thống")
        assert page.locator(".navbar-brand").inner_text().startswith("IOC Đắk Lắk")
        page.close()
