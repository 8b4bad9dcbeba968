"""The files connector: CSV/XLSX of indicators and incidents dropped in a folder, into Postgres."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from ioc.config import Settings
from ioc.runner import run_source
from tests.fixtures.events.support import make, pull, rejected_text, rows, settings_with_source

INDICATORS = {
    "target": "indicator_observation",
    "columns": {"indicator": "Chỉ tiêu", "org_unit_code": "Mã địa bàn", "period": "Kỳ", "value": "Giá trị"},
    "constants": {"unit": "tỷ đồng"},
    "decimal": ",",
    "settle_seconds": 0,
}
INCIDENTS = {
    "target": "incident",
    "columns": {
        "external_id": "Số phiếu",
        "reported_at": "Thời điểm",
        "closed_at": "Hoàn thành",
        "status": "Tình trạng",
        "lat": "Vĩ độ",
        "lon": "Kinh độ",
        "service_code": "Loại",
    },
    "constants": {"category": "fire"},
    "value_maps": {"status": {"Đang xử lý": "open", "Đã xử lý": "closed"}},
    "settle_seconds": 0,
}
CSV = (
    "Chỉ tiêu;Mã địa bàn;Kỳ;Giá trị;Người lập\n"
    "thu_ngan_sach;66;Quý I/2025;1.234,5;Nguyễn Văn A\n"
    "thu_ngan_sach;66;Tháng 3/2025;412,25;Nguyễn Văn A\n"
    "grdp;66;Sơ bộ 2024;126.000;Nguyễn Văn A\n"
    "grdp;66;2023;..;Nguyễn Văn A\n"
    "grdp;66;2022;không rõ;Nguyễn Văn A\n"
    "grdp;66;Kỳ lạ;5;Nguyễn Văn A\n"
)


def write_incidents(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH SỰ CỐ CHÁY NỔ"])
    sheet.append(
        ["Số phiếu", "Thời điểm", "Hoàn thành", "Tình trạng", "Vĩ độ", "Kinh độ", "Loại", "SĐT người báo"]
    )
    sheet.append([101, datetime(2026, 3, 1, 8, 0), None, "Đang xử lý", 12.68, 108.05, "CHAY", "0901234567"])
    sheet.append(
        ["102", "01/03/2026 09:00", "01/03/2026 11:30", "Đã xử lý", "12,7", "108,01", "CHAY", "0907654321"]
    )
    sheet.append(["103", "hôm qua", None, "Đang xử lý", None, None, "CHAY", "0909999999"])
    book.save(path)


def test_indicators_csv_with_vietnamese_numbers_and_periods(db: Engine, settings: Settings) -> None:
    folder = settings.drop_dir / "src"
    folder.mkdir(parents=True)
    (folder / "ngan_sach.csv").write_text(CSV, encoding="utf-8")
    connector = make("files", INDICATORS, settings)
    assert connector.check().ok
    pulled = pull(db, connector)
    assert (pulled.result.inserted, pulled.result.rejected) == (4, 2)
    got = {
        (r["indicator"], r["period"]): r
        for r in rows(
            db,
            "SELECT indicator, period, grain, period_start, value, status, unit FROM indicator_observation",
        )
    }
    quarter = got[("thu_ngan_sach", "2025-Q1")]
    assert (quarter["grain"], str(quarter["period_start"]), float(quarter["value"])) == (
        "quarter",
        "2025-01-01",
        1234.5,
    )
    assert float(got[("thu_ngan_sach", "2025-03")]["value"]) == 412.25
    prelim = got[("grdp", "2024")]
    assert (float(prelim["value"]), prelim["status"], prelim["unit"]) == (126000.0, "provisional", "tỷ đồng")
    assert got[("grdp", "2023")]["value"] is None and got[("grdp", "2023")]["status"] == ".."
    reasons = {r["reason"] for r in rows(db, "SELECT reason FROM rejected_row")}
    assert reasons == {"value: not a number", "period: not a recognised period"}
    assert "Nguyễn Văn A" not in rejected_text(db)  # unmapped columns are not kept
    assert (folder / "done" / "ngan_sach.csv").exists()

    (folder / "ngan_sach.csv").write_text(CSV, encoding="utf-8")
    again = pull(db, connector)
    assert (again.result.inserted, again.result.updated, again.result.unchanged) == (0, 0, 4)


def test_incidents_xlsx_and_a_broken_file(db: Engine, settings: Settings) -> None:
    folder = settings.drop_dir / "src"
    folder.mkdir(parents=True)
    write_incidents(folder / "chay_no.xlsx")
    (folder / "wrong_columns.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    pulled = pull(db, make("files", {**INCIDENTS, "decimal": ","}, settings))
    # one rejected row, and one for the broken file (so that the run says partial)
    assert (pulled.result.inserted, pulled.result.rejected) == (2, 2)
    assert "file wrong_columns.csv moved to failed/: columns not found" in rejected_text(db)
    got = {r["external_id"]: r for r in rows(db, "SELECT * FROM incident")}
    assert (
        got["101"]["reported_at"].isoformat() == "2026-03-01T08:00:00+07:00"
        and got["101"]["status"] == "open"
    )
    assert got["102"]["closed_at"].isoformat() == "2026-03-01T11:30:00+07:00" and got["102"]["lat"] == 12.7
    assert {r["category"] for r in got.values()} == {"fire"}
    assert "reported_at: not a date" in rejected_text(db)
    assert "0909999999" not in rejected_text(db)
    assert (folder / "done" / "chay_no.xlsx").exists()
    reason = (folder / "failed" / "wrong_columns.csv.reason.txt").read_text("utf-8")
    assert "columns not found" in reason


def test_options_must_cover_the_required_columns() -> None:
    from connectors.files import FilesOptions

    with pytest.raises(ValidationError, match="reported_at"):
        FilesOptions.model_validate({"target": "incident", "columns": {"external_id": "id", "status": "s"}})
    with pytest.raises(ValidationError):
        FilesOptions.model_validate({**INDICATORS, "colums": {}})


def test_run_source_end_to_end(engine: Engine, db: Engine, tmp_path: Path) -> None:
    settings = settings_with_source(tmp_path, "bao_cao", "files", INDICATORS)
    folder = settings.drop_dir / "bao_cao"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text(CSV, encoding="utf-8")
    first = run_source(db, settings, "bao_cao")
    (folder / "a.csv").write_text(CSV, encoding="utf-8")
    second = run_source(db, settings, "bao_cao")
    assert (first.status, first.rows_inserted, first.rows_rejected) == ("partial", 4, 2)
    assert (second.rows_inserted, second.rows_updated) == (0, 0)
    assert len(list((folder / "done").iterdir())) == 2


@pytest.mark.parametrize(
    ("decimal", "written", "read"),
    [
        (".", "1,5", None),  # read as 15 before: a comma that groups no thousands is not a separator
        (".", "1,500", 1500.0),
        (".", "2.5", 2.5),
        (",", "1,5", 1.5),
        (",", "1.5", None),
        (",", "1.234,5", 1234.5),
        (".", "12,34,5", None),
    ],
)
def test_numbers_read_with_the_decimal_mark_or_not_at_all(
    settings: Settings, decimal: str, written: str, read: float | None
) -> None:
    connector = make("files", {**INDICATORS, "decimal": decimal}, settings)
    raw = pd.DataFrame({"Chỉ tiêu": ["x"], "Mã địa bàn": ["66"], "Kỳ": ["2025"], "Giá trị": [written]})
    records, rejects = connector.map_frame(raw)
    if read is None:
        assert records.empty and "value: not a number" in rejects[0][1]
    else:
        assert records["value"].tolist() == [read]
