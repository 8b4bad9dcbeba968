"""The table of what the database holds: rows and data age per table."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ioc.formatting import format_age, format_datetime, format_number
from ioc.overview import TableSummary


def status_table(summaries: list[TableSummary]) -> dbc.Table:
    header = html.Thead(
        html.Tr(
            [
                html.Th("Bảng dữ liệu / Table"),
                html.Th("Số bản ghi / Rows", className="text-end"),
                html.Th("Cập nhật gần nhất / Last change"),
                html.Th("Tuổi dữ liệu / Data age"),
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(summary.label),
                    html.Td(
                        format_number(summary.rows),
                        className="text-end",
                        id={"type": "table-rows", "table": summary.table},
                    ),
                    html.Td(format_datetime(summary.newest)),
                    html.Td(format_age(summary.age)),
                ]
            )
            for summary in summaries
        ]
    )
    return dbc.Table([header, body], striped=True, bordered=False, hover=True, className="ioc-status-table")
