"""E-mail a briefing through the province's SMTP relay (smtplib), with bounded retries.

The password is read from the environment variable `smtp.password_env` names, at send time; it is
never logged nor stored. A delivery is 'sent' only when the relay accepted the message for every
recipient; otherwise it is retried (backoff doubling) and, after the last attempt, 'failed' with
the error (class and first line, no password).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from ioc.briefings.config import BriefingsConfig, SmtpConfig


class DeliveryError(RuntimeError):
    pass


@dataclass(frozen=True)
class Delivery:
    status: str  # 'sent' | 'failed'
    attempts: int
    error: str | None = None


def message(config: SmtpConfig, recipients: list[str], subject: str, body: str, pdf: Path) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=config.sender.rsplit("@", 1)[-1])
    mail.set_content(body)
    mail.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    return mail


def password(config: SmtpConfig) -> str | None:
    if config.password_env is None:
        return None
    value = os.environ.get(config.password_env)
    if not value:
        raise DeliveryError(
            f"briefings.smtp.password_env: environment variable {config.password_env} is not set"
        )
    return value


def send_once(config: SmtpConfig, mail: EmailMessage) -> None:
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as client:
        client.ehlo()
        if config.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        secret = password(config)
        if config.user and secret is not None:
            client.login(config.user, secret)
        refused = client.send_message(mail)
        if refused:
            raise DeliveryError(f"the relay refused {len(refused)} recipient(s)")


def _reason(exc: BaseException) -> str:
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def deliver(
    config: BriefingsConfig,
    subject: str,
    body: str,
    pdf: Path,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_attempt: Callable[[int, str | None], None] | None = None,
) -> Delivery:
    """Send with up to `retry.attempts` tries, waiting `backoff`, 2×backoff… between them."""
    if config.smtp is None or not config.recipients:
        raise DeliveryError("briefings.smtp and briefings.recipients are needed to e-mail a briefing")
    mail = message(config.smtp, config.recipients, subject, body, pdf)
    error: str | None = None
    for attempt in range(1, config.retry.attempts + 1):
        try:
            send_once(config.smtp, mail)
        except (OSError, smtplib.SMTPException, DeliveryError) as exc:
            error = _reason(exc)
            if on_attempt:
                on_attempt(attempt, error)
            if attempt < config.retry.attempts:
                sleep(config.retry.backoff * 2 ** (attempt - 1))
            continue
        if on_attempt:
            on_attempt(attempt, None)
        return Delivery("sent", attempt)
    return Delivery("failed", config.retry.attempts, error)
