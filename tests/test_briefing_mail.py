"""Scheduled briefings e-mailed through a loopback SMTP relay (aiosmtpd), and a relay that is down:
retried with backoff, recorded as failed, never as sent."""

from __future__ import annotations

import email
import re
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dashboard.briefings.jobs import ScheduledBriefing
from ioc.briefings import archive
from ioc.briefings.config import BriefingsConfig
from ioc.config import ConfigError, Settings, load_settings
from ioc.queries import ReadModel
from tests.loopback import free_port
from tests.test_briefing import model  # noqa: F401  (fixture)
from tests.test_kpi_engine import at, dossiers, incidents, indicators, kdb, library  # noqa: F401
from tests.test_queries import Clock

pytestmark = pytest.mark.slow
PASSWORD_ENV = "IOC_TEST_SMTP_PASSWORD"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword) and auth_data.login == b"ioc" and auth_data.password == b"s3cret"
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def relay() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    yield inbox, port
    controller.stop()


def with_briefings(model: ReadModel, tmp_path: Path, port: int, **retry: float) -> ReadModel:  # noqa: F811
    config = BriefingsConfig.model_validate(
        {
            "archive_dir": str(tmp_path / "archive"),
            "schedules": {"monthly": {"cron": "0 17 last * *", "period": "previous_month"}},
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "starttls": False,
                "user": "ioc",
                "password_env": PASSWORD_ENV,
                "sender": "ioc@daklak.gov.vn",
                "timeout": 5,
            },
            "recipients": ["lanhdao@daklak.gov.vn", "vanphong@daklak.gov.vn"],
            "retry": {"attempts": 3, "backoff": 2, **retry},
        }
    )
    settings: Settings = model.settings.model_copy(update={"briefings": config})
    return ReadModel(model.engine, model.library, settings, clock=Clock(at("2026-11-02", "07:00")))


def test_scheduled_briefing_is_mailed_with_its_pdf(
    model: ReadModel,  # noqa: F811
    relay: tuple[Inbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, port = relay
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    rm = with_briefings(model, tmp_path, port)
    job = ScheduledBriefing(rm.engine, rm.settings, "monthly", read_model=rm)
    waits: list[float] = []
    assert job(sleep=waits.append) == "built/sent"
    assert waits == []
    assert len(inbox.messages) == 1
    sender, recipients, raw = inbox.messages[0]
    assert sender == "ioc@daklak.gov.vn" and recipients == ["lanhdao@daklak.gov.vn", "vanphong@daklak.gov.vn"]
    message = email.message_from_bytes(raw, _class=EmailMessage)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == "Bản tin điều hành Tỉnh Đắk Lắk · Tháng 10/2026"
    assert b"s3cret" not in raw
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename().endswith(".pdf") and "2026-10" in attachment.get_filename()
    pdf = attachment.get_payload(decode=True)
    assert pdf.startswith(b"%PDF")
    saved = tmp_path / "mailed.pdf"
    saved.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(saved), "-"], capture_output=True, text=True, check=True).stdout
    assert "BẢN TIN ĐIỀU HÀNH" in text and "Tháng 10/2026" in text
    (record,) = archive.recent(rm.engine)
    assert record.schedule == "monthly" and record.period == "2026-10" and record.delivery == "sent"
    assert record.attempts == 1 and record.sent_at is not None and record.last_error is None
    assert archive.path_of(rm.settings.briefings, record) is not None
    # the same trigger again (another worker, a restart): claimed once, not sent twice
    assert job(sleep=waits.append) == "done elsewhere"
    assert len(inbox.messages) == 1


def test_relay_down_is_retried_then_recorded_as_failed(
    model: ReadModel,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    rm = with_briefings(model, tmp_path, free_port())  # nothing listens there
    seen: list[tuple[str, int]] = []
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        (row,) = archive.recent(rm.engine)
        seen.append((row.delivery, row.attempts))

    job = ScheduledBriefing(rm.engine, rm.settings, "monthly", read_model=rm)
    assert job(sleep=sleep) == "built/failed"
    assert waits == [2, 4]  # backoff doubles between the 3 attempts
    assert seen == [("pending", 1), ("pending", 2)]  # never 'sent' on the way
    (record,) = archive.failed_deliveries(rm.engine)
    assert record.delivery == "failed" and record.attempts == 3 and record.sent_at is None
    assert "ConnectionRefusedError" in (record.last_error or "")
    assert "s3cret" not in (record.last_error or "")
    assert archive.path_of(rm.settings.briefings, record) is not None  # the PDF is archived anyway


@pytest.mark.parametrize(
    ("section", "where"),
    [
        (
            "  schedules:\n    weekly: {cron: '0 7 * * mon-fri-sat', period: previous_week, email: false}\n",
            "briefings.schedules.weekly.cron",
        ),
        (
            "  schedules:\n    weekly: {cron: '0 7 * * mon', period: last_fortnight, email: false}\n",
            "briefings.schedules.weekly.period",
        ),
        ("  schedules:\n    weekly: {cron: '0 7 * * mon', period: previous_week}\n", "briefings.smtp"),
        ("  smtp: {host: relay, sender: ioc@x.vn, pasword_env: X}\n", "briefings.smtp.pasword_env"),
        ("  recipients: [lanhdao]\n", "briefings.recipients"),
    ],
)
def test_config_errors_name_the_key_path(tmp_path: Path, section: str, where: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("province:\n  code: '66'\nbriefings:\n" + section, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(where)):
        load_settings(config)


def test_the_worker_schedules_each_briefing(tmp_path: Path) -> None:
    from importlib.metadata import entry_points

    from apscheduler.schedulers.background import BackgroundScheduler

    config = tmp_path / "config.yaml"
    config.write_text(
        "province:\n  code: '66'\nbriefings:\n  schedules:\n"
        "    weekly: {cron: '0 7 * * mon', period: previous_week, email: false}\n"
        "    monthly: {cron: '0 17 last * *', period: current_month, email: false}\n",
        encoding="utf-8",
    )
    settings = load_settings(config)
    (hook,) = [entry for entry in entry_points(group="ioc.jobs") if entry.name == "briefings"]
    scheduler = BackgroundScheduler(timezone=settings.zone)
    hook.load()(scheduler, settings, None)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"briefing:weekly", "briefing:monthly"}
    monday = jobs["briefing:weekly"].trigger.get_next_fire_time(None, at("2026-11-25", "12:00"))
    month_end = jobs["briefing:monthly"].trigger.get_next_fire_time(None, at("2026-11-25", "12:00"))
    assert monday == at("2026-11-30", "07:00") and month_end == at("2026-11-30", "17:00")
