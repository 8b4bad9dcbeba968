"""The dossiers connector: a paged HTTP endpoint on loopback and a real drop folder, into Postgres."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import Engine

from ioc.config import Settings
from ioc.connector import SourceError
from ioc.http import RetryPolicy
from ioc.runner import run_source
from tests.fixtures.events.support import fixture, make, pull, rejected_text, rows, settings_with_source
from tests.loopback import LoopbackServer, Reply, Request, free_port

RECORD = fixture("dvcqg_dongbohosomc_request.json")["data"][0]
PERSONAL = ("Nguyễn Văn A", "nguyenvana@example.vn", "0900000000", "don-de-nghi.pdf")


def dossier(i: int, **changes: Any) -> dict[str, Any]:
    return {
        **RECORD,
        "MaHoSo": f"000.00.15.H99-250714-{i:04d}",
        "NgayTiepNhan": f"202507{10 + i % 10:02d}083015",
        "TrangThaiHoSo": str(1 + i % 10),
        "KenhThucHien": str(1 + i % 3),
        **changes,
    }


class PagedDossiers:
    """`GET /api/hoso?page=N&size=S` → `{"data": [...]}`; remembers what was asked."""

    def __init__(self, records: list[Any], *, ignore_paging: bool = False) -> None:
        self.records = records
        self.ignore_paging = ignore_paging
        self.server = LoopbackServer()
        self.server.route("GET", "/api/hoso", self.reply)

    def reply(self, request: Request) -> Reply:
        page, size = int(request.arg("page", "1") or 1), int(request.arg("size", "500") or 500)
        if self.ignore_paging:
            page = 1
        return Reply.json({"data": self.records[(page - 1) * size : page * size]})


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOSO_TOKEN", "t0ken-123")
    return "t0ken-123"


def test_paged_endpoint_loads_and_rerun_changes_nothing(db: Engine, settings: Settings, token: str) -> None:
    records = [dossier(i) for i in range(5)]
    records[3] = dossier(3, TrangThaiHoSo="42")  # a bad record with personal data in it
    source = PagedDossiers(records)
    with source.server:
        options = {"url": source.server.url("/api/hoso"), "page_size": 2, "token_env": "HOSO_TOKEN"}
        first = pull(db, make("dossiers", options, settings))
        asked = [(r.arg("page"), r.headers.get("authorization")) for r in source.server.requests]
        again = pull(db, make("dossiers", options, settings))
    assert asked == [("1", f"Bearer {token}"), ("2", f"Bearer {token}"), ("3", f"Bearer {token}")]
    assert (first.result.inserted, first.result.rejected) == (4, 1)
    assert (again.result.inserted, again.result.updated, again.result.unchanged) == (0, 0, 4)
    stored = rows(db, "SELECT code, status, channel, received_at FROM dossier ORDER BY code")
    assert [r["code"] for r in stored] == sorted(r["MaHoSo"] for i, r in enumerate(records) if i != 3)
    assert stored[0]["received_at"].isoformat() == "2025-07-10T08:30:15+07:00"
    text = rejected_text(db)
    assert "TrangThaiHoSo" in text and records[3]["MaHoSo"] in text
    for value in PERSONAL:
        assert value not in text
    # the cursor is the newest change seen
    assert first.cursor == {"updated_until": "2025-07-14T08:30:15+07:00"}


def test_incremental_cursor_asks_since_minus_overlap(db: Engine, settings: Settings) -> None:
    source = PagedDossiers([dossier(1)])
    with source.server:
        options = {"url": source.server.url("/api/hoso"), "since_param": "tuNgay", "overlap": "1d"}
        pulled = pull(db, make("dossiers", options, settings))
        pull(db, make("dossiers", options, settings), pulled.cursor)
        iso = {**options, "since_format": "iso"}
        pull(db, make("dossiers", iso, settings), pulled.cursor)
    asked = [r.arg("tuNgay") for r in source.server.requests]
    assert asked == [None, "20250710083015", "2025-07-10T08:30:15+07:00"]


def test_updated_field_drives_the_cursor_and_full_ignores_it(db: Engine, settings: Settings) -> None:
    source = PagedDossiers([dossier(1, NgayCapNhat="20250801101010"), dossier(2, NgayCapNhat="")])
    with source.server:
        options = {
            "url": source.server.url("/api/hoso"),
            "since_param": "from",
            "updated_field": "NgayCapNhat",
        }
        pulled = pull(db, make("dossiers", options, settings))
        pull(db, make("dossiers", options, settings), pulled.cursor, full=True)
    assert pulled.cursor == {"updated_until": "2025-08-01T10:10:10+07:00"}
    assert [r.arg("from") for r in source.server.requests] == [None, None]


def test_server_ignoring_the_page_parameter_does_not_loop(db: Engine, settings: Settings) -> None:
    source = PagedDossiers([dossier(i) for i in range(4)], ignore_paging=True)
    with source.server:
        pulled = pull(db, make("dossiers", {"url": source.server.url("/api/hoso"), "page_size": 4}, settings))
    assert len(source.server.requests) == 2
    assert pulled.result.inserted == 4


def test_dvcqg_envelope_ok_and_error(db: Engine, settings: Settings) -> None:
    server = LoopbackServer()
    ok = {**fixture("dvcqg_response_ok.json"), "error_code": "0", "result": [dossier(7)]}
    server.route("GET", "/ok", lambda r: Reply.json(ok))
    server.route("GET", "/empty", lambda r: Reply.json({"error_code": 0, "message": "", "result": None}))
    server.route("GET", "/err", lambda r: Reply.json(fixture("dvcqg_response_error.json")))
    with server:
        loaded = pull(db, make("dossiers", {"url": server.url("/ok"), "records_path": "result"}, settings))
        empty = pull(db, make("dossiers", {"url": server.url("/empty"), "records_path": "result"}, settings))
        with pytest.raises(SourceError, match="Phiên làm việc không hợp lệ"):
            pull(db, make("dossiers", {"url": server.url("/err"), "records_path": "result"}, settings))
    assert loaded.result.inserted == 1 and empty.result.read == 0


def test_igate_spring_page_with_field_map_keeps_no_applicant_data(db: Engine, settings: Settings) -> None:
    """iGate's status field is unknown (protocols §7.3): its records are rejected, without personal data."""
    server = LoopbackServer()
    server.route("GET", "/pa/dossier/search", lambda r: Reply.json(fixture("igate_dossier_search_page.json")))
    options = {
        "records_path": "content",
        "first_page": 0,
        "page_size": 20,
        "field_map": {
            "nationCode": "MaHoSo",
            "acceptedDate": "NgayTiepNhan",
            "appointmentDate": "NgayHenTra",
            "completedDate": "NgayKetThucXuLy",
            "procedure.id": "MaTTHC",
        },
    }
    with server:
        pulled = pull(db, make("dossiers", {**options, "url": server.url("/pa/dossier/search")}, settings))
    assert server.requests[0].arg("page") == "0"
    assert pulled.result.rejected == 1
    text = rejected_text(db)
    assert "TrangThaiHoSo: missing" in text and "000.00.15.H99-250714-0023" in text
    assert "20250714" not in text  # dates are kept as sent
    assert "2025-07-14T08:30:15.000+0700" in text
    assert "Nguyễn Văn A" not in text and "Lê Văn C" not in text


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (Reply.json({"error": "boom"}, status=500), "HTTP 500"),
        (Reply(delay=0.6, body=b"[]"), "timed out"),
        (Reply.text("<html>maintenance</html>"), "not JSON"),
        (Reply.json({"data": {"not": "a list"}}), "no list of records"),
        (Reply.json({"error": "forbidden"}, status=403), "HTTP 403"),
    ],
)
def test_source_down_or_malformed_changes_nothing(
    db: Engine, settings: Settings, reply: Reply, match: str
) -> None:
    server = LoopbackServer()
    server.route("GET", "/api/hoso", lambda r: reply)
    policy = RetryPolicy(attempts=2, base_delay=0.01, timeout=0.3)
    with server, pytest.raises(SourceError, match=match):
        pull(db, make("dossiers", {"url": server.url("/api/hoso")}, settings, policy=policy))
    assert rows(db, "SELECT count(*) AS n FROM dossier")[0]["n"] == 0


def test_connection_refused(db: Engine, settings: Settings) -> None:
    connector = make("dossiers", {"url": f"http://127.0.0.1:{free_port()}/api"}, settings)
    with pytest.raises(SourceError, match="could not connect"):
        pull(db, connector)
    assert not connector.check().ok


# --------------------------------------------------------------------------- drop folder


def write_drop(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a_list.json").write_text(json.dumps([dossier(1), dossier(2)], ensure_ascii=False), "utf-8")
    (folder / "b_envelope.json").write_text(json.dumps({"data": [dossier(3)]}, ensure_ascii=False), "utf-8")
    csv = pd.DataFrame([dossier(4), dossier(5, NgayHenTra="31/02/2025"), dossier(6, KenhThucHien="")])
    csv = csv.drop(columns=["DanhSachLePhi", "DanhSachTepDinhKemKhac", "DanhSachGiayToKetQua", "TaiLieuNop"])
    csv.to_csv(folder / "c_export.csv", sep=";", index=False, encoding="utf-8-sig")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["BÁO CÁO HỒ SƠ TIẾP NHẬN THÁNG 7/2025"])  # a title above the table
    sheet.append([])
    header = ["MaHoSo", "MaTTHC", "DonViXuLy", "NgayTiepNhan", "NgayHenTra", "TrangThaiHoSo", "KenhThucHien"]
    sheet.append([*header, "ChuHoSo", "SoDienThoai"])
    received = pd.Timestamp("2025-07-15 09:00").to_pydatetime()
    sheet.append(
        ["X-8", "1.001612", "Sở Xây dựng", received, 20250730170000, 4, 1, "Trần Thị B", "0911111111"]
    )
    sheet.append(["X-9", "1.001612", "Sở Xây dựng", "15/07/2025 10:00", None, "10", 3, "Lê C", "0922"])
    book.save(folder / "d_report.xlsx")
    (folder / "e_broken.json").write_text('{"data": [ {"MaHoSo": "truncated"', encoding="utf-8")


def test_folder_drop_json_csv_xlsx_and_a_broken_file(db: Engine, settings: Settings) -> None:
    folder = settings.drop_dir / "src"
    write_drop(folder)
    connector = make("dossiers", {"settle_seconds": 0}, settings)
    assert connector.check().ok
    pulled = pull(db, connector)
    assert (pulled.result.inserted, pulled.result.rejected) == (7, 2)  # a row and the broken file
    assert sorted(p.name for p in (folder / "done").iterdir()) == [
        "a_list.json",
        "b_envelope.json",
        "c_export.csv",
        "d_report.xlsx",
    ]
    assert sorted(p.name for p in (folder / "failed").iterdir()) == [
        "e_broken.json",
        "e_broken.json.reason.txt",
    ]
    assert "not valid JSON" in (folder / "failed" / "e_broken.json.reason.txt").read_text("utf-8")
    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    stored = {r["code"]: r for r in rows(db, "SELECT * FROM dossier")}
    assert stored["X-8"]["received_at"].isoformat() == "2025-07-15T09:00:00+07:00"
    assert stored["X-8"]["due_at"].isoformat() == "2025-07-30T17:00:00+07:00"
    assert stored["X-9"]["channel"] == "postal" and stored["X-9"]["status"] == 10
    assert stored[dossier(6)["MaHoSo"]]["channel"] is None
    text = rejected_text(db)
    assert "NgayHenTra" in text
    for value in (*PERSONAL, "Trần Thị B", "0911111111"):
        assert value not in text

    # the same files dropped again: nothing changes
    write_drop(folder)
    (folder / "e_broken.json").unlink()
    again = pull(db, connector)
    assert (again.result.inserted, again.result.updated, again.result.unchanged) == (0, 0, 7)
    assert len(list((folder / "done").iterdir())) == 8  # earlier copies are kept, not overwritten


def test_drop_folder_edge_files(db: Engine, settings: Settings) -> None:
    folder = settings.drop_dir / "src"
    folder.mkdir(parents=True)
    (folder / "no_code.csv").write_text("Ma;Ngay\n1;2\n", encoding="utf-8")
    (folder / "empty.csv").write_text("", encoding="utf-8")
    (folder / "fake.xlsx").write_bytes(b"not a zip")
    (folder / "~$open.xlsx").write_bytes(b"lock")
    (folder / "copying.json.part").write_text("[", encoding="utf-8")
    pulled = pull(db, make("dossiers", {"settle_seconds": 0}, settings))
    assert (pulled.result.inserted, pulled.result.rejected) == (0, 3)  # one rejected row per failed file
    reasons = {p.name: p.read_text("utf-8") for p in (folder / "failed").glob("*.reason.txt")}
    assert "no MaHoSo column" in reasons["no_code.csv.reason.txt"]
    assert "empty file" in reasons["empty.csv.reason.txt"]
    assert "XLSX" in reasons["fake.xlsx.reason.txt"]
    assert (folder / "~$open.xlsx").exists() and (folder / "copying.json.part").exists()
    # a file still being written (younger than settle_seconds) waits for the next run
    (folder / "fresh.json").write_text(json.dumps([dossier(1)]), encoding="utf-8")
    assert pull(db, make("dossiers", {"settle_seconds": 60}, settings)).result.read == 0
    assert (folder / "fresh.json").exists()


def test_run_source_end_to_end(engine: Engine, db: Engine, tmp_path: Path) -> None:
    source = PagedDossiers([dossier(i) for i in range(6)])
    with source.server:
        settings = settings_with_source(
            tmp_path, "motcua", "dossiers", {"url": source.server.url("/api/hoso")}
        )
        first = run_source(db, settings, "motcua")
        second = run_source(db, settings, "motcua")
    assert (first.status, first.rows_inserted) == ("success", 6)
    assert (second.status, second.rows_inserted, second.rows_updated) == ("success", 0, 0)
    assert second.cursor == {"updated_until": "2025-07-15T08:30:15+07:00"}
