"""The desktop's side of briefings: `/briefings/new` (build for the current filters and download),
`/briefings/<id>.pdf` (download from the archive), the "tải bản tin" button and the failed-delivery
list of the sources page. The archive page itself is `dashboard/pages/briefings.py`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import html
from dash.development.base_component import Component
from flask import Flask, Response, abort, current_app, redirect, request, send_file

from dashboard.data import current_scope, read_model
from dashboard.desk.period_text import describe
from ioc.briefings import archive
from ioc.briefings.archive import BriefingRecord
from ioc.formatting import format_datetime
from ioc.kpi.periods import PeriodError, local_today, parse_period

DELIVERY_VI = {"none": "Không gửi", "pending": "Đang gửi lại", "sent": "Đã gửi", "failed": "Gửi lỗi"}
STATUS_VI = {"building": "Đang lập", "built": "Đã lập", "failed": "Lỗi khi lập"}


def new_href(period: str, area: str | None) -> str:
    query = {"period": period, **({"area": area} if area else {})}
    return "/briefings/new?" + urlencode(query)


def button(filters: Any) -> Component:
    """'Tải bản tin' for the page's period and area, and the archive (the desk's page header)."""
    return html.Div(
        [
            html.A(
                "Tải bản tin (PDF)",
                href=new_href(filters.period, filters.area),
                className="btn btn-outline-primary btn-sm me-2",
                id="desk-briefing",
                title="Bản tin điều hành của kỳ và địa bàn đang chọn (mất vài giây để lập)",
            ),
            html.A("Lưu trữ bản tin", href="/briefings", className="btn btn-link btn-sm"),
        ],
        className="desk-briefing mb-2",
    )


def _engine() -> Any:
    """The primary database (the archive is written; the read model may read a replica)."""
    return current_app.config["IOC_DATABASE"].engine


def _send(record: BriefingRecord) -> Response:
    path = archive.path_of(read_model().settings.briefings, record)
    if path is None:
        abort(404)
    name = f"ban-tin-{record.area}-{record.period}.pdf"
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name)


def download(briefing_id: int) -> Response:
    record = archive.get(_engine(), briefing_id)
    if record is None:
        abort(404)
    return _send(record)


def build_now() -> Response:
    """Build the briefing of `period` and `area` now, archive it and send it."""
    from dashboard.briefings.jobs import produce

    if not current_scope().unrestricted:
        abort(403)  # a briefing shows the whole area's numbers: leaders and unrestricted staff only
    rm = read_model()
    try:
        period = parse_period(request.args.get("period", ""), today=local_today(rm.settings.zone))
    except PeriodError:
        abort(400)
    area = request.args.get("area") or rm.settings.province.code
    if rm.area_name(area) is None:
        abort(404)
    record = produce(rm, period, area, engine=_engine())
    if record is None:
        abort(500)
    return redirect(f"/briefings/{record.id}.pdf", code=303)


def register(server: Flask) -> None:
    server.add_url_rule("/briefings/new", "briefing_new", build_now)
    server.add_url_rule("/briefings/<int:briefing_id>.pdf", "briefing_download", download)


def archive_table(records: list[BriefingRecord]) -> Component:
    if not records:
        return html.P("Chưa có bản tin nào trong lưu trữ.", className="text-muted")
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Kỳ", "Địa bàn", "Lịch", "Lập lúc", "Trạng thái", "Gửi thư", "Tệp")])
    )
    rows = [
        html.Tr(
            [
                html.Td(describe(record.period)),
                html.Td(record.area),
                html.Td(record.schedule or "Theo yêu cầu"),
                html.Td(format_datetime(record.created_at)),
                html.Td(STATUS_VI.get(record.status, record.status)),
                html.Td(
                    DELIVERY_VI.get(record.delivery, record.delivery)
                    + (f" · {record.last_error}" if record.delivery == "failed" and record.last_error else "")
                ),
                html.Td(
                    html.A("Tải PDF", href=f"/briefings/{record.id}.pdf") if record.status == "built" else "—"
                ),
            ]
        )
        for record in records
    ]
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, className="desk-table briefing-archive")


def failed_deliveries(engine: Any) -> Component:
    """Briefings whose e-mail was not delivered after every attempt (the sources page)."""
    failed = archive.failed_deliveries(engine)
    if not failed:
        return html.P("Không có bản tin nào gửi lỗi.", className="text-muted mb-0")
    return html.Ul(
        [
            html.Li(
                f"Bản tin {describe(record.period)} ({record.area}, {format_datetime(record.created_at)}): "
                f"gửi lỗi sau {record.attempts} lần thử · {record.last_error or ''}"
            )
            for record in failed
        ],
        className="mb-0 briefing-failed",
    )
