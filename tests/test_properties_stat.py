"""Property tests: hostile payloads against the statistical connectors (SDMX, PxWeb/JSON-stat, World Bank).

Each example serves a real fixture with a few values replaced by poison (tests/hostile.py) from a
loopback server, reads it with the connector and checks, whatever the input:

* `read` ends with batches or a `SourceError` (the documented error of a malformed message) whose text
  is short — never another exception;
* every record it yields is storable as it stands: codes are short texts without control characters,
  the grain is known, the period starts in 1900–2100, the value is a finite number or NULL;
* every rejected record has a reason, and serialises to a small JSON document;
* the batch loads (and is rolled back) without the load path raising.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from connectors import jsonstat
from connectors.periods import GRAINS
from connectors.pxweb import PxWebConnector
from connectors.sdmx import SdmxConnector
from connectors.worldbank import WorldBankConnector
from ioc.config import Settings
from ioc.connector import Batch, Connector, ConnectorContext, ConnectorOptions, SourceError
from ioc.http import RetryPolicy, SourceHttp
from tests.hostile import PROPERTY, hostile_reply, load_rolled_back, mutated
from tests.loopback import LoopbackServer, Reply
from tests.test_pxweb import V2_UNITS

FIXTURES = Path(__file__).parent / "fixtures" / "stat"
MAX_CODE = 200


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


def connector(cls: type[Connector], settings_: Settings, options: dict[str, Any]) -> Connector:
    http = SourceHttp(policy=RetryPolicy(attempts=1, timeout=5))
    opts: ConnectorOptions = cls.Options.model_validate(options)
    return cls(opts, ConnectorContext(source="fuzz", settings=settings_, http=http))


# --------------------------------------------------------------------------- the invariants


def _text_ok(value: Any, limit: int = MAX_CODE) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def check_pull(engine: Engine, read: Callable[[], list[Batch]]) -> str:
    """Run `read`; assert the invariants of the module docstring. Returns what happened (statistics)."""
    try:
        batches = read()
    except SourceError as exc:
        assert len(str(exc)) < 2_000, "an error message that echoes the payload"
        return "SourceError"
    outcome = "loaded"
    for batch in batches:
        frame = batch.records if isinstance(batch.records, pd.DataFrame) else pd.DataFrame(batch.records)
        for rec in frame.to_dict(orient="records"):
            assert _text_ok(rec["indicator"]) and _text_ok(rec["org_unit_code"]), rec
            assert _text_ok(rec["period"], 20) and rec["grain"] in GRAINS, rec
            assert isinstance(rec["period_start"], date) and 1900 <= rec["period_start"].year <= 2100, rec
            value = rec["value"]
            assert _missing(value) or (isinstance(value, float | int | np.number) and math.isfinite(value)), (
                rec
            )
            for name in ("status", "unit", "vintage"):
                assert _missing(rec.get(name)) or _text_ok(rec[name]), (name, rec)
        for rec, reason in batch.rejects:
            outcome = "rejects"
            assert isinstance(reason, str) and reason.strip()
            assert len(json.dumps(rec, default=str)) < 10_000, rec
        load_rolled_back(engine, batch, "fuzz")
    return outcome


# --------------------------------------------------------------------------- SDMX

EXR = {"flow": "ECB,EXR,1.0", "key": "M.USD+JPY.EUR.SP00.A", "org_unit": "VN", "unit": "per EUR"}
SDMX_FOCUS = (("data", "dataSets"), ("data", "dataSets", 0), ("data", "dataSets", 0, "series"))
SDMX_CASES = [
    ("sdmx_data.json", "/rest/data/ECB,EXR,1.0/M.USD+JPY.EUR.SP00.A", EXR),
    ("sdmx_delta_delete.json", "/rest/data/ECB,EXR,1.0/M.USD+JPY.EUR.SP00.A", EXR),
    (
        "sdmx_data_v2.json",
        "/rest/data/OECD.SDD,DF_PRICES,1.0/Q..CPI",
        {"flow": "OECD.SDD,DF_PRICES,1.0", "key": "Q..CPI", "indicator_dimension": "MEASURE"},
    ),
    (
        "sdmx_data_unit_mult.json",
        "/rest/data/FAO,AGRI_PROD,1.0/A.VN..all",
        {"flow": "FAO,AGRI_PROD,1.0", "key": "A.VN..all", "indicator_dimension": "COMMODITY"},
    ),
]


@PROPERTY
@given(case=st.sampled_from(SDMX_CASES), data=st.data())
def test_sdmx_hostile_messages(
    engine: Engine, settings: Settings, loopback: LoopbackServer, case, data
) -> None:
    name, path, options = case
    payload = data.draw(mutated(fixture(name), focus=SDMX_FOCUS), label="message")
    loopback.route("GET", path, lambda r: hostile_reply(payload))
    sdmx = connector(SdmxConnector, settings, {"base_url": loopback.url("/rest"), **options})
    outcome = check_pull(engine, lambda: list(sdmx.read(None)))
    check = sdmx.check()  # never raises either
    assert isinstance(check.ok, bool)
    STATS["sdmx"][outcome] = STATS["sdmx"].get(outcome, 0) + 1


# --------------------------------------------------------------------------- PxWeb / JSON-stat

PX_OPTIONS = {**V2_UNITS, "indicator_dimension": "Kon", "indicators": {"men": "m", "women": "w"}}


@PROPERTY
@given(data=st.data(), which=st.sampled_from(["data", "data", "data", "metadata", "config"]))
def test_pxweb_hostile_responses(
    engine: Engine, settings: Settings, loopback: LoopbackServer, data, which: str
) -> None:
    bodies = {
        "config": fixture("pxweb_v2_config.json"),
        "metadata": fixture("pxweb_v2_metadata_units.json"),
        "data": fixture("pxweb_v2_data_units.json"),
    }
    bodies[which] = data.draw(mutated(bodies[which], focus=(("value",), ("status",))), label=which)
    loopback.route("GET", "/px/config", lambda r: hostile_reply(bodies["config"]))
    loopback.route("GET", "/px/tables/TAB5444", lambda r: Reply.json({"id": "TAB5444"}))
    loopback.route("GET", "/px/tables/TAB5444/metadata", lambda r: hostile_reply(bodies["metadata"]))
    loopback.route("POST", "/px/tables/TAB5444/data", lambda r: hostile_reply(bodies["data"]))
    px = connector(PxWebConnector, settings, {"base_url": loopback.url("/px"), **PX_OPTIONS})
    outcome = check_pull(engine, lambda: list(px.read(None, full=True)))
    STATS["pxweb"][outcome] = STATS["pxweb"].get(outcome, 0) + 1


@PROPERTY
@given(
    payload=st.sampled_from(
        ["pxweb_query_response.jsonstat2.json", "jsonstat_edge_sparse.json", "jsonstat_edge_array.json"]
    ).flatmap(lambda name: mutated(fixture(name), focus=(("value",), ("status",), ("dimension",))))
)
def test_jsonstat_reader_raises_only_its_error(payload: Any) -> None:
    try:
        dataset = jsonstat.read(json.loads(json.dumps(payload)))
    except jsonstat.JsonStatError:
        STATS["jsonstat"]["JsonStatError"] = STATS["jsonstat"].get("JsonStatError", 0) + 1
        return
    frame = dataset.frame()
    assert len(frame) == len(dataset.cells)
    assert not np.isinf(dataset.values).any(), "±Infinity read as a number"
    jsonstat.cell_units(dataset)
    STATS["jsonstat"]["read"] = STATS["jsonstat"].get("read", 0) + 1


# --------------------------------------------------------------------------- World Bank

GDP = "NY.GDP.MKTP.KD.ZG"


@PROPERTY
@given(payload=mutated(fixture("worldbank_indicator.json"), focus=((1,), (1, 0), (1, 1))))
def test_worldbank_hostile_pages(
    engine: Engine, settings: Settings, loopback: LoopbackServer, payload
) -> None:
    loopback.route("GET", f"/wb/country/VN/indicator/{GDP}", lambda r: hostile_reply(payload))
    wb = connector(
        WorldBankConnector, settings, {"base_url": loopback.url("/wb"), "indicators": {GDP: "gdp"}}
    )
    outcome = check_pull(engine, lambda: list(wb.read(None)))
    assert isinstance(wb.check().ok, bool)
    STATS["worldbank"][outcome] = STATS["worldbank"].get(outcome, 0) + 1


STATS: dict[str, dict[str, int]] = {"sdmx": {}, "pxweb": {}, "jsonstat": {}, "worldbank": {}}


def teardown_module() -> None:
    print("\nhostile examples by outcome:", json.dumps(STATS))
