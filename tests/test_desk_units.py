"""Desktop building blocks without a browser: URL changes, drill-down links, lineage panel, exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl

from dashboard.desk.drill import clicked_key
from dashboard.desk.filter_bar import next_search
from dashboard.desk.lineage import lineage_view
from dashboard.desk.links import list_href
from dashboard.exports import Column, csv_file, write_xlsx
from dashboard.url import Filters, parse_filters, parse_list
from ioc.queries import Lineage, RunLine

TODAY = date(2026, 11, 30)


def test_changing_a_filter_keeps_page_parameters_and_drops_the_cursor() -> None:
    current = "?period=2026-10&by=area&kpi=dossiers_open_overdue&after=abc&page=3"
    search = next_search(current, {"department": "STP", "period": "2026-Q3"}, TODAY)
    assert search == "?period=2026-Q3&dept=STP&by=area&kpi=dossiers_open_overdue"
    assert (
        next_search(search, {"department": None}, TODAY)
        == "?period=2026-Q3&by=area&kpi=dossiers_open_overdue"
    )


def test_a_bar_opens_the_list_narrowed_to_its_key() -> None:
    filters = Filters(period="2026-10", area="66", channel="online")
    href = list_href(filters, "dossiers_on_time_rate", by="department", key="STP")
    path, query = href.split("?")
    assert path == "/desk/list"
    assert parse_filters(query, TODAY) == filters.with_(department="STP")
    assert parse_list(query, default_kpi="x").kpi == "dossiers_on_time_rate"
    commune = list_href(filters, "incidents_new", by="area", key="24121")
    assert parse_filters(commune.split("?")[1], TODAY).area == "24121"
    assert clicked_key({"points": [{"customdata": "STP", "x": 97}]}) == "STP"
    assert clicked_key({"points": [{"customdata": ["24121"]}]}) == "24121"
    assert clicked_key({"points": []}) is None and clicked_key(None) is None


def _lineage() -> Lineage:
    now = datetime(2026, 11, 30, 8, tzinfo=UTC)
    return Lineage(
        kpi_id="dossiers_on_time_rate",
        name_vi="Tỷ lệ hồ sơ giải quyết đúng hạn",
        name_en="On-time rate",
        description_vi="Hồ sơ kết thúc đúng hạn trên tổng số hồ sơ kết thúc.",
        description_en="On time over all finished.",
        kpi_type="ratio",
        formula_vi="Tử số / mẫu số × 100",
        dataset="dossier",
        unit_vi="%",
        grain="month",
        direction="higher_is_better",
        owner="Văn phòng UBND tỉnh",
        legal_source="Quyết định 766/QĐ-TTg",
        targets=((None, None, 95.0),),
        thresholds=(95.0, 85.0, "value"),
        freshness_expected="1d",
        freshness="fresh",
        data_as_of=now - timedelta(minutes=5),
        sources=("igate",),
        runs=(
            RunLine(
                7,
                "igate",
                "success",
                now - timedelta(minutes=6),
                now - timedelta(minutes=5),
                1234,
                1200,
                34,
                None,
            ),
        ),
    )


def _text(component: object) -> str:
    children = getattr(component, "children", component)
    if isinstance(children, list | tuple):
        return " ".join(_text(child) for child in children)
    if isinstance(children, str | int | float):
        return str(children)
    return "" if children is None else _text(children)


def test_lineage_panel_says_what_how_where_and_links_to_the_rows() -> None:
    filters = Filters(period="2026-10", department="STP")
    panel = lineage_view(_lineage(), filters, now=datetime(2026, 11, 30, 8, tzinfo=UTC))
    text = _text(panel)
    for expected in (
        "Tỷ lệ hồ sơ giải quyết đúng hạn",
        "Tử số / mẫu số × 100",
        "igate",
        "1.234",
        "34",
        "Quyết định 766/QĐ-TTg",
        "95,0",
        "5 phút",
    ):
        assert expected in text, expected
    link = next(c for c in panel.children[-1].children if getattr(c, "id", None) == "desk-lineage-rows")
    assert link.href.startswith("/desk/list?period=2026-10&dept=STP&kpi=dossiers_on_time_rate")


HEADER = [("Chỉ số", "Hồ sơ tiếp nhận"), ("Kỳ báo cáo", "Tháng 10/2026 (2026-10)")]
COLUMNS = [
    Column("code", "Mã hồ sơ"),
    Column("department_name", "Đơn vị xử lý"),
    Column("received_at", "Ngày tiếp nhận"),
]
ROW = {
    "code": "H-1",
    "department_name": "Sở Tư pháp",
    "received_at": datetime(2026, 10, 1, 1, 30, tzinfo=UTC),
}


def test_csv_has_bom_filters_then_the_table() -> None:
    """The head is written here; the rows come as PostgreSQL wrote them (tests/test_csv_export.py)."""
    row = "H-1,Sở Tư pháp,2026-10-01 08:30:00\r\n".encode()
    data = b"".join(csv_file(HEADER, COLUMNS, [row]))
    assert data.startswith("\ufeff".encode())
    assert data.count(b"\r\n") == 5 and b"\n" not in data.replace(b"\r\n", b"")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["Chỉ số", "Hồ sơ tiếp nhận"] and lines[2] == []
    assert lines[3] == ["Mã hồ sơ", "Đơn vị xử lý", "Ngày tiếp nhận"]
    assert lines[4] == ["H-1", "Sở Tư pháp", "2026-10-01 08:30:00"]


def test_xlsx_has_filters_then_the_table(tmp_path: Path) -> None:
    path = str(tmp_path / "x.xlsx")
    assert write_xlsx(path, HEADER, COLUMNS, [ROW, {**ROW, "code": "H-2", "received_at": None}]) == 2
    rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("Chỉ số", "Hồ sơ tiếp nhận")
    assert rows[3] == ("Mã hồ sơ", "Đơn vị xử lý", "Ngày tiếp nhận")
    assert rows[4] == ("H-1", "Sở Tư pháp", datetime(2026, 10, 1, 8, 30))
    assert rows[5][:2] == ("H-2", "Sở Tư pháp") and rows[5][2] is None
