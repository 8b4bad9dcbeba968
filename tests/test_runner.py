"""The runner against real Postgres and a real HTTP source on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ioc import runs
from ioc.config import ConfigError, Settings, SourceConfig
from ioc.connector import connector_class, register_connector, unregister_connector
from ioc.http import RetryPolicy
from ioc.runner import (
    STOPPED,
    after_load,
    check_source,
    remove_after_load,
    retry_policy,
    run_source,
)
from tests.loopback import LoopbackServer, Reply, Request, free_port
from tests.sample_connectors import PagesConnector, TickConnector

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=2.0, timeout=0.5)
PAGES = 5
PER_PAGE = 4


def incident(page: int, row: int, **changes: Any) -> dict[str, Any]:
    return {
        "id": f"{page}-{row}",
        "category": "field_report",
        "service_code": "pothole",
        "reported_at": f"2026-03-{page:02d}T09:{row:02d}:00+07:00",
        "status": "open" if row % 2 else "closed",
        "closed_at": None if row % 2 else f"2026-03-{page:02d}T17:00:00+07:00",
        "lat": 12.67,
        "lon": 108.04,
        **changes,
    }


class PagedSource:
    """A paged incident API: `pages[n]` are the items of page n; `override[n]` replaces a reply."""

    def __init__(self, pages: int = PAGES, per_page: int = PER_PAGE) -> None:
        self.pages = {n: [incident(n, r) for r in range(per_page)] for n in range(1, pages + 1)}
        self.override: dict[int, Callable[[], Reply]] = {}
        self.server = LoopbackServer()
        self.server.route("GET", "/incidents", self.reply)

    def reply(self, request: Request) -> Reply:
        number = int(request.arg("page", "1") or 1)
        if number in self.override:
            return self.override[number]()
        nxt = number + 1 if number + 1 in self.pages else None
        return Reply.json({"items": self.pages.get(number, []), "next": nxt})

    def asked_pages(self) -> list[int]:
        return [int(r.arg("page") or 0) for r in self.server.requests]


@pytest.fixture
def source() -> Iterator[PagedSource]:
    paged = PagedSource()
    with paged.server:
        yield paged


@pytest.fixture(autouse=True)
def test_connectors() -> Iterator[None]:
    register_connector("test_pages", PagesConnector)
    register_connector("test_ticks", TickConnector)
    yield
    unregister_connector("test_pages")
    unregister_connector("test_ticks")


def with_source(settings: Settings, connector: str, name: str = "city311", **options: Any) -> Settings:
    sources = {**settings.sources, name: SourceConfig(connector=connector, options=options)}
    return settings.model_copy(update={"sources": sources})


def snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text("SELECT * FROM incident ORDER BY external_id"))]


def count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar_one())


def cursor_of(engine: Engine, source: str = "city311") -> dict[str, Any] | None:
    with engine.connect() as connection:
        return runs.last_cursor(connection, source)


def row_of(engine: Engine, run_id: int) -> dict[str, Any]:
    with engine.connect() as connection:
        return runs.run_row(connection, run_id)


def test_run_loads_every_page_and_records_the_run(
    db: Engine, settings: Settings, source: PagedSource
) -> None:
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    summary = run_source(db, cfg, "city311", http_policy=FAST)

    assert summary.status == "success", summary.error
    assert (summary.batches, summary.rows_read, summary.rows_inserted) == (PAGES, 20, 20)
    assert summary.tables_changed == {"incident"}
    row = row_of(db, summary.run_id)
    assert row["status"] == "success" and row["finished_at"] is not None and row["error"] is None
    assert (row["rows_read"], row["rows_inserted"], row["rows_updated"], row["rows_rejected"]) == (
        20,
        20,
        0,
        0,
    )
    assert row["cursor"] == {"page": PAGES} == summary.cursor
    assert count(db, "SELECT count(*) FROM incident WHERE source = 'city311'") == 20
    assert PagesConnector.last_state == {"open_incident_ids": []}

    # The second run gets the incidents still open from the state query and starts after the cursor.
    run_source(db, cfg, "city311", http_policy=FAST)
    expected_open = sorted(f"{p}-{r}" for p in range(1, PAGES + 1) for r in range(PER_PAGE) if r % 2)
    assert PagesConnector.last_state == {"open_incident_ids": expected_open}
    assert source.asked_pages()[-1] == PAGES + 1


def test_rerunning_the_same_pull_changes_nothing(db: Engine, settings: Settings, source: PagedSource) -> None:
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    run_source(db, cfg, "city311", full=True, http_policy=FAST)
    before = snapshot(db)
    calls: list[tuple[str, frozenset[str]]] = []

    def hook(engine: Engine, name: str, tables: frozenset[str]) -> None:
        calls.append((name, tables))

    after_load(hook)
    try:
        again = run_source(db, cfg, "city311", full=True, http_policy=FAST)
    finally:
        remove_after_load(hook)

    assert again.status == "success"
    assert (again.rows_read, again.rows_inserted, again.rows_updated, again.rows_unchanged) == (20, 0, 0, 20)
    assert snapshot(db) == before
    # nothing changed; the hooks still run (they complete a refresh a killed process left pending)
    assert calls == [("city311", frozenset())]
    assert count(db, "SELECT count(*) FROM connector_run WHERE full_refresh") == 2


def test_after_load_hook_sees_changed_tables(db: Engine, settings: Settings, source: PagedSource) -> None:
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    calls: list[tuple[str, frozenset[str]]] = []
    broken_calls: list[str] = []

    def hook(engine: Engine, name: str, tables: frozenset[str]) -> None:
        assert count(engine, "SELECT count(*) FROM incident") == 20  # data is committed when hooks run
        calls.append((name, tables))

    def broken(engine: Engine, name: str, tables: frozenset[str]) -> None:
        broken_calls.append(name)
        raise RuntimeError("rollup exploded")

    after_load(broken)
    after_load(hook)
    after_load(hook)  # registering twice has no effect
    try:
        summary = run_source(db, cfg, "city311", http_policy=FAST)
    finally:
        remove_after_load(hook)
        remove_after_load(broken)
    assert summary.status == "success"  # a failing hook does not fail the run
    assert broken_calls == ["city311"]
    assert calls == [("city311", frozenset({"incident"}))]


def test_connection_refused_fails_and_keeps_stored_rows(
    db: Engine, settings: Settings, source: PagedSource
) -> None:
    run_source(db, with_source(settings, "test_pages", base_url=source.server.base_url), "city311")
    before, cursor_before = snapshot(db), cursor_of(db)

    dead = f"http://127.0.0.1:{free_port()}"
    summary = run_source(db, with_source(settings, "test_pages", base_url=dead), "city311", http_policy=FAST)

    assert summary.status == "failed"
    assert f"{dead}/incidents?page={PAGES + 1}" in summary.error
    assert "could not connect" in summary.error and "gave up after 2 attempts" in summary.error
    row = row_of(db, summary.run_id)
    assert row["status"] == "failed" and row["error"] == summary.error and row["finished_at"] is not None
    assert snapshot(db) == before
    assert cursor_of(db) == cursor_before == {"page": PAGES}


def test_http_500_fails_without_retrying(db: Engine, settings: Settings, source: PagedSource) -> None:
    source.override[1] = lambda: Reply.text("internal error: database is down", status=500)
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    summary = run_source(db, cfg, "city311", http_policy=FAST)

    assert summary.status == "failed"
    assert source.server.url("/incidents?page=1") in summary.error
    assert "HTTP 500" in summary.error and "database is down" in summary.error
    assert source.asked_pages() == [1]
    assert count(db, "SELECT count(*) FROM incident") == 0


def test_timeout_fails_after_retries(db: Engine, settings: Settings, source: PagedSource) -> None:
    source.override[1] = lambda: Reply(status=200, body=b'{"items": []}', delay=1.0)
    cfg = with_source(
        settings, "test_pages", base_url=source.server.base_url, timeout=0.2, attempts=2, base_delay=0.01
    )
    started = time.monotonic()
    summary = run_source(db, cfg, "city311")  # the policy comes from the source's options

    assert summary.status == "failed"
    assert "timed out after 0.2 s" in summary.error and "gave up after 2 attempts" in summary.error
    assert source.server.url("/incidents?page=1") in summary.error
    assert source.asked_pages() == [1, 1]
    assert time.monotonic() - started < 5


def test_retry_after_is_waited_and_retried(db: Engine, settings: Settings, source: PagedSource) -> None:
    replies = iter([Reply.json({"error": "slow down"}, status=429, **{"Retry-After": "1"})])
    original = source.reply

    def first_429(request: Request) -> Reply:
        if request.arg("page") == "1":
            return next(replies, None) or original(request)
        return original(request)

    source.server.route("GET", "/incidents", first_429)
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    started = time.monotonic()
    summary = run_source(db, cfg, "city311", http_policy=RetryPolicy(attempts=3, base_delay=0.01, timeout=2))

    assert summary.status == "success" and summary.rows_inserted == 20
    assert time.monotonic() - started >= 0.95  # waited the Retry-After, not the 0.01 s backoff
    assert source.asked_pages()[:2] == [1, 1]


def test_malformed_payload_fails_clearly_and_stores_nothing_of_it(
    db: Engine, settings: Settings, source: PagedSource
) -> None:
    source.override[2] = lambda: Reply.text("<html>maintenance</html>", content_type="text/html")
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    summary = run_source(db, cfg, "city311", http_policy=FAST)

    assert summary.status == "failed"
    assert "malformed payload, not JSON" in summary.error
    assert source.server.url("/incidents?page=2") in summary.error
    assert "batch 2" in summary.error
    assert count(db, "SELECT count(*) FROM incident") == PER_PAGE  # page 1 only
    assert cursor_of(db) == {"page": 1}


def test_a_batch_the_load_path_refuses_rolls_back_whole(
    db: Engine, settings: Settings, source: PagedSource
) -> None:
    source.pages[2] = [*source.pages[2][:2], incident(2, 9, bogus_column="?")]
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    summary = run_source(db, cfg, "city311", http_policy=FAST)

    assert summary.status == "failed"
    assert summary.error.startswith("load: incident:") and "bogus_column" in summary.error
    assert count(db, "SELECT count(*) FROM incident") == PER_PAGE
    assert count(db, "SELECT count(*) FROM incident WHERE external_id LIKE '2-%'") == 0
    row = row_of(db, summary.run_id)
    assert (row["rows_read"], row["rows_inserted"], row["cursor"]) == (PER_PAGE, PER_PAGE, {"page": 1})


def test_bad_records_are_rejected_with_reasons_and_the_rest_load(
    db: Engine, settings: Settings, source: PagedSource
) -> None:
    source.pages[3] = [
        incident(3, 0),
        incident(3, 1, lat=212.0),
        incident(3, 2, status="weird"),
        incident(3, 3, reported_at="not a date"),
        {**incident(3, 4), "id": None, "phone": "0905123456"},  # the connector rejects it itself
        incident(3, 5, phone="0905123456"),  # personal data is dropped, the record loads
    ]
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    summary = run_source(db, cfg, "city311", http_policy=FAST)

    assert summary.status == "partial"
    assert summary.rows_rejected == 4
    assert summary.rows_read == 4 * PER_PAGE + 6
    assert summary.rows_inserted == 4 * PER_PAGE + 2
    with db.connect() as connection:
        rejected = connection.execute(
            text("SELECT record, reason, run_id FROM rejected_row ORDER BY id")
        ).all()
    reasons = {(r.record.get("external_id") or r.record.get("id")): r.reason for r in rejected}
    assert {r.run_id for r in rejected} == {summary.run_id}
    assert "lat: outside -90–90" in reasons["3-1"]
    assert "status: not one of ['closed', 'open']" in reasons["3-2"]
    assert "reported_at" in reasons["3-3"]
    assert reasons[None] == "id: missing"
    assert all("phone" not in r.record for r in rejected)
    assert count(db, "SELECT count(*) FROM incident WHERE external_id IN ('3-0', '3-5')") == 2
    row = row_of(db, summary.run_id)
    assert (row["status"], row["rows_rejected"]) == ("partial", 4)


def test_failure_half_way_keeps_committed_pages_and_the_next_run_continues(
    db: Engine, settings: Settings, source: PagedSource
) -> None:
    source.override[3] = lambda: Reply.text("boom", status=500)
    cfg = with_source(settings, "test_pages", base_url=source.server.base_url)
    failed = run_source(db, cfg, "city311", http_policy=FAST)

    assert failed.status == "failed" and "page=3" in failed.error
    assert count(db, "SELECT count(*) FROM incident") == 2 * PER_PAGE
    assert cursor_of(db) == {"page": 2}
    assert row_of(db, failed.run_id)["rows_inserted"] == 2 * PER_PAGE

    del source.override[3]
    source.server.requests.clear()
    resumed = run_source(db, cfg, "city311", http_policy=FAST)

    assert resumed.status == "success"
    assert source.asked_pages() == [3, 4, 5]
    assert (resumed.rows_inserted, resumed.rows_updated) == (3 * PER_PAGE, 0)
    assert count(db, "SELECT count(*) FROM incident") == PAGES * PER_PAGE
    assert count(db, "SELECT sum(rows_inserted) FROM connector_run") == PAGES * PER_PAGE
    assert cursor_of(db) == {"page": PAGES}


def test_unexpected_exception_is_a_failed_run(db: Engine, settings: Settings) -> None:
    cfg = with_source(settings, "test_ticks", name="ticks", pages=4, rows=3, fail_at=3)
    summary = run_source(db, cfg, "ticks")

    assert summary.status == "failed"
    assert summary.error == "RuntimeError: tick connector broke on page 3 (while reading batch 3)"
    assert count(db, "SELECT count(*) FROM incident") == 6
    assert cursor_of(db, "ticks") == {"page": 2}


def test_stop_event_ends_after_the_current_batch(db: Engine, settings: Settings) -> None:
    cfg = with_source(settings, "test_ticks", name="ticks", pages=5, rows=3)
    stop = threading.Event()
    seen: list[int] = []

    def progress(event: Any) -> None:
        seen.append(event.number)
        if event.number == 2:
            stop.set()

    summary = run_source(db, cfg, "ticks", stop=stop, progress=progress)
    assert seen == [1, 2]
    assert (summary.status, summary.error, summary.stopped) == ("failed", STOPPED, True)
    assert count(db, "SELECT count(*) FROM incident") == 6
    assert cursor_of(db, "ticks") == {"page": 2}

    rest = run_source(db, cfg, "ticks")
    assert (rest.status, rest.batches, rest.rows_inserted) == ("success", 3, 9)


def test_configuration_problems_raise_before_any_run_row(db: Engine, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="no source named 'nope'"):
        run_source(db, settings, "nope")
    with pytest.raises(ConfigError, match=r"sources\.city311\.options\.base_url: Field required"):
        run_source(db, with_source(settings, "test_pages"), "city311")
    with pytest.raises(ConfigError, match="unknown connector 'nothing'"):
        run_source(db, with_source(settings, "nothing"), "city311")
    assert count(db, "SELECT count(*) FROM connector_run") == 0


def test_check_source(settings: Settings, source: PagedSource) -> None:
    ok = check_source(with_source(settings, "test_pages", base_url=source.server.base_url), "city311")
    assert ok.ok and f"{PER_PAGE} items" in ok.message

    dead = f"http://127.0.0.1:{free_port()}"
    down = check_source(with_source(settings, "test_pages", base_url=dead), "city311", http_policy=FAST)
    assert not down.ok and dead in down.message and "could not connect" in down.message


def test_retry_policy_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_HTTP_ATTEMPTS", "7")
    monkeypatch.setenv("IOC_HTTP_TIMEOUT", "3.5")
    options = PagesConnector.Options(base_url="http://x", timeout=1.5)
    policy = retry_policy(options)
    assert (policy.attempts, policy.timeout, policy.base_delay) == (7, 1.5, RetryPolicy().base_delay)
    monkeypatch.setenv("IOC_HTTP_BASE_DELAY", "soon")
    with pytest.raises(ConfigError, match="IOC_HTTP_BASE_DELAY"):
        retry_policy(None)


def test_extra_connectors_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    unregister_connector("test_ticks")
    monkeypatch.setenv("IOC_EXTRA_CONNECTORS", "test_ticks=tests.sample_connectors:TickConnector")
    assert connector_class("test_ticks") is TickConnector
    monkeypatch.setenv("IOC_EXTRA_CONNECTORS", "broken")
    with pytest.raises(ConfigError, match="expected name=module:Class"):
        connector_class("test_ticks")
