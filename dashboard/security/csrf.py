"""CSRF: every state-changing request must come from this site's own pages.

- Any method other than GET/HEAD/OPTIONS: the `Origin` header (else the `Referer`) must name this
  host; a browser's cross-site request (`Sec-Fetch-Site: cross-site`) is refused outright.
- Dash callbacks (`/_dash-update-component`) must also be JSON: a plain HTML form cannot send that.
- HTML forms (login, logout) also carry a per-session token (`csrf_token`).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Request, session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_KEY = "csrf"


def same_origin(request: Request) -> bool:
    if request.headers.get("Sec-Fetch-Site") in {"cross-site", "same-site"}:
        return False
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc.lower() == request.host.lower()


def refusal(request: Request, callback_path: str) -> str | None:
    """Why a request is refused (None: it may go on)."""
    if request.method in SAFE_METHODS:
        return None
    if not same_origin(request):
        return "cross-origin request"
    if request.path == callback_path and request.mimetype != "application/json":
        return "callback requests must be JSON"
    return None


def token() -> str:
    """This session's form token (made on first use)."""
    value = session.get(TOKEN_KEY)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(32)
        session[TOKEN_KEY] = value
    return value


def form_token_ok(submitted: str | None) -> bool:
    expected = session.get(TOKEN_KEY)
    return (
        isinstance(expected, str) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)
    )
