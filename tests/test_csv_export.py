"""CSV exports written by PostgreSQL (`ReadModel.rows_csv`: COPY streamed by `ioc.queries.copy_stream`).

The bytes are those the Python writer produced (tests/csv_reference.py, the code it replaced) for the
same lists — NULLs, timestamps near midnight and with fractions of a second, values with a comma, a
quote, a newline and Vietnamese text, every sort, a reader's scope —, the stream holds a bounded
number of chunks in memory whatever the file's size and the reader's pace (and gives the connection
back when the COPY is done, not when a slow reader is), and closing it cancels the COPY and gives its
connection back to the pool, rolled back, not replaced.
"""

from __future__ import annotations

import csv
import io
import itertools
import threading
import time
import tracemalloc
from datetime import UTC, datetime

import psycopg2
import pytest
from sqlalchemy import Engine, event, insert, text

from dashboard.desk.export_route import file_columns
from dashboard.exports import csv_file, iter_rows
from ioc.auth.scoped import ScopedReadModel
from ioc.config import Settings
from ioc.database import make_engine
from ioc.kpi import KpiLibrary
from ioc.models import Dossier, Procedure
from ioc.queries import ReadModel, RowQueryError, Scope
from ioc.queries.copy_stream import CopyStream, crlf
from tests.csv_reference import python_csv
from tests.test_kpi_engine import OCTOBER, at, kdb, library  # noqa: F401  (fixtures)

HEADER = [("Chỉ số", "Hồ sơ tiếp nhận"), ("Kỳ báo cáo", "Tháng 10/2026 (2026-10)"), ("Ghi chú", 'a,"b"\nc')]
ODD_NAME = 'Cấp phép "xây dựng", nhà ở\nriêng lẻ'
NOW = at("2026-11-20", "12:00")


def _dossier(code: str, **values: object) -> dict[str, object]:
    row = {
        "source": "test",
        "code": code,
        "org_unit_code": "66001",
        "channel": "online",
        "received_at": at("2026-10-12"),
        "due_at": None,
        "finished_at": None,
        "status": 4,
        "department_code": "SYT",
        "procedure_code": "PX",
        "supplement_count": 0,
    }
    return {**row, **values}


ODD = [
    _dossier('x,"1"\n2'),  # comma, quotes and a newline in a code; NULL due and finished times
    _dossier("x2", received_at=datetime(2026, 10, 14, 17, 30, 59, 999_999, tzinfo=UTC)),  # 00:30:59 local
    _dossier("x3", procedure_code="", channel=None, org_unit_code=None),  # empty string, NULLs
    _dossier("x4", received_at=datetime(2026, 9, 30, 17, 0, tzinfo=UTC), finished_at=at("2026-10-20")),
    _dossier("x5", department_code="SNV", procedure_code="P1"),
]


@pytest.fixture
def listed(kdb: Engine) -> Engine:  # noqa: F811
    with kdb.begin() as connection:
        connection.execute(
            insert(Procedure.__table__),
            [{"code": "PX", "name": ODD_NAME, "department_code": "SYT", "processing_days": 5}],
        )
        connection.execute(insert(Dossier.__table__), [*OCTOBER, *ODD])
    return kdb


@pytest.fixture
def model(listed: Engine, library: KpiLibrary, settings: Settings) -> ReadModel:  # noqa: F811
    return ReadModel(listed, library, settings, clock=lambda: NOW)


def _old(model: ReadModel, kpi: str, **query: object) -> bytes:
    columns = file_columns("dossier", "vi")
    return b"".join(python_csv(HEADER, columns, iter_rows(model, kpi, page_size=3, **query)))


def _new(model: ReadModel, kpi: str, **query: object) -> bytes:
    columns = file_columns("dossier", "vi")
    copied = model.rows_csv(kpi, columns=[column.key for column in columns], **query)
    data = b"".join(csv_file(HEADER, columns, copied))
    assert copied.complete
    return data


@pytest.mark.parametrize(
    ("kpi", "sort"),
    [
        ("dossiers_received", None),
        ("dossiers_received", "due_at"),  # nulls among them
        ("dossiers_received", "code"),
        ("dossiers_received", "procedure_code"),
        ("dossiers_open_overdue", "received_at"),
        ("dossiers_finished", "finished_at"),
    ],
)
def test_the_bytes_are_the_python_writers(model: ReadModel, kpi: str, sort: str | None) -> None:
    for descending in (False, True):
        query = {"area": "66", "period": "2026-10", "sort": sort, "descending": descending}
        old = _old(model, kpi, **query)
        assert _new(model, kpi, **query) == old
        assert old.count(b"\r\n") >= 6 and old.startswith("\ufeff".encode())
    received = _new(model, "dossiers_received", area="66", period="2026-10", sort="code")
    text_ = received.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text_)))
    assert ['x,"1"\n2', "PX", ODD_NAME] in [row[:3] for row in rows]  # quoted newlines survived
    assert "2026-10-15 00:30:59" in text_  # local time, next day, the fraction dropped
    assert ',PX,"Cấp phép ""xây dựng"", nhà ở\nriêng lẻ",' in text_
    assert "\r\nx3,,,SYT,Sở Y tế,,,,2026-10-12 09:00:00,,,4\r\n" in text_  # '' and NULL: empty
    assert received.endswith(b",4\r\n")


def test_a_staff_members_file_holds_their_departments_rows_only(model: ReadModel) -> None:
    base = model
    staff = ScopedReadModel(base, Scope(departments=frozenset({"SYT"})))
    query = {"area": "66", "period": "2026-10"}
    mine = _new(staff, "dossiers_received", **query)
    assert mine == _old(staff, "dossiers_received", **query)
    head = len(HEADER) + 2  # the filters, a blank line, the titles
    lines = mine.decode("utf-8-sig").split("\r\n")[head:-1]
    assert len(lines) == 7 and all(",SYT,Sở Y tế," in line for line in lines)
    assert ",SNV," in _new(base, "dossiers_received", **query).decode()
    with pytest.raises(PermissionError):
        staff.rows_csv("dossiers_received", columns=["code"], filters={"department": "SNV"}, **query)
    commune = ScopedReadModel(base, Scope(areas=frozenset({"66002"})))
    query = {"area": "66002", "period": "2026-10"}
    assert _new(commune, "dossiers_received", **query) == _old(commune, "dossiers_received", **query)
    assert b"\r\nd6," in _new(commune, "dossiers_received", **query)
    with pytest.raises(PermissionError):
        commune.rows_csv("dossiers_received", columns=["code"], area="66001", period="2026-10")


def test_a_column_without_a_csv_form_is_refused(model: ReadModel) -> None:
    with pytest.raises(RowQueryError):
        model.rows_csv("dossiers_received", columns=["code", "applicant"], area="66", period="2026-10")


def test_row_ends_become_crlf_and_quoted_newlines_stay() -> None:
    assert crlf(b"a,b\n1,2\n") == b"a,b\r\n1,2\r\n"
    assert crlf(b'a,"x\ny"\n"""q""\n",2\n') == b'a,"x\ny"\r\n"""q""\n",2\r\n'


def _series(rows: int, width: int = 80) -> bytes:
    """A COPY of `rows` rows, produced as they are sent (a set-returning function in the select list
    streams; in FROM it would be materialised first)."""
    return (
        f"COPY (SELECT g, repeat('x', {width}) FROM (SELECT generate_series(1, {rows}) AS g) AS s) "
        "TO STDOUT WITH (FORMAT csv)"
    ).encode()


def test_a_slow_reader_holds_neither_memory_nor_the_connection(engine: Engine) -> None:
    """A million rows (85 MiB) for a reader who dawdles: the rows it has not read yet wait in a
    temporary file, not in memory, and the connection is back in the pool once the COPY is done."""
    tracemalloc.start()
    try:
        copied = CopyStream(engine, _series(1_000_000))
        stream = iter(copied)
        first = next(stream)
        size, lines = len(first), first.count(b"\r\n")
        deadline = time.monotonic() + 30
        while not copied.complete and time.monotonic() < deadline:
            time.sleep(0.05)
        assert copied.complete and engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        for chunk in stream:
            size, lines = size + len(chunk), lines + chunk.count(b"\r\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 80 * 2**20 and lines == copied.rows == 1_000_000
    assert peak < 4 * 2**20, peak  # 8 chunks of 64 KiB in memory, a few times over, not 85 MiB


def _activity(engine: Engine, where: str, **values: object) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT pid, state FROM pg_stat_activity WHERE {where} AND pid <> pg_backend_pid()"),
            values,
        )
        return [(pid, state) for pid, state in rows]


def _invalidations(engine: Engine) -> list[object]:
    seen: list[object] = []
    event.listen(engine, "invalidate", lambda *args: seen.append(args))
    event.listen(engine, "soft_invalidate", lambda *args: seen.append(args))
    return seen


def test_closing_cancels_the_copy_and_gives_the_connection_back(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=2, max_overflow=0)
    invalidated = _invalidations(engine)
    try:
        copied = CopyStream(engine, _series(200_000_000))
        stream = iter(copied)
        first = next(stream)
        assert first.startswith(b"1,xxx") and first.endswith(b"\r\n")
        [(pid, state)] = _activity(engine, "query LIKE 'COPY (SELECT g%'")
        assert state == "active"  # the response started long before the file exists
        started = time.perf_counter()
        stream.close()  # what the server does when the client has gone
        assert time.perf_counter() - started < 5
        assert not copied.complete and 0 < copied.rows < 200_000_000
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert _activity(engine, "pid = :pid", pid=pid) == [(pid, "idle")]  # rolled back, kept
        assert not invalidated
        assert not [thread for thread in threading.enumerate() if thread.name == "copy-stream"]
        with engine.connect() as one, engine.connect() as two:  # both pooled connections answer
            assert one.execute(text("SELECT 1")).scalar() == two.execute(text("SELECT 2")).scalar() - 1
        assert not invalidated
    finally:
        engine.dispose()


def test_a_failing_copy_raises_to_the_reader_and_gives_the_connection_back(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    invalidated = _invalidations(engine)
    try:
        failing = b"COPY (SELECT 1 / (g - 50000) FROM generate_series(1, 100000) g) TO STDOUT (FORMAT csv)"
        copied = CopyStream(engine, failing)
        with pytest.raises(psycopg2.errors.DivisionByZero):
            list(itertools.islice(copied, 10_000))
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        assert not invalidated
    finally:
        engine.dispose()


def test_the_count_is_copys_own(engine: Engine) -> None:
    copied = CopyStream(engine, _series(12_345, width=3), chunk_bytes=1000)
    chunks = list(copied)
    assert copied.complete and copied.rows == 12_345 and len(chunks) > 10
    assert b"".join(chunks).count(b"\r\n") == 12_345
