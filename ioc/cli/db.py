"""`ioc db upgrade|current`."""

from __future__ import annotations

import typer

from ioc.cli.common import state
from ioc.migrate import current_revision, head_revision, upgrade

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(ctx: typer.Context, revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    with state(ctx).open_database() as database:
        upgrade(database.engine, revision, calendar=state(ctx).settings.calendar)
        typer.echo(f"database at revision {current_revision(database.engine)}")


@app.command("current")
def current_command(ctx: typer.Context) -> None:
    """Print the database's revision and the newest one available."""
    with state(ctx).open_database() as database:
        current = current_revision(database.engine)
        head = head_revision()
        note = "up to date" if current == head else "run `ioc db upgrade`"
        typer.echo(f"current: {current or 'empty database'}  head: {head}  ({note})")
