"""The HTTP client the runner hands to connectors: timeouts, retries with backoff, `Retry-After`.

Connectors call `get`/`post` and get an `httpx.Response` with a 2xx/3xx/4xx status. Transient
failures — connection refused, timeouts, HTTP 429/502/503/504 — are retried with exponential
backoff (honouring `Retry-After`, capped); when retries run out, or on any other 5xx, a
:class:`~ioc.connector.SourceError` names the URL and what went wrong.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ioc.connector import SourceError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 60.0
    timeout: float = 30.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" in an HTTP date parses as naive; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass
class SourceHttp:
    """A small retrying wrapper around one `httpx.Client` per run."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    headers: dict[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.policy.timeout,
                follow_redirects=True,
                headers={"User-Agent": "ioc-dashboard/0.1", **self.headers},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        last_problem = ""
        for attempt in range(1, self.policy.attempts + 1):
            delay = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
            delay *= 1 + random.random() * 0.1
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException:
                last_problem = f"timed out after {self.policy.timeout:g} s"
            except httpx.TransportError as exc:
                last_problem = f"could not connect ({exc.__class__.__name__}: {exc})"
            else:
                if response.status_code in RETRY_STATUSES:
                    last_problem = f"HTTP {response.status_code}"
                    waited = retry_after_seconds(response)
                    if waited is not None:
                        delay = min(self.policy.max_delay, waited)
                elif response.status_code >= 500:
                    raise SourceError(f"{method} {url}: HTTP {response.status_code}: {_snippet(response)}")
                else:
                    return response
            if attempt < self.policy.attempts:
                log.warning("%s %s: %s; retry %d in %.1f s", method, url, last_problem, attempt, delay)
                self.sleep(delay)
        raise SourceError(f"{method} {url}: {last_problem} (gave up after {self.policy.attempts} attempts)")


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")


def json_body(response: httpx.Response, what: str) -> Any:
    """The response's JSON, or a SourceError naming the request and how the body starts."""
    try:
        return response.json()
    except ValueError:
        raise SourceError(
            f"{response.request.method} {response.url}: {what} is not JSON (HTTP {response.status_code}, "
            f"{response.headers.get('content-type', 'no content type')}: {_snippet(response, 120)!r})"
        ) from None
