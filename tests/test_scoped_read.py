"""A reader scoped to departments asking a bare question (no narrowing given) gets their departments'
number, not a refusal: the desk's target panels ask `result` so, and showed "failed" to staff."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from ioc.auth.scoped import ScopedReadModel
from ioc.config import Settings
from ioc.kpi import load_library
from ioc.queries import ReadModel, Scope
from tests.test_kpi_engine import dossiers, kdb  # noqa: F401  (fixtures)

OCTOBER_SQL = text(
    "SELECT count(*) FROM dossier WHERE department_code = :d "
    "AND received_at >= '2026-10-01 00:00+07' AND received_at < '2026-11-01 00:00+07'"
)


def test_a_bare_result_is_narrowed_to_the_readers_departments(dossiers: Engine, settings: Settings) -> None:  # noqa: F811
    base = ReadModel(dossiers, load_library(settings.kpi_dir), settings)
    staff = ScopedReadModel(base, Scope(departments=frozenset({"SYT"})))
    with dossiers.connect() as connection:
        own = connection.execute(OCTOBER_SQL, {"d": "SYT"}).scalar_one()
        other = connection.execute(OCTOBER_SQL, {"d": "SNV"}).scalar_one()
    assert own > 0 and other > 0
    assert staff.result("dossiers_received", area="66", period="2026-10").value == own
    assert base.result("dossiers_received", area="66", period="2026-10").value == own + other
    with pytest.raises(PermissionError):  # a narrowing given must still lie within the scope
        staff.result("dossiers_received", area="66", period="2026-10", narrowing=())


def test_a_lists_row_count_is_the_readers_and_is_cached_per_scope(
    dossiers: Engine,  # noqa: F811
    settings: Settings,
) -> None:
    base = ReadModel(dossiers, load_library(settings.kpi_dir), settings)
    staff = ScopedReadModel(base, Scope(departments=frozenset({"SYT"})))
    with dossiers.connect() as connection:
        own = connection.execute(OCTOBER_SQL, {"d": "SYT"}).scalar_one()
        other = connection.execute(OCTOBER_SQL, {"d": "SNV"}).scalar_one()
    assert staff.row_count("dossiers_received", area="66", period="2026-10") == own
    assert base.row_count("dossiers_received", area="66", period="2026-10") == own + other  # not the staff's
    assert staff.row_count("dossiers_received", area="66", period="2026-10") == own  # nor the other way
    with pytest.raises(PermissionError):
        staff.row_count("dossiers_received", area="66", period="2026-10", filters={"department": "SNV"})


def test_a_csv_export_holds_the_readers_departments_only(dossiers: Engine, settings: Settings) -> None:  # noqa: F811
    """The scoped view passes the reader's scope to `rows_csv` as to `rows`, whatever its caller asks."""
    base = ReadModel(dossiers, load_library(settings.kpi_dir), settings)
    staff = ScopedReadModel(base, Scope(departments=frozenset({"SYT"})))
    with dossiers.connect() as connection:
        own = connection.execute(OCTOBER_SQL, {"d": "SYT"}).scalar_one()
    question = {"columns": ["code", "department_code"], "area": "66", "period": "2026-10"}
    copied = staff.rows_csv("dossiers_received", **question, scope=Scope())  # a wider scope is ignored
    lines = b"".join(copied).decode().split("\r\n")[:-1]
    assert copied.rows == own == len(lines) and all(line.endswith(",SYT") for line in lines)
    assert base.rows_csv("dossiers_received", **question).rows == 0  # counted as it is read
    assert len(b"".join(base.rows_csv("dossiers_received", **question)).split(b"\r\n")) > own + 1
    with pytest.raises(PermissionError):
        staff.rows_csv("dossiers_received", **question, filters={"department": "SNV"})
