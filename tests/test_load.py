"""The one load path: COPY + upsert where changed, idempotent, bad records rejected with reasons."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from ioc.load import LoadError, load_batch

ICT = timezone(timedelta(hours=7))


def dossiers(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "code": f"000.00.21.H13-260101-{i:04d}",
            "procedure_code": "1.001234",
            "department_code": "STP",
            "org_unit_code": "24133",
            "channel": ("online", "in_person", "postal")[i % 3],
            "received_at": datetime(2026, 1, 5, 8, 0, tzinfo=ICT) + timedelta(hours=i),
            "due_at": datetime(2026, 1, 12, 17, 0, tzinfo=ICT),
            "status": 4,
        }
        for i in range(start, start + n)
    ]


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_same_batch_twice_changes_nothing(db: Engine) -> None:
    batch = dossiers(500)
    with db.begin() as connection:
        first = load_batch(connection, "dossier", batch, source="igate")
    assert (first.read, first.inserted, first.updated, first.unchanged, first.rejected) == (500, 500, 0, 0, 0)
    with db.connect() as connection:
        stamps = connection.execute(text("SELECT max(updated_at) FROM dossier")).scalar_one()
    with db.begin() as connection:
        second = load_batch(connection, "dossier", pd.DataFrame(batch), source="igate")
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 500)
    assert count(db, "dossier") == 500
    with db.connect() as connection:
        assert connection.execute(text("SELECT max(updated_at) FROM dossier")).scalar_one() == stamps


def test_changed_records_are_updated_and_counted(db: Engine) -> None:
    batch = dossiers(10)
    with db.begin() as connection:
        load_batch(connection, "dossier", batch, source="igate")
    batch[3] = {**batch[3], "status": 9, "finished_at": datetime(2026, 1, 9, 10, tzinfo=ICT)}
    batch.extend(dossiers(2, start=10))
    with db.begin() as connection:
        result = load_batch(connection, "dossier", batch, source="igate")
    assert (result.inserted, result.updated, result.unchanged) == (2, 1, 9)
    with db.connect() as connection:
        row = connection.execute(
            text("SELECT status, finished_at FROM dossier WHERE code = :code"), {"code": batch[3]["code"]}
        ).one()
    assert row.status == 9
    assert row.finished_at == datetime(2026, 1, 9, 10, tzinfo=ICT)


def test_bad_records_are_rejected_with_reasons_and_good_ones_load(db: Engine) -> None:
    batch = dossiers(4)
    batch[1] = {**batch[1], "status": 12}
    batch[2] = {**batch[2], "received_at": "hôm qua", "channel": "fax"}
    batch[3] = {**batch[3], "finished_at": datetime(2025, 12, 1, tzinfo=ICT)}
    with db.begin() as connection:
        result = load_batch(connection, "dossier", batch, source="igate", run_id=None)
    assert (result.inserted, result.rejected) == (1, 3)
    with db.connect() as connection:
        reasons = dict(
            connection.execute(
                text("SELECT record->>'code', reason FROM rejected_row WHERE source = 'igate'")
            ).all()
        )
    assert reasons[batch[1]["code"]] == "status: outside 1–10"
    assert "received_at: a date-time" in reasons[batch[2]["code"]]
    assert "channel: not one of ['in_person', 'online', 'postal']" in reasons[batch[2]["code"]]
    assert reasons[batch[3]["code"]] == "finished_at: before received_at"
    assert count(db, "dossier") == 1


def test_missing_values_stay_missing(db: Engine) -> None:
    rows = [
        {
            "indicator": "cpi",
            "org_unit_code": "66",
            "grain": "month",
            "period_start": "2026-09-01",
            "period": "2026-09",
            "value": None,
            "status": "..",
        },
        {
            "indicator": "cpi",
            "org_unit_code": "66",
            "grain": "month",
            "period_start": "2026-10-01",
            "period": "2026-10",
            "value": 103.25,
            "status": None,
        },
    ]
    with db.begin() as connection:
        assert load_batch(connection, "indicator_observation", rows, source="gso").inserted == 2
        values = connection.execute(
            text("SELECT period, value, status FROM indicator_observation ORDER BY period")
        ).all()
    assert [(v.period, v.value, v.status) for v in values] == [
        ("2026-09", None, ".."),
        ("2026-10", pytest.approx(103.25), None),
    ]


def test_duplicate_keys_in_one_batch_keep_the_last(db: Engine) -> None:
    batch = dossiers(1) * 2
    batch[1] = {**batch[1], "status": 5}
    with db.begin() as connection:
        result = load_batch(connection, "dossier", batch, source="igate")
    assert result.inserted == 1
    with db.connect() as connection:
        assert connection.execute(text("SELECT status FROM dossier")).scalar_one() == 5


def test_unknown_columns_are_a_connector_bug(db: Engine) -> None:
    with db.begin() as connection, pytest.raises(LoadError, match=r"ChuHoSo"):
        load_batch(connection, "dossier", [{**dossiers(1)[0], "ChuHoSo": "Nguyễn Văn A"}], source="x")


def test_naive_datetimes_are_local_time(db: Engine) -> None:
    record = {**dossiers(1)[0], "received_at": datetime(2026, 1, 5, 8, 0), "due_at": "2026-01-12T17:00:00"}
    with db.begin() as connection:
        load_batch(connection, "dossier", [record], source="x")
        received, due = connection.execute(text("SELECT received_at, due_at FROM dossier")).one()
    assert received == datetime(2026, 1, 5, 8, 0, tzinfo=ICT)
    assert due == datetime(2026, 1, 12, 17, 0, tzinfo=ICT)


def test_line_breaks_and_csv_characters_in_text_load_as_they_are(db: Engine) -> None:
    """COPY (CSV) ends a row at a bare carriage return and reads an unquoted `\\N` as NULL: a field
    holding either must still load as it was (a source's code "0\r0" failed a whole run before, and a
    code `\\N` became NULL). Text is stripped; a code that is only a line break is missing."""
    texts = ["A\rB", "A\r\nB", "A\nB", 'A"B', "A,B", "\\N", "\\N1", " lead and trail ", "\r"]
    batch = dossiers(len(texts))
    for row, value in zip(batch, texts, strict=True):
        row["code"] = value
    with db.begin() as connection:
        result = load_batch(connection, "dossier", batch, source="igate")
    assert (result.inserted, result.rejected) == (len(texts) - 1, 1)
    with db.connect() as connection:
        stored = set(connection.execute(text("SELECT code FROM dossier WHERE source = 'igate'")).scalars())
        reason = connection.execute(text("SELECT reason FROM rejected_row")).scalar_one()
    assert stored == {value.strip() for value in texts[:-1]}
    assert reason == "code: required value is missing"
