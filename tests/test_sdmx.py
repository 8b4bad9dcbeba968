"""SDMX connector against a real loopback server: SDMX-JSON 1.0, 2.0, the pre-1.0 shape, errors, deltas."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from connectors.sdmx import SdmxConnector, SdmxOptions, observations
from ioc.config import Settings, load_settings
from ioc.connector import Batch, ConnectorContext, SourceError
from ioc.http import RetryPolicy, SourceHttp
from ioc.load import LoadResult
from tests.fixtures.stat import support
from tests.fixtures.stat.support import stored
from tests.loopback import Reply, Request, free_port

FIXTURES = Path(__file__).parent / "fixtures" / "stat"
SOURCE = "ecb"


def load_all(engine: Engine, batches: list[Batch]) -> LoadResult:
    return support.load_all(engine, batches, SOURCE)


EXR_PATH = "/rest/data/ECB,EXR,1.0/M.USD+JPY.EUR.SP00.A"
EXR = {"flow": "ECB,EXR,1.0", "key": "M.USD+JPY.EUR.SP00.A", "org_unit": "VN", "unit": "per EUR"}
CPI_PATH = "/rest/data/OECD.SDD,DF_PRICES,1.0/Q..CPI"
CPI = {
    "flow": "OECD.SDD,DF_PRICES,1.0",
    "key": "Q..CPI",
    "indicator_dimension": "MEASURE",
    "indicators": {"CPI": "cpi"},
    "areas": {"VN": "VN"},
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def make(settings: Settings, base_url: str, **options: Any) -> SdmxConnector:
    http = SourceHttp(policy=RetryPolicy(attempts=2, base_delay=0.01, timeout=1))
    opts = SdmxOptions.model_validate({"base_url": base_url, **options})
    return SdmxConnector(opts, ConnectorContext(source=SOURCE, settings=settings, http=http))


def test_sdmx_json_1_0_fixture_loads_and_rerun_changes_nothing(
    db: Engine, settings: Settings, server
) -> None:
    server.route("GET", EXR_PATH, lambda r: Reply.json(fixture("sdmx_data.json")))
    batches = list(make(settings, server.url("/rest"), **EXR).read(None))
    request = server.requests[0]
    assert request.headers["accept"] == "application/vnd.sdmx.data+json;version=1.0.0"
    assert batches[0].cursor == {"updatedAfter": "2025-02-03T09:15:00Z"}
    assert load_all(db, batches).inserted == 6
    rows = stored(db)
    assert rows[("EXR.M.USD.EUR.SP00.A", "VN", "2024-10")] == (1.0898, "A")
    assert rows[("EXR.M.USD.EUR.SP00.A", "VN", "2024-12")] == (1.0479, "P")
    assert rows[("EXR.M.JPY.EUR.SP00.A", "VN", "2024-12")] == (None, "M")  # reported missing stays NULL
    assert set(batches[0].records["grain"]) == {"month"} and set(batches[0].records["unit"]) == {"per EUR"}

    again = load_all(db, list(make(settings, server.url("/rest"), **EXR).read(None, full=True)))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6)


def test_updated_after_comes_from_the_cursor(settings: Settings, server) -> None:
    server.route("GET", EXR_PATH, lambda r: Reply.json(fixture("sdmx_data.json")))
    connector = make(settings, server.url("/rest"), params={"startPeriod": "2024-10"}, **EXR)
    cursor = list(connector.read(None))[-1].cursor
    list(make(settings, server.url("/rest"), params={"startPeriod": "2024-10"}, **EXR).read(cursor))
    list(
        make(settings, server.url("/rest"), params={"startPeriod": "2024-10"}, **EXR).read(cursor, full=True)
    )
    first, second, third = server.requests
    assert first.arg("updatedAfter") is None and first.arg("startPeriod") == "2024-10"
    assert second.arg("updatedAfter") == "2025-02-03T09:15:00Z"
    assert third.arg("updatedAfter") is None


def test_sdmx_json_2_0_structures_index_and_out_of_order_time(db: Engine, settings: Settings, server) -> None:
    server.route("GET", CPI_PATH, lambda r: Reply.json(fixture("sdmx_data_v2.json")))
    batches = list(make(settings, server.url("/rest"), **CPI).read(None))
    records = batches[0].records
    # joined on the index, sorted afterwards: VN's quarters in time order whatever the message order
    vn = records[records["org_unit_code"] == "VN"]
    assert vn["period"].tolist() == ["2024-Q1", "2024-Q2", "2024-Q3"]
    assert vn["value"].tolist() == [101.0, 102.2, 103.1]
    assert batches[0].cursor == {"updatedAfter": "2026-04-02T01:00:00Z"}  # +07:00 → UTC
    load_all(db, batches)
    rows = stored(db)
    assert rows[("cpi", "VN", "2024-Q3")] == (103.1, "P")
    assert rows[("cpi", "TH", "2024-Q3")] == (None, "M")  # REF_AREA not in `areas` keeps its code
    assert rows[("cpi", "TH", "2023-Q4")] == (100.0, "A")  # from the flat (AllDimensions) dataset
    assert len(rows) == 6
    assert set(records["unit"].dropna()) == {"IX"}


def test_v2_measures_put_attributes_after_all_measures() -> None:
    message = fixture("sdmx_data_v2.json")
    main = message["data"]["structures"][1]
    main["measures"]["observation"].append({"id": "OBS_VALUE_2"})
    series = message["data"]["dataSets"][0]["series"]["0:0"]["observations"]
    series["0"] = [103.1, 55.0, 2]
    message["data"]["dataSets"] = message["data"]["dataSets"][:1]
    frame = observations(message)
    row = frame[(frame["REF_AREA"] == "VN") & (frame["TIME_PERIOD"] == "2024-Q3")].iloc[0]
    assert row["value"] == 103.1 and row["@OBS_STATUS"] == "M"


def test_pre_1_0_top_level_shape(db: Engine, settings: Settings, server) -> None:
    server.route("GET", "/old/data/GDP/VNM.GDP", lambda r: Reply.json(fixture("sdmx_data_pre10.json")))
    options = {
        "flow": "GDP",
        "key": "VNM.GDP",
        "indicator": "gdp_growth",
        "area_dimension": "LOCATION",
        "areas": {"VNM": "VN"},
    }
    batches = list(make(settings, server.url("/old"), **options).read(None))
    assert load_all(db, batches).inserted == 2
    assert stored(db)[("gdp_growth", "VN", "2014")] == (6.0, None)


def test_sdmx_error_message_is_a_source_error(settings: Settings, server) -> None:
    server.route("GET", EXR_PATH, lambda r: Reply.json(fixture("sdmx_error.json"), status=403))
    with pytest.raises(
        SourceError, match=r"HTTP 403: SDMX error 150: Invalid number of dimensions.*defines 5"
    ):
        list(make(settings, server.url("/rest"), **EXR).read(None))
    server.route("GET", EXR_PATH, lambda r: Reply.json(fixture("sdmx_error.json"), status=200))
    with pytest.raises(SourceError, match="SDMX error 150"):
        list(make(settings, server.url("/rest"), **EXR).read(None))
    assert not make(settings, server.url("/rest"), **EXR).check().ok


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=204),
        Reply.text("No Results Found", status=404),
        Reply.json({"meta": {"id": "x"}, "errors": [{"code": 100, "title": "No results found"}]}, status=404),
        Reply.json({"meta": {"id": "x"}, "errors": [{"code": 100, "title": "No results found"}]}, status=200),
    ],
)
def test_no_results_is_an_empty_pull(settings: Settings, server, reply: Reply) -> None:
    server.route("GET", EXR_PATH, lambda r: reply)
    batches = list(make(settings, server.url("/rest"), **EXR).read({"updatedAfter": "2025-01-01T00:00:00Z"}))
    assert len(batches) == 1 and len(batches[0].records) == 0
    assert batches[0].cursor["updatedAfter"] > "2025-01-01T00:00:00Z"
    assert server.requests[0].arg("updatedAfter") == "2025-01-01T00:00:00Z"
    assert make(settings, server.url("/rest"), **EXR).check().ok


def test_delete_action_marks_observations_deleted(db: Engine, settings: Settings, server) -> None:
    server.route("GET", EXR_PATH, lambda r: Reply.json(fixture("sdmx_data.json")))
    load_all(db, list(make(settings, server.url("/rest"), **EXR).read(None)))
    delta = fixture("sdmx_data.json")
    delta["data"]["dataSets"][0]["action"] = "Delete"
    delta["data"]["dataSets"][0]["series"] = {"0": {"observations": {"0": [None]}}}
    server.route("GET", EXR_PATH, lambda r: Reply.json(delta))
    result = load_all(db, list(make(settings, server.url("/rest"), **EXR).read(None)))
    assert result.updated == 1
    assert stored(db)[("EXR.M.USD.EUR.SP00.A", "VN", "2024-10")] == (None, "deleted")


def test_sdmx_3_url_syntax(settings: Settings, server) -> None:
    path = "/rest/data/dataflow/OECD.SDD/DF_PRICES/1.0/Q.*.CPI"
    server.route("GET", path, lambda r: Reply.json(fixture("sdmx_data_v2.json")))
    options = {**CPI, "api": "v2", "key": "Q.*.CPI", "params": {"c[TIME_PERIOD]": "ge:2023-Q4"}}
    batches = list(make(settings, server.url("/rest"), **options).read(None))
    assert len(batches[0].records) == 6
    request = server.requests[0]
    assert request.headers["accept"] == "application/vnd.sdmx.data+json;version=2.0.0"
    assert request.arg("c[TIME_PERIOD]") == "ge:2023-Q4"


def test_source_down_refused_500_timeout(settings: Settings, server) -> None:
    with pytest.raises(SourceError, match="could not connect"):
        list(make(settings, f"http://127.0.0.1:{free_port()}/rest", **EXR).read(None))
    server.route(
        "GET", EXR_PATH, lambda r: Reply.json({"errors": [{"code": 500, "title": "boom"}]}, status=500)
    )
    with pytest.raises(SourceError, match="HTTP 500"):
        list(make(settings, server.url("/rest"), **EXR).read(None))
    slow = Reply.json(fixture("sdmx_data.json"))
    slow.delay = 1.5
    server.route("GET", EXR_PATH, lambda r: slow)
    with pytest.raises(SourceError, match="timed out"):
        list(make(settings, server.url("/rest"), **EXR).read(None))


def _bad_series_key(message: dict[str, Any]) -> None:
    message["data"]["dataSets"][0]["series"]["0:0"] = message["data"]["dataSets"][0]["series"].pop("0")


def _bad_value_index(message: dict[str, Any]) -> None:
    message["data"]["dataSets"][0]["series"]["0"]["observations"]["7"] = [1.0]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_bad_series_key, "series key '0:0' has 2 positions"),
        (_bad_value_index, "TIME_PERIOD: value index 7 out of range"),
        (lambda m: m["data"].pop("structure"), "structure without dimensions"),
        (lambda m: m.pop("data"), "no `data`"),
    ],
)
def test_malformed_messages_name_the_url(settings: Settings, server, mutate: Any, message: str) -> None:
    payload = copy.deepcopy(fixture("sdmx_data.json"))
    mutate(payload)
    server.route("GET", EXR_PATH, lambda r: Reply.json(payload))
    with pytest.raises(
        SourceError, match=rf"GET http://127\.0\.0\.1:\d+{re.escape(EXR_PATH)}.*{re.escape(message)}"
    ):
        list(make(settings, server.url("/rest"), **EXR).read(None))


def test_xml_instead_of_json_is_a_source_error(settings: Settings, server) -> None:
    xml = '<?xml version="1.0"?><message:GenericData/>'
    server.route("GET", EXR_PATH, lambda r: Reply.text(xml, content_type="application/xml"))
    with pytest.raises(SourceError, match=r"not JSON.*application/xml"):
        list(make(settings, server.url("/rest"), **EXR).read(None))


def test_unrecognised_periods_are_rejected_the_rest_loads(db: Engine, settings: Settings, server) -> None:
    message = fixture("sdmx_data.json")
    message["data"]["structure"]["dimensions"]["observation"][0]["values"][2]["id"] = "2024-S2"
    server.route("GET", EXR_PATH, lambda r: Reply.json(message))
    batches = list(make(settings, server.url("/rest"), **EXR).read(None))
    assert len(batches[0].rejects) == 2
    assert all("'2024-S2' is not a recognised period" in reason for _, reason in batches[0].rejects)
    result = load_all(db, batches)
    assert (result.inserted, result.rejected) == (4, 2)


def test_check_and_strict_options(settings: Settings, server) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Reply:
        seen.append(request)
        return Reply.json(fixture("sdmx_data.json"))

    server.route("GET", EXR_PATH, handler)
    result = make(settings, server.url("/rest"), **EXR).check()
    assert result.ok and seen[0].arg("lastNObservations") == "1"
    with pytest.raises(ValueError, match="extra"):
        SdmxOptions.model_validate({"base_url": "http://x", **EXR, "flwo": "x"})


def test_end_to_end_through_the_runner(db: Engine, server, tmp_path: Path) -> None:
    from ioc.runner import run_source

    server.route("GET", EXR_PATH, lambda r: Reply.json(fixture("sdmx_data.json")))
    settings = _runner_settings(tmp_path, {"base_url": server.url("/rest"), **EXR})
    policy = RetryPolicy(attempts=2, base_delay=0.01, timeout=2)
    first = run_source(db, settings, SOURCE, http_policy=policy)
    assert first.ok and first.rows_inserted == 6, first.error
    second = run_source(db, settings, SOURCE, http_policy=policy)
    assert second.ok and second.rows_inserted == second.rows_updated == 0
    assert server.requests[-1].arg("updatedAfter") == "2025-02-03T09:15:00Z"


def _runner_settings(tmp_path: Path, options: dict[str, Any]) -> Settings:
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(
            {"province": {"code": "66"}, "sources": {SOURCE: {"connector": "sdmx", "options": options}}}
        ),
        encoding="utf-8",
    )
    return load_settings(config)


def test_delete_dataset_with_omitted_values_loads_with_the_rest_and_moves_the_cursor(
    db: Engine, server, tmp_path: Path
) -> None:
    """An `updatedAfter` delta: a Replace dataset (one revision) and a Delete dataset whose observations
    omit the value (`"0": []`). Both load in the run, and the next pull asks from the delta's `prepared`."""
    from ioc.runner import run_source

    replies = [
        fixture("sdmx_data.json"),
        fixture("sdmx_delta_delete.json"),
        fixture("sdmx_delta_delete.json"),
    ]
    server.route("GET", EXR_PATH, lambda r: Reply.json(replies.pop(0)))
    settings = _runner_settings(tmp_path, {"base_url": server.url("/rest"), **EXR})
    policy = RetryPolicy(attempts=1, timeout=2)
    assert run_source(db, settings, SOURCE, http_policy=policy).rows_inserted == 6

    delta = run_source(db, settings, SOURCE, http_policy=policy)
    assert delta.status == "success", delta.error
    assert delta.cursor == {"updatedAfter": "2025-03-01T08:00:00Z"}
    rows = stored(db)
    assert rows[("EXR.M.USD.EUR.SP00.A", "VN", "2024-12")] == (1.0481, "A")  # the revision
    assert rows[("EXR.M.USD.EUR.SP00.A", "VN", "2024-11")] == (1.063, "A")  # untouched
    assert rows[("EXR.M.JPY.EUR.SP00.A", "VN", "2024-11")] == (163.23, "A")
    # the two deleted observations (USD 2024-10, JPY 2024-12)
    assert rows[("EXR.M.USD.EUR.SP00.A", "VN", "2024-10")] == (None, "deleted")
    assert rows[("EXR.M.JPY.EUR.SP00.A", "VN", "2024-12")] == (None, "deleted")

    run_source(db, settings, SOURCE, http_policy=policy)
    assert server.requests[-1].arg("updatedAfter") == "2025-03-01T08:00:00Z"


def test_a_key_deleted_then_replaced_in_one_message_keeps_the_later_dataset(
    settings: Settings, server
) -> None:
    delta = fixture("sdmx_delta_delete.json")
    delta["data"]["dataSets"].reverse()  # Delete USD 2024-10 first, then Replace it
    delta["data"]["dataSets"][1]["series"]["0"]["observations"] = {"0": [1.09, 0]}
    server.route("GET", EXR_PATH, lambda r: Reply.json(delta))
    [batch] = list(make(settings, server.url("/rest"), **EXR).read(None))
    records = batch.records.set_index(["indicator", "period"])
    assert records.loc[("EXR.M.USD.EUR.SP00.A", "2024-10"), "value"] == 1.09
    assert records.loc[("EXR.M.JPY.EUR.SP00.A", "2024-12"), "status"] == "deleted"
    assert not batch.rejects


AGRI_PATH = "/rest/data/FAO,AGRI_PROD,1.0/A.VN..all"
AGRI = {"flow": "FAO,AGRI_PROD,1.0", "key": "A.VN..all", "indicator_dimension": "COMMODITY"}


def test_unit_mult_is_applied_to_the_value(db: Engine, settings: Settings, server) -> None:
    """UNIT_MULT is a power of ten: the stored value is value × 10^UNIT_MULT in UNIT_MEASURE."""
    server.route("GET", AGRI_PATH, lambda r: Reply.json(fixture("sdmx_data_unit_mult.json")))
    options = {**AGRI, "key": "A.VN..all"}
    batches = list(make(settings, server.url("/rest"), **options).read(None))
    load_all(db, batches)
    rows = stored(db, "unit")
    assert rows[("RICE", "VN", "2023")] == (350_154.0, "A", "T")  # 350.154 × 10³
    assert rows[("RICE", "VN", "2024")] == (43_100.0, "E", "T")  # 43.1 × 10³
    assert rows[("COFFEE", "VN", "2023")] == (1_956_100.0, "A", "T")  # 1.9561 × 10⁶
    assert rows[("COFFEE", "VN", "2024")] == (1_700_000.0, "E", "T")  # 1.7 × 10⁶
    assert rows[("PEPPER", "VN", "2023")] == (264_000.0, "A", "T")  # UNIT_MULT omitted: its default 0
    assert rows[("PEPPER", "VN", "2024")] == (None, "A", "T")  # missing stays missing


@pytest.mark.parametrize(("mult", "reason"), [("99", "UNIT_MULT"), ("x", "UNIT_MULT")])
def test_an_impossible_unit_mult_rejects_its_observations(
    settings: Settings, server, mult: str, reason: str
) -> None:
    message = fixture("sdmx_data_unit_mult.json")
    message["data"]["structure"]["attributes"]["series"][1]["values"][1]["id"] = mult
    server.route("GET", AGRI_PATH, lambda r: Reply.json(message))
    [batch] = list(make(settings, server.url("/rest"), **AGRI).read(None))
    assert len(batch.records) == 4
    assert [r["indicator"] for r, _ in batch.rejects] == ["COFFEE", "COFFEE"]
    assert all(reason in why for _, why in batch.rejects)


def test_a_message_prepared_in_the_future_does_not_move_the_cursor_there(settings: Settings, server) -> None:
    """A server clock (or a poisoned message) saying 2999 must not make every later pull ask for 2999."""
    message = fixture("sdmx_data.json")
    message["meta"]["prepared"] = "2999-12-31T00:00:00Z"
    server.route("GET", EXR_PATH, lambda r: Reply.json(message))
    [batch] = list(make(settings, server.url("/rest"), **EXR).read(None))
    assert batch.cursor["updatedAfter"] < "2100"
    assert len(batch.records) == 6
