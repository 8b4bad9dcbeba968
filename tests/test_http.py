"""SourceHttp against a real HTTP server on loopback: retries, backoff, Retry-After, timeouts."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ioc.connector import SourceError
from ioc.http import RetryPolicy, SourceHttp, retry_after_seconds
from tests.loopback import LoopbackServer, Reply, Request, free_port


class Scripted:
    """Replies from a list, then the last one forever."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def __call__(self, request: Request) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def client(attempts: int = 3, timeout: float = 1.0) -> tuple[SourceHttp, list[float]]:
    slept: list[float] = []
    http = SourceHttp(
        policy=RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=5.0, timeout=timeout),
        sleep=slept.append,
    )
    return http, slept


def test_transient_errors_are_retried_with_growing_delays(server: LoopbackServer) -> None:
    server.route("GET", "/data", Scripted(Reply(status=503), Reply(status=502), Reply.json({"ok": True})))
    http, slept = client(attempts=3)
    response = http.get(server.url("/data"))
    assert response.json() == {"ok": True}
    assert len(server.requests) == 3
    assert len(slept) == 2 and 0.01 <= slept[0] < slept[1] <= 0.022  # 0.01, 0.02 (+ up to 10 %)


def test_retry_after_seconds_is_honoured(server: LoopbackServer) -> None:
    server.route("GET", "/data", Scripted(Reply.json({}, status=429, **{"Retry-After": "2"}), Reply.json([])))
    http, slept = client()
    assert http.get(server.url("/data")).status_code == 200
    assert slept == [2.0]


def test_retry_after_http_date_is_honoured(server: LoopbackServer) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    server.route("GET", "/data", Scripted(Reply(status=503, headers={"Retry-After": when}), Reply.json([])))
    http, slept = client()
    assert http.get(server.url("/data")).status_code == 200
    assert len(slept) == 1 and 1.0 < slept[0] <= 3.0


def test_retry_after_with_minus_zero_zone_is_read_as_gmt() -> None:
    # "-0000" dates parse as naive datetimes; they used to raise TypeError in the subtraction.
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S -0000")
    response = httpx.Response(429, headers={"Retry-After": later})
    assert 25 < (retry_after_seconds(response) or 0) <= 30
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_retry_after_is_capped_by_max_delay(server: LoopbackServer) -> None:
    server.route("GET", "/data", Scripted(Reply(status=429, headers={"Retry-After": "3600"}), Reply.json([])))
    http, slept = client()
    http.get(server.url("/data"))
    assert slept == [5.0]


def test_connection_refused_names_the_url(server: LoopbackServer) -> None:
    url = f"http://127.0.0.1:{free_port()}/data?x=1"
    http, slept = client(attempts=3)
    with pytest.raises(SourceError) as caught:
        http.get(url)
    assert str(caught.value).startswith(f"GET {url}: could not connect")
    assert "gave up after 3 attempts" in str(caught.value)
    assert len(slept) == 2


def test_timeout_is_retried_then_reported(server: LoopbackServer) -> None:
    server.route("GET", "/slow", lambda request: Reply(delay=1.0))
    http, _ = client(attempts=2, timeout=0.2)
    with pytest.raises(SourceError, match=r"/slow: timed out after 0\.2 s \(gave up after 2 attempts\)"):
        http.get(server.url("/slow"))
    assert len(server.requests) == 2


def test_http_500_is_not_retried_and_shows_the_body(server: LoopbackServer) -> None:
    server.route("POST", "/api", lambda request: Reply.text("Lỗi máy chủ\nstack trace", status=500))
    http, slept = client()
    with pytest.raises(SourceError, match=r"POST .*/api: HTTP 500: Lỗi máy chủ stack trace"):
        http.post(server.url("/api"), json={"q": 1})
    assert len(server.requests) == 1 and slept == []
    assert server.requests[0].json() == {"q": 1}


def test_client_errors_are_returned_to_the_connector(server: LoopbackServer) -> None:
    http, slept = client()
    response = http.get(server.url("/missing"))
    assert response.status_code == 404 and slept == []
    http.close()
