"""Property test: hostile GeoReport v2 answers against the Open311 connector.

Each example serves the real fixtures (requests, updates) with personal data planted in every free-text
and contact field and a few values replaced by poison (tests/hostile.py). Whatever the input:

* `read` ends with batches or a short `SourceError` — never another exception;
* no planted personal datum reaches a record, a rejected record, a reason or the error text;
* records are storable as they stand (ids and codes are short printable texts, status open/closed,
  times plausible) and load (rolled back) without the load path raising — coordinates out of range
  or infinite are the load path's to reject;
* every rejected record has a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from connectors.open311 import Open311Connector
from ioc.config import Settings
from ioc.connector import ConnectorContext, SourceError
from ioc.http import RetryPolicy, SourceHttp
from tests.fixtures.events.support import fixture
from tests.hostile import PROPERTY, hostile_reply, load_rolled_back, mutated
from tests.loopback import LoopbackServer, Reply

MARK = "PII-Nguyen-Van-An-0912345678"
PERSONAL = {
    "description": f"Gọi {MARK} nhé",
    "status_notes": f"Đã gọi {MARK}",
    "address": f"Số 1 {MARK}",
    "address_id": MARK,
    "first_name": MARK,
    "last_name": MARK,
    "email": f"{MARK}@example.vn",
    "phone": MARK,
    "media_url": f"https://x.example/{MARK}.jpg",
    "attributes": [{"name": "contact", "value": MARK}],
    "extended_attributes": {"reporter": MARK},
    "notes": [{"datetime": "2025-07-14T09:05:33+07:00", "description": MARK}],
}
NOW = datetime.now(UTC)


def _planted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n, item in enumerate(items):
        at = (NOW - timedelta(hours=n + 1)).isoformat()
        out.append({**item, **PERSONAL, "requested_datetime": at, "updated_datetime": at})
    return out


REQUESTS = _planted(fixture("open311_requests.json"))
UPDATES = [{**u, "description": MARK} for u in fixture("open311_servicerequestupdates.json")]
STATS: dict[str, int] = {}


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


def _storable(rec: dict[str, Any]) -> None:
    for name in ("external_id", "category"):
        assert isinstance(rec[name], str) and 0 < len(rec[name]) <= 100 and rec[name].isprintable(), rec
    for name in ("service_code", "status_detail"):
        value = rec.get(name)
        assert value is None or value is pd.NA or (isinstance(value, str) and value.isprintable()), rec
    assert rec["status"] in ("open", "closed"), rec
    for name in ("reported_at", "closed_at", "due_at"):
        value = rec.get(name)
        if value is not None and not pd.isna(value):
            assert 1990 <= value.year <= NOW.year + 2, (name, rec)


@PROPERTY
@given(
    requests=mutated(REQUESTS, focus=((0,), (1,), (2,))),
    updates=st.one_of(st.none(), mutated(UPDATES, focus=((0,),))),
)
def test_open311_hostile_answers(
    engine: Engine, settings: Settings, loopback: LoopbackServer, requests: Any, updates: Any
) -> None:
    loopback.route("GET", "/o/requests.json", lambda r: hostile_reply(requests))
    loopback.route(
        "GET",
        "/o/servicerequestupdates.json",
        lambda r: Reply.json([], status=404) if updates is None else hostile_reply(updates),
    )
    http = SourceHttp(policy=RetryPolicy(attempts=1, timeout=5))
    options = Open311Connector.Options.model_validate({"endpoint": loopback.url("/o"), "page_size": None})
    connector = Open311Connector(options, ConnectorContext(source="fuzz", settings=settings, http=http))
    try:
        batches = list(connector.read(None))
    except SourceError as exc:
        assert MARK not in str(exc) and len(str(exc)) < 2_000, str(exc)
        STATS["SourceError"] = STATS.get("SourceError", 0) + 1
        return
    outcome = "loaded"
    for batch in batches:
        frame = batch.records if isinstance(batch.records, pd.DataFrame) else pd.DataFrame(batch.records)
        assert MARK not in frame.to_json(date_format="iso"), "personal data in a record"
        for rec in frame.to_dict(orient="records"):
            _storable(rec)
        for rec, reason in batch.rejects:
            outcome = "rejects"
            assert isinstance(reason, str) and reason.strip()
            stored = json.dumps(rec, default=str, ensure_ascii=False)
            assert MARK not in stored + reason and len(stored) < 10_000, (stored, reason)
        load_rolled_back(engine, batch, "fuzz")
    STATS[outcome] = STATS.get(outcome, 0) + 1


def teardown_module() -> None:
    print("\nopen311 hostile examples by outcome:", json.dumps(STATS))
