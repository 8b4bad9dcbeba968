"""The few HTML pages the access layer serves itself (Jinja, autoescaped): login, a refusal, the audit
log. No inline scripts (the CSP allows none but Dash's own)."""

from __future__ import annotations

from typing import Any

from flask import current_app

_STYLE = " ".join(
    [
        'body{font-family:"Noto Sans","DejaVu Sans",sans-serif;background:#f4f6f9;color:#1b2a3a;margin:0}',
        "header{background:#0b2545;color:#fff;padding:.8rem 1.2rem;font-weight:600}",
        "main{max-width:WIDTH;margin:2.5rem auto;background:#fff;padding:1.6rem 2rem;border-radius:8px;",
        "box-shadow:0 1px 4px rgba(0,0,0,.12)}",
        "label{display:block;margin:.8rem 0 .3rem}",
        "input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}",
        "button{margin-top:1.2rem;padding:.55rem 1.4rem;font-size:1rem;background:#0b2545;color:#fff;",
        "border:0;border-radius:4px}",
        ".msg{background:#fdecea;color:#8a1c12;padding:.6rem .8rem;border-radius:4px}",
        ".note{color:#5b6b7b;font-size:.9rem}",
        "table{border-collapse:collapse;width:100%;font-size:.9rem}",
        "td,th{border-bottom:1px solid #dde3ea;padding:.35rem .5rem;text-align:left;vertical-align:top}",
    ]
)
_BASE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · IOC</title><style>STYLE</style></head>
<body><header>IOC · Trung tâm giám sát, điều hành thông minh</header>
<main>{% block body %}{% endblock %}</main></body></html>"""

_LOGIN = """{% extends base %}{% block body %}
<h1>Đăng nhập</h1>
{% if message %}<p class="msg" role="alert">{{ message }}</p>{% endif %}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label for="username">Tên đăng nhập</label>
<input id="username" name="username" autocomplete="username" required autofocus value="{{ username }}">
<label for="password">Mật khẩu</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Đăng nhập</button>
</form>
<p class="note">Phiên làm việc tự kết thúc sau {{ idle_minutes }} phút không thao tác.</p>
{% endblock %}"""

_MESSAGE = """{% extends base %}{% block body %}
<h1>{{ title }}</h1><p>{{ text }}</p>
{% if form %}<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit">Đăng xuất</button></form>{% else %}<p><a href="/">Về trang chủ</a></p>{% endif %}
{% endblock %}"""

_AUDIT = """{% extends base %}{% block body %}
<h1>Nhật ký truy cập và thao tác</h1>
<p class="note">{{ entries|length }} dòng mới nhất. <a href="/">Về trang chủ</a></p>
<form method="get"><label for="action">Thao tác</label>
<input id="action" name="action" value="{{ action }}"></form>
<table><thead><tr><th>Thời điểm</th><th>Người / máy</th><th>Thao tác</th><th>Chi tiết</th>
<th>Địa chỉ</th></tr></thead><tbody>{% for e in entries %}
<tr><td>{{ e.when }}</td><td>{{ e.actor or "" }}</td><td>{{ e.action }}</td>
<td><code>{{ e.detail }}</code></td><td>{{ e.address or "" }}</td></tr>{% endfor %}</tbody></table>
{% endblock %}"""


def _render(template: str, width: str = "26rem", **context: Any) -> str:
    """Flask's Jinja environment autoescapes templates made from strings."""
    environment = current_app.jinja_env
    return environment.from_string(template).render(
        base=environment.from_string(_BASE.replace("STYLE", _STYLE.replace("WIDTH", width))), **context
    )


def login_page(*, csrf: str, next_path: str, message: str | None, username: str, idle_minutes: int) -> str:
    return _render(
        _LOGIN,
        title="Đăng nhập",
        csrf=csrf,
        next=next_path,
        message=message,
        username=username,
        idle_minutes=idle_minutes,
    )


def message_page(title: str, text: str, *, logout_form: bool = False, csrf: str = "") -> str:
    return _render(_MESSAGE, title=title, text=text, form=logout_form, csrf=csrf)


def audit_page(entries: list[dict[str, Any]], action: str) -> str:
    return _render(_AUDIT, width="70rem", title="Nhật ký", entries=entries, action=action)
