"""The Open311 connector against a GeoReport v2 server on loopback, loading into Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import pytest
from sqlalchemy import Engine

from connectors.open311 import id_batches, request_id, spans
from ioc.config import Settings
from ioc.connector import SourceError
from ioc.http import RetryPolicy
from ioc.runner import run_source
from tests.fixtures.events.support import fixture, make, pull, rejected_text, rows, settings_with_source
from tests.loopback import LoopbackServer, Reply, Request, free_port

NOW = datetime.now(UTC).replace(microsecond=0)


def request(i: int, *, hours_ago: float = 1, **changes: Any) -> dict[str, Any]:
    at = NOW - timedelta(hours=hours_ago)
    return {
        "service_request_id": f"R-{i:05d}",
        "status": "open",
        "status_notes": None,
        "service_name": "Ổ gà",
        "service_code": "POTHOLE",
        "description": f"Gọi anh Nam 09{i:08d}",
        "requested_datetime": at.isoformat().replace("+00:00", "Z"),
        "updated_datetime": at.isoformat().replace("+00:00", "Z"),
        "expected_datetime": None,
        "lat": 12.68,
        "long": 108.05,
        **changes,
    }


def parse(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC") if pd.Timestamp(text).tzinfo else pd.Timestamp(text, tz="UTC")


class GeoReport:
    """A GeoReport v2 endpoint under /v2: filters by requested_datetime, optional pagination."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        *,
        updates: list[dict[str, Any]] | None = None,
        paginates: bool = True,
        cap: int = 1000,
        filters: bool = True,
    ) -> None:
        self.items, self.paginates, self.cap, self.filters = items, paginates, cap, filters
        self.server = LoopbackServer()
        self.server.route("GET", "/v2/services.json", lambda r: Reply.json(fixture("open311_services.json")))
        self.server.route("GET", "/v2/requests.json", self.requests)
        if updates is not None:
            self.server.route("GET", "/v2/servicerequestupdates.json", lambda r: Reply.json(updates))

    def requests(self, request: Request) -> Reply:
        ids = request.arg("service_request_id")
        if ids:
            wanted = set(ids.split(","))
            return Reply.json([r for r in self.items if str(r.get("service_request_id")) in wanted])
        start, end = parse(request.arg("start_date") or ""), parse(request.arg("end_date") or "")
        assert end - start <= pd.Timedelta(days=90), "the server refuses spans over 90 days"
        found = [r for r in self.items if not self.filters or start <= parse(r["requested_datetime"]) <= end]
        if self.paginates and request.arg("page_size"):
            size, page = int(request.arg("page_size") or 0), int(request.arg("page") or 1)
            return Reply.json(found[(page - 1) * size : page * size])
        return Reply.json(found[: self.cap])

    def asked(self, name: str) -> list[str | None]:
        return [r.arg(name) for r in self.server.requests if r.path == "/v2/requests.json"]

    def url(self) -> str:
        return self.server.url("/v2")

    def __enter__(self) -> GeoReport:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)


def stored(engine: Engine) -> dict[str, dict[str, Any]]:
    return {r["external_id"]: r for r in rows(engine, "SELECT * FROM incident")}


def test_fixture_shapes_updates_and_a_request_without_id(db: Engine, settings: Settings) -> None:
    items = [
        *fixture("open311_requests.json"),
        {**fixture("open311_request_single.json")[0], "service_request_id": 638344, "service_code": 6},
        {**fixture("open311_requests.json")[1], "service_request_id": None},
    ]
    server = GeoReport(items, updates=fixture("open311_servicerequestupdates.json"))
    with server:
        options = {
            "endpoint": server.url(),
            "initial_window": "700d",
            "categories": {"POTHOLE": "road_damage"},
        }
        first = pull(db, make("open311", options, settings))
        again = pull(db, make("open311", options, settings))
    assert (first.result.inserted, first.result.rejected) == (4, 1)
    assert (again.result.inserted, again.result.updated, again.result.unchanged) == (0, 0, 4)
    got = stored(db)
    assert set(got) == {"2025-000812", "2025-000797", "2025-000790", "638344"}
    pothole = got["2025-000812"]
    assert (pothole["status"], pothole["status_detail"], pothole["category"]) == (
        "open",
        "in_progress",
        "road_damage",
    )
    assert pothole["reported_at"].isoformat() == "2025-07-14T07:42:10+07:00"
    assert pothole["due_at"].isoformat() == "2025-07-17T07:42:10+07:00"
    assert pothole["closed_at"] is None and pothole["lat"] == 16.4637 and pothole["lon"] == 107.5909
    garbage = got["2025-000797"]
    assert (garbage["status"], garbage["status_detail"]) == ("closed", "fixed")
    assert garbage["closed_at"].isoformat() == "2025-07-14T06:10:00+07:00"
    light = got["2025-000790"]  # `Z` times, optional fields absent
    assert light["status"] == "closed" and light["due_at"] is None and light["category"] == "field_report"
    assert light["reported_at"].isoformat() == "2025-07-14T04:03:45+07:00"
    assert light["closed_at"].isoformat() == "2025-07-14T05:00:00+07:00"
    assert got["638344"]["service_code"] == "6"
    text = rejected_text(db)
    assert "service_request_id: missing" in text
    assert "Đổ trộm" not in text and "Tố Hữu" not in text  # free text and addresses are not kept
    assert first.cursor is not None and first.cursor["updates_until"] is not None


def test_updates_naming_an_older_request_fetch_it_by_id(db: Engine, settings: Settings) -> None:
    old = request(1, hours_ago=24 * 30)
    updates = [{"update_id": "u1", "service_request_id": "R-00001", "status": "no_further_action",
                "description": "", "updated_datetime": NOW.isoformat(), "media_url": ""}]  # fmt: skip
    server = GeoReport([old, request(2)], updates=updates)
    cursor = {"requested_until": NOW.isoformat(), "updates_until": (NOW - timedelta(hours=1)).isoformat()}
    with server:
        pull(db, make("open311", {"endpoint": server.url()}, settings), cursor)
    assert server.asked("service_request_id")[-1] == "R-00001"
    got = stored(db)
    assert (got["R-00001"]["status"], got["R-00001"]["status_detail"]) == ("closed", "no_further_action")
    assert got["R-00002"]["status_detail"] is None  # plain requests do not touch status_detail


def test_without_updates_extension_open_ids_are_repolled_in_short_urls(
    db: Engine, settings: Settings
) -> None:
    old = [request(i, hours_ago=24 * 40, service_request_id=f"2025-{'X' * 30}-{i:04d}") for i in range(150)]
    old[5]["status"] = "closed"
    server = GeoReport([*old, request(9000)])  # no servicerequestupdates route: 404
    state = {"open_incident_ids": [r["service_request_id"] for r in old]}
    cursor = {"requested_until": NOW.isoformat()}
    with server:
        pulled = pull(db, make("open311", {"endpoint": server.url()}, settings, state=state), cursor)
    lists = [ids for ids in server.asked("service_request_id") if ids]
    assert len(lists) > 1 and sorted(i for ids in lists for i in ids.split(",")) == sorted(
        state["open_incident_ids"]
    )
    base = len(server.server.url("/v2/requests.json?"))
    assert all(base + len(urlencode({"service_request_id": ids})) < 2000 for ids in lists)
    assert pulled.result.inserted == 151
    got = stored(db)
    assert got[old[5]["service_request_id"]]["status"] == "closed"
    assert got["R-09000"]["status_detail"] == "open"  # no extension: the request's own status


def test_pagination_and_a_server_that_ignores_it(db: Engine, settings: Settings) -> None:
    items = [request(i, hours_ago=1 + i / 100) for i in range(450)]
    paged = GeoReport(items)
    with paged:
        pulled = pull(db, make("open311", {"endpoint": paged.url(), "page_size": 200}, settings))
    assert paged.asked("page") == ["1", "2", "3"] and pulled.result.inserted == 450

    ignoring = GeoReport(items[:300], paginates=False)
    with ignoring:
        pulled = pull(db, make("open311", {"endpoint": ignoring.url(), "page_size": 200}, settings))
    assert ignoring.asked("page") == ["1", "2"] and pulled.result.read == 300


def test_a_capped_window_without_pagination_is_split(db: Engine, settings: Settings) -> None:
    items = [request(i, hours_ago=2 + i) for i in range(120)]
    server = GeoReport(items, paginates=False, cap=50)
    with server:
        options = {"endpoint": server.url(), "page_size": None, "max_results": 50}
        pulled = pull(db, make("open311", options, settings))
    assert pulled.result.inserted == 120
    assert len(server.asked("start_date")) > 3


def test_windows_respect_90_days_and_the_repoll_overlap(db: Engine, settings: Settings) -> None:
    server = GeoReport([request(1)])
    with server:
        first = pull(db, make("open311", {"endpoint": server.url(), "initial_window": "200d"}, settings))
        starts = [parse(s) for s in server.asked("start_date")]
        ends = [parse(e) for e in server.asked("end_date")]
        assert len(starts) == 3 and all(
            e - s <= pd.Timedelta(days=90) for s, e in zip(starts, ends, strict=True)
        )
        assert starts[1:] == ends[:-1] and ends[-1] - starts[0] == pd.Timedelta(days=200)
        assert first.cursor is not None
        pull(db, make("open311", {"endpoint": server.url(), "window": "7d"}, settings), first.cursor)
    assert parse(server.asked("start_date")[-1]) == parse(first.cursor["requested_until"]) - pd.Timedelta(
        days=7
    )
    assert server.asked("start_date")[-1].endswith("Z")


def test_categories_from_codes_groups_and_default(db: Engine, settings: Settings) -> None:
    items = [request(1), request(2, service_code="FLOODING"), request(3, service_code="UNKNOWN")]
    server = GeoReport(items)
    with server:
        options = {
            "endpoint": server.url(),
            "categories": {"POTHOLE": "road_damage"},
            "group_categories": {"Hạ tầng đô thị": "urban_infrastructure"},
            "default_category": "other",
            "severities": {"FLOODING": 3},
            "org_unit_code": "66001",
        }
        pull(db, make("open311", options, settings))
    got = stored(db)
    assert [got[f"R-0000{i}"]["category"] for i in (1, 2, 3)] == [
        "road_damage",
        "urban_infrastructure",
        "other",
    ]
    assert got["R-00002"]["severity"] == 3 and got["R-00001"]["severity"] is None
    assert {r["org_unit_code"] for r in got.values()} == {"66001"}


def test_a_batch_with_some_bad_records(db: Engine, settings: Settings) -> None:
    items = [
        request(1),
        request(2, lat="abc"),
        request(3, requested_datetime="hôm qua"),
        request(4, lat=200),
        request(5, status=None),
        request(6, lat="12.5", long="108.1"),
        "not a request",
    ]
    server = GeoReport([i for i in items if isinstance(i, dict) and i.get("requested_datetime") != "hôm qua"])
    server.items.extend([items[2], items[6]])  # returned whatever the window

    def everything(r: Request) -> Reply:
        return Reply.json(items)

    server.server.route("GET", "/v2/requests.json", everything)
    with server:
        pulled = pull(db, make("open311", {"endpoint": server.url()}, settings))
    assert (pulled.result.inserted, pulled.result.rejected) == (2, 5)
    assert stored(db)["R-00006"]["lat"] == 12.5
    reasons = {r["reason"] for r in rows(db, "SELECT reason FROM rejected_row")}
    assert {"lat: not a number", "requested_datetime: not a W3C date-time", "status: missing"} <= reasons
    assert "lat: outside -90–90" in reasons
    assert "Gọi anh Nam" not in rejected_text(db)


def test_error_bodies_become_source_errors(db: Engine, settings: Settings) -> None:
    server = LoopbackServer()
    errors = fixture("open311_errors.json")
    server.route("GET", "/v2/requests.json", lambda r: Reply.json(errors, status=400))
    server.route("GET", "/ok200/requests.json", lambda r: Reply.json(errors))
    with server:
        with pytest.raises(
            SourceError, match=r"400 start_date/end_date range.*404 jurisdiction_id not found"
        ):
            pull(db, make("open311", {"endpoint": server.url("/v2")}, settings))
        with pytest.raises(SourceError, match="jurisdiction_id not found"):
            pull(db, make("open311", {"endpoint": server.url("/ok200")}, settings))


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (Reply.json({"error": "boom"}, status=500), "HTTP 500"),
        (Reply(delay=0.6, body=b"[]"), "timed out"),
        (Reply.text("<service_requests/>", content_type="text/xml"), "not JSON"),
        (Reply.json({"unexpected": 1}), "expected a JSON array"),
    ],
)
def test_source_down_or_malformed(db: Engine, settings: Settings, reply: Reply, match: str) -> None:
    server = LoopbackServer()
    server.route("GET", "/v2/requests.json", lambda r: reply)
    policy = RetryPolicy(attempts=2, base_delay=0.01, timeout=0.3)
    with server, pytest.raises(SourceError, match=match):
        pull(db, make("open311", {"endpoint": server.url("/v2"), "updates": "no"}, settings, policy=policy))
    assert rows(db, "SELECT count(*) AS n FROM incident")[0]["n"] == 0


def test_connection_refused(db: Engine, settings: Settings) -> None:
    connector = make("open311", {"endpoint": f"http://127.0.0.1:{free_port()}/v2"}, settings)
    with pytest.raises(SourceError, match="could not connect"):
        pull(db, connector)
    assert not connector.check().ok


def test_helpers() -> None:
    assert request_id(638344) == "638344" and request_id(" 006 ") == "006" and request_id("") is None
    assert request_id(12.0) == "12" and request_id(None) is None and request_id(True) is None
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert len(spans(start, start + timedelta(days=181), 90)) == 3
    ids = [f"id-{i:05d}" for i in range(1000)]
    batches = id_batches(ids, 100, 1900)
    assert [i for b in batches for i in b] == ids
    assert all(100 + sum(len(i) for i in b) + 3 * (len(b) - 1) <= 1900 for b in batches)


def test_run_source_end_to_end_repolls_open_requests(engine: Engine, db: Engine, tmp_path: Path) -> None:
    month_old = request(1, hours_ago=24 * 30)
    server = GeoReport([month_old, request(2)])
    with server:
        settings = settings_with_source(tmp_path, "phananh", "open311", {"endpoint": server.url()})
        first = run_source(db, settings, "phananh")
        month_old.update(status="closed", updated_datetime=NOW.isoformat())
        second = run_source(db, settings, "phananh")
        third = run_source(db, settings, "phananh")
    assert (first.status, first.rows_inserted) == ("success", 2)
    assert second.rows_updated == 1 and "R-00001" in server.asked("service_request_id")
    assert (third.rows_inserted, third.rows_updated) == (0, 0)
    got = stored(db)
    assert got["R-00001"]["status"] == "closed" and got["R-00001"]["closed_at"] is not None


def test_poison_and_personal_data_found_by_the_property_tests(db: Engine, tmp_path: Path) -> None:
    """Each item is one class the hostile-payload property test found; the good request still loads,
    and no citizen's text reaches rejected_row or connector_run.error."""
    pii = "Nguyễn Thị Bình 0987654321"
    items: list[Any] = [
        request(1),
        f"{pii} báo ổ gà",  # a bare string in the list: was kept (200 characters) in the rejected row
        request(2, service_request_id={"id": pii}),  # an object as id: was stored as "{'id': …}"
        request(3, service_code="POT\x00HOLE"),  # NUL in a code
        request(4, requested_datetime="2999-01-01T00:00:00Z"),  # dated in the future
        request(5, status={"open": True}),
    ]
    server = GeoReport(items, filters=False)  # a careless server: answers everything, whatever the window
    with server:
        settings = settings_with_source(tmp_path, "phananh", "open311", {"endpoint": server.url()})
        run = run_source(db, settings, "phananh")
    assert (run.status, run.rows_inserted, run.rows_rejected) == ("partial", 1, 5), run.error
    assert list(stored(db)) == ["R-00001"]
    reasons = sorted(r["reason"] for r in rows(db, "SELECT reason FROM rejected_row"))
    assert reasons == [
        "not a request (expected a JSON object)",
        "requested_datetime: before 1990 or too far in the future",
        "service_code: not a code (a short printable text)",
        "service_request_id: not an id (a short printable text or a whole number)",
        "status: not a status (a short printable text)",
    ]
    assert pii not in rejected_text(db) and "Gọi anh Nam" not in rejected_text(db)


def test_requests_that_lost_their_ids_are_not_read_as_an_error_list(db: Engine, tmp_path: Path) -> None:
    """`[{description, …}]` without ids used to be taken for an error body `[{code, description}]` and the
    citizens' descriptions were put in the run's error text."""
    pii = "chị Lan 0912000111"
    items = [{k: v for k, v in request(i, description=pii).items() if k != "service_code"} for i in (1, 2)]
    for item in items:
        del item["service_request_id"]
    server = GeoReport(items)
    with server:
        settings = settings_with_source(tmp_path, "phananh", "open311", {"endpoint": server.url()})
        run = run_source(db, settings, "phananh")
    assert run.status == "partial" and run.rows_rejected == 2
    error = rows(db, "SELECT coalesce(string_agg(error, ' '), '') AS e FROM connector_run")[0]["e"]
    assert pii not in error and pii not in rejected_text(db)
