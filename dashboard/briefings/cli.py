"""`ioc briefing --period 2026-11 [--area CODE] [--out FILE.pdf]`, added to `ioc` through the
`ioc.commands` entry point (the core package never imports the dashboard)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer

from ioc.cli.common import state
from ioc.kpi import load_library
from ioc.kpi.periods import PeriodError, parse_period
from ioc.queries import ReadModel

NOISY_LOGGERS = ("weasyprint", "choreographer", "kaleido", "fontTools")
PERIOD_HELP = "2026-W47 (tuần), 2026-11 (tháng), 2026-Q3 (quý), 2026-6M / 2026-9M, 2026 (năm)"


def default_name(area: str, period: str) -> str:
    return f"ban-tin-{area}-{period}.pdf"


def register(app: typer.Typer) -> None:
    @app.command()
    def briefing(
        ctx: typer.Context,
        period: Annotated[str, typer.Option(help=PERIOD_HELP)],
        area: Annotated[str | None, typer.Option(help="area code (default: the province)")] = None,
        out: Annotated[Path | None, typer.Option(help="PDF file to write")] = None,
    ) -> None:
        """Build the PDF briefing ("bản tin điều hành") of one period."""
        from dashboard.briefings import ChromiumMissing, build_briefing

        if logging.getLogger().level > logging.DEBUG:  # one line per layout step / browser tab otherwise
            for name in NOISY_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)

        try:
            parsed = parse_period(period)
        except PeriodError as exc:
            typer.echo(f"--period {period!r}: {exc} (examples: {PERIOD_HELP})", err=True)
            raise typer.Exit(2) from None
        settings = state(ctx).settings
        area = area or settings.province.code
        target = out or Path(default_name(area, parsed.label))
        started = time.monotonic()
        with state(ctx).open_database() as database:
            model = ReadModel(database.read_engine, load_library(settings.kpi_dir), settings)
            if model.area_name(area) is None:
                typer.echo(f"--area {area!r}: no such area (see `ioc areas`)", err=True)
                raise typer.Exit(2)
            try:
                written = build_briefing(
                    model,
                    parsed,
                    area,
                    out=target,
                    emblem=settings.briefings.emblem,
                    progress=lambda m: typer.echo(m, err=True),
                )
            except ChromiumMissing as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from None
        typer.echo(f"{written} ({time.monotonic() - started:.1f} s)")
