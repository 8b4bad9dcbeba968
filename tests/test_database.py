"""Database selection: DATABASE_URL when set, else the embedded PostgreSQL; never anything but Postgres."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from sqlalchemy import make_url, text

from ioc.config import Settings
from ioc.database import normalise_url, open_database


def test_database_url_selects_that_server(settings: Settings, database_env: str) -> None:
    with open_database(settings) as database:
        assert not database.is_embedded
        with database.engine.connect() as connection:
            name = connection.execute(text("SELECT current_database()")).scalar_one()
    assert name == make_url(database_env).database


def test_without_database_url_an_embedded_server_starts_and_stops(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    pgdata = tmp_path / "pgdata"
    embedded_settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"embedded_dir": pgdata})}
    )
    with open_database(embedded_settings) as database:
        assert database.is_embedded
        assert make_url(database.url).query["host"] == str(pgdata.resolve())
        with database.engine.connect() as connection:
            version = connection.execute(text("SHOW server_version_num")).scalar_one()
            assert int(version) >= 150000
            assert connection.execute(text("SELECT current_database()")).scalar_one() == "ioc"
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        assert psutil.pid_exists(pid)
    assert not (pgdata / "postmaster.pid").exists()
    assert (pgdata / "PG_VERSION").exists()  # data stays for the next start


def test_embedded_not_allowed_without_url(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL is not set"):
        open_database(settings, allow_embedded=False)


def test_only_postgres_urls() -> None:
    assert normalise_url("postgres://u:p@h:5432/d") == "postgresql+psycopg2://u:p@h:5432/d"
    with pytest.raises(ValueError, match="only PostgreSQL"):
        normalise_url("sqlite:///ioc.db")
