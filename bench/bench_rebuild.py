"""What one load costs the web app: every desktop page of the load test's journeys drawn again for a
reader's scope after the data version changed (the read model's cache emptied), at 10 million dossiers.

    python bench/bench_rebuild.py [--database ioc_bench_10m] [--departments D3,D7] [--runs 3]

For each scope (a leader, then each department's staff) the pages are drawn cold (the cache emptied
first, as after a load) and warm (the median of --runs). The baseline measured in the same run is the
same pages drawn warm: the rebuild's ratio to it is what a load adds. Load average with every figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from dash._utils import to_json  # noqa: E402
from flask import g  # noqa: E402

from bench.bench_desk import desk_app, load, timed  # noqa: E402
from bench.journeys import default_urls  # noqa: E402
from ioc.kpi.periods import previous_period  # noqa: E402
from ioc.queries import EVERYTHING, Scope  # noqa: E402


def drawer(layouts: dict[str, Any], url: str) -> Any:
    """The page's layout function with the URL's query, as Dash's page container calls it."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    path = parts.path
    if path.startswith("/desk/kpi/"):
        query["kpi_id"] = path.rsplit("/", 1)[-1]
        path = "/desk/kpi/<kpi_id>"
    return lambda: layouts[path](**query)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="ioc_bench_10m")
    parser.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432/")
    parser.add_argument("--departments", default="D3")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    app, _engine, layouts = desk_app(args.server + args.database)
    rm = app.server.config["IOC_READ_MODEL"]
    month = rm.current_period("month")
    quarter = rm.current_period("quarter")
    urls = default_urls(previous_period(month).label, quarter.label, "66042")
    scopes = [("leader", EVERYTHING)] + [
        (f"staff {code}", Scope(departments=frozenset({code}))) for code in args.departments.split(",")
    ]
    print(f"# rebuild bench on {args.database}: {len(urls)} pages per scope; {load()}")
    for label, scope in scopes:
        cold_total = warm_total = 0.0
        with app.server.test_request_context():
            g.ioc_scope = scope
            rm.cache.clear()
            for page_url in urls:
                draw = drawer(layouts, page_url)
                cold = timed(draw)
                warm = statistics.median(timed(draw) for _ in range(args.runs))
                drawn = draw()
                encode = statistics.median(timed(lambda d=drawn: to_json(d)) for _ in range(args.runs))
                cold_total += cold
                warm_total += warm
                print(
                    f"{label:10} {page_url:60} cold {cold:8.0f} ms  warm {warm:7.1f} ms  "
                    f"JSON {encode:6.1f} ms ({len(to_json(drawn)) // 1024} KB)   ({load()})"
                )
        print(
            f"{label}: all pages cold {cold_total / 1000:.1f} s, warm {warm_total:.0f} ms "
            f"(× {cold_total / max(warm_total, 1e-3):.0f})   ({load()})"
        )


if __name__ == "__main__":
    main()
