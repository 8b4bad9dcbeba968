"""Records/s of the statistical connectors' parse and parse + load on this machine.

    python bench/bench_stat_connectors.py [--url postgresql://postgres@127.0.0.1:5432/postgres]

Serves synthetic payloads in the real shapes from a loopback HTTP server — a PxWeb v1 table of
200,000 JSON-stat cells (split by maxValues into two POSTs), an SDMX-JSON 1.0 message of 50,000
observations, 20,000 World Bank rows over 20 pages — then times:

* parse: `connector.read()` end to end (HTTP on loopback, JSON decoding, mapping to records);
* parse + load: the same, plus `ioc.load.load_batch` into a scratch database created for the run
  and dropped afterwards (first load = inserts; a second identical load = all unchanged).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _pxweb_fixture() -> tuple[dict[str, Any], Callable[[Any], Any]]:
    areas = [f"Tỉnh {i:03d}" for i in range(100)]
    indicators = [f"Chỉ tiêu {i:02d}" for i in range(20)]
    periods = [*[f"{y}M{m:02d}" for y in range(2018, 2027) for m in range(1, 13)][:99], "Sơ bộ 2026M04"]
    variables = [
        ("Địa phương", areas),
        ("Chỉ tiêu", indicators),
        ("Tháng", periods),
    ]
    meta = {
        "title": "bench",
        "variables": [
            {"code": code, "text": code, "values": [str(i) for i in range(len(texts))], "valueTexts": texts}
            for code, texts in variables
        ],
    }
    meta["variables"][2]["time"] = True

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        asked = {q["code"]: q["selection"]["values"] for q in body["query"]}
        dims, sizes = {}, []
        for var in meta["variables"]:
            codes = asked[var["code"]]
            text_of = dict(zip(var["values"], var["valueTexts"], strict=True))
            dims[var["code"]] = {
                "label": var["text"],
                "category": {
                    "index": {c: i for i, c in enumerate(codes)},
                    "label": {c: text_of[c] for c in codes},
                },
            }
            sizes.append(len(codes))
        # deterministic values from the cells' codes, so a second identical pull changes nothing
        grids = np.meshgrid(
            *[np.array(asked[v["code"]], dtype=np.int64) for v in meta["variables"]], indexing="ij"
        )
        n = int(np.prod(sizes))
        values = (
            np.round((grids[0] * 7919 + grids[1] * 104729 + grids[2] * 31) % 100_000 / 10, 1).ravel().tolist()
        )
        status = {}
        for i in range(0, n, 97):
            values[i] = None
            status[str(i)] = ".."
        return {
            "version": "2.0",
            "class": "dataset",
            "updated": "2026-05-01T00:00:00Z",
            "id": [v["code"] for v in meta["variables"]],
            "size": sizes,
            "dimension": dims,
            "value": values,
            "status": status,
        }

    return meta, answer


def _sdmx_message(rng: np.random.Generator, series: int = 500, periods: int = 100) -> dict[str, Any]:
    times = [{"id": f"{2000 + i // 12}-{i % 12 + 1:02d}"} for i in range(periods)]
    return {
        "meta": {"id": "BENCH", "prepared": "2026-05-01T00:00:00Z"},
        "data": {
            "structure": {
                "dimensions": {
                    "dataSet": [{"id": "FREQ", "keyPosition": 0, "values": [{"id": "M"}]}],
                    "series": [
                        {"id": "REF_AREA", "keyPosition": 1, "values": [{"id": f"A{i}"} for i in range(50)]},
                        {"id": "SUBJECT", "keyPosition": 2, "values": [{"id": f"S{i}"} for i in range(10)]},
                    ],
                    "observation": [{"id": "TIME_PERIOD", "keyPosition": 3, "values": times}],
                },
                "attributes": {
                    "dataSet": [],
                    "series": [],
                    "observation": [{"id": "OBS_STATUS", "values": [{"id": "A"}, {"id": "M"}]}],
                },
            },
            "dataSets": [
                {
                    "action": "Information",
                    "series": {
                        f"{s // 10}:{s % 10}": {
                            "attributes": [],
                            "observations": {
                                str(t): [round(float(v), 3), 0]
                                for t, v in enumerate(rng.random(periods) * 100)
                            },
                        }
                        for s in range(series)
                    },
                }
            ],
        },
    }


def _worldbank_rows(rng: np.random.Generator, countries: int = 250, years: int = 80) -> list[dict[str, Any]]:
    rows = []
    for c in range(countries):
        for y in range(2025, 2025 - years, -1):
            value = None if y == 2025 else round(float(rng.random() * 10), 2)
            rows.append(
                {
                    "indicator": {"id": "NY.GDP.MKTP.KD.ZG", "value": "GDP growth (annual %)"},
                    "country": {"id": f"C{c:03d}", "value": f"Country {c}"},
                    "countryiso3code": f"C{c:03d}",
                    "date": str(y),
                    "value": value,
                    "unit": "",
                    "obs_status": "",
                    "decimal": 1,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    from connectors.pxweb import PxWebConnector, PxWebOptions
    from connectors.sdmx import SdmxConnector, SdmxOptions
    from connectors.worldbank import WorldBankConnector, WorldBankOptions
    from ioc.config import ProvinceConfig, Settings
    from ioc.connector import ConnectorContext
    from ioc.database import make_engine, temporary_database
    from ioc.http import RetryPolicy, SourceHttp
    from ioc.load import load_batch
    from ioc.migrate import upgrade
    from tests.loopback import LoopbackServer, Reply

    rng = np.random.default_rng(20260501)
    settings = Settings(province=ProvinceConfig(code="66"))
    meta, answer = _pxweb_fixture()
    sdmx_body = json.dumps(_sdmx_message(rng)).encode()
    wb_rows = _worldbank_rows(rng)
    per_page = 1000

    def wb_page(request: Any) -> Reply:
        page = int(request.arg("page", "1"))
        pages = -(-len(wb_rows) // per_page)
        head = {
            "page": page,
            "pages": pages,
            "per_page": str(per_page),
            "total": len(wb_rows),
            "lastupdated": "2026-04-01",
        }
        return Reply.json([head, wb_rows[(page - 1) * per_page : page * per_page]])

    server = LoopbackServer()
    server.route(
        "GET", "/px/api/v1/vi", lambda r: Reply.json({"maxValues": 150_000, "maxCalls": 30, "timeWindow": 10})
    )
    server.route(
        "GET", "/px/api/v1/vi/Bench", lambda r: Reply.json([{"id": "T1.px", "type": "t", "updated": "x"}])
    )
    server.route("GET", "/px/api/v1/vi/Bench/T1.px", lambda r: Reply.json(meta))
    server.route("POST", "/px/api/v1/vi/Bench/T1.px", lambda r: Reply.json(answer(r.json())))
    server.route(
        "GET",
        "/sdmx/data/BENCH/all",
        lambda r: Reply(body=sdmx_body, headers={"Content-Type": "application/vnd.sdmx.data+json"}),
    )
    server.route("GET", "/wb/country/all/indicator/NY.GDP.MKTP.KD.ZG", wb_page)

    databases = ExitStack()
    engine = make_engine(databases.enter_context(temporary_database(args.url, prefix="ioc_bench")))
    try:
        upgrade(engine)
        with server:

            def context() -> ConnectorContext:
                http = SourceHttp(policy=RetryPolicy(attempts=2, timeout=120))
                return ConnectorContext(source="bench", settings=settings, http=http)

            cases = {
                "pxweb (JSON-stat 2.0)": lambda: PxWebConnector(
                    PxWebOptions(
                        base_url=server.url("/px/api/v1"),
                        table="Bench/T1.px",
                        indicator_dimension="Chỉ tiêu",
                        indicators={f"Chỉ tiêu {i:02d}": f"ind{i:02d}" for i in range(20)},
                        area_dimension="Địa phương",
                        areas={f"Tỉnh {i:03d}": f"{i:03d}" for i in range(100)},
                    ),
                    context(),
                ),
                "sdmx (SDMX-JSON 1.0)": lambda: SdmxConnector(
                    SdmxOptions(base_url=server.url("/sdmx"), flow="BENCH"), context()
                ),
                "worldbank (API v2)": lambda: WorldBankConnector(
                    WorldBankOptions(
                        base_url=server.url("/wb"),
                        countries=["all"],
                        indicators={"NY.GDP.MKTP.KD.ZG": "gdp_growth"},
                        per_page=per_page,
                    ),
                    context(),
                ),
            }
            print(f"{'connector':24} {'records':>8} {'parse s':>8} {'parse rec/s':>12} "
                  f"{'+load s':>8} {'+load rec/s':>12} {'reload s':>9} {'changed':>8}")  # fmt: skip
            for label, build in cases.items():
                started = time.perf_counter()
                batches = list(build().read(None, full=True))
                parse_s = time.perf_counter() - started
                records = sum(len(b.records) for b in batches)

                timings = []
                for _ in range(2):  # first load inserts, the second finds everything unchanged
                    started = time.perf_counter()
                    changed = 0
                    with engine.begin() as conn:
                        for batch in build().read(None, full=True):
                            result = load_batch(conn, batch.table, batch.records, source=label.split()[0])
                            changed += result.changed
                    timings.append((time.perf_counter() - started, changed))
                (load_s, _), (reload_s, changed_again) = timings
                print(
                    f"{label:24} {records:>8} {parse_s:>8.2f} {records / parse_s:>12,.0f} "
                    f"{load_s:>8.2f} {records / load_s:>12,.0f} {reload_s:>9.2f} {changed_again:>8}"
                )
    finally:
        engine.dispose()
        databases.close()


if __name__ == "__main__":
    main()
