"""Poison records: a value that passes a naive check but would break the write is a rejected record
with a reason, and the rest of the batch loads (issue 12 item 1); rejected rows keep no personal data
and a record sent again is counted, not stored again (items 4 and 6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ioc.load import DEFAULT_FUTURE_TOLERANCE, load_batch, record_rejects, table_spec
from ioc.models import FACT_TABLES

GOOD = {"code": "OK-1", "received_at": "2025-01-02T08:00:00+07:00", "status": 4}
INCIDENT = {
    "external_id": "OK-1",
    "category": "fire",
    "reported_at": "2025-01-02T08:00:00+07:00",
    "status": "open",
}
INDICATOR = {
    "indicator": "OK-1",
    "org_unit_code": "66",
    "grain": "year",
    "period_start": "2024-01-01",
    "period": "2024",
}
KEY = {"dossier": "code", "incident": "external_id", "indicator_observation": "indicator"}
BASE = {"dossier": GOOD, "incident": INCIDENT, "indicator_observation": INDICATOR}

POISON: list[tuple[str, str, dict[str, Any], str]] = [
    ("nul in text", "dossier", {"code": "A\x00B"}, "code: contains a NUL"),
    ("lone surrogate", "dossier", {"procedure_code": "x\ud800"}, "procedure_code: contains a NUL"),
    ("infinite status", "dossier", {"status": float("inf")}, "status: outside 1–10"),
    ("NaN text status", "dossier", {"status": "NaN"}, "status: a whole number expected"),
    ("smallint overflow", "dossier", {"supplement_count": 70_000}, "supplement_count: outside -32768–32767"),
    ("huge integer", "dossier", {"status": 10**30}, "status: outside 1–10"),
    ("year 0001", "dossier", {"received_at": "0001-01-01T00:00:00"}, "received_at: outside the plausible"),
    ("year 2999 due", "dossier", {"due_at": "2999-01-01T00:00:00"}, "due_at: outside the plausible"),
    (
        "received tomorrow",
        "dossier",
        {"received_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
        "received_at: in the future",
    ),
    ("3 MB code", "dossier", {"code": "x" * 3_000_000}, "code: longer than 500 characters"),
    ("object as code", "dossier", {"code": {"a": 1}}, "code: one value expected"),
    (
        "list as procedure",
        "dossier",
        {"procedure_code": ["Nguyễn Văn A"]},
        "procedure_code: one value expected",
    ),
    ("comma decimal status", "dossier", {"status": "1,5"}, "status: a whole number expected"),
    ("NaN latitude text", "incident", {"lat": "NaN"}, "lat: a number expected"),
    ("infinite latitude", "incident", {"lat": float("-inf")}, "lat: outside -90–90"),
    ("severity overflow", "incident", {"severity": 99_999_999_999}, "severity: outside 1–3"),
    ("closed before reported", "incident", {"closed_at": "2024-01-01T00:00:00+07:00"}, "closed_at: before"),
    ("infinite value", "indicator_observation", {"value": float("inf")}, "value: not a finite number"),
    ("Infinity text value", "indicator_observation", {"value": "Infinity"}, "value: not a finite number"),
    ("comma decimal value", "indicator_observation", {"value": "1,5"}, "value: a number expected"),
    ("period in year 1", "indicator_observation", {"period_start": "0001-01-01"}, "period_start: outside"),
    ("period in 9999", "indicator_observation", {"period_start": "9999-12-31"}, "period_start: outside"),
]


def stored(engine: Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(text(sql)).mappings()]


@pytest.mark.parametrize(("table", "change", "reason"), [p[1:] for p in POISON], ids=[p[0] for p in POISON])
def test_poison_value_is_rejected_and_the_rest_of_the_batch_loads(
    db: Engine, table: str, change: dict[str, Any], reason: str
) -> None:
    key = KEY[table]
    bad = {**BASE[table], key: "BAD-1", **change}
    good = [{**BASE[table], key: f"OK-{i}"} for i in range(3)]
    with db.begin() as connection:
        result = load_batch(connection, table, [good[0], bad, *good[1:]], source="poison")
    assert (result.read, result.inserted, result.rejected) == (4, 3, 1)
    assert sorted(r[key] for r in stored(db, f"SELECT {key} FROM {table}")) == ["OK-0", "OK-1", "OK-2"]
    (rejected,) = stored(db, "SELECT record, reason, occurrences FROM rejected_row")
    assert reason in rejected["reason"]
    assert "Nguyễn" not in json.dumps(rejected["record"], ensure_ascii=False)


def test_every_check_constraint_of_the_loaded_tables_is_a_load_rule() -> None:
    """Tables connectors load (facts and reference data); the app's own state tables are not loaded."""
    for name in (*FACT_TABLES, "org_unit", "department", "procedure"):
        assert table_spec(name).unread_constraints == (), name


def test_limits_come_from_the_models() -> None:
    columns = {c.name: c for c in table_spec("dossier").columns}
    assert (columns["status"].low, columns["status"].high) == (1, 10)
    assert (columns["supplement_count"].low, columns["supplement_count"].high) == (-32768, 32767)
    assert columns["code"].max_length == 500 and columns["received_at"].happened
    assert not columns["due_at"].happened
    assert table_spec("incident").choices["status"] == frozenset({"open", "closed"})
    assert "status_detail" not in table_spec("incident").reject_fields


def test_future_tolerance_is_the_callers(db: Engine) -> None:
    soon = datetime.now(UTC) + DEFAULT_FUTURE_TOLERANCE / 2
    later = datetime.now(UTC) + 2 * DEFAULT_FUTURE_TOLERANCE
    batch = [{**GOOD, "code": "soon", "received_at": soon}, {**GOOD, "code": "later", "received_at": later}]
    with db.begin() as connection:
        assert load_batch(connection, "dossier", batch, source="t").rejected == 1
    with db.begin() as connection:
        wide = load_batch(connection, "dossier", batch, source="u", future_tolerance=timedelta(days=1))
    assert wide.rejected == 0


def test_missing_value_of_a_defaulted_column_keeps_the_stored_one(db: Engine) -> None:
    with db.begin() as connection:
        load_batch(connection, "dossier", [{**GOOD, "supplement_count": 2}], source="s")
    batch = [{**GOOD, "status": 5}, {**GOOD, "code": "new", "supplement_count": 1}, {**GOOD, "code": "n2"}]
    with db.begin() as connection:
        result = load_batch(connection, "dossier", batch, source="s")
    assert (result.inserted, result.updated, result.rejected) == (2, 1, 0)
    counts = {
        r["code"]: r["supplement_count"] for r in stored(db, "SELECT code, supplement_count FROM dossier")
    }
    assert counts == {"OK-1": 2, "new": 1, "n2": 0}


def test_rejected_records_keep_only_non_personal_scalar_fields(db: Engine) -> None:
    rejects = [
        (
            {
                "external_id": "R-1",
                "lat": float("inf"),
                "lon": float("nan"),
                "category": "fire\x00",
                "status_detail": "gọi cho Nguyễn Văn A 0905123456",
                "org_unit_code": ["Nguyễn Văn A"],
                "service_code": {"name": "Nguyễn Văn A"},
                "nguoi_bao": "Nguyễn Văn A",
                "note": "0905123456",
                "severity": 10**40,
            },
            "bad\x00 reason",
        )
    ]
    with db.begin() as connection:
        record_rejects(connection, source="s", target_table="incident", run_id=None, rejects=rejects)
    (row,) = stored(db, "SELECT record, reason FROM rejected_row")
    assert row["record"] == {
        "external_id": "R-1",
        "lat": "inf",
        "lon": None,
        "category": "fire\ufffd",
        "org_unit_code": "<list of 1>",
        "service_code": "<object>",
        "severity": "<whole number out of range>",
    }
    assert row["reason"] == "bad\ufffd reason"


def test_the_same_bad_record_is_stored_once_and_counted(db: Engine) -> None:
    bad = {**GOOD, "code": "BAD", "status": 99}
    for _ in range(3):
        with db.begin() as connection:
            load_batch(connection, "dossier", [bad, bad, GOOD], source="again")
    rows = stored(db, "SELECT occurrences, created_at, last_seen_at FROM rejected_row")
    assert len(rows) == 1
    assert rows[0]["occurrences"] == 6 and rows[0]["last_seen_at"] >= rows[0]["created_at"]
    with db.begin() as connection:  # another source, or another reason: another row
        load_batch(connection, "dossier", [bad], source="other")
        load_batch(connection, "dossier", [{**bad, "status": 0}], source="again")
    assert len(stored(db, "SELECT id FROM rejected_row")) == 3
