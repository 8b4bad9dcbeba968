"""Credentials never follow a redirect to another origin (issue 12 item 5): two real loopback servers
on different ports are two origins."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from ioc.http import RetryPolicy, SourceHttp
from ioc.runner import run_source
from tests.fixtures.events.support import settings_with_source
from tests.loopback import LoopbackServer, Reply

CREDENTIALS = {
    "Authorization": "Bearer s3cret-a",
    "Proxy-Authorization": "Basic s3cret-b",
    "Cookie": "session=s3cret-c",
    "X-Api-Key": "s3cret-d",
    "X-Motcua-Token": "s3cret-e",  # a source's own token header (`auth_header` in its options)
}


def redirect(to: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": to, "Set-Cookie": "sid=s3cret-f; Path=/"})


def secrets_in(headers: dict[str, str]) -> list[str]:
    return [name for name, value in headers.items() if "s3cret" in value]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_credential_headers_are_dropped_on_a_redirect_to_another_origin(status: int) -> None:
    with LoopbackServer() as first, LoopbackServer() as other:
        first.route("GET", "/start", lambda _r: redirect(other.url("/land"), status))
        other.route("GET", "/land", lambda _r: Reply.json({"ok": True}))
        http = SourceHttp(policy=RetryPolicy(attempts=1), headers={"X-Api-Key": "s3cret-g"})
        try:
            response = http.get(first.url("/start"), headers=CREDENTIALS)
        finally:
            http.close()
    assert response.json() == {"ok": True}
    assert set(secrets_in(first.requests[0].headers)) == {h.lower() for h in CREDENTIALS}
    (landed,) = other.requests
    assert secrets_in(landed.headers) == []
    assert "user-agent" in landed.headers


def test_credentials_stay_on_a_redirect_within_the_origin() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/start", lambda _r: redirect("/land"))
        server.route("GET", "/land", lambda _r: Reply.json({"ok": True}))
        http = SourceHttp(policy=RetryPolicy(attempts=1))
        try:
            http.get(server.url("/start"), headers={"Authorization": "Bearer s3cret-a"})
        finally:
            http.close()
    assert server.requests[1].headers["authorization"] == "Bearer s3cret-a"


def test_a_dossier_source_token_does_not_follow_a_redirect_elsewhere(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_TOKEN", "s3cret-token")
    with LoopbackServer() as portal, LoopbackServer() as elsewhere:
        portal.route("GET", "/hoso", lambda _r: redirect(elsewhere.url("/hoso")))
        elsewhere.route("GET", "/hoso", lambda _r: Reply.json({"data": []}))
        options = {"url": portal.url("/hoso"), "token_env": "MOTCUA_TOKEN", "auth_header": "X-Motcua-Token"}
        settings = settings_with_source(tmp_path, "motcua", "dossiers", options)
        assert run_source(db, settings, "motcua").status == "success"
    assert portal.requests[0].headers["x-motcua-token"] == "Bearer s3cret-token"
    assert [secrets_in(r.headers) for r in elsewhere.requests] == [[]]


def test_a_redirect_loop_is_a_source_error() -> None:
    from ioc.connector import SourceError

    with LoopbackServer() as server:
        server.route("GET", "/loop", lambda _r: redirect("/loop"))
        http = SourceHttp(policy=RetryPolicy(attempts=1))
        with pytest.raises(SourceError, match="redirects"):
            http.get(server.url("/loop"))
        http.close()
