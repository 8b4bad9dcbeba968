"""The table of sources: last run, rows, data age and state, from `connector_run` only."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ioc.formatting import format_age, format_datetime, format_number
from ioc.runs import SourceStatus

RUN_STATUS_VI = {"success": "Thành công", "partial": "Một phần", "failed": "Lỗi", "running": "Đang chạy"}


def state_vi(status: SourceStatus) -> tuple[str, str]:
    """(label, Bootstrap colour) of a source's state."""
    if not status.enabled:
        return "Tắt", "secondary"
    if status.last_run is not None and status.last_run.status == "failed":
        return "Lỗi", "danger"
    if status.running:
        return "Đang chạy", "info"
    if status.late:
        return "Trễ", "warning"
    return "Đúng hạn", "success"


def status_table(statuses: list[SourceStatus]) -> dbc.Table:
    header = html.Thead(
        html.Tr(
            [
                html.Th("Nguồn / Source"),
                html.Th("Lần chạy cuối / Last run"),
                html.Th("Kết quả / Result"),
                html.Th("Đọc / Read", className="text-end"),
                html.Th("Nạp / Loaded", className="text-end"),
                html.Th("Loại / Rejected", className="text-end"),
                html.Th("Tuổi dữ liệu / Data age"),
                html.Th("Trạng thái / State"),
            ]
        )
    )
    rows = []
    for status in statuses:
        run = status.last_run
        label, colour = state_vi(status)
        rows.append(
            html.Tr(
                [
                    html.Td(status.source),
                    html.Td(format_datetime(run.started_at if run else None)),
                    html.Td(RUN_STATUS_VI.get(run.status, run.status) if run else "Chưa chạy"),
                    html.Td(
                        format_number(run.rows_read if run else None),
                        className="text-end",
                        id={"type": "source-read", "source": status.source},
                    ),
                    html.Td(
                        format_number(run.rows_inserted + run.rows_updated if run else None),
                        className="text-end",
                    ),
                    html.Td(format_number(run.rows_rejected if run else None), className="text-end"),
                    html.Td(format_age(status.data_age)),
                    html.Td(dbc.Badge(label, color=colour)),
                ]
            )
        )
    return dbc.Table(
        [header, html.Tbody(rows)], striped=True, bordered=False, hover=True, className="ioc-status-table"
    )
