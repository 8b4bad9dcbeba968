"""`ioc areas import|list`: load org units from a CSV (or the package's list) and show them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import text

from ioc.areas import import_org_unit_csv, load_org_units, org_unit_table_exists, province_org_units
from ioc.cli.common import state

app = typer.Typer(no_args_is_help=True)

_NO_TABLE = "table org_unit does not exist: run `ioc db upgrade` first"


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="CSV with code,name,kind,level,parent_code,valid_from,valid_to,successor_code"
            "[,lat,lon,name_en]; default: province.areas_file, else the package's list for province.code",
        ),
    ] = None,
) -> None:
    """Load org units (areas) and print inserted / updated / unchanged / rejected."""
    settings = state(ctx).settings
    path = file or settings.province.areas_file
    with state(ctx).open_database() as database, database.engine.begin() as connection:
        if not org_unit_table_exists(connection):
            typer.echo(_NO_TABLE, err=True)
            raise typer.Exit(1)
        if path is not None:
            result = import_org_unit_csv(connection, path)
            origin = str(path)
        else:
            result = load_org_units(connection, province_org_units(settings.province.code))
            origin = f"vietnam-provinces, province {settings.province.code}"
    typer.echo(
        f"{origin}: read {result.read}, inserted {result.inserted}, updated {result.updated}, "
        f"unchanged {result.unchanged}, rejected {result.rejected}"
    )
    if result.rejected:
        typer.echo("rejected rows and their reasons are in table rejected_row (source 'areas')", err=True)


@app.command("list")
def list_command(
    ctx: typer.Context,
    level: Annotated[int | None, typer.Option("--level", help="1 province, 2 commune/ward")] = None,
) -> None:
    """List org units: code, level, kind, name, parent, validity and successor."""
    with state(ctx).open_database() as database, database.engine.connect() as connection:
        if not org_unit_table_exists(connection):
            typer.echo(_NO_TABLE, err=True)
            raise typer.Exit(1)
        rows = connection.execute(
            text(
                "SELECT code, level, kind, name, parent_code, valid_from, valid_to, successor_code "
                "FROM org_unit WHERE CAST(:level AS int) IS NULL OR level = :level ORDER BY level, code"
            ),
            {"level": level},
        ).all()
    for code, lvl, kind, name, parent, valid_from, valid_to, successor in rows:
        validity = f"{valid_from or '…'}–{valid_to or ''}"
        extra = f"  → {successor}" if successor else ""
        typer.echo(f"{code:<8} {lvl}  {kind:<10} {name:<40} {parent or '':<6} {validity}{extra}")
    typer.echo(f"{len(rows)} unit(s)")
