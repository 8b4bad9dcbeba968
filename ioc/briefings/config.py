"""The `briefings:` section of config.yaml (issue 10): schedules, archive folder, SMTP relay.

Secrets are never written here: `smtp.password_env` names the environment variable holding the
relay's password. Errors carry the key path (`briefings.schedules.weekly.cron`) like the rest of
the configuration. This module imports nothing from `ioc.config` (which imports it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ioc.cron import cron_trigger

RelativePeriod = Literal[
    "previous_week", "current_week", "previous_month", "current_month", "previous_quarter", "current_year"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BriefingSchedule(_Strict):
    cron: str = Field(description="crontab (local time): '0 7 * * mon' weekly, '0 17 last * *' month end")
    period: RelativePeriod = Field(description="which period the briefing covers, relative to the run")
    area: str | None = Field(default=None, description="area code (default: the province)")
    email: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        cron_trigger(value, "UTC")  # ValueError with the reason
        return value


class SmtpConfig(_Strict):
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    user: str | None = None
    password_env: str | None = Field(default=None, description="environment variable holding the password")
    sender: str
    timeout: float = Field(default=30.0, gt=0, le=600)

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("must be an e-mail address")
        return value


class RetryConfig(_Strict):
    attempts: int = Field(default=3, ge=1, le=10)
    backoff: float = Field(
        default=30.0, ge=0, le=3600, description="seconds before the 2nd try, doubled each time"
    )


class BriefingsConfig(_Strict):
    archive_dir: Path = Path("var/briefings")
    emblem: Path | None = Field(default=None, description="image of the province's emblem for the cover")
    schedules: dict[str, BriefingSchedule] = Field(default_factory=dict)
    smtp: SmtpConfig | None = None
    recipients: list[str] = Field(default_factory=list)
    retry: RetryConfig = RetryConfig()

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @model_validator(mode="after")
    def _mail_needs_a_relay(self) -> BriefingsConfig:
        mailed = [name for name, schedule in self.schedules.items() if schedule.email]
        if mailed and (self.smtp is None or not self.recipients):
            raise ValueError(
                f"schedules {', '.join(mailed)} e-mail the briefing: set briefings.smtp and "
                "briefings.recipients (or email: false)"
            )
        return self
