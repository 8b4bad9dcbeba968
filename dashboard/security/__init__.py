"""Access control of the web app, installed by `create_app` with one call (:func:`install`).

Logins (Flask-Login sessions, Argon2 passwords, lockout, idle timeout), roles and the reader's scope
(bound to the read model for every request: `dashboard.data.read_model()`), wall kiosk tokens, CSRF for
every state-changing request, security headers with Dash's CSP hashes, and the audit log.
`auth.enabled: false` in config.yaml turns logins off (every reader sees everything) but keeps CSRF and
the headers.
"""

from __future__ import annotations

from dash import Dash, html
from flask import Response, g, request
from flask_login import current_user

from dashboard.security import guard, sessions
from dashboard.security.headers import SecurityHeaders
from dashboard.security.views import blueprint
from ioc.config import Settings
from ioc.database import Database


def install(app: Dash, settings: Settings, database: Database) -> None:
    server = app.server
    config = settings.auth
    server.config["IOC_AUTH"] = config
    server.config["IOC_AUTH_ENABLED"] = config.enabled
    sessions.configure(server, config, database.engine)
    server.register_blueprint(blueprint)
    # first of all hooks, before Dash's own (which may build layouts)
    server.before_request_funcs.setdefault(None, []).insert(0, guard.Guard(config, database.engine))
    headers = SecurityHeaders(app)

    @server.after_request
    def _headers(response: Response) -> Response:
        return headers.apply(request, response)

    @server.errorhandler(PermissionError)
    def _forbidden(error: PermissionError) -> Response:
        return guard.refuse(403, "Ngoài phạm vi được xem của tài khoản.")


def nav_items() -> list[html.Span | html.A]:
    """The navbar's right side: who is logged in, the audit log for admins, and the logout link."""
    if not current_user.is_authenticated:
        return []
    account = current_user.account
    items: list[html.Span | html.A] = [
        html.Span(account.display_name or account.username, className="navbar-text me-3", id="ioc-user")
    ]
    if "admin" in account.roles:
        items.append(html.A("Nhật ký", href="/admin/audit", className="nav-link d-inline me-3"))
    items.append(html.A("Đăng xuất", href="/logout", className="nav-link d-inline", id="ioc-logout"))
    return items


def current_actor() -> str | None:
    """The user name (or kiosk:<screen>) of the current request, for audit records."""
    actor = g.get("ioc_actor")
    return actor if isinstance(actor, str) else None
