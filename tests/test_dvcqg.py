"""DVCQG record parsing: dates, status and channel codes, supplements, personal data (pure, no I/O)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest

from connectors.dvcqg import DossierMapping, parse_dates, parse_record, parse_records, safe_record
from tests.fixtures.events.support import fixture

RECORD = fixture("dvcqg_dongbohosomc_request.json")["data"][0]
PERSONAL_VALUES = ("Nguyễn Văn A", "nguyenvana@example.vn", "0900000000", "don-de-nghi.pdf")


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize("Asia/Ho_Chi_Minh")


def test_fixture_record_maps_to_dossier_columns() -> None:
    row = parse_record(RECORD)
    assert isinstance(row, dict)
    assert row["code"] == RECORD["MaHoSo"]
    assert row["procedure_code"] == RECORD["MaTTHC"]
    assert row["department_code"] == RECORD["DonViXuLy"]
    assert row["received_at"] == local("2025-07-14 08:30:15")
    assert row["due_at"] == local("2025-07-28 17:00:00")
    assert row["due_date_only"] is False
    assert row["finished_at"] is None and row["returned_at"] is None
    assert row["status"] == 4
    assert row["channel"] == "online"
    assert row["supplement_count"] == 0
    assert not set(row) & {"ChuHoSo", "Email", "SoDienThoai"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20250714083015", "2025-07-14 08:30:15"),
        (20250714083015, "2025-07-14 08:30:15"),
        (20250714083015.0, "2025-07-14 08:30:15"),
        ("202507140830", "2025-07-14 08:30:00"),
        ("20250714", "2025-07-14 00:00:00"),
        ("14/07/2025 08:30:15", "2025-07-14 08:30:15"),
        ("14/07/2025", "2025-07-14 00:00:00"),
        ("2025-07-14T08:30:15.000+0700", "2025-07-14 08:30:15"),
        ("2025-07-14T01:30:15Z", "2025-07-14 08:30:15"),
        ("2025-07-14 08:30:15", "2025-07-14 08:30:15"),
        (datetime(2025, 7, 14, 8, 30, 15), "2025-07-14 08:30:15"),
    ],
)
def test_dates_in_the_forms_seen_are_local_time(value: object, expected: str) -> None:
    row = parse_record({**RECORD, "NgayTiepNhan": value})
    assert isinstance(row, dict), row
    assert row["received_at"] == local(expected)


@pytest.mark.parametrize(
    "value",
    [
        "20261019",
        20261019,
        "19/10/2026",
        "19-10-2026",
        "2026-10-19",
        date(2026, 10, 19),
        datetime(2026, 10, 19),
    ],
)
def test_a_date_only_deadline_is_the_end_of_that_local_day(value: object) -> None:
    row = parse_record({**RECORD, "NgayHenTra": value})
    assert isinstance(row, dict), row
    assert row["due_at"] == local("2026-10-19 23:59:59.999999")
    assert row["due_date_only"] is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20261019170000", "2026-10-19 17:00:00"),
        ("20261019000000", "2026-10-19 00:00:00"),  # a time written out is kept, even midnight
        ("202610190830", "2026-10-19 08:30:00"),
        ("19/10/2026 17:00", "2026-10-19 17:00:00"),
        ("2026-10-19T17:00:00+0700", "2026-10-19 17:00:00"),
        (datetime(2026, 10, 19, 17, 0), "2026-10-19 17:00:00"),
    ],
)
def test_a_deadline_with_a_time_is_kept_as_given(value: object, expected: str) -> None:
    row = parse_record({**RECORD, "NgayHenTra": value})
    assert isinstance(row, dict), row
    assert row["due_at"] == local(expected)
    assert row["due_date_only"] is False


def test_only_the_deadline_moves_to_the_end_of_the_day() -> None:
    row = parse_record({**RECORD, "NgayTiepNhan": "20261015", "NgayKetThucXuLy": "20261019"})
    assert isinstance(row, dict), row
    assert row["received_at"] == local("2026-10-15 00:00:00")
    assert row["finished_at"] == local("2026-10-19 00:00:00")


def test_date_only_deadlines_in_a_frame_of_mixed_forms() -> None:
    rows, rejects = parse_records(
        [
            {**RECORD, "MaHoSo": "A", "NgayHenTra": "20261019"},
            {**RECORD, "MaHoSo": "B", "NgayHenTra": "20261019083000"},
            {**RECORD, "MaHoSo": "C", "NgayHenTra": ""},
            {**RECORD, "MaHoSo": "D", "NgayHenTra": "19/10/2026"},
        ]
    )
    assert rejects == []
    assert rows["due_date_only"].tolist() == [True, False, False, True]
    assert rows["due_at"].iloc[1] == local("2026-10-19 08:30:00")
    assert pd.isna(rows["due_at"].iloc[2])
    assert rows["due_at"].iloc[3] == local("2026-10-19 23:59:59.999999")


@pytest.mark.parametrize("value", ["2025-13-45", "20251345000000", "hôm qua", "2025071408301", "31/02/2025"])
def test_bad_date_string_rejects_the_record_naming_the_field(value: str) -> None:
    record, reason = parse_record({**RECORD, "NgayHenTra": value})
    assert "NgayHenTra" in reason and "not a date" in reason
    assert record["NgayHenTra"] == value  # the reject keeps the offending value


@pytest.mark.parametrize("missing", [None, "", "  "])
def test_missing_deadline_is_null_not_an_error(missing: str | None) -> None:
    row = parse_record({**RECORD, "NgayHenTra": missing})
    assert isinstance(row, dict) and row["due_at"] is None
    absent = {k: v for k, v in RECORD.items() if k != "NgayHenTra"}
    row = parse_record(absent)
    assert isinstance(row, dict) and row["due_at"] is None


def test_missing_code_or_received_date_is_rejected() -> None:
    _, reason = parse_record({**RECORD, "MaHoSo": ""})
    assert reason == "MaHoSo: missing"
    _, reason = parse_record({**RECORD, "NgayTiepNhan": ""})
    assert reason == "NgayTiepNhan: missing"


@pytest.mark.parametrize(
    ("value", "expected"), [("4", 4), (4, 4), ("04", 4), (4.0, 4), ("10", 10), (" 9 ", 9)]
)
def test_status_as_string_or_number(value: object, expected: int) -> None:
    row = parse_record({**RECORD, "TrangThaiHoSo": value})
    assert isinstance(row, dict) and row["status"] == expected


@pytest.mark.parametrize("value", ["0", 11, "abc", "", None, 4.5])
def test_status_outside_1_to_10_is_rejected(value: object) -> None:
    result = parse_record({**RECORD, "TrangThaiHoSo": value})
    assert isinstance(result, tuple)
    assert "TrangThaiHoSo" in result[1]


@pytest.mark.parametrize(
    ("value", "expected"), [(1, "in_person"), ("2", "online"), ("3", "postal"), ("", None), (None, None)]
)
def test_channel_codes(value: object, expected: str | None) -> None:
    row = parse_record({**RECORD, "KenhThucHien": value})
    assert isinstance(row, dict) and row["channel"] == expected


def test_unknown_channel_is_rejected_or_null_by_option() -> None:
    _, reason = parse_record({**RECORD, "KenhThucHien": "9"})
    assert "KenhThucHien" in reason
    row = parse_record({**RECORD, "KenhThucHien": "9"}, DossierMapping(unknown_channel="null"))
    assert isinstance(row, dict) and row["channel"] is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [([{"a": 1}, {"b": 2}], 2), ([], 0), (json.dumps([{}, {}, {}]), 3), ("2", 2), (None, 0), ("", 0)],
)
def test_supplement_count(value: object, expected: int) -> None:
    row = parse_record({**RECORD, "DanhSachHoSoBoSung": value})
    assert isinstance(row, dict) and row["supplement_count"] == expected


def test_supplement_count_absent_when_the_source_has_no_list() -> None:
    rows, _ = parse_records([{k: v for k, v in RECORD.items() if k != "DanhSachHoSoBoSung"}])
    assert "supplement_count" not in rows.columns


def test_field_names_in_any_case_and_agency_mappings() -> None:
    upper = {k.upper(): v for k, v in RECORD.items()}
    mapping = DossierMapping(department_codes={"UBND phường X": "X01"}, org_unit_codes={"X01": "66001"})
    row = parse_record(upper, mapping)
    assert isinstance(row, dict)
    assert row["code"] == RECORD["MaHoSo"] and row["status"] == 4
    assert row["department_code"] == "X01" and row["org_unit_code"] == "66001"


def test_personal_fields_never_leave_the_parser_even_in_rejects() -> None:
    bad = {**RECORD, "TrangThaiHoSo": "99", "email": "x@example.vn", "DiaChiChuHoSo": "12 Lê Lợi"}
    record, reason = parse_record(bad)
    text = json.dumps(record, ensure_ascii=False)
    for value in (*PERSONAL_VALUES, "x@example.vn", "12 Lê Lợi", RECORD["TrichYeuHoSo"]):
        assert value not in text
    assert record["MaHoSo"] == RECORD["MaHoSo"] and "TrangThaiHoSo" in reason
    assert set(safe_record(RECORD)) <= {*RECORD, "SoLanBoSung"}


def test_a_batch_with_some_bad_records_keeps_the_good_ones() -> None:
    records = [
        {**RECORD, "MaHoSo": f"H-{i}", "TrangThaiHoSo": str(1 + i % 10), "KenhThucHien": str(1 + i % 3)}
        for i in range(1000)
    ]
    records[10]["NgayTiepNhan"] = "bad"
    records[20]["TrangThaiHoSo"] = "12"
    records.append("not a record")  # type: ignore[arg-type]
    rows, rejects = parse_records(records)
    assert len(rows) == 998 and len(rejects) == 3
    assert sorted(r["MaHoSo"] for r, _ in rejects if "MaHoSo" in r) == ["H-10", "H-20"]
    assert set(rows["status"]) == set(range(1, 11))
    assert set(rows["channel"]) == {"in_person", "online", "postal"}


def test_records_spelling_a_field_differently_in_one_page_all_keep_it() -> None:
    # found by tests/test_intake_properties.py: the first spelling's column won for every record
    rows, rejects = parse_records(
        [
            {"MAHOSO": "A-1", "NGAYTIEPNHAN": "20250701080000", "TRANGTHAIHOSO": "2"},
            {"MaHoSo": "A-2", "NgayTiepNhan": "20250701080000", "TrangThaiHoSo": "2"},
        ]
    )
    assert rejects == [] and rows["code"].tolist() == ["A-1", "A-2"]


def test_a_negative_number_is_not_a_date_of_year_minus_one() -> None:
    # found by tests/test_intake_properties.py: pandas read "-1" as the year -1, and the record then
    # broke the whole file when it was rejected
    _, bad = parse_dates(pd.Series(["-1", "-20250101", "20250701080000"], dtype=object))
    assert bad.tolist() == [True, True, False]
