"""Test-only connectors for the runner, scheduler and status tests.

* `PagesConnector` reads JSON pages `{"items": [...], "next": N|null}` from an HTTP server (a
  LoopbackServer in tests) and yields one `incident` batch per page with cursor `{"page": N}`.
* `TickConnector` needs no network: `pages` batches of `rows` incidents, optionally slow (`delay`
  seconds before each batch) so a worker can be stopped mid-run.

Subprocesses (`ioc worker`) find them through
`IOC_EXTRA_CONNECTORS=test_ticks=tests.sample_connectors:TickConnector`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from ioc.connector import Batch, CheckResult, Connector, ConnectorOptions, SourceError


class PagesOptions(ConnectorOptions):
    base_url: str
    path: str = "/incidents"
    timeout: float | None = None
    attempts: int | None = None
    base_delay: float | None = None


class PagesConnector(Connector):
    name = "test_pages"
    Options = PagesOptions
    targets = ("incident",)
    #: The `context.state` of the last instance that read (tests look at it).
    last_state: ClassVar[dict[str, Any]] = {}

    options: PagesOptions

    def _page(self, number: int) -> tuple[str, dict[str, Any]]:
        url = f"{self.options.base_url}{self.options.path}?page={number}"
        response = self.context.http.get(url)
        if response.status_code != 200:
            raise SourceError(f"GET {url}: HTTP {response.status_code}")
        try:
            payload = response.json()
        except json.JSONDecodeError as exc:
            raise SourceError(f"GET {url}: malformed payload, not JSON ({exc})") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
            raise SourceError(f"GET {url}: malformed payload, expected an object with an `items` list")
        return url, payload

    def check(self) -> CheckResult:
        url, payload = self._page(1)
        return CheckResult(True, f"{url}: {len(payload['items'])} items on page 1")

    def state_queries(self) -> tuple[str, ...]:
        return ("open_incident_ids",)

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        type(self).last_state = dict(self.context.state)
        number = 1 if full or not cursor else int(cursor["page"]) + 1
        while True:
            url, payload = self._page(number)
            records, rejects = [], []
            for item in payload["items"]:
                if not item.get("id"):
                    rejects.append((item, "id: missing"))
                    continue
                record = {k: v for k, v in item.items() if k != "id"}
                records.append({"external_id": str(item["id"]), **record})
            if records or rejects:
                yield Batch("incident", records, cursor={"page": number}, rejects=rejects, description=url)
            if not payload.get("next"):
                return
            number = int(payload["next"])


class TickOptions(ConnectorOptions):
    pages: int = 3
    rows: int = 5
    delay: float = 0.0
    wrap: bool = False
    """Start again from page 1 once the cursor reached the last page (each run does work)."""
    fail_at: int | None = None
    """Raise a plain RuntimeError (a connector bug) when reaching this page."""


class TickConnector(Connector):
    name = "test_ticks"
    Options = TickOptions
    targets = ("incident",)

    options: TickOptions

    def check(self) -> CheckResult:
        return CheckResult(True, f"{self.options.pages} pages of {self.options.rows} rows")

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        done = 0 if full or not cursor else int(cursor["page"])
        if self.options.wrap and done >= self.options.pages:
            done = 0
        for page in range(done + 1, self.options.pages + 1):
            if self.options.delay:
                time.sleep(self.options.delay)
            if self.options.fail_at == page:
                raise RuntimeError(f"tick connector broke on page {page}")
            records = [
                {
                    "external_id": f"p{page}-r{row}",
                    "category": "field_report",
                    "reported_at": f"2026-01-{page:02d}T08:{row % 60:02d}:00+07:00",
                    "status": "open",
                }
                for row in range(self.options.rows)
            ]
            yield Batch("incident", records, cursor={"page": page}, description=f"page {page}")
