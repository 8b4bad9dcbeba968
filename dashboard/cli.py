"""`ioc demo` and `ioc web`: the serving commands, added to the `ioc` command through the
`ioc.commands` entry point (so the core package never imports Dash).

`ioc demo` is the one-command tour: embedded Postgres (unless `DATABASE_URL` is set), migrations,
the demo province loaded when the database is empty, then the worker (its own process, as in
production) and the web app on http://127.0.0.1:8050. Ctrl-C stops all of it, the embedded server
included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy import text

from dashboard.security.demo import ensure_demo_login
from ioc.cli.common import AppState, state
from ioc.cli.sources import run_with_progress
from ioc.config import ConfigError, Settings
from ioc.database import Database
from ioc.formatting import format_number
from ioc.migrate import upgrade

DEMO_SOURCE = "demo"


def _serve_web(settings: Settings, database: Database, host: str, port: int) -> None:
    from dashboard.app import create_app

    app = create_app(settings, database)
    typer.echo(f"Web: http://{host}:{port}/  (Ctrl-C to stop)")
    app.run(host=host, port=port, debug=False)


def _database_is_empty(database: Database) -> bool:
    with database.engine.connect() as connection:
        return not connection.execute(text("SELECT EXISTS (SELECT 1 FROM dossier)")).scalar()


def _load_demo(settings: Settings, database: Database) -> None:
    if DEMO_SOURCE not in settings.sources:
        raise ConfigError(
            f"{settings.source_file}: no `sources.{DEMO_SOURCE}` entry (connector: demo) "
            "to load the demo province from"
        )
    typer.echo("Loading the demo province (first start only)…")
    started = time.monotonic()
    summary = run_with_progress(database.engine, settings, DEMO_SOURCE, full=True)
    if not summary.ok:
        typer.echo(f"the demo province could not be loaded: {summary.error}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"Demo province loaded in {time.monotonic() - started:.0f} s: "
        f"{format_number(summary.rows_inserted)} rows inserted"
    )


def _stop_on_sigterm() -> None:
    """SIGTERM (service manager, `kill`) and SIGINT both end the demo through the same clean path."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def _start_worker(app_state: AppState, database: Database) -> subprocess.Popen[bytes]:
    env = {**os.environ, app_state.settings.database.url_env: database.url}
    if app_state.settings.source_file is not None:
        env["IOC_CONFIG"] = str(app_state.settings.source_file.resolve())
    return subprocess.Popen([sys.executable, "-m", "ioc", "worker"], env=env)


def register(app: typer.Typer) -> None:
    """Add the serving commands to the top-level app."""

    @app.command()
    def demo(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="address to listen on (default: web.host)")] = None,
        port: Annotated[int | None, typer.Option(help="port (default: web.port)")] = None,
        worker: Annotated[bool, typer.Option(help="also run the scheduler worker")] = True,
    ) -> None:
        """Run the whole product on the demo province: database, demo data, worker and web app."""
        app_state = state(ctx)
        settings = app_state.settings
        host = host or settings.web.host
        port = port or settings.web.port
        _stop_on_sigterm()
        with app_state.open_database() as database:
            where = "embedded PostgreSQL" if database.is_embedded else "DATABASE_URL"
            typer.echo(f"Database: {where}")
            upgrade(database.engine, calendar=settings.calendar)
            if _database_is_empty(database):
                _load_demo(settings, database)
            worker_process = _start_worker(app_state, database) if worker else None
            login = ensure_demo_login(settings, database.engine)  # auth on: the demo admin's login
            if login:
                typer.echo(login)
            typer.echo(f"Overview: http://{host}:{port}/")
            try:
                _serve_web(settings, database, host, port)
            except KeyboardInterrupt:
                pass
            finally:
                if worker_process is not None:
                    worker_process.terminate()
                    try:
                        worker_process.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        worker_process.kill()
                typer.echo("Stopped.")

    @app.command()
    def web(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="address to listen on (default: web.host)")] = None,
        port: Annotated[int | None, typer.Option(help="port (default: web.port)")] = None,
    ) -> None:
        """Serve the web app with Dash's own server (use gunicorn dashboard.wsgi:server in production)."""
        app_state = state(ctx)
        settings = app_state.settings
        _stop_on_sigterm()
        with app_state.open_database() as database, contextlib.suppress(KeyboardInterrupt):
            _serve_web(settings, database, host or settings.web.host, port or settings.web.port)
