"""World Bank connector against a real loopback server answering like Indicators API v2."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from connectors.periods import unrecognised
from connectors.worldbank import WorldBankConnector, WorldBankOptions
from ioc.config import Settings, load_settings
from ioc.connector import Batch, ConnectorContext, SourceError
from ioc.http import RetryPolicy, SourceHttp
from ioc.load import LoadResult
from tests.fixtures.stat import support
from tests.fixtures.stat.support import stored
from tests.loopback import LoopbackServer, Reply, Request, free_port

FIXTURES = Path(__file__).parent / "fixtures" / "stat"
SOURCE = "worldbank"


def load_all(engine: Engine, batches: list[Batch]) -> LoadResult:
    return support.load_all(engine, batches, SOURCE)


GDP = "NY.GDP.MKTP.KD.ZG"
GDP_PATH = f"/v2/country/VN/indicator/{GDP}"
OPTIONS = {"indicators": {GDP: "gdp_growth"}}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeWorldBank:
    """Pages over rows for 2000…2025, newest first, latest year null; meta numbers as strings."""

    def __init__(self, server: LoopbackServer, lastupdated: str = "2025-07-01") -> None:
        self.lastupdated = lastupdated
        template = fixture("worldbank_indicator.json")[1][1]
        self.rows = [
            {
                **template,
                "date": str(year),
                "value": None if year == 2025 else round(5 + (year % 7) * 0.37, 2),
            }
            for year in range(2025, 1999, -1)
        ]
        server.route("GET", GDP_PATH, self.handle)

    def handle(self, request: Request) -> Reply:
        assert request.arg("format") == "json"
        per_page, page = int(request.arg("per_page", "50")), int(request.arg("page", "1"))
        pages = math.ceil(len(self.rows) / per_page)
        meta = {
            "page": str(page),
            "pages": pages,
            "per_page": str(per_page),
            "total": len(self.rows),
            "sourceid": "2",
            "lastupdated": self.lastupdated,
        }
        return Reply.json([meta, self.rows[(page - 1) * per_page : page * per_page]])


def make(settings: Settings, base_url: str, **options: Any) -> WorldBankConnector:
    http = SourceHttp(policy=RetryPolicy(attempts=2, base_delay=0.01, timeout=1))
    opts = WorldBankOptions.model_validate({"base_url": base_url, **OPTIONS, **options})
    return WorldBankConnector(opts, ConnectorContext(source=SOURCE, settings=settings, http=http))


def test_fixture_page_loads_and_rerun_changes_nothing(db: Engine, settings: Settings, server) -> None:
    server.route("GET", GDP_PATH, lambda r: Reply.json(fixture("worldbank_indicator.json")))
    batches = list(make(settings, server.url("/v2"), date="2022:2025").read(None))
    assert server.requests[0].arg("date") == "2022:2025" and server.requests[0].arg("per_page") == "1000"
    assert load_all(db, batches).inserted == 4
    rows = stored(db, "vintage")
    assert rows[("gdp_growth", "VN", "2025")] == (None, None, "2025-07-01")  # null stays NULL
    assert rows[("gdp_growth", "VN", "2024")] == (7.09, None, "2025-07-01")
    assert batches[0].cursor == {"lastupdated": {GDP: "2025-07-01"}}
    again = load_all(db, list(make(settings, server.url("/v2")).read(None, full=True)))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


def test_pagination_over_several_pages_with_string_meta(db: Engine, settings: Settings, server) -> None:
    FakeWorldBank(server)
    batches = list(make(settings, server.url("/v2"), per_page=7).read(None))
    assert [r.arg("page") for r in server.requests] == ["1", "2", "3", "4"]
    records = batches[0].records
    assert len(records) == 26 and records["period"].is_unique
    assert load_all(db, batches).inserted == 26
    rows = stored(db, "vintage")
    assert rows[("gdp_growth", "VN", "2000")][0] == round(5 + (2000 % 7) * 0.37, 2)
    assert rows[("gdp_growth", "VN", "2025")][0] is None


def test_unchanged_lastupdated_reads_only_the_first_page(settings: Settings, server) -> None:
    fake = FakeWorldBank(server)
    cursor = list(make(settings, server.url("/v2"), per_page=10).read(None))[-1].cursor
    assert len(server.requests) == 3
    skipped = list(make(settings, server.url("/v2"), per_page=10).read(cursor))
    assert len(server.requests) == 4 and len(skipped[0].records) == 0 and skipped[0].cursor == cursor
    list(make(settings, server.url("/v2"), per_page=10).read(cursor, full=True))
    assert len(server.requests) == 7
    fake.lastupdated = "2025-12-16"
    changed = list(make(settings, server.url("/v2"), per_page=10).read(cursor))
    assert len(server.requests) == 10
    assert changed[0].cursor == {"lastupdated": {GDP: "2025-12-16"}}


def test_error_envelope_with_http_200(settings: Settings, server) -> None:
    server.route("GET", GDP_PATH, lambda r: Reply.json(fixture("worldbank_error.json")))
    with pytest.raises(SourceError, match="World Bank error \\(HTTP 200\\): 120 Invalid value: The provided"):
        list(make(settings, server.url("/v2")).read(None))
    result = make(settings, server.url("/v2")).check()
    assert not result.ok and "120 Invalid value" in result.message


def test_no_data_is_meta_and_null(db: Engine, settings: Settings, server) -> None:
    server.route("GET", GDP_PATH, lambda r: Reply.json(fixture("worldbank_indicator_empty.json")))
    batches = list(make(settings, server.url("/v2")).read(None))
    assert len(batches) == 1 and len(batches[0].records) == 0
    assert batches[0].cursor == {"lastupdated": {GDP: "2025-07-01"}}
    assert load_all(db, batches).read == 0


def test_several_indicators_countries_and_mapping(db: Engine, settings: Settings, server) -> None:
    rows = fixture("worldbank_indicator.json")
    th = [{**r, "country": {"id": "TH", "value": "Thailand"}, "countryiso3code": "THA"} for r in rows[1]]
    pop = [
        {**r, "indicator": {"id": "SP.POP.TOTL", "value": "Population"}, "unit": "người", "obs_status": "E"}
        for r in rows[1]
    ]
    path = "/v2/country/VN;TH/indicator/"
    server.route("GET", path + GDP, lambda r: Reply.json([rows[0], rows[1] + th]))
    server.route(
        "GET", path + "SP.POP.TOTL", lambda r: Reply.json([{**rows[0], "lastupdated": "2025-06-30"}, pop])
    )
    options = {
        "countries": ["VN", "TH"],
        "indicators": {GDP: "gdp_growth", "SP.POP.TOTL": "population"},
        "country_org_units": {"VNM": "VN-ISO3", "TH": "thai"},
    }
    batches = list(make(settings, server.url("/v2"), **options).read(None))
    assert len(batches) == 2
    assert batches[-1].cursor == {"lastupdated": {GDP: "2025-07-01", "SP.POP.TOTL": "2025-06-30"}}
    load_all(db, batches)
    stored_rows = stored(db, "vintage")
    assert ("gdp_growth", "thai", "2024") in stored_rows
    assert stored_rows[("population", "VN-ISO3", "2024")] == (7.09, "E", "2025-06-30")
    with db.connect() as conn:
        assert (
            conn.execute(
                text("SELECT DISTINCT unit FROM indicator_observation WHERE indicator = 'population'")
            ).scalar()
            == "người"
        )


def test_bad_rows_are_rejected_the_rest_loads(db: Engine, settings: Settings, server) -> None:
    meta, rows = fixture("worldbank_indicator.json")
    rows[1]["date"] = "Tháng 13"
    rows.append("not a row")
    rows.append(dict(rows[2]))  # the same country and year twice
    rows.append({**rows[2], "date": "2021", "value": "n/a"})
    server.route("GET", GDP_PATH, lambda r: Reply.json([meta, rows]))
    batches = list(make(settings, server.url("/v2")).read(None))
    reasons = [reason for _, reason in batches[0].rejects]
    assert reasons == [
        unrecognised("Tháng 13", "date"),
        "row is not an object",
        "duplicate: the same country and period twice",
    ]
    result = load_all(db, batches)
    assert (result.inserted, result.rejected) == (4, 3)
    assert stored(db, "vintage")[("gdp_growth", "VN", "2021")][:2] == (None, "n/a")


def test_source_down_refused_500_timeout_and_malformed(settings: Settings, server) -> None:
    with pytest.raises(SourceError, match="could not connect"):
        list(make(settings, f"http://127.0.0.1:{free_port()}/v2").read(None))
    server.route("GET", GDP_PATH, lambda r: Reply.text("oops", status=500))
    with pytest.raises(SourceError, match="HTTP 500"):
        list(make(settings, server.url("/v2")).read(None))
    slow = Reply.json(fixture("worldbank_indicator.json"))
    slow.delay = 1.5
    server.route("GET", GDP_PATH, lambda r: slow)
    with pytest.raises(SourceError, match="timed out"):
        list(make(settings, server.url("/v2")).read(None))

    xml = '<?xml version="1.0"?><wb:error><wb:message id="175">Invalid format</wb:message></wb:error>'
    server.route("GET", GDP_PATH, lambda r: Reply.text(xml, content_type="text/xml"))
    with pytest.raises(SourceError, match=r"GET http://127\.0\.0\.1:\d+/v2/country/VN/.*not JSON"):
        list(make(settings, server.url("/v2")).read(None))
    server.route("GET", GDP_PATH, lambda r: Reply.json({"page": 1}))
    with pytest.raises(SourceError, match=r"expected \[page-meta, rows\]"):
        list(make(settings, server.url("/v2")).read(None))
    server.route("GET", GDP_PATH, lambda r: Reply.json([{"page": "one", "pages": 1, "total": 1}, []]))
    with pytest.raises(SourceError, match="page meta `page` is not a number"):
        list(make(settings, server.url("/v2")).read(None))


def test_check_and_strict_options(settings: Settings, server) -> None:
    FakeWorldBank(server)
    result = make(settings, server.url("/v2")).check()
    assert result.ok and "26 values" in result.message and server.requests[0].arg("per_page") == "1"
    with pytest.raises(ValueError, match="extra"):
        WorldBankOptions.model_validate({**OPTIONS, "per_pge": 5})


def test_end_to_end_through_the_runner(db: Engine, server, tmp_path: Path) -> None:
    from ioc.runner import run_source

    FakeWorldBank(server)
    options = {"base_url": server.url("/v2"), "per_page": 10, **OPTIONS}
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(
            {"province": {"code": "66"}, "sources": {SOURCE: {"connector": "worldbank", "options": options}}}
        ),
        encoding="utf-8",
    )
    settings = load_settings(config)
    policy = RetryPolicy(attempts=2, base_delay=0.01, timeout=2)
    first = run_source(db, settings, SOURCE, http_policy=policy)
    assert first.ok and first.rows_inserted == 26, first.error
    second = run_source(db, settings, SOURCE, http_policy=policy)
    assert second.ok and second.rows_inserted == second.rows_updated == 0
    assert len(server.requests) == 4  # 3 pages, then page 1 only: lastupdated unchanged
