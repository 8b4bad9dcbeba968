"""The desktop's side of briefings: `POST /briefings/new` (build for the page's filters and download),
`/briefings/<id>.pdf` (download from the archive), the "tải bản tin" button and the failed-delivery
list of the sources page. The archive page itself is `dashboard/pages/briefings.py`.

Building a briefing changes state (a row and a file in the archive) and costs seconds of CPU, so it is
a POST from the button's form (same origin, with the form token), never a link: a GET only leads to the
archive page. The briefing reads through the reader's scoped read model; a department filter narrows it
further. A briefing narrowed to departments (a staff member's, or a department filter) is sent to its
reader only; the archive keeps whole-area briefings, which readers see only for areas they may read whole.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component
from flask import Flask, Response, abort, current_app, has_request_context, redirect, request, send_file

from dashboard.data import current_scope, read_model
from dashboard.desk.period_text import describe
from dashboard.security import csrf
from dashboard.security.audit_log import record as audit
from ioc.auth.scoped import check_area, narrowed_scope, reads_whole, scoped
from ioc.briefings import archive
from ioc.briefings.archive import BriefingRecord
from ioc.formatting import format_datetime
from ioc.kpi.periods import Period, PeriodError, local_today, parse_period
from ioc.queries import ReadModel

DELIVERY_VI = {"none": "Không gửi", "pending": "Đang gửi lại", "sent": "Đã gửi", "failed": "Gửi lỗi"}
STATUS_VI = {"building": "Đang lập", "built": "Đã lập", "failed": "Lỗi khi lập"}
NEW_PATH = "/briefings/new"
BUTTON_TEXTS = {  # (button, its tooltip, the archive link); the briefing itself is in Vietnamese
    "vi": (
        "Tải bản tin (PDF)",
        "Bản tin điều hành theo bộ lọc đang chọn (mất vài giây để lập)",
        "Lưu trữ bản tin",
    ),
    "en": (
        "Download briefing (PDF, Vietnamese)",
        "The operations briefing for the chosen filters (takes a few seconds to build)",
        "Briefing archive",
    ),
}


def form_fields(filters: Any) -> dict[str, str]:
    """The filters a briefing is built for: period, area, department (those set)."""
    fields = {"period": filters.period, "area": filters.area, "dept": filters.department}
    return {name: value for name, value in fields.items() if value}


def _form_token() -> str:
    return csrf.token() if has_request_context() else ""


def button(filters: Any) -> Component:
    """'Tải bản tin' for the page's filters (a form POST: the answer is the PDF, downloaded), and the
    archive (the desk's page header)."""
    hidden = [
        dcc.Input(type="hidden", name=name, value=value) for name, value in form_fields(filters).items()
    ]
    label, tooltip, archive = BUTTON_TEXTS["en" if filters.lang == "en" else "vi"]
    return html.Div(
        [
            html.Form(
                [
                    *hidden,
                    dcc.Input(type="hidden", name="csrf_token", value=_form_token()),
                    html.Button(
                        label,
                        type="submit",
                        className="btn btn-outline-primary btn-sm me-2",
                        id="desk-briefing",
                        title=tooltip,
                    ),
                ],
                action=NEW_PATH,
                method="POST",
                className="d-inline",
            ),
            html.A(archive, href="/briefings", className="btn btn-link btn-sm"),
        ],
        className="desk-briefing mb-2",
    )


def _engine() -> Any:
    """The primary database (the archive is written; the read model may read a replica)."""
    return current_app.config["IOC_DATABASE"].engine


def _download_name(area: str, period: str) -> str:
    return f"ban-tin-{area}-{period}.pdf"


def _send(record: BriefingRecord) -> Response:
    path = archive.path_of(read_model().settings.briefings, record)
    if path is None:
        abort(404)
    name = _download_name(record.area, record.period)
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name)


def readable(records: list[BriefingRecord]) -> list[BriefingRecord]:
    """The archived briefings the current reader may open: whole-area briefings of areas they read whole."""
    model = read_model()
    return [record for record in records if reads_whole(model, record.area)]


def download(briefing_id: int) -> Response:
    record = archive.get(_engine(), briefing_id)
    if record is None:
        abort(404)
    if not readable([record]):
        abort(403)
    return _send(record)


def build_now() -> Response:
    """POST: build the briefing of the form's period, area and department now and send it (archived when
    it covers the whole area). GET: nothing is built; the archive page, with the same filters."""
    if request.method != "POST":
        return redirect("/briefings" + (f"?{urlencode(request.args)}" if request.args else ""), code=303)
    if not csrf.form_token_ok(request.form.get("csrf_token")):
        abort(400)
    department = request.form.get("dept") or None
    scope = narrowed_scope(current_scope(), department)  # a department outside the scope: 403
    rm = scoped(read_model(), scope)
    try:
        period = parse_period(request.form.get("period", ""), today=local_today(rm.settings.zone))
    except PeriodError:
        abort(400)
    area = request.form.get("area") or rm.settings.province.code
    if rm.area_name(area) is None:
        abort(404)
    if department is not None and department not in {option.code for option in rm.departments()}:
        abort(404)
    detail = {"period": period.label, "area": area, "dept": department}
    if scope.unrestricted:
        return _archived(rm, period, area, detail)
    check_area(rm, area)  # an area outside the scope: 403 before any work
    return _personal(rm, period, area, detail)


def _archived(rm: ReadModel, period: Period, area: str, detail: dict[str, Any]) -> Response:
    from dashboard.briefings.jobs import produce

    record = produce(rm, period, area, engine=_engine())
    if record is None:
        abort(500)
    audit("briefing", {**detail, "archived": record.id})
    return _send(record)


def _personal(rm: ReadModel, period: Period, area: str, detail: dict[str, Any]) -> Response:
    """A briefing narrowed to departments: built for this reader, sent, not archived."""
    from dashboard.briefings.build import build_briefing

    with tempfile.TemporaryDirectory(prefix="ioc-briefing-") as folder:
        out = build_briefing(
            rm, period, area, out=Path(folder) / "ban-tin.pdf", emblem=rm.settings.briefings.emblem
        )
        data = out.read_bytes()
    audit("briefing", {**detail, "archived": None})
    where = area if detail["dept"] is None else f"{area}-{detail['dept']}"
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=_download_name(where, period.label),
    )


def register(server: Flask) -> None:
    server.add_url_rule(NEW_PATH, "briefing_new", build_now, methods=["GET", "POST"])
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
