"""Records per second of the event connectors: parse alone, and parse + load into a scratch database.

    python bench/bench_event_connectors.py [--scale 1.0] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Sources are real: synthetic pages served by a LoopbackServer (DVCQG dossiers, Open311 requests),
a large CSV dropped in a folder (dossiers and indicators), and a table in a second database (sql).
"Parse" drains `connector.read()` (HTTP, JSON decoding and parsing included); "parse + load" also
runs `ioc.load.load_batch` per batch into a freshly migrated scratch database, created and dropped
here (its tables are emptied before each load, so every record is an insert).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
from sqlalchemy import Engine, make_url, text

from ioc.config import Settings
from ioc.connector import Connector, ConnectorContext, connector_class
from ioc.database import make_engine, temporary_database
from ioc.http import RetryPolicy, SourceHttp
from ioc.load import load_batch, record_rejects
from ioc.migrate import upgrade
from tests.loopback import LoopbackServer, Reply, Request

DEFAULT_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def dvcqg(i: int) -> dict[str, Any]:
    day = 1 + i % 28
    finished = i % 3 == 0
    return {
        "MaHoSo": f"000.00.15.H99-2507{day:02d}-{i:07d}",
        "MaTTHC": f"1.00{i % 400:04d}",
        "TenTTHC": "Cấp giấy phép xây dựng",
        "ChuHoSo": "Nguyễn Văn A",
        "SoDienThoai": "0900000000",
        "Email": "a@example.vn",
        "NgayTiepNhan": f"202507{day:02d}083015",
        "NgayHenTra": f"202508{day:02d}170000",
        "NgayKetThucXuLy": f"202508{day:02d}100000" if finished else "",
        "NgayTra": "",
        "TrangThaiHoSo": "9" if finished else str(1 + i % 8),
        "KenhThucHien": str(1 + i % 3),
        "DonViXuLy": f"SO{i % 20:02d}",
        "DanhSachHoSoBoSung": [],
    }


def open311(i: int, now: datetime) -> dict[str, Any]:
    at = (now - timedelta(minutes=1 + i % 7000)).isoformat().replace("+00:00", "Z")
    return {
        "service_request_id": f"2026-{i:07d}",
        "status": "open" if i % 4 else "closed",
        "service_code": ("POTHOLE", "GARBAGE", "STREETLIGHT", "FLOODING")[i % 4],
        "description": "Ổ gà lớn giữa làn xe máy",
        "requested_datetime": at,
        "updated_datetime": at,
        "expected_datetime": None,
        "lat": 12.6 + (i % 100) / 1000,
        "long": 108.0 + (i % 100) / 1000,
    }


def paged(pages: list[bytes], empty: bytes = b"[]") -> Callable[[Request], Reply]:
    def reply(request: Request) -> Reply:
        number = int(request.arg("page", "1") or 1)
        body = pages[number - 1] if 0 < number <= len(pages) else empty
        return Reply(body=body, headers={"Content-Type": "application/json"})

    return reply


def drain(engine: Engine | None, connector: Connector) -> int:
    """Read every batch; load it when an engine is given. Returns records read."""
    count = 0
    batches: Iterator[Any] = connector.read(None, full=True)
    for batch in batches:
        count += len(batch.records) + len(batch.rejects)
        if engine is not None:
            with engine.begin() as connection:
                load_batch(connection, batch.table, batch.records, source=connector.context.source)
                record_rejects(
                    connection,
                    source=connector.context.source,
                    target_table=batch.table,
                    run_id=None,
                    rejects=batch.rejects,
                )
    return count


def build(name: str, options: dict[str, Any], settings: Settings) -> Connector:
    cls = connector_class(name)
    http = SourceHttp(policy=RetryPolicy(attempts=2, base_delay=0.05, timeout=120))
    context = ConnectorContext(source=f"bench_{name}", settings=settings, http=http)
    return cls(cls.Options.model_validate(options), context)


def timed(label: str, n_expected: int, run: Callable[[], int]) -> None:
    started = time.perf_counter()
    n = run()
    seconds = time.perf_counter() - started
    assert n == n_expected, f"{label}: read {n}, expected {n_expected}"
    print(f"{label:<44} {n:>9,} records {seconds:7.2f} s {n / seconds:>11,.0f} records/s", flush=True)


def truncate(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE dossier, incident, indicator_observation, rejected_row"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k dossiers, 50k requests")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN)
    args = parser.parse_args()
    n_dossiers, n_requests = int(100_000 * args.scale), int(50_000 * args.scale)
    n_csv, n_sql = int(200_000 * args.scale), int(100_000 * args.scale)

    databases = ExitStack()
    url = databases.enter_context(temporary_database(args.admin_url, prefix="ioc_bench"))
    src_url = databases.enter_context(temporary_database(args.admin_url, prefix="ioc_bench_src"))
    name = make_url(url).database
    engine = make_engine(url)
    work = Path(tempfile.mkdtemp(prefix="ioc-bench-"))
    try:
        upgrade(engine)
        settings = Settings.model_validate({"province": {"code": "66"}, "drop_dir": str(work / "drop")})
        print(f"scratch database {name}; 2 cores; pandas {pd.__version__}")

        # --- dossiers over HTTP (DVCQG records, pages of 5000) -----------------------------------
        size = 5000
        records = [dvcqg(i) for i in range(n_dossiers)]
        pages = [json.dumps({"data": records[i : i + size]}).encode() for i in range(0, n_dossiers, size)]
        server = LoopbackServer()
        server.route("GET", "/hoso", paged(pages, b'{"data": []}'))
        with server:
            options = {"url": server.url("/hoso"), "page_size": size}
            timed(
                "dossiers HTTP: parse", n_dossiers, lambda: drain(None, build("dossiers", options, settings))
            )
            truncate(engine)
            timed(
                "dossiers HTTP: parse + load",
                n_dossiers,
                lambda: drain(engine, build("dossiers", options, settings)),
            )

        # --- open311 (pages of 1000) ------------------------------------------------------------
        now = datetime.now(UTC)
        requests = [open311(i, now) for i in range(n_requests)]
        size = 1000
        pages = [json.dumps(requests[i : i + size]).encode() for i in range(0, n_requests, size)]
        server = LoopbackServer()
        server.route("GET", "/v2/requests.json", paged(pages))
        with server:
            options = {
                "endpoint": server.url("/v2"),
                "page_size": size,
                "updates": "no",
                "initial_window": "7d",
            }
            timed("open311: parse", n_requests, lambda: drain(None, build("open311", options, settings)))
            truncate(engine)
            timed(
                "open311: parse + load",
                n_requests,
                lambda: drain(engine, build("open311", options, settings)),
            )

        # --- dossiers folder drop: one large CSV ------------------------------------------------
        frame = pd.DataFrame([dvcqg(i) for i in range(n_csv)]).drop(columns=["DanhSachHoSoBoSung"])
        master = work / "hoso.csv"
        frame.to_csv(master, index=False, encoding="utf-8-sig")
        folder = work / "drop" / "bench_dossiers"
        options = {"folder": str(folder), "settle_seconds": 0}

        def dossier_csv(load: bool) -> int:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(master, folder / "hoso.csv")
            return drain(engine if load else None, build("dossiers", options, settings))

        timed("dossiers CSV drop: parse", n_csv, lambda: dossier_csv(False))
        truncate(engine)
        timed("dossiers CSV drop: parse + load", n_csv, lambda: dossier_csv(True))

        # --- files: a large indicators CSV ------------------------------------------------------
        months = [f"Tháng {m}/{y}" for y in range(2000, 2026) for m in range(1, 13)]
        indicators = pd.DataFrame(
            {
                "Chỉ tiêu": [f"chi_tieu_{i % 50}" for i in range(n_csv)],
                "Mã địa bàn": [f"66{(i // 50) % 100:03d}" for i in range(n_csv)],
                "Kỳ": [months[(i // 5000) % len(months)] for i in range(n_csv)],
                "Giá trị": [f"{i % 9973},{i % 100:02d}" for i in range(n_csv)],
            }
        )
        master = work / "chi_tieu.csv"
        indicators.to_csv(master, index=False, sep=";")
        folder = work / "drop" / "bench_files"
        options = {
            "target": "indicator_observation",
            "columns": {
                "indicator": "Chỉ tiêu",
                "org_unit_code": "Mã địa bàn",
                "period": "Kỳ",
                "value": "Giá trị",
            },
            "decimal": ",",
            "folder": str(folder),
            "settle_seconds": 0,
        }

        def files_csv(load: bool) -> int:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(master, folder / "chi_tieu.csv")
            return drain(engine if load else None, build("files", options, settings))

        timed("files indicators CSV: parse", n_csv, lambda: files_csv(False))
        truncate(engine)
        timed("files indicators CSV: parse + load", n_csv, lambda: files_csv(True))

        # --- sql: a table in another database ---------------------------------------------------
        source = make_engine(src_url)
        with source.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE su_co AS SELECT g AS ma, 'tai_nan' AS loai, "
                    "12.6 + (g % 100) / 1000.0 AS vi_do, "
                    "108.0 AS kinh_do, timestamp '2026-01-01' + g * interval '1 minute' AS thoi_diem, "
                    "CASE WHEN g % 3 = 0 THEN 'closed' ELSE 'open' END AS trang_thai "
                    f"FROM generate_series(1, {n_sql}) AS g"
                )
            )
        source.dispose()
        os.environ["BENCH_SRC_URL"] = src_url
        options = {
            "url_env": "BENCH_SRC_URL",
            "target": "incident",
            "table": "su_co",
            "columns": {
                "external_id": "ma",
                "service_code": "loai",
                "lat": "vi_do",
                "lon": "kinh_do",
                "reported_at": "thoi_diem",
                "status": "trang_thai",
            },
            "constants": {"category": "traffic_accident"},
            "incremental_column": "thoi_diem",
        }
        timed("sql: parse", n_sql, lambda: drain(None, build("sql", options, settings)))
        truncate(engine)
        timed("sql: parse + load", n_sql, lambda: drain(engine, build("sql", options, settings)))
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
        databases.close()


if __name__ == "__main__":
    main()
