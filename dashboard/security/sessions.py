"""Login sessions (Flask-Login over Flask's signed cookie): who is logged in, for how long.

The session cookie is HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS (or when
`auth.secure_cookies` says so behind a TLS-terminating proxy). A session ends after `auth.idle_timeout`
seconds without a request, after `auth.session_lifetime`, and at once when the account is disabled,
its password reset or its roles changed (the account's `session_epoch` moves on). The server keeps each
live session (`ioc.auth.web_sessions`), so a logout or an expiry ends it for every copy of the cookie.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from typing import Any

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import Engine

from dashboard.security.audit_log import record
from ioc.auth import accounts, web_sessions
from ioc.auth.config import AuthConfig

LOG = logging.getLogger(__name__)
SEEN, SINCE, SESSION_ID = "seen", "since", "sid"


class WebUser(UserMixin):  # type: ignore[misc]
    def __init__(self, account: accounts.Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_epoch}"


class _CookieInterface(SecureCookieSessionInterface):
    def __init__(self, secure: bool | None) -> None:
        self.secure = secure

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure if self.secure is None else self.secure


def secret_key(config: AuthConfig) -> str:
    value = os.environ.get(config.secret_key_env)
    if value:
        return value
    LOG.warning(
        "%s is not set: sessions are signed with a random key and end when this process stops "
        "(set it, the same for every web worker, in production)",
        config.secret_key_env,
    )
    return secrets.token_urlsafe(48)


def configure(server: Flask, config: AuthConfig, engine: Engine) -> LoginManager:
    server.secret_key = secret_key(config)
    server.session_interface = _CookieInterface(config.secure_cookies)
    server.config.update(
        SESSION_COOKIE_NAME="ioc_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=config.session_lifetime,
        # the cookie is sent when the session changes, not with every response: a response to a
        # request sent before a logout would otherwise set the ended session's cookie again
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    manager = LoginManager()
    manager.session_protection = "basic"
    manager.init_app(server)

    @manager.user_loader  # type: ignore[untyped-decorator]
    def load(user_id: str) -> WebUser | None:
        try:
            account_id, epoch = (int(part) for part in user_id.split(":", 1))
        except ValueError:
            return None
        session_id = session.get(SESSION_ID)
        if not isinstance(session_id, str):
            return None
        with engine.connect() as connection:
            if not web_sessions.is_open(connection, session_id, account_id):
                return None
            account = accounts.by_id(connection, account_id)
        if account is None or not account.active or account.session_epoch != epoch:
            return None
        return WebUser(account)

    return manager


def _engine() -> Engine:
    engine: Engine = current_app.config["IOC_DATABASE"].engine
    return engine


def start(account: accounts.Account, config: AuthConfig) -> None:
    session.clear()  # a new session id for the new login (no fixation)
    with _engine().begin() as connection:
        session_id = web_sessions.open_session(connection, account.id, config.session_lifetime)
    login_user(WebUser(account))
    session.permanent = True
    now = int(time.time())
    session[SEEN] = session[SINCE] = now
    session[SESSION_ID] = session_id


def end() -> None:
    session_id = session.get(SESSION_ID)
    if isinstance(session_id, str):
        with _engine().begin() as connection:
            web_sessions.close(connection, session_id)
    logout_user()
    session.clear()


def expired(config: AuthConfig, now: float | None = None) -> str | None:
    """'idle' or 'lifetime' when the current session is over, else None (and the idle clock restarts)."""
    now = time.time() if now is None else now
    seen: Any = session.get(SEEN)
    since: Any = session.get(SINCE)
    if not isinstance(seen, int) or not isinstance(since, int):
        return "idle"
    if now - seen > config.idle_timeout:
        return "idle"
    if now - since > config.session_lifetime:
        return "lifetime"
    if now - seen >= 15:  # do not rewrite the cookie on every request
        session[SEEN] = int(now)
    return None


def end_if_over(config: AuthConfig) -> str | None:
    """End the logged-in session when it is over (audited); returns why ('idle', 'lifetime') or None."""
    reason = expired(config)
    if reason is not None:
        record("logout.expired", {"reason": reason}, actor=current_user.account.username)
        end()
    return reason
