"""Routes of the access layer: /login, /logout (Vietnamese pages) and /admin/audit (admins)."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, current_app, redirect, request

from dashboard.security import csrf, sessions
from dashboard.security.audit_log import record
from dashboard.security.pages import audit_page, login_page, message_page
from dashboard.security.rules import safe_next
from ioc.auth import accounts, audit
from ioc.auth.config import AuthConfig
from ioc.formatting import LOCAL_TZ

blueprint = Blueprint("ioc_security", __name__)

MESSAGES = {
    "bad": "Tên đăng nhập hoặc mật khẩu không đúng.",
    "disabled": "Tài khoản đã bị vô hiệu hoá. Liên hệ quản trị hệ thống.",
    "no_scope": "Tài khoản chưa được phân phạm vi (đơn vị, địa bàn). Liên hệ quản trị hệ thống.",
    "idle": "Phiên làm việc đã kết thúc do không thao tác. Vui lòng đăng nhập lại.",
    "lifetime": "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.",
    "csrf": "Biểu mẫu đã hết hạn. Vui lòng thử lại.",
    "logout": "Bạn đã đăng xuất.",
}


def _config() -> AuthConfig:
    config = current_app.config["IOC_AUTH"]
    assert isinstance(config, AuthConfig)
    return config


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_form(message: str | None, username: str = "", status: int = 200) -> Response:
    return _html(
        login_page(
            csrf=csrf.token(),
            next_path=safe_next(request.values.get("next")),
            message=message,
            username=username[:64],
            idle_minutes=_config().idle_timeout // 60,
        ),
        status,
    )


@blueprint.get("/login")
def login_form() -> Response:
    from flask_login import current_user

    reason = request.args.get("reason", "")
    if current_user.is_authenticated:  # /login is public: the guard has not looked at this session
        reason = sessions.end_if_over(_config()) or ""
        if not reason:
            return redirect(safe_next(request.args.get("next")))
    return _login_form(MESSAGES.get(reason))


@blueprint.post("/login")
def login_submit() -> Response:
    username = (request.form.get("username") or "").strip()[:64]
    if not csrf.form_token_ok(request.form.get("csrf_token")):
        return _login_form(MESSAGES["csrf"], username, 400)
    config = _config()
    with current_app.config["IOC_DATABASE"].engine.begin() as connection:
        result = accounts.authenticate(
            connection, username, request.form.get("password") or "", config.lockout
        )
    if result.outcome != "ok" or result.account is None:
        record("login.failed", {"outcome": result.outcome}, actor=username or None)
        if result.outcome == "locked" and result.locked_until is not None:
            until = result.locked_until.astimezone(LOCAL_TZ).strftime("%H:%M")
            message = f"Tài khoản tạm khoá do nhập sai mật khẩu nhiều lần. Thử lại sau {until}."
        else:
            message = MESSAGES.get(result.outcome, MESSAGES["bad"])
        return _login_form(message, username, 401)
    sessions.start(result.account, config)
    record("login", {"roles": list(result.account.roles)}, actor=result.account.username)
    return redirect(safe_next(request.form.get("next")))


def _logout() -> Response:
    from flask_login import current_user

    if current_user.is_authenticated:
        record("logout", actor=current_user.account.username)
    sessions.end()
    return redirect("/login?reason=logout")


@blueprint.post("/logout")
def logout_submit() -> Response:
    if not csrf.form_token_ok(request.form.get("csrf_token")):
        return _html(message_page("Đăng xuất", MESSAGES["csrf"], logout_form=True, csrf=csrf.token()), 400)
    return _logout()


@blueprint.get("/logout")
def logout_link() -> Response:
    """The navbar's link: a navigation from this site logs out at once; from elsewhere, a confirmation."""
    if request.headers.get("Sec-Fetch-Site") in {"same-origin", "none"}:
        return _logout()
    return _html(message_page("Đăng xuất", "Bạn muốn đăng xuất?", logout_form=True, csrf=csrf.token()))


def _when(value: datetime) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M:%S")


@blueprint.get("/admin/audit")
def audit_log() -> Response:
    action = (request.args.get("action") or "").strip()[:64]
    with current_app.config["IOC_DATABASE"].engine.connect() as connection:
        entries = audit.recent(connection, limit=500, action=action or None)
    rows = [
        {
            "when": _when(e.at),
            "actor": e.actor,
            "action": e.action,
            "detail": json.dumps(e.detail, ensure_ascii=False) if e.detail else "",
            "address": e.address,
        }
        for e in entries
    ]
    return _html(audit_page(rows, action), 200)
