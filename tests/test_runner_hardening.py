"""Runner hardening (issue 12): cursors can't run into the future, rejected rows keep no personal data,
runs left `running` by a dead process are closed at worker start, options are validated once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ioc import connector as connector_module
from ioc import runner
from ioc.runner import clamp_cursor, run_source
from tests.fixtures.events.support import rejected_text, rows, settings_with_source
from tests.loopback import LoopbackServer, Reply, Request

PERSON = "Nguyễn Văn A 0905123456"


def dvcqg(code: str, received: str, **extra: Any) -> dict[str, Any]:
    return {"MaHoSo": code, "NgayTiepNhan": received, "TrangThaiHoSo": "2", "KenhThucHien": "2", **extra}


class Endpoint:
    """A DVCQG-like endpoint that remembers the `tuNgay` each pull asked for."""

    def __init__(self, records: list[Any]) -> None:
        self.records = records
        self.asked: list[str | None] = []
        self.server = LoopbackServer()
        self.server.route("GET", "/hoso", self.reply)

    def reply(self, request: Request) -> Reply:
        self.asked.append(request.arg("tuNgay"))
        return Reply.json({"data": self.records})


def test_a_dossier_dated_2999_never_moves_the_cursor_past_now(db: Engine, tmp_path: Path) -> None:
    endpoint = Endpoint([dvcqg("A-1", "20250701080000"), dvcqg("A-2", "29990101080000")])
    with endpoint.server:
        options = {"url": endpoint.server.url("/hoso"), "since_param": "tuNgay", "overlap": "1h"}
        settings = settings_with_source(tmp_path, "motcua", "dossiers", options)
        first = run_source(db, settings, "motcua")
        endpoint.records = [dvcqg("A-3", "20250702080000")]
        second = run_source(db, settings, "motcua")

    assert first.status == "partial" and first.rows_rejected == 1
    assert first.error is not None and "cursor updated_until" in first.error and "future" in first.error
    until = datetime.fromisoformat(first.cursor["updated_until"])
    assert until <= datetime.now(UTC)
    local_now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y%m%d%H%M%S")
    assert endpoint.asked[1] is not None and endpoint.asked[1] < local_now
    assert second.status == "success"
    stored = rows(db, "SELECT code FROM dossier ORDER BY code")
    assert [r["code"] for r in stored] == ["A-1", "A-3"]
    (reject,) = rows(db, "SELECT record, reason FROM rejected_row")
    assert "NgayTiepNhan" in reject["reason"] or "received_at" in reject["reason"]


def test_clamp_cursor_keeps_the_form_of_each_value() -> None:
    now = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    cursor = {
        "updated_until": "2999-01-01T08:00:00+07:00",
        "naive": "2999-01-01 08:00:00",
        "day": "2999-01-01",
        "fine": "2026-11-30T13:30:00+07:00",
        "nested": {"x": [datetime(2999, 1, 1, tzinfo=UTC)]},
        "page": 3,
        "text": "2999 pages",
    }
    clamped, moved = clamp_cursor(cursor, now, timedelta(hours=1))
    assert moved == ["updated_until", "naive", "day", "nested.x[0]"]
    assert clamped["updated_until"] == "2026-11-30T14:00:00+07:00"
    assert clamped["naive"] == "2026-11-30T14:00:00"
    assert clamped["day"] == "2026-11-30"
    assert clamped["nested"] == {"x": [now]}
    assert {k: clamped[k] for k in ("fine", "page", "text")} == {
        k: cursor[k] for k in ("fine", "page", "text")
    }


def test_a_bare_string_in_the_record_list_stores_nothing_of_it(db: Engine, tmp_path: Path) -> None:
    endpoint = Endpoint(
        [
            dvcqg("B-1", "20250701080000"),
            PERSON,
            dvcqg(
                "B-2", "20250701080000", TrangThaiHoSo="99", GhiChu=PERSON, TepDinhKem=[{"TenTep": PERSON}]
            ),
            dvcqg("B-3", "20250701080000", MaTTHC={"ChuHoSo": PERSON}),
            dvcqg("B-4", "20250701080000", DonViXuLy=[PERSON]),
        ]
    )
    with endpoint.server:
        settings = settings_with_source(tmp_path, "motcua", "dossiers", {"url": endpoint.server.url("/hoso")})
        summary = run_source(db, settings, "motcua")
    assert summary.status == "partial"
    assert [r["code"] for r in rows(db, "SELECT code FROM dossier")] == ["B-1"]
    assert summary.rows_rejected == 4
    stored = rejected_text(db)
    assert "Nguyễn" not in stored and "0905123456" not in stored
    for run in rows(db, "SELECT error FROM connector_run"):
        assert "Nguyễn" not in (run["error"] or "")


def test_options_are_validated_once_and_the_class_looked_up_once(
    db: Engine, tmp_path: Path, monkeypatch: Any
) -> None:
    calls = {"validate": 0, "lookup": 0}
    validate, lookup = connector_module.validate_options, connector_module.connector_class

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        calls["validate"] += 1
        return validate(*args, **kwargs)

    def counting_lookup(*args: Any, **kwargs: Any) -> Any:
        calls["lookup"] += 1
        return lookup(*args, **kwargs)

    monkeypatch.setattr(runner, "validate_options", counting_validate)
    monkeypatch.setattr(runner, "connector_class", counting_lookup)
    monkeypatch.setattr(connector_module, "connector_class", counting_lookup)
    endpoint = Endpoint([dvcqg("C-1", "20250701080000")])
    with endpoint.server:
        settings = settings_with_source(tmp_path, "motcua", "dossiers", {"url": endpoint.server.url("/hoso")})
        assert run_source(db, settings, "motcua").status == "success"
    assert calls == {"validate": 1, "lookup": 1}
