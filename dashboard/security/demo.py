"""`ioc demo`'s login: one admin account, `auth.demo_user` (default `demo`).

Its password is `$IOC_DEMO_PASSWORD` when set (never printed), else a new random password made at each
start of the demo and printed once on the terminal. A real deployment creates accounts with
`ioc users add` and never runs `ioc demo`.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine

from ioc.auth import accounts, audit, passwords
from ioc.config import Settings


def ensure_demo_login(settings: Settings, engine: Engine) -> str | None:
    """Create or refresh the demo admin; the line to print (None when logins are off)."""
    config = settings.auth
    if not config.enabled:
        return None
    given = os.environ.get(config.demo_password_env)
    secret = given or passwords.generate()
    with engine.begin() as connection:
        if accounts.get(connection, config.demo_user) is None:
            accounts.add(connection, config.demo_user, secret, ["admin"], display_name="Quản trị (demo)")
        else:
            accounts.set_password(connection, config.demo_user, secret)
            accounts.set_disabled(connection, config.demo_user, False)
        audit.record(connection, "cli:demo", "user.demo_login", {"user": config.demo_user})
    shown = f"(mật khẩu trong ${config.demo_password_env})" if given else secret
    return f"Đăng nhập / login: {config.demo_user} / {shown}"
