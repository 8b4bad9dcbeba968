"""`ioc kpi …` commands: check the definitions, list them, compute one, refresh rollups.

Errors in the definitions or in a question (unknown KPI, area, period, breakdown) print a readable
message and exit with code 2, never a traceback.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from ioc.cli.common import state
from ioc.formatting import format_coverage, format_date, format_datetime, format_value
from ioc.kpi.periods import current, parse_period
from ioc.kpi.spec import KpiLibrary, KpiSpecError, check_library, load_library

app = typer.Typer(no_args_is_help=True)

DirOption = Annotated[
    Path | None, typer.Option("--dir", help="KPI definitions directory (default: kpi_dir from config)")
]


def _kpi_dir(ctx: typer.Context, directory: Path | None) -> Path:
    return directory if directory is not None else state(ctx).settings.kpi_dir


def _library(ctx: typer.Context, directory: Path | None) -> KpiLibrary:
    try:
        return load_library(_kpi_dir(ctx, directory))
    except KpiSpecError as exc:
        for issue in exc.issues:
            typer.echo(f"error: {issue}", err=True)
        typer.echo(f"{len(exc.issues)} error(s) in the KPI definitions", err=True)
        raise typer.Exit(2) from None


@app.command("check")
def check(ctx: typer.Context, directory: DirOption = None) -> None:
    """Validate every kpi_definitions/*.yaml; exit 2 on any error."""
    kpi_dir = _kpi_dir(ctx, directory)
    library, issues = check_library(kpi_dir)
    for issue in issues:
        typer.echo(f"error: {issue}", err=True)
    if issues:
        typer.echo(f"{len(issues)} error(s) in {kpi_dir}", err=True)
        raise typer.Exit(2)
    files = len(set(library.files.values()))
    typer.echo(f"OK: {len(library)} KPIs in {files} files ({kpi_dir})")


@app.command("list")
def list_kpis(
    ctx: typer.Context,
    directory: DirOption = None,
    domain: Annotated[str | None, typer.Option(help="only this domain")] = None,
) -> None:
    """List the KPIs: id, type, domain, unit and name."""
    library = _library(ctx, directory)
    for kpi in library:
        if domain and library.domains[kpi.id] != domain:
            continue
        mark = "*" if kpi.headline else " "
        domain_name = library.domains[kpi.id]
        typer.echo(f"{mark} {kpi.id:<34} {kpi.type:<10} {domain_name:<17} {kpi.unit.vi:<14} {kpi.name.vi}")


NO_DATA_VI = "không có dữ liệu"


def _format(value: float | None, decimals: int) -> str:
    return format_value(value, decimals, "", no_data=NO_DATA_VI)


STATUS_LABELS = {"green": "xanh / green", "amber": "vàng / amber", "red": "đỏ / red"}


def _status(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", "không đánh giá / none")


@app.command("show")
def show(
    ctx: typer.Context,
    kpi_id: Annotated[str, typer.Argument(help="KPI id")],
    area: Annotated[str | None, typer.Option(help="org_unit code (default: the province)")] = None,
    period: Annotated[str | None, typer.Option(help="2026, 2026-Q3, 2026-10, 2026-W42, 2026-10-05")] = None,
    breakdown: Annotated[
        str | None, typer.Option(help="area, department, procedure, channel, category")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="moment for snapshot KPIs (ISO)")] = None,
    directory: DirOption = None,
) -> None:
    """Compute one KPI for a period and an area, optionally broken down."""
    from ioc.kpi.engine import KpiQueryError, compute

    library = _library(ctx, directory)
    settings = state(ctx).settings
    if kpi_id not in library:
        typer.echo(f"error: unknown KPI {kpi_id!r} (see `ioc kpi list`)", err=True)
        raise typer.Exit(2)
    kpi = library.get(kpi_id)
    moment = None
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError:
            typer.echo(f"error: --as-of: expected an ISO date-time, got {as_of!r}", err=True)
            raise typer.Exit(2) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=settings.zone)
    period = period or current(kpi.grain, datetime.now(settings.zone).date()).label
    try:  # an impossible period is refused before the database is opened
        parse_period(period)
    except (ValueError, OverflowError) as exc:
        typer.echo(f"error: --period {period!r}: {exc}", err=True)
        raise typer.Exit(2) from None
    with state(ctx).open_database() as database:
        try:
            area_code = area or settings.province.code
            result = compute(
                database.engine, library, kpi_id, period, area_code, breakdown, moment, zone=settings.zone
            )
        except KpiQueryError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except OverflowError:  # a comparison period before year 1 or after 9999
            typer.echo(f"error: --period {period!r}: its comparison period is outside years 1–9999", err=True)
            raise typer.Exit(2) from None
    value = format_value(result.value, kpi.decimals, result.unit_vi, no_data=NO_DATA_VI)
    if result.coverage is not None and result.coverage[0] < result.coverage[1]:
        value += f" ({format_coverage(result.coverage)} báo cáo)"
    typer.echo(f"{result.name_vi} ({result.name_en})")
    typer.echo(f"  kỳ {result.period}, địa bàn {result.area}: {value}")
    if result.merged_into is not None:
        when = f" từ {format_date(result.merged_on)}" if result.merged_on else ""
        typer.echo(f"  đơn vị cũ: đã sáp nhập vào {result.merged_into}{when}")
    if result.observed_period:
        typer.echo(f"  số liệu kỳ: {result.observed_period}")
    typer.echo(f"  kỳ so sánh {result.previous_period}: {_format(result.previous, kpi.decimals)}")
    if result.delta is not None:
        typer.echo(f"  chênh lệch: {'+' if result.delta >= 0 else ''}{_format(result.delta, kpi.decimals)}")
    if result.target is not None:
        typer.echo(f"  chỉ tiêu: {_format(result.target, kpi.decimals)}")
    typer.echo(f"  trạng thái: {_status(result.status)}")
    as_of_text = format_datetime(result.data_as_of, settings.zone)
    typer.echo(f"  dữ liệu đến: {as_of_text}{' (cũ)' if result.stale else ''}")
    for row in result.rows:
        rank = f"{row.rank:>3}" if row.rank else "  -"
        typer.echo(f"  {rank}. {row.label:<40} {_format(row.value, kpi.decimals):>16}  {_status(row.status)}")


@app.command("refresh")
def refresh(ctx: typer.Context) -> None:
    """Rebuild the KPI rollup tables from the fact tables."""
    from ioc.kpi import rollup

    with state(ctx).open_database() as database, database.engine.begin() as connection:
        written = rollup.refresh(connection)
    for name, rows in written.items():
        typer.echo(f"{name}: {rows} rows")


@app.command("calendar")
def calendar(
    ctx: typer.Context,
    first_year: Annotated[int, typer.Option(help="first year")] = 2015,
    last_year: Annotated[int, typer.Option(help="last year")] = 2035,
) -> None:
    """Rebuild kpi.work_calendar from the `holidays` package and the config's `calendar:` (extra days
    off, compensatory working days); the KPI rollups are refreshed when a day changed."""
    from ioc.kpi.calendar import configured, sync

    work_calendar = configured(state(ctx).settings.calendar, (first_year, last_year))
    with state(ctx).open_database() as database, database.engine.begin() as connection:
        changed = sync(connection, work_calendar)
    days = (date(last_year, 12, 31) - date(first_year, 1, 1)).days + 1
    outcome = "rebuilt, KPI rollups refreshed" if changed else "unchanged"
    typer.echo(f"work_calendar: {days} days ({first_year}–{last_year}), {outcome}")
