"""The access guard: runs before every request (first of all before_request hooks).

1. CSRF (`csrf.refusal`) for every state-changing request, logged in or not.
2. Public paths (login page, static files) pass.
3. A logged-in account (session, or the trusted header from the reverse proxy) passes where its roles
   allow; its scope is set for the request (`g.ioc_scope`), which `dashboard.data.read_model()` binds to
   every read-model question.
4. Otherwise a wall kiosk token (in the kiosk URL once, then a cookie) opens its own screen only.
5. Anything else: the login page for a person's browser, 401 for scripts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, g, jsonify, redirect, request
from flask_login import current_user
from sqlalchemy import Engine

from dashboard.security import csrf, rules, sessions
from dashboard.security.audit_log import record
from dashboard.security.pages import message_page
from ioc.auth import accounts, kiosk
from ioc.auth.config import AuthConfig
from ioc.queries import EVERYTHING

KIOSK_COOKIE = "ioc_kiosk"
KIOSK_COOKIE_AGE = 400 * 86_400  # browsers cap cookies at 400 days


def refuse(status: int, reason: str) -> Response:
    wants_html = request.method == "GET" and not request.path.startswith(("/_dash-", "/wall/data/"))
    if wants_html:
        body = (
            message_page("Không có quyền truy cập", reason) if status == 403 else message_page("Lỗi", reason)
        )
        return Response(body, status=status, mimetype="text/html")
    response = jsonify({"error": reason})
    response.status_code = status
    return response


class Guard:
    def __init__(self, config: AuthConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine

    def __call__(self) -> Response | None:
        g.ioc_scope = None
        g.ioc_actor = None
        why = csrf.refusal(request, rules.CALLBACK_PATH)
        if why is not None:
            return refuse(403, why)
        if not self.config.enabled:
            g.ioc_scope = EVERYTHING
            return None
        if rules.is_public(request.path):
            return None
        account = self._account()
        if isinstance(account, Response):
            return account
        if account is not None:
            return self._for_account(account)
        return self._for_kiosk()

    # ----------------------------------------------------------------------------- accounts

    def _account(self) -> accounts.Account | Response | None:
        trusted = self.config.trusted_header
        if trusted.enabled and request.remote_addr in trusted.proxies and request.headers.get(trusted.header):
            name = request.headers[trusted.header]
            with self.engine.connect() as connection:
                found = accounts.get(connection, name)
            if found is None or not found.active:
                return refuse(403, "Tài khoản chưa được cấp quyền trên hệ thống IOC.")
            return found
        if not current_user.is_authenticated:
            return None
        reason = sessions.end_if_over(self.config)
        if reason is not None:
            g.ioc_expired = reason
            return None
        account: accounts.Account = current_user.account
        return account

    def _body(self) -> Any:
        return request.get_json(silent=True) if request.path == rules.CALLBACK_PATH else None

    def _for_account(self, account: accounts.Account) -> Response | None:
        body = self._body()
        needed = (
            rules.callback_roles(body)
            if request.path == rules.CALLBACK_PATH
            else rules.page_roles(request.path)
        )
        if not rules.allowed(account.roles, needed):
            record("access.denied", {"path": request.path}, actor=account.username)
            return refuse(403, "Tài khoản của bạn không có quyền mở trang này.")
        try:
            g.ioc_scope = account.scope()
        except PermissionError:
            return refuse(403, "Tài khoản chưa được phân phạm vi (đơn vị, địa bàn).")
        g.ioc_account = account
        g.ioc_actor = account.username
        if isinstance(body, dict) and rules.callback_roles(body) is not None:
            self._audit_click(body)
        return None

    @staticmethod
    def _audit_click(body: dict[str, Any]) -> None:
        """An operator's click on the wall control page (pin, release, acknowledge) is an action."""
        clicks = [str(p) for p in body.get("changedPropIds") or () if str(p).endswith("n_clicks")]
        if clicks and rules.router_path(body) is None:
            record("wall.control", {"output": str(body.get("output", ""))[:300], "trigger": clicks})

    # ----------------------------------------------------------------------------- kiosks

    def _for_kiosk(self) -> Response | None:
        path = request.path
        given = request.args.get("token") if request.method == "GET" else None
        token = given or request.cookies.get(KIOSK_COOKIE)
        screen = None
        if token:
            with self.engine.begin() as connection:
                screen = kiosk.screen_of(connection, token)
        if given is not None:
            if screen is None or rules.wall_screen(path) != screen:
                return refuse(403, "Mã màn hình không hợp lệ hoặc đã bị thu hồi.")
            return self._kiosk_cookie(screen, given)
        if screen is not None and self._kiosk_may(screen, path):
            g.ioc_scope = EVERYTHING
            g.ioc_actor = f"kiosk:{screen}"
            return None
        if screen is not None or (token and rules.wall_screen(path)):
            return refuse(403, "Màn hình này không được phép mở trang này (mã kiosk không hợp lệ).")
        return self._login_required()

    def _kiosk_may(self, screen: str, path: str) -> bool:
        if path in rules.WALL_SHARED or path in rules.DASH_STRUCTURE:
            return True
        if path == rules.CALLBACK_PATH:
            return rules.router_path(self._body()) == f"/wall/{screen}"
        return request.method == "GET" and rules.wall_screen(path) == screen

    def _kiosk_cookie(self, screen: str, token: str) -> Response:
        """The token leaves the URL at once (history, logs, Referer): a cookie carries it from now on."""
        query = {key: value for key, value in request.args.items() if key != "token"}
        response = redirect(request.path + (f"?{urlencode(query)}" if query else ""))
        response.set_cookie(
            KIOSK_COOKIE,
            token,
            max_age=KIOSK_COOKIE_AGE,
            path="/",
            secure=request.is_secure if self.config.secure_cookies is None else self.config.secure_cookies,
            httponly=True,
            samesite="Strict",
        )
        record("kiosk.open", {"screen": screen}, actor=f"kiosk:{screen}")
        return response

    def _login_required(self) -> Response:
        if request.method == "GET" and not request.path.startswith(("/_dash-", "/wall/data/")):
            query = {"next": request.full_path.rstrip("?")}
            if g.get("ioc_expired"):
                query["reason"] = g.ioc_expired
            return redirect("/login?" + urlencode(query))
        return refuse(401, "Cần đăng nhập.")
