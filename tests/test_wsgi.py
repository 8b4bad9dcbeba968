"""`gunicorn dashboard.wsgi:server`: the app is built on first access, from IOC_CONFIG and DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from dashboard import wsgi
from ioc.config import Settings


@pytest.fixture
def fresh_wsgi() -> Iterator[None]:
    wsgi._server.cache_clear()
    yield
    wsgi._server.cache_clear()


def test_server_is_built_from_the_environment(
    db: Engine, settings: Settings, database_env: str, monkeypatch: pytest.MonkeyPatch, fresh_wsgi: None
) -> None:
    monkeypatch.setenv("IOC_CONFIG", str(settings.source_file))
    client = wsgi.server.test_client()
    home = client.get("/")  # logins are on: an anonymous reader is sent to the login page
    assert home.status_code == 302 and "/login" in home.headers["Location"]
    login = client.get("/login")
    assert login.status_code == 200 and "Đăng nhập" in login.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code in (302, 401)


def test_production_server_needs_a_database_url(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, fresh_wsgi: None
) -> None:
    monkeypatch.setenv("IOC_CONFIG", str(settings.source_file))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL is not set"):
        _ = wsgi.server
