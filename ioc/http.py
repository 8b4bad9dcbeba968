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
MAX_REDIRECTS = 10

#: The only headers a request keeps when a redirect leads to another origin (scheme, host, port):
#: every other one may carry a credential (Authorization, Cookie, Proxy-Authorization, X-Api-Key, a
#: source's own token header…), so it is dropped rather than guessed at by name.
CROSS_ORIGIN_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-length",
        "content-type",
        "host",
        "transfer-encoding",
        "user-agent",
    }
)


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
    sleep: Callable[[float], object] = time.sleep
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.policy.timeout,
                follow_redirects=False,  # followed by `_send`, which drops credentials across origins
                headers={"User-Agent": "ioc-dashboard/0.1", **self.headers},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return _send_following(self.client, self.client.build_request(method, url, **kwargs))

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
                response = self._send(method, url, **kwargs)
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


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _send_following(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send `request` and follow redirects; a hop to any origin other than the first request's
    carries only :data:`CROSS_ORIGIN_HEADERS` (no credentials, no cookies)."""
    origin = _origin(request.url)
    response = client.send(request)
    for _ in range(MAX_REDIRECTS):
        if not response.has_redirect_location:
            return response
        following = response.next_request
        assert following is not None
        response.close()
        if _origin(following.url) != origin:
            for name in list(following.headers):
                if name.lower() not in CROSS_ORIGIN_HEADERS:
                    del following.headers[name]
        response = client.send(following)
    raise SourceError(f"{request.method} {request.url}: more than {MAX_REDIRECTS} redirects")


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")


def json_body(response: httpx.Response, what: str) -> Any:
    """The response's JSON, or a SourceError naming the request and how the body starts."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python's stack
        raise SourceError(
            f"{response.request.method} {response.url}: {what} is not JSON (HTTP {response.status_code}, "
            f"{response.headers.get('content-type', 'no content type')}: {_snippet(response, 120)!r})"
        ) from None
