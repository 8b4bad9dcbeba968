"""`ioc run`, `ioc check`, `ioc status`, `ioc worker`.

Exit codes: 0 ok, 1 the run or check failed (or the source is busy), 2 configuration error (raised
as `ConfigError`, turned into exit 2 by `ioc.cli.main`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import psycopg2.errors
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import ProgrammingError

from ioc import runs
from ioc.cli.common import state
from ioc.config import ConfigError, Settings
from ioc.formatting import format_age, format_datetime, format_number
from ioc.runner import BatchProgress, RunSummary, check_source, run_source, source_config
from ioc.runs import SourceStatus

STATUS_LABELS = {
    "success": "[green]thành công / success[/]",
    "partial": "[yellow]một phần / partial[/]",
    "failed": "[red]lỗi / failed[/]",
    "running": "[cyan]đang chạy / running[/]",
}


def _state_label(status: SourceStatus) -> str:
    if not status.enabled:
        return "[dim]tắt / disabled[/]"
    if status.running:
        return "[cyan]đang chạy / running[/]"
    if status.late:
        return "[red]trễ / late[/]"
    return "[green]đúng hạn / on time[/]"


def status_table(statuses: list[SourceStatus]) -> Table:
    table = Table(title="Tình trạng nguồn dữ liệu / Source status", show_lines=False)
    for header, justify in (
        ("Nguồn / Source", "left"),
        ("Bộ kết nối / Connector", "left"),
        ("Lần chạy cuối / Last run", "left"),
        ("Kết quả / Result", "left"),
        ("Đọc / Read", "right"),
        ("Thêm / Inserted", "right"),
        ("Sửa / Updated", "right"),
        ("Loại / Rejected", "right"),
        ("Thành công cuối / Last success", "left"),
        ("Tuổi dữ liệu / Data age", "right"),
        ("Kỳ vọng / Expected", "right"),
        ("Trạng thái / State", "left"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for status in statuses:
        run = status.last_run
        table.add_row(
            status.source,
            status.connector,
            format_datetime(run.started_at if run else None),
            STATUS_LABELS.get(run.status, run.status) if run else "chưa chạy / never run",
            format_number(run.rows_read if run else None),
            format_number(run.rows_inserted if run else None),
            format_number(run.rows_updated if run else None),
            format_number(run.rows_rejected if run else None),
            format_datetime(status.last_success),
            format_age(status.data_age),
            format_age(status.expected_every),
            _state_label(status),
        )
    return table


def dataset_table(statuses: list[SourceStatus]) -> Table:
    table = Table(title="Bộ dữ liệu / Datasets")
    table.add_column("Nguồn / Source")
    table.add_column("Bảng / Table")
    table.add_column("Thành công cuối / Last success")
    table.add_column("Tuổi dữ liệu / Data age", justify="right")
    table.add_column("Trạng thái / State")
    for status in statuses:
        for dataset in status.datasets:
            table.add_row(
                status.source,
                dataset.table,
                format_datetime(dataset.last_success),
                format_age(dataset.data_age),
                "[red]trễ / late[/]" if dataset.late else "[green]đúng hạn / on time[/]",
            )
    return table


def errors_of(statuses: list[SourceStatus]) -> list[str]:
    return [
        f"{s.source}: {s.last_run.error}"
        for s in statuses
        if s.last_run is not None and s.last_run.status == "failed" and s.last_run.error
    ]


def print_summary(console: Console, summary: RunSummary) -> None:
    label = STATUS_LABELS.get(summary.status, summary.status)
    console.print(
        f"{summary.source}: lần chạy / run {summary.run_id} {label} — "
        f"{summary.batches} lô / batches, đọc / read {format_number(summary.rows_read)}, "
        f"thêm / inserted {format_number(summary.rows_inserted)}, "
        f"sửa / updated {format_number(summary.rows_updated)}, "
        f"không đổi / unchanged {format_number(summary.rows_unchanged)}, "
        f"loại / rejected {format_number(summary.rows_rejected)}; {summary.duration:.1f} s"
    )
    if summary.error:
        console.print(f"[red]lỗi / error:[/] {summary.error}", highlight=False)


@contextmanager
def schema_required() -> Iterator[None]:
    """An empty database is a setup problem with a one-line fix, not a traceback."""
    try:
        yield
    except ProgrammingError as exc:
        if isinstance(exc.orig, psycopg2.errors.UndefinedTable):
            raise ConfigError(
                f"the database has no IOC schema yet: run `ioc db upgrade` ({exc.orig})"
            ) from None
        raise


def run_with_progress(
    engine: Engine,
    settings: Settings,
    source: str,
    *,
    full: bool = False,
    stop: threading.Event | None = None,
    console: Console | None = None,
) -> RunSummary:
    """Run a source with a live progress line (batch, rows read / inserted / updated / rejected)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"{source}: đang đọc / reading", total=None, counts="")

        def progress(event: BatchProgress) -> None:
            s = event.summary
            bar.update(
                task,
                description=f"{source}: lô / batch {event.number} {event.description}".strip(),
                counts=f"đọc / read {format_number(s.rows_read)} · thêm / inserted "
                f"{format_number(s.rows_inserted)} · sửa / updated {format_number(s.rows_updated)} · "
                f"loại / rejected {format_number(s.rows_rejected)}",
            )

        return run_source(engine, settings, source, full=full, stop=stop, progress=progress)


def register(app: typer.Typer) -> None:
    """Add the source commands to the top-level app."""

    @app.command("run")
    def run_command(
        ctx: typer.Context,
        source: Annotated[str, typer.Argument(help="source name under `sources:` in config.yaml")],
        full: Annotated[bool, typer.Option("--full", help="ignore the cursor and pull everything")] = False,
    ) -> None:
        """Run one source now (Ctrl-C stops after the current batch)."""
        from ioc.scheduler import preflight

        app_state = state(ctx)
        settings = app_state.settings
        source_config(settings, source)
        preflight(settings, [source])
        console = Console(stderr=True)
        stop = threading.Event()
        previous = signal.getsignal(signal.SIGINT)

        def interrupt(signum: int, frame: FrameType | None) -> None:
            if stop.is_set():
                raise KeyboardInterrupt
            console.print("dừng sau lô hiện tại / stopping after the current batch (Ctrl-C again to abort)")
            stop.set()

        with (
            schema_required(),
            app_state.open_database() as database,
            runs.source_lock(database.engine, source) as acquired,
        ):
            if not acquired:
                console.print(f"[red]{source}: đang chạy ở tiến trình khác / already running elsewhere[/]")
                raise typer.Exit(1)
            signal.signal(signal.SIGINT, interrupt)
            try:
                summary = run_with_progress(
                    database.engine, settings, source, full=full, stop=stop, console=console
                )
            finally:
                signal.signal(signal.SIGINT, previous)
        print_summary(Console(), summary)
        if not summary.ok:
            raise typer.Exit(1)

    @app.command("check")
    def check_command(
        ctx: typer.Context,
        source: Annotated[str, typer.Argument(help="source name under `sources:` in config.yaml")],
    ) -> None:
        """Check that a source answers with the expected shape (stores nothing)."""
        from ioc.scheduler import preflight

        settings = state(ctx).settings
        source_config(settings, source)
        preflight(settings, [source])
        result = check_source(settings, source)
        mark = "[green]OK[/]" if result.ok else "[red]LỖI / FAILED[/]"
        Console().print(f"{source}: {mark} {result.message}", highlight=False)
        if not result.ok:
            raise typer.Exit(1)

    @app.command("status")
    def status_command(
        ctx: typer.Context,
        datasets: Annotated[
            bool, typer.Option("--datasets/--no-datasets", help="also list each source's tables")
        ] = True,
    ) -> None:
        """Each source's last run, rows, last success, data age and whether it is late."""
        settings = state(ctx).settings
        with schema_required(), state(ctx).open_database() as database:
            statuses = runs.source_status(database.engine, settings, datasets=datasets)
        console = Console()
        if not statuses:
            console.print("chưa cấu hình nguồn nào / no sources configured")
            return
        console.print(status_table(statuses))
        if datasets and any(s.datasets for s in statuses):
            console.print(dataset_table(statuses))
        for line in errors_of(statuses):
            console.print(f"[red]lỗi / error[/] {line}", highlight=False)

    @app.command("worker")
    def worker_command(ctx: typer.Context) -> None:
        """Run the scheduler: each scheduled source on its cron/every (SIGTERM stops after the batch)."""
        from ioc.scheduler import preflight, run_worker, scheduled_sources

        settings = state(ctx).settings
        preflight(settings, scheduled_sources(settings))  # before the database and the scheduler start
        with schema_required(), state(ctx).open_database() as database:
            run_worker(settings, database.engine)
