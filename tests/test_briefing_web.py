"""The desktop's briefings: build for the current filters and download (a form POST; a GET builds
nothing), the archive page, the "tải bản tin" button, and failed deliveries on the sources page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dash import dcc, html

from dashboard.app import create_app
from dashboard.briefings.web import archive_table, button, failed_deliveries
from dashboard.url import Filters
from ioc.auth.config import AuthConfig
from ioc.briefings import archive
from ioc.briefings.config import BriefingsConfig
from ioc.database import Database
from ioc.queries import ReadModel
from tests.test_briefing import model, pdf_text  # noqa: F401  (fixture)
from tests.test_kpi_engine import dossiers, incidents, indicators, kdb, library  # noqa: F401

pytestmark = pytest.mark.slow
TOKEN = "jeton-du-formulaire"
ORIGIN = "http://localhost"


def text_of(component: object) -> str:
    if isinstance(component, str | int | float):
        return str(component)
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, list | tuple):
        children = [children]
    return " ".join(text_of(child) for child in children)


def _client(model: ReadModel, tmp_path: Path) -> Any:  # noqa: F811
    settings = model.settings.model_copy(
        update={
            "briefings": BriefingsConfig(archive_dir=tmp_path / "archive"),
            "auth": AuthConfig(enabled=False),  # logins: tests/test_security_web.py
        }
    )
    app = create_app(
        settings, Database(url=str(model.engine.url), engine=model.engine, read_engine=model.engine)
    )
    client = app.server.test_client()
    with client.session_transaction() as session:
        session["csrf"] = TOKEN  # what the button's form carries (dashboard.security.csrf.token)
    return client


def _post(client: Any, **form: str) -> Any:
    return client.post("/briefings/new", data={"csrf_token": TOKEN, **form}, headers={"Origin": ORIGIN})


def test_a_post_builds_archives_and_sends_the_briefing(model: ReadModel, tmp_path: Path) -> None:  # noqa: F811
    client = _client(model, tmp_path)
    assert _post(client, period="2026-13").status_code == 400
    assert _post(client, period="2026-10", area="99999").status_code == 404
    assert _post(client, period="2026-10", dept="KHONGCO").status_code == 404
    assert client.get("/briefings/999.pdf").status_code == 404
    answer = _post(client, period="2026-10", area="66001")
    assert (
        answer.status_code == 200 and answer.mimetype == "application/pdf" and answer.data.startswith(b"%PDF")
    )
    assert "attachment" in answer.headers["Content-Disposition"]
    assert "ban-tin-66001-2026-10.pdf" in answer.headers["Content-Disposition"]
    (record,) = archive.recent(model.engine)
    assert record.schedule is None and record.area == "66001" and record.delivery == "none"
    pdf = client.get(f"/briefings/{record.id}.pdf")
    assert pdf.status_code == 200 and pdf.data == answer.data
    listing = text_of(archive_table(archive.recent(model.engine)))
    assert "Tháng 10/2026" in listing and "Theo yêu cầu" in listing and "Tải PDF" in listing


def test_a_get_or_a_forged_post_builds_nothing(model: ReadModel, tmp_path: Path) -> None:  # noqa: F811
    client = _client(model, tmp_path)
    link = client.get("/briefings/new?period=2026-10&area=66001")  # a link or an <img> on another site
    assert link.status_code == 303 and link.headers["Location"] == "/briefings?period=2026-10&area=66001"
    form = {"csrf_token": TOKEN, "period": "2026-10"}
    assert (
        client.post("/briefings/new", data=form, headers={"Origin": "http://evil.example"}).status_code == 403
    )
    assert client.post("/briefings/new", data=form).status_code == 403  # no Origin, no Referer
    assert _post(client, period="2026-10", csrf_token="forged").status_code == 400
    assert archive.recent(model.engine) == []


def test_a_department_briefing_names_it_and_stays_out_of_the_archive(
    model: ReadModel,  # noqa: F811
    tmp_path: Path,
) -> None:
    client = _client(model, tmp_path)
    answer = _post(client, period="2026-10", dept="SYT")
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF")
    assert "ban-tin-66-SYT-2026-10.pdf" in answer.headers["Content-Disposition"]
    pdf = tmp_path / "syt.pdf"
    pdf.write_bytes(answer.data)
    flat = " ".join(pdf_text(pdf).split())
    assert "Số liệu hồ sơ của: Sở Y tế" in flat
    assert "Sở Nội vụ" not in flat  # the other department is in no table, chart or sentence
    assert archive.recent(model.engine) == []


def test_button_is_a_form_carrying_the_filters() -> None:
    form = button(Filters(period="2026-Q3", area="66001", department="SYT")).children[0]
    assert isinstance(form, html.Form) and form.action == "/briefings/new" and form.method == "POST"
    fields = {child.name: child.value for child in form.children if isinstance(child, dcc.Input)}
    assert fields == {"period": "2026-Q3", "area": "66001", "dept": "SYT", "csrf_token": ""}
    assert "Tải bản tin" in text_of(form.children[-1]) and form.children[-1].type == "submit"
    english = button(Filters(period="2026-Q3", lang="en"))
    assert "Download briefing" in text_of(english.children[0].children[-1])
    assert text_of(english.children[1]) == "Briefing archive"


def test_failed_delivery_is_shown_on_the_sources_page(model: ReadModel) -> None:  # noqa: F811
    assert "Không có bản tin nào gửi lỗi" in text_of(failed_deliveries(model.engine))
    briefing_id = archive.claim(model.engine, "2026-10", "66", "monthly")
    assert briefing_id is not None
    archive.delivered(
        model.engine, briefing_id, delivery="failed", attempts=3, error="ConnectionRefusedError: refused"
    )
    shown = text_of(failed_deliveries(model.engine))
    assert "Tháng 10/2026" in shown and "3 lần thử" in shown and "ConnectionRefusedError" in shown


def test_two_builds_at_once_in_one_process_each_get_their_own_charts() -> None:
    """Two readers click "tải bản tin" together (threads of one web worker, or two schedules of the
    worker): kaleido's warm server is one per process, its task and answer queues shared, so one build
    could print the other's chart (another department's numbers) or lose its server midway."""
    import contextlib
    import threading

    import plotly.graph_objects as go

    from dashboard.briefings import charts

    together = threading.Barrier(2, timeout=5)
    results: dict[str, list[str] | BaseException] = {}

    def build(name: str) -> None:
        try:
            with charts.exporter() as exporter:
                with contextlib.suppress(threading.BrokenBarrierError):  # the other build waits
                    together.wait()  # both builds inside at once, when nothing keeps one out
                results[name] = [
                    exporter.svg(go.Figure(layout={"title": {"text": f"Biểu đồ {name} {n}"}}))
                    for n in range(6)
                ]
        except BaseException as error:
            results[name] = error

    threads = [threading.Thread(target=build, args=(name,)) for name in ("một", "hai")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    for name in ("một", "hai"):
        svgs = results.get(name)
        assert isinstance(svgs, list), results
        assert all(f"Biểu đồ {name} {n}" in svg for n, svg in enumerate(svgs)), name
