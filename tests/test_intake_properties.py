"""Property-based tests of the intake (issue 12): whatever records a source sends, the load path and the
runner end with a status, load the good records, reject every bad one with a reason, store no personal
field anywhere, and let no exception escape.

Each property draws hostile values (NUL, lone surrogates, ±Infinity/NaN, huge integers, years 1 and
9999, megabyte-ish strings, objects and lists where one value is expected, "1,5"…) around records that
are valid by construction (codes `V-<i>`); run with `--hypothesis-show-statistics` for the case counts.
"""

from __future__ import annotations

import csv
import io
import json
import string
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from ioc.database import make_engine, temporary_database
from ioc.load import load_batch, table_spec
from ioc.models import ALL_TABLES
from ioc.runner import run_source
from tests.fixtures.events.support import settings_with_source
from tests.loopback import LoopbackServer, Reply, Request

T = TypeVar("T")
SENTINEL = "Nguyễn Văn Sentinel 0905000111"
PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
RUN_PROPERTY = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

SPECIAL_TEXT = [
    "",
    " ",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1,5",
    "1.5",
    "0",
    "-1",
    "99999999999999999999",
    "0001-01-01",
    "0001-01-01T00:00:00",
    "2999-01-01T00:00:00",
    "9999-12-31",
    "29990101080000",
    "00000000",
    "20250230",
    "\x00",
    "a\x00b",
    "\ud800",
    "x" * 600,
    "x" * 20_000,
    "null",
    "true",
    "[]",
    "{}",
    "2025-07-01T08:00:00+07:00",
    "31/12/2999 08:00",
    "1e400",
    "\r",
    "0\r0",
    "a\r\nb",
    "\\N",
]
hostile_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(SPECIAL_TEXT),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.dates(),
)
hostile = st.one_of(
    hostile_scalar,
    st.just({"ChuHoSo": SENTINEL}),
    st.just([SENTINEL]),
    st.dictionaries(st.text(max_size=4), hostile_scalar, max_size=2),
    st.lists(hostile_scalar, max_size=3),
)
plain = st.text(alphabet=string.ascii_letters + string.digits + ".-", min_size=1, max_size=12)
recent = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)
)


def wipe(engine: Engine) -> None:
    """Empty the tables between examples (DELETE: far cheaper than TRUNCATE on these few rows)."""
    with engine.begin() as connection:
        for table in ("rejected_row", "connector_run", "dossier", "incident", "indicator_observation"):
            connection.execute(text(f"DELETE FROM {table}"))


def fresh_draws(engine: Engine, data: st.DataObject, item: Callable[[int], st.SearchStrategy[T]]) -> list[T]:
    """Empty tables, then 1–10 drawn items (item `i` is valid or not; valid ones carry code `V-<i>`)."""
    wipe(engine)
    n = data.draw(st.integers(1, 10), label="items")
    return [data.draw(item(i), label=f"item {i}") for i in range(n)]


def everything_stored(engine: Engine) -> str:
    """Every row of every table we write, as text (to look for personal data)."""
    with engine.connect() as connection:
        return "\n".join(
            str(row)
            for table in ALL_TABLES
            for row in connection.execute(text(f"SELECT t::text FROM {table} t"))
        )


def check_rejected_rows(engine: Engine, expected: int, extra_fields: frozenset[str] = frozenset()) -> None:
    with engine.connect() as connection:
        rejected = connection.execute(
            text("SELECT target_table, record, reason, occurrences FROM rejected_row")
        ).all()
    assert sum(r.occurrences for r in rejected) == expected
    for row in rejected:
        assert row.reason.strip()
        assert set(row.record) <= table_spec(row.target_table).reject_fields | extra_fields
        assert all(not isinstance(v, dict | list) for v in row.record.values())


# --------------------------------------------------------------------------- the load path


def dossier_record(draw: st.DrawFn, i: int, valid: bool) -> dict[str, Any]:
    received = draw(recent)
    record: dict[str, Any] = {
        "code": f"V-{i}",
        "received_at": received,
        "status": draw(st.integers(1, 10)),
        "channel": draw(st.sampled_from(["online", "in_person", "postal", None])),
        "procedure_code": draw(st.none() | plain),
        "due_at": received + timedelta(days=draw(st.integers(0, 60))),
        "finished_at": draw(st.none() | st.just(received + timedelta(hours=3))),
        "supplement_count": draw(st.integers(0, 5)),
    }
    if not valid:
        for name in draw(st.lists(st.sampled_from(sorted(record)), min_size=1, max_size=4, unique=True)):
            record[name] = draw(hostile)
        if record["code"] != f"V-{i}" and isinstance(record["code"], str) and record["code"].startswith("V-"):
            record["code"] = "H" + record["code"]
    return record


@PROPERTY
@given(st.data())
def test_load_path_property(engine: Engine, data: st.DataObject) -> None:
    wipe(engine)
    n = data.draw(st.integers(1, 12), label="records")
    flags = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="valid")
    records = [dossier_record(data.draw, i, valid) for i, valid in enumerate(flags)]
    with engine.begin() as connection:
        result = load_batch(connection, "dossier", records, source="prop")
    event(f"{result.rejected} of {n} rejected" if result.rejected < 3 else "3+ rejected")
    assert result.read == n
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT code FROM dossier")).scalars())
    assert {f"V-{i}" for i, valid in enumerate(flags) if valid} <= stored
    assert result.inserted == len(stored)
    check_rejected_rows(engine, result.rejected)
    assert SENTINEL not in everything_stored(engine)


# --------------------------------------------------------------------------- DVCQG records, end to end

DVCQG_VALID = {
    "MaHoSo": None,
    "NgayTiepNhan": None,
    "TrangThaiHoSo": None,
    "KenhThucHien": None,
    "MaTTHC": None,
    "NgayHenTra": None,
    "DanhSachHoSoBoSung": None,
}


@st.composite
def dvcqg_item(draw: st.DrawFn, i: int) -> tuple[Any, bool]:
    kind = draw(st.sampled_from(["valid", "valid", "hostile", "hostile", "not a record"]))
    if kind == "not a record":
        return draw(st.sampled_from([SENTINEL, [SENTINEL], 42, None])), False
    received = draw(recent).astimezone(UTC)
    record: dict[str, Any] = {
        "MaHoSo": f"V-{i}",
        "NgayTiepNhan": received.strftime("%Y%m%d%H%M%S"),
        "TrangThaiHoSo": str(draw(st.integers(1, 10))),
        "KenhThucHien": draw(st.sampled_from(["1", "2", "3", 2])),
        "MaTTHC": draw(plain),
        "NgayHenTra": (received + timedelta(days=5)).strftime("%Y%m%d"),
        "DanhSachHoSoBoSung": draw(st.lists(st.just({"NgayBoSung": "20250101"}), max_size=2)),
        # personal fields and free text the connector must never pass on, valid or not
        "ChuHoSo": SENTINEL,
        "SoDienThoai": SENTINEL,
        "TrichYeuHoSo": SENTINEL,
        "GhiChu": {"nguoi": SENTINEL},
        "TepDinhKem": [{"TenTep": SENTINEL}],
    }
    if kind == "hostile":
        for name in draw(st.lists(st.sampled_from(sorted(DVCQG_VALID)), min_size=1, max_size=4, unique=True)):
            record[name] = draw(hostile)
        if draw(st.booleans()):  # field names in another case
            record = {(k.upper() if k in DVCQG_VALID else k): v for k, v in record.items()}
        code = record.get("MaHoSo")
        if code != f"V-{i}" and isinstance(code, str) and code.startswith("V-"):
            record["MaHoSo"] = "H" + code
    return record, kind == "valid"


class Records:
    def __init__(self) -> None:
        self.payload: Any = {"data": []}
        self.server = LoopbackServer()
        self.server.route("GET", "/hoso", self.reply)

    def reply(self, _request: Request) -> Reply:
        body = json.dumps(self.payload, default=lambda o: o.isoformat())  # NaN/Infinity as JSON tokens
        return Reply.text(body, content_type="application/json")


@pytest.fixture
def records_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Records]:
    monkeypatch.setenv("IOC_HTTP_ATTEMPTS", "1")  # a failure is a finding, not something to retry
    records = Records()
    with records.server:
        yield records


@RUN_PROPERTY
@given(st.data())
def test_dvcqg_records_through_the_runner_property(
    engine: Engine, tmp_path: Path, records_server: Records, data: st.DataObject
) -> None:
    items = fresh_draws(engine, data, dvcqg_item)
    n = len(items)
    records_server.payload = {"data": [item for item, _ in items]}
    settings_ = settings_with_source(
        tmp_path, "motcua", "dossiers", {"url": records_server.server.url("/hoso")}
    )
    summary = run_source(engine, settings_, "motcua")
    event(f"run {summary.status}")
    assert summary.status in ("success", "partial"), summary.error
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT code FROM dossier")).scalars())
    assert {f"V-{i}" for i, (_, valid) in enumerate(items) if valid} <= stored
    assert summary.rows_read == n
    assert summary.rows_rejected + summary.rows_inserted + summary.rows_updated + summary.rows_unchanged == n
    check_rejected_rows(engine, summary.rows_rejected, frozenset(_dossier_fields()))
    assert SENTINEL not in everything_stored(engine)


def _dossier_fields() -> frozenset[str]:
    from connectors.dossiers import DossiersConnector

    return DossiersConnector.reject_fields


# --------------------------------------------------------------------------- files dropped in a folder

FILES_OPTIONS = {
    "target": "incident",
    "columns": {
        "external_id": "Số phiếu",
        "reported_at": "Thời điểm",
        "status": "Tình trạng",
        "lat": "Vĩ độ",
        "lon": "Kinh độ",
        "severity": "Mức độ",
    },
    "constants": {"category": "fire"},
    "value_maps": {"status": {"Đang xử lý": "open", "Đã xử lý": "closed"}},
    "settle_seconds": 0,
}
HEADERS = ["Số phiếu", "Thời điểm", "Tình trạng", "Vĩ độ", "Kinh độ", "Mức độ", "Người báo"]
# a file holds bytes: no lone surrogates (an undecodable file is refused whole, by design of the drop folder)
cell_text = st.one_of(
    st.sampled_from([t for t in SPECIAL_TEXT if "\ud800" not in t]),
    st.text(max_size=10),
    st.integers().map(str),
)


@st.composite
def csv_row(draw: st.DrawFn, i: int) -> tuple[list[str], bool]:
    row = [
        f"V-{i}",
        draw(recent).strftime("%d/%m/%Y %H:%M"),
        draw(st.sampled_from(["Đang xử lý", "Đã xử lý"])),
        f"{draw(st.floats(-89, 89)):.4f}",
        f"{draw(st.floats(-179, 179)):.4f}",
        str(draw(st.integers(1, 3))),
        SENTINEL,
    ]
    valid = draw(st.booleans())
    if not valid:
        for column in draw(st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True)):
            row[column] = draw(cell_text)
        if row[0] != f"V-{i}" and row[0].startswith("V-"):
            row[0] = "H" + row[0]
    return row, valid


@RUN_PROPERTY
@given(st.data())
def test_files_connector_property(engine: Engine, tmp_path: Path, data: st.DataObject) -> None:
    rows = fresh_draws(engine, data, csv_row)
    folder = tmp_path / "drop" / "baocao"
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(HEADERS)
    writer.writerows(row for row, _ in rows)
    (folder / "su_co.csv").write_text(buffer.getvalue(), encoding="utf-8")
    settings_ = settings_with_source(tmp_path, "baocao", "files", FILES_OPTIONS)
    summary = run_source(engine, settings_, "baocao")
    event(f"run {summary.status}" + (f": {summary.error}"[:90] if summary.status == "failed" else ""))
    assert summary.status in ("success", "partial", "failed")
    if summary.status != "failed":
        with engine.connect() as connection:
            stored = set(connection.execute(text("SELECT external_id FROM incident")).scalars())
        assert {f"V-{i}" for i, (_, valid) in enumerate(rows) if valid} <= stored
    assert SENTINEL not in everything_stored(engine)


# --------------------------------------------------------------------------- another database (sql)

SQL_SCHEMA = """
CREATE TABLE su_co (
    ma text, loai text, vi_do double precision, thoi_diem text, trang_thai text, sdt text,
    cap_nhat timestamp without time zone
)
"""
SQL_OPTIONS = {
    "url_env": "PROP_DB_URL",
    "target": "incident",
    "table": "su_co",
    "columns": {
        "external_id": "ma",
        "service_code": "loai",
        "lat": "vi_do",
        "reported_at": "thoi_diem",
        "status": "trang_thai",
    },
    "constants": {"category": "public_order"},
    "incremental_column": "cap_nhat",
}
pg_text = st.one_of(
    st.sampled_from([t for t in SPECIAL_TEXT if "\x00" not in t and "\ud800" not in t]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=10),
)


@pytest.fixture
def other_database(admin_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with temporary_database(admin_url, prefix="ioc_prop") as url:
        other = make_engine(url)
        with other.begin() as connection:
            connection.execute(text(SQL_SCHEMA))
        monkeypatch.setenv("PROP_DB_URL", url)
        yield other
        other.dispose()


@st.composite
def sql_row(draw: st.DrawFn, i: int) -> tuple[dict[str, Any], bool]:
    when = draw(recent)
    row: dict[str, Any] = {
        "ma": f"V-{i}",
        "loai": draw(plain),
        "vi_do": draw(st.floats(-89, 89)),
        "thoi_diem": when.strftime("%Y-%m-%d %H:%M:%S"),
        "trang_thai": draw(st.sampled_from(["open", "closed"])),
        "sdt": SENTINEL,
        "cap_nhat": draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2025, 12, 31))),
    }
    valid = draw(st.booleans())
    if not valid:
        for name in draw(
            st.lists(
                st.sampled_from(["ma", "loai", "vi_do", "thoi_diem", "trang_thai", "cap_nhat"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        ):
            if name == "vi_do":
                row[name] = draw(st.floats(allow_nan=True, allow_infinity=True) | st.none())
            elif name == "cap_nhat":
                row[name] = draw(
                    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)) | st.none()
                )
            else:
                row[name] = draw(pg_text | st.none())
        if row["ma"] != f"V-{i}" and isinstance(row["ma"], str) and row["ma"].startswith("V-"):
            row["ma"] = "H" + row["ma"]
    return row, valid


@RUN_PROPERTY
@given(st.data())
def test_sql_connector_property(
    engine: Engine, other_database: Engine, tmp_path: Path, data: st.DataObject
) -> None:
    rows = fresh_draws(engine, data, sql_row)
    with other_database.begin() as connection:
        connection.execute(text("TRUNCATE su_co"))
        connection.execute(
            text("INSERT INTO su_co VALUES (:ma, :loai, :vi_do, :thoi_diem, :trang_thai, :sdt, :cap_nhat)"),
            [row for row, _ in rows],
        )
    settings_ = settings_with_source(tmp_path, "suco", "sql", SQL_OPTIONS)
    summary = run_source(engine, settings_, "suco", full=True)
    event(f"run {summary.status}")
    assert summary.status in ("success", "partial"), summary.error
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT external_id FROM incident")).scalars())
    assert {f"V-{i}" for i, (_, valid) in enumerate(rows) if valid} <= stored
    check_rejected_rows(engine, summary.rows_rejected)
    assert SENTINEL not in everything_stored(engine)
    if summary.cursor is not None and summary.cursor.get("type") == "datetime":  # never past now
        assert datetime.fromisoformat(summary.cursor["value"]).year <= datetime.now(UTC).year
