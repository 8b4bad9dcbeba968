"""PxWeb connector against a real loopback HTTP server that answers like PxWeb v1/v2 (GSO and SCB shapes)."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from connectors.pxweb import PxWebConnector, PxWebOptions, split_selection
from ioc.config import Settings, load_settings
from ioc.connector import Batch, ConnectorContext, SourceError
from ioc.http import RetryPolicy, SourceHttp
from ioc.load import LoadResult
from tests.fixtures.stat import support
from tests.fixtures.stat.support import stored
from tests.loopback import LoopbackServer, Reply, Request, free_port

FIXTURES = Path(__file__).parent / "fixtures" / "stat"
DB = "Dân số và lao động"
TABLE = "V02.01.px"
V1 = "/api/v1"
TABLE_PATH = f"{V1}/vi/{DB}/{TABLE}"
SOURCE = "gso"


def load_all(engine: Engine, batches: list[Batch]) -> LoadResult:
    return support.load_all(engine, batches, SOURCE)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


GSO_OPTIONS: dict[str, Any] = {
    "table": f"{DB}/{TABLE}",
    "indicator_dimension": "Chỉ tiêu",
    "indicators": {
        "Diện tích (Km2)": "area_km2",
        "Dân số trung bình (Nghìn người)": "population_avg",
        "Mật độ dân số (Người/km2)": "population_density",
    },
    "area_dimension": "Địa phương",
    "areas": {"CẢ NƯỚC": "VN", "Hà Nội": "01"},
    "time_dimension": "Năm",
    "time_values": ["2023", "Sơ bộ 2024"],
}


# --------------------------------------------------------------------------- a PxWeb server


class FakePxWeb:
    """PxWeb v1 on a LoopbackServer: config, folder listing, metadata and a POST that answers the
    query it gets (JSON-stat 2.0, GSO style: index objects, status object, no role)."""

    def __init__(
        self,
        server: LoopbackServer,
        meta: dict[str, Any],
        cell: Callable[[dict[str, str]], tuple[Any, str | None]],
        *,
        max_values: int = 150_000,
        updated: str = "2025-07-23T10:00:00",
    ) -> None:
        self.server, self.meta, self.cell = server, meta, cell
        self.max_values, self.updated = max_values, updated
        self.posts: list[dict[str, list[str]]] = []
        self.fail_next: list[Reply] = []
        server.route("GET", f"{V1}/vi", self.config)
        server.route("GET", f"{V1}/vi/{DB}", self.listing)
        server.route("GET", TABLE_PATH, lambda r: Reply.json(self.meta))
        server.route("POST", TABLE_PATH, self.data)

    def config(self, request: Request) -> Reply:
        if request.arg("config") is None:
            return Reply.json(fixture("pxweb_v1_databases.json"))
        return Reply.json({"maxValues": self.max_values, "maxCalls": 30, "timeWindow": 10, "CORS": True})

    def listing(self, request: Request) -> Reply:
        items = copy.deepcopy(fixture("pxweb_v1_levels.json"))
        items[0]["updated"] = self.updated
        return Reply.json(items)

    def data(self, request: Request) -> Reply:
        if self.fail_next:
            return self.fail_next.pop(0)
        body = request.json()
        assert body["response"] == {"format": "json-stat2"}
        asked = {q["code"]: q["selection"]["values"] for q in body["query"]}
        assert all(q["selection"]["filter"] == "item" for q in body["query"])
        self.posts.append(asked)
        variables = [v for v in self.meta["variables"] if v["code"] in asked]  # others are eliminated
        cells = math.prod(len(asked[v["code"]]) for v in variables)
        if cells > self.max_values:
            return Reply.json({"error": "too many cells"}, status=403)
        return Reply.json(jsonstat_for(variables, asked, self.cell))


def jsonstat_for(
    variables: list[dict[str, Any]],
    asked: dict[str, list[str]],
    cell: Callable[[dict[str, str]], tuple[Any, str | None]],
) -> dict[str, Any]:
    dims, texts_of = {}, {}
    for var in variables:
        text_of = dict(zip(var["values"], var["valueTexts"], strict=True))
        codes = [c for c in var["values"] if c in asked[var["code"]]]
        texts_of[var["code"]] = [(c, text_of[c]) for c in codes]
        dims[var["code"]] = {
            "label": var["text"],
            "category": {
                "index": {c: i for i, c in enumerate(codes)},
                "label": {c: text_of[c] for c in codes},
            },
            "extension": {"elimination": var.get("elimination", False), "show": "value"},
        }
    values, status = [], {}
    combos: list[dict[str, str]] = [{}]
    for var in variables:
        combos = [{**c, var["code"]: t} for c in combos for _, t in texts_of[var["code"]]]
    for i, combo in enumerate(combos):
        value, symbol = cell(combo)
        values.append(value)
        if symbol:
            status[str(i)] = symbol
    out = {
        "version": "2.0",
        "class": "dataset",
        "label": "test table",
        "updated": "2025-07-23T10:00:00Z",
        "id": [v["code"] for v in variables],
        "size": [len(texts_of[v["code"]]) for v in variables],
        "dimension": dims,
        "value": values,
    }
    if status:
        out["status"] = status
    return out


def population(combo: dict[str, str]) -> tuple[Any, str | None]:
    """A deterministic value from the cell's TEXTS (so shifted positional codes give the same data)."""
    seed = sum(ord(ch) for ch in "".join(sorted(combo.values())))
    return round(seed * 1.5, 1), None


# --------------------------------------------------------------------------- helpers


def make(
    settings: Settings, base_url: str, sleeps: list[float] | None = None, **options: Any
) -> PxWebConnector:
    http = SourceHttp(policy=RetryPolicy(attempts=2, base_delay=0.01, timeout=1))
    if sleeps is not None:
        http.sleep = sleeps.append
    opts = PxWebOptions.model_validate({"base_url": base_url, **GSO_OPTIONS, **options})
    return PxWebConnector(opts, ConnectorContext(source=SOURCE, settings=settings, http=http))


# --------------------------------------------------------------------------- tests


def test_gso_fixture_pull_loads_and_rerun_changes_nothing(db: Engine, settings: Settings, server) -> None:
    posted: list[Any] = []

    def data(request: Request) -> Reply:
        posted.append(request.json())
        return Reply.json(fixture("pxweb_query_response.jsonstat2.json"))

    FakePxWeb(server, fixture("pxweb_table_meta.json"), population)
    server.route("POST", TABLE_PATH, data)
    connector = make(settings, server.url(V1))
    batches = list(connector.read(None))
    # positional codes come from valueTexts: Hà Nội = "2", 2023 = "12", Sơ bộ 2024 = "13"
    query = {q["code"]: q["selection"]["values"] for q in posted[0]["query"]}
    expected = {q["code"]: q["selection"]["values"] for q in fixture("pxweb_query.json")["query"]}
    assert query["Địa phương"] == expected["Địa phương"] == ["0", "2"]
    assert query["Năm"] == expected["Năm"] == ["12", "13"]
    assert query["Chỉ tiêu"] == ["0", "1", "2"]

    result = load_all(db, batches)
    assert (result.inserted, result.rejected) == (12, 0)
    rows = stored(db)
    assert rows[("area_km2", "VN", "2024")] == (None, "..")  # null stays NULL, symbol kept
    assert rows[("population_avg", "01", "2024")] == (8718.0, "provisional")  # "Sơ bộ 2024"
    assert rows[("population_avg", "01", "2023")] == (8587.1, None)
    assert batches[-1].records["vintage"].unique().tolist() == ["2025-07-23T10:00:00Z"]
    assert batches[-1].cursor == {"vintage": "2025-07-23T10:00:00", "options": connector._fingerprint()}

    again = load_all(db, list(make(settings, server.url(V1)).read(None, full=True)))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 12)


def test_positional_codes_that_shift_are_mapped_from_texts(db: Engine, settings: Settings, server) -> None:
    meta = fixture("pxweb_table_meta.json")
    fake = FakePxWeb(server, meta, population)
    first = load_all(db, list(make(settings, server.url(V1)).read(None)))
    assert first.inserted == 12

    shifted = copy.deepcopy(meta)  # the table gains a region at position 1: Hà Nội moves from "2" to "3"
    areas = shifted["variables"][0]
    areas["valueTexts"].insert(1, "Trung du và miền núi phía Bắc")
    areas["values"] = [str(i) for i in range(len(areas["valueTexts"]))]
    fake.meta = shifted
    fake.updated = "2025-08-01T10:00:00"
    second = load_all(db, list(make(settings, server.url(V1)).read(None)))
    assert fake.posts[0]["Địa phương"] == ["0", "2"] and fake.posts[-1]["Địa phương"] == ["0", "3"]
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 12)


def test_max_values_splits_queries_and_every_cell_arrives_once(
    db: Engine, settings: Settings, server
) -> None:
    fake = FakePxWeb(server, fixture("pxweb_table_meta.json"), population, max_values=4)
    batches = list(make(settings, server.url(V1), time_values=["2022", "2023", "Sơ bộ 2024"]).read(None))
    assert len(fake.posts) >= 5
    assert all(math.prod(len(v) for v in post.values()) <= 4 for post in fake.posts)
    cells = [
        (a, y, i)
        for post in fake.posts
        for a in post["Địa phương"]
        for y in post["Năm"]
        for i in post["Chỉ tiêu"]
    ]
    assert len(cells) == len(set(cells)) == 18
    assert sum(len(b.records) for b in batches) == 18
    assert [b.cursor is not None and "vintage" in b.cursor for b in batches][-1]
    assert load_all(db, batches).inserted == 18


def test_split_selection_edge_cases() -> None:
    sel = [("a", ["1", "2", "3"]), ("b", ["x", "y"]), ("c", ["p", "q", "r", "s", "t"])]
    for limit in (1, 2, 5, 7, 29, 30):
        parts = split_selection(sel, limit)
        cells = [(a, b, c) for p in parts for a in p[0][1] for b in p[1][1] for c in p[2][1]]
        assert len(cells) == len(set(cells)) == 30
        assert all(len(p[0][1]) * len(p[1][1]) * len(p[2][1]) <= limit for p in parts)


def test_429_with_retry_after_then_success(settings: Settings, server) -> None:
    fake = FakePxWeb(server, fixture("pxweb_table_meta.json"), population)
    fake.fail_next.append(Reply.json({"error": "Too many requests"}, status=429, **{"Retry-After": "3"}))
    sleeps: list[float] = []
    batches = list(make(settings, server.url(V1), sleeps=sleeps).read(None))
    assert sleeps == [3.0]
    assert len([r for r in server.requests if r.method == "POST"]) == 2
    assert sum(len(b.records) for b in batches) == 12


def test_symbols_string_values_and_eliminated_dimension(db: Engine, settings: Settings, server) -> None:
    def var(code: str, texts: list[str], **extra: Any) -> dict[str, Any]:
        values = [str(i) for i in range(len(texts))]
        return {"code": code, "text": code, "values": values, "valueTexts": texts, **extra}

    meta = {
        "title": "Lao động",
        "variables": [
            var("Địa phương", ["CẢ NƯỚC", "Hà Nội"]),
            var("Giới tính", ["Tổng số", "Nam", "Nữ"], elimination=True),
            var("Loại", ["Tất cả"]),
            var("Năm", ["2022", "2023", "Sơ bộ 2024"]),
        ],
    }

    def cell(combo: dict[str, str]) -> tuple[Any, str | None]:
        year, area = combo["Năm"], combo["Địa phương"]
        if area == "Hà Nội" and year == "2022":
            return None, "-"  # nil: magnitude zero
        if area == "Hà Nội" and year == "2023":
            return "n/a", None  # a string value
        if area == "CẢ NƯỚC" and year == "2022":
            return None, ".."
        return 51.5, None

    fake = FakePxWeb(server, meta, cell)
    options = {
        "indicator_dimension": None,
        "indicators": {},
        "indicator": "labour_force",
        "time_values": None,
        "unit": "nghìn người",
    }
    batches = list(make(settings, server.url(V1), **options).read(None))
    assert "Giới tính" not in fake.posts[0] and fake.posts[0]["Loại"] == ["0"]
    load_all(db, batches)
    rows = stored(db)
    assert rows[("labour_force", "01", "2022")] == (0.0, "-")
    assert rows[("labour_force", "01", "2023")] == (None, "n/a")
    assert rows[("labour_force", "VN", "2022")] == (None, "..")
    assert rows[("labour_force", "VN", "2024")] == (51.5, "provisional")
    assert len(rows) == 6


def test_variable_that_cannot_be_eliminated_must_be_selected(settings: Settings, server) -> None:
    meta = fixture("pxweb_table_meta.json")
    meta["variables"].append(
        {"code": "Giới tính", "text": "Giới tính", "values": ["0", "1"], "valueTexts": ["Nam", "Nữ"]}
    )
    FakePxWeb(server, meta, population)
    with pytest.raises(SourceError, match=r"Giới tính.*cannot be eliminated.*selections"):
        list(make(settings, server.url(V1)).read(None))
    result = make(settings, server.url(V1)).check()
    assert not result.ok and "Giới tính" in result.message
    ok = make(settings, server.url(V1), selections={"Giới tính": ["Nữ"]}).check()
    assert ok.ok and "12 cells" in ok.message


def test_check_reports_unmatched_values(settings: Settings, server) -> None:
    FakePxWeb(server, fixture("pxweb_table_meta.json"), population)
    areas = {"CẢ NƯỚC": "VN", "Đắk Lắk": "66"}
    result = make(settings, server.url(V1), areas=areas).check()
    assert result.ok and "Đắk Lắk" in result.message and "maxValues 150000" in result.message


def test_unchanged_vintage_skips_download_unless_full(settings: Settings, server) -> None:
    fake = FakePxWeb(server, fixture("pxweb_table_meta.json"), population)
    first = list(make(settings, server.url(V1)).read(None))
    cursor = first[-1].cursor
    assert len(fake.posts) == 1
    skipped = list(make(settings, server.url(V1)).read(cursor))
    assert len(fake.posts) == 1 and len(skipped) == 1 and len(skipped[0].records) == 0
    assert skipped[0].cursor == cursor
    list(make(settings, server.url(V1)).read(cursor, full=True))
    assert len(fake.posts) == 2
    list(make(settings, server.url(V1), areas={"Hà Nội": "01"}).read(cursor))  # options changed
    assert len(fake.posts) == 3
    fake.updated = "2026-01-01T00:00:00"
    list(make(settings, server.url(V1)).read(cursor))
    assert len(fake.posts) == 4


def test_v2_metadata_and_data_endpoints(db: Engine, settings: Settings, server) -> None:
    meta = fixture("pxweb_v2_metadata.json")
    posts: list[Request] = []

    def data(request: Request) -> Reply:
        posts.append(request)
        sel = {s["variableCode"]: s["valueCodes"] for s in request.json()["selection"]}
        body = copy.deepcopy(meta)
        body["dimension"]["Region"]["category"]["index"] = {c: i for i, c in enumerate(sel["Region"])}
        body["dimension"]["Tid"]["category"]["index"] = {c: i for i, c in enumerate(sel["Tid"])}
        body["size"] = [len(sel["Region"]), 1, len(sel["Tid"])]
        body["value"] = [1000 + i for i in range(body["size"][0] * body["size"][2])]
        return Reply.json(body)

    server.route("GET", "/api/v2/config", lambda r: Reply.json(fixture("pxweb_v2_config.json")))
    server.route("GET", "/api/v2/tables/TAB638", lambda r: Reply.json(fixture("pxweb_v2_table.json")))
    server.route("GET", "/api/v2/tables/TAB638/metadata", lambda r: Reply.json(meta))
    server.route("POST", "/api/v2/tables/TAB638/data", data)
    options = {
        "api": "v2",
        "language": "en",
        "table": "TAB638",
        "indicator_dimension": "ContentsCode",
        "indicators": {"Population": "population"},
        "area_dimension": "Region",
        "areas": {"Sweden": "SE", "01": "SE01"},
        "time_dimension": None,
        "time_values": None,
        "time_last": 2,
    }
    connector = make(settings, server.url("/api/v2"), **options)
    assert connector.check().ok
    batches = list(connector.read(None))
    assert posts[0].query["lang"] == ["en"] and posts[0].query["outputFormat"] == ["json-stat2"]
    assert {s["variableCode"]: s["valueCodes"] for s in posts[0].json()["selection"]} == {
        "Region": ["00", "01"],
        "ContentsCode": ["BE0101N1"],
        "Tid": ["2024", "2025"],
    }
    records = batches[0].records
    assert sorted(records["period"].unique()) == ["2024", "2025"]
    assert records["unit"].unique().tolist() == ["number"]
    assert batches[0].cursor["vintage"] == "2026-02-20T06:00:00Z"
    assert load_all(db, batches).inserted == 4
    assert stored(db)[("population", "SE01", "2025")] == (1003.0, None)

    server.route("POST", "/api/v2/tables/TAB638/data", lambda r: Reply(
        status=400, body=json.dumps(fixture("pxweb_v2_problem_400.json")).encode(),
        headers={"Content-Type": "application/problem+json"}))  # fmt: skip
    with pytest.raises(SourceError, match="HTTP 400: Bad Request; Value, XX is not a valid value code"):
        list(make(settings, server.url("/api/v2"), **options).read(None, full=True))


def test_source_down_refused_500_timeout(settings: Settings, server) -> None:
    with pytest.raises(SourceError, match="could not connect"):
        list(make(settings, f"http://127.0.0.1:{free_port()}/api/v1").read(None))
    assert not make(settings, f"http://127.0.0.1:{free_port()}/api/v1").check().ok

    FakePxWeb(server, fixture("pxweb_table_meta.json"), population)
    server.route("GET", TABLE_PATH, lambda r: Reply.text("Internal Server Error", status=500))
    with pytest.raises(SourceError, match="HTTP 500"):
        list(make(settings, server.url(V1)).read(None))

    slow = Reply.json(fixture("pxweb_v1_levels.json"))
    slow.delay = 1.5
    server.route("GET", f"{V1}/vi/{DB}", lambda r: slow)
    with pytest.raises(SourceError, match="timed out"):
        list(make(settings, server.url(V1)).read(None))


def test_malformed_payloads_name_the_url(settings: Settings, server) -> None:
    FakePxWeb(server, fixture("pxweb_table_meta.json"), population)
    server.route("POST", TABLE_PATH, lambda r: Reply.text("<html>Lỗi</html>", content_type="text/html"))
    with pytest.raises(SourceError, match=r"POST http://127\.0\.0\.1:\d+/api/v1/vi/D%C3%A2n.*not JSON"):
        list(make(settings, server.url(V1)).read(None))

    broken = fixture("pxweb_query_response.jsonstat2.json")
    broken["value"] = broken["value"][:-1]
    server.route("POST", TABLE_PATH, lambda r: Reply.json(broken))
    with pytest.raises(SourceError, match=r"not a usable JSON-stat 2\.0 dataset: `value` has 11 cells"):
        list(make(settings, server.url(V1)).read(None))

    server.route("GET", TABLE_PATH, lambda r: Reply.json({"title": "x", "variables": [{"code": "a"}]}))
    with pytest.raises(SourceError, match="table metadata has an unexpected shape"):
        list(make(settings, server.url(V1)).read(None))


def test_bad_period_cells_are_rejected_the_rest_loads(db: Engine, settings: Settings, server) -> None:
    meta = fixture("pxweb_table_meta.json")
    meta["variables"][1]["valueTexts"][12] = "Năm gốc"
    FakePxWeb(server, meta, population)
    batches = list(make(settings, server.url(V1), time_values=["Năm gốc", "Sơ bộ 2024"]).read(None))
    assert len(batches[0].rejects) == 6
    assert all("'Năm gốc' is not a recognised period" in reason for _, reason in batches[0].rejects)
    result = load_all(db, batches)
    assert (result.inserted, result.rejected) == (6, 6)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rejected_row WHERE source = 'gso'")).scalar() == 6


def test_options_are_strict_and_paths_are_percent_encoded(settings: Settings) -> None:
    with pytest.raises(ValueError, match="extra"):
        PxWebOptions.model_validate({"base_url": "http://x", **GSO_OPTIONS, "tabel": "x"})
    with pytest.raises(ValueError, match="exactly one of"):
        PxWebOptions.model_validate({"base_url": "http://x", **GSO_OPTIONS, "indicator": "x"})
    with pytest.raises(ValueError, match="named group"):
        PxWebOptions.model_validate({"base_url": "http://x", **GSO_OPTIONS, "period_regex": ["\\d+"]})
    url = make(settings, "https://pxweb.gso.gov.vn/pxweb/api/v1/").table_url()
    assert url == (
        "https://pxweb.gso.gov.vn/pxweb/api/v1/vi/D%C3%A2n%20s%E1%BB%91%20v%C3%A0%20lao%20%C4%91%E1%BB%99ng/V02.01.px"
    )


def test_end_to_end_through_the_runner(db: Engine, server, tmp_path: Path) -> None:
    from ioc.runner import run_source

    FakePxWeb(server, fixture("pxweb_table_meta.json"), population)
    options = {"base_url": server.url(V1), **GSO_OPTIONS}
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(
            {"province": {"code": "66"}, "sources": {SOURCE: {"connector": "pxweb", "options": options}}}
        ),
        encoding="utf-8",
    )
    settings = load_settings(config)
    policy = RetryPolicy(attempts=2, base_delay=0.01, timeout=2)
    first = run_source(db, settings, SOURCE, http_policy=policy)
    assert first.ok and first.rows_inserted == 12, first.error
    second = run_source(db, settings, SOURCE, http_policy=policy)
    assert second.ok and second.rows_inserted == second.rows_updated == 0
    assert len([r for r in server.requests if r.method == "POST"]) == 1  # vintage unchanged: skipped


def test_without_a_config_endpoint_the_max_values_option_applies(settings: Settings, server) -> None:
    fake = FakePxWeb(server, fixture("pxweb_table_meta.json"), population)
    server.route("GET", f"{V1}/vi", lambda r: Reply.json({"error": "not found"}, status=404))
    batches = list(make(settings, server.url(V1), max_values=6).read(None))
    assert len(fake.posts) >= 2
    assert all(math.prod(len(v) for v in post.values()) <= 6 for post in fake.posts)
    assert sum(len(b.records) for b in batches) == 12


NO_INDICATOR_DIMENSION: dict[str, Any] = {"indicator_dimension": None, "indicators": {}}
V2_UNITS = {
    "api": "v2",
    "language": "en",
    "table": "TAB5444",
    "area_dimension": "Region",
    "areas": {"Sweden": "SE", "Stockholm county": "SE01"},
    "time_dimension": None,
    "time_values": None,
}


def _scb_mean_age(server: LoopbackServer) -> None:
    server.route("GET", "/api/v2/config", lambda r: Reply.json(fixture("pxweb_v2_config.json")))
    server.route("GET", "/api/v2/tables/TAB5444", lambda r: Reply.json(fixture("pxweb_v2_table.json")))
    server.route(
        "GET",
        "/api/v2/tables/TAB5444/metadata",
        lambda r: Reply.json(fixture("pxweb_v2_metadata_units.json")),
    )
    server.route(
        "POST", "/api/v2/tables/TAB5444/data", lambda r: Reply.json(fixture("pxweb_v2_data_units.json"))
    )


@pytest.mark.parametrize(
    "roles",
    [
        {"indicator_dimension": "Kon", "indicators": {"men": "mean_age_men", "women": "mean_age_women"}},
        {"indicator": "mean_age_men", "selections": {"Kon": ["men"]}, **NO_INDICATOR_DIMENSION},
    ],
)
def test_unit_comes_from_the_dimension_that_carries_it(
    db: Engine, settings: Settings, server, roles: dict[str, Any]
) -> None:
    """SCB puts the unit on ContentsCode (`category.unit.BE0101G9.base = "år"`), not on the indicator's
    dimension (here: sex) — and there may be no indicator dimension at all."""
    _scb_mean_age(server)
    connector = make(settings, server.url("/api/v2"), **{**V2_UNITS, **roles})
    batches = list(connector.read(None))
    assert batches[0].records["unit"].tolist() == ["år"] * len(batches[0].records)
    load_all(db, batches)
    assert stored(db, "unit")[("mean_age_men", "SE01", "2025")] == (39.0, None, "år")


def test_a_configured_unit_wins_over_the_tables(settings: Settings, server) -> None:
    _scb_mean_age(server)
    roles = {
        "indicator": "mean_age_men",
        "selections": {"Kon": ["men"]},
        "unit": "năm",
        **NO_INDICATOR_DIMENSION,
    }
    [batch] = list(make(settings, server.url("/api/v2"), **{**V2_UNITS, **roles}).read(None))
    assert set(batch.records["unit"]) == {"năm"}
