"""The sql connector reading a table of a second, real Postgres database (created and dropped here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text

from ioc.config import ConfigError, Settings
from ioc.connector import SourceError
from ioc.database import make_engine, temporary_database
from ioc.runner import run_source
from tests.fixtures.events.support import make, pull, rejected_text, rows, settings_with_source
from tests.loopback import free_port

SCHEMA = """
CREATE SCHEMA ops;
CREATE TABLE ops.su_co (
    ma integer PRIMARY KEY,
    loai text,
    vi_do double precision,
    kinh_do double precision,
    thoi_diem timestamp without time zone,
    dong_luc timestamptz,
    trang_thai text,
    nguoi_bao_sdt text,
    don_vi text,
    cap_nhat timestamp without time zone
);
"""
ROWS = [
    (1, "tai_nan", 12.68, 108.05, "2026-03-01 08:00", None, "Đang xử lý", "0901", "A", "2026-03-01 08:00"),
    (
        2,
        "chay",
        12.70,
        108.01,
        "2026-03-01 09:00",
        "2026-03-01 03:00+00",
        "Đã xử lý",
        "0902",
        "A",
        "2026-03-01 10:00",
    ),
    (3, "tai_nan", 300.0, 108.0, "2026-03-02 07:00", None, "Đang xử lý", "0903", "A", "2026-03-02 07:00"),
    (4, "tai_nan", 12.6, 108.1, "2026-03-02 08:00", None, "Đang xử lý", "0904", "B", "2026-03-02 08:00"),
]
OPTIONS = {
    "url_env": "SUCO_DB_URL",
    "target": "incident",
    "table": "ops.su_co",
    "columns": {
        "external_id": "ma",
        "service_code": "loai",
        "lat": "vi_do",
        "lon": "kinh_do",
        "reported_at": "thoi_diem",
        "closed_at": "dong_luc",
        "status": "trang_thai",
    },
    "constants": {"category": "public_order"},
    "value_maps": {"status": {"Đang xử lý": "open", "Đã xử lý": "closed"}},
    "filters": {"don_vi": "A"},
    "incremental_column": "cap_nhat",
}


@pytest.fixture
def other_db(admin_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A scratch database playing another system's database; its URL is in SUCO_DB_URL."""
    with temporary_database(admin_url, prefix="ioc_src") as url:
        other = make_engine(url)
        with other.begin() as connection:
            connection.execute(text(SCHEMA))
            for row in ROWS:
                connection.execute(
                    text("INSERT INTO ops.su_co VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i, :j)"),
                    dict(zip("abcdefghij", row, strict=True)),
                )
        monkeypatch.setenv("SUCO_DB_URL", url)
        yield other
        other.dispose()


def test_incremental_pull_maps_filters_and_reruns_cleanly(
    db: Engine, other_db: Engine, settings: Settings
) -> None:
    connector = make("sql", {**OPTIONS, "chunk_rows": 2}, settings)
    assert connector.check().ok
    first = pull(db, connector)
    assert first.batches == 2  # chunks of 2 rows (3 rows pass the filter)
    assert (first.result.inserted, first.result.rejected) == (2, 1)  # id 3: latitude 300
    assert first.cursor == {"value": "2026-03-02T07:00:00", "type": "datetime"}
    got = {r["external_id"]: r for r in rows(db, "SELECT * FROM incident")}
    assert set(got) == {"1", "2"}
    assert got["1"]["reported_at"].isoformat() == "2026-03-01T08:00:00+07:00"  # naive = local time
    assert (got["2"]["status"], got["2"]["closed_at"].isoformat()) == ("closed", "2026-03-01T10:00:00+07:00")
    assert got["1"]["category"] == "public_order"
    assert "0901" not in rejected_text(db) and "0903" not in rejected_text(db)

    again = pull(db, make("sql", OPTIONS, settings), first.cursor)
    assert (again.result.inserted, again.result.updated) == (0, 0)  # `>=` re-reads the last row only

    with other_db.begin() as connection:
        connection.execute(
            text(
                "UPDATE ops.su_co SET trang_thai = 'Đã xử lý', dong_luc = now(), cap_nhat = '2026-03-03' "
                "WHERE ma = 1"
            )
        )
        connection.execute(
            text(
                "INSERT INTO ops.su_co VALUES (5, 'chay', 12.6, 108.2, '2026-03-03 01:00', NULL, "
                "'Đang xử lý', '0905', 'A', '2026-03-03 01:00')"
            )
        )
    later = pull(db, make("sql", OPTIONS, settings), first.cursor)
    assert (later.result.inserted, later.result.updated) == (1, 1)
    assert later.cursor == {"value": "2026-03-03T01:00:00", "type": "datetime"}
    full = pull(db, make("sql", OPTIONS, settings), later.cursor, full=True)
    assert (full.result.read, full.result.inserted, full.result.updated) == (4, 0, 0)


def test_source_database_down_or_wrong(
    db: Engine, other_db: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SourceError, match=r"ops\.nope"):
        pull(db, make("sql", {**OPTIONS, "table": "ops.nope"}, settings))
    monkeypatch.setenv("SUCO_DB_URL", f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/x")
    connector = make("sql", OPTIONS, settings)
    with pytest.raises(SourceError, match="SUCO_DB_URL: OperationalError"):
        pull(db, connector)
    assert not connector.check().ok
    monkeypatch.delenv("SUCO_DB_URL")
    with pytest.raises(ConfigError, match="SUCO_DB_URL is not set"):
        pull(db, make("sql", OPTIONS, settings))
    assert rows(db, "SELECT count(*) AS n FROM incident")[0]["n"] == 0


@pytest.mark.parametrize(
    "change",
    [
        {"table": "ops.su_co; DROP TABLE x"},
        {"columns": {**OPTIONS["columns"], "lat": "vi_do + 1"}},
        {"incremental_column": "cap_nhat desc"},
        {"columns": {"external_id": "ma"}},  # reported_at, status missing
        {"sql": "SELECT 1"},  # no raw SQL
    ],
)
def test_options_accept_identifiers_only(change: dict[str, object]) -> None:
    from connectors.sql import SqlOptions

    with pytest.raises(ValidationError):
        SqlOptions.model_validate({**OPTIONS, **change})


def test_run_source_end_to_end(engine: Engine, db: Engine, other_db: Engine, tmp_path: Path) -> None:
    settings = settings_with_source(tmp_path, "su_co_113", "sql", OPTIONS)
    first = run_source(db, settings, "su_co_113")
    second = run_source(db, settings, "su_co_113")
    assert (first.status, first.rows_inserted, first.rows_rejected) == ("partial", 2, 1)
    assert (second.rows_inserted, second.rows_updated) == (0, 0)
    assert second.cursor == {"value": "2026-03-02T07:00:00", "type": "datetime"}


def test_a_null_in_the_incremental_column_never_becomes_the_cursor(
    db: Engine, other_db: Engine, tmp_path: Path
) -> None:
    # found by tests/test_intake_properties.py: NULLs sort last, the cursor became "NaT", and every
    # later run failed reading it back
    with other_db.begin() as connection:
        connection.execute(text("UPDATE ops.su_co SET cap_nhat = NULL WHERE ma = 4"))
    settings = settings_with_source(tmp_path, "suco", "sql", {**OPTIONS, "filters": {}})
    first = run_source(db, settings, "suco")
    assert first.cursor == {"value": "2026-03-02T07:00:00", "type": "datetime"}
    assert run_source(db, settings, "suco").status in ("success", "partial")
