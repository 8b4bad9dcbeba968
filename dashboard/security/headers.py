"""Security headers on every response: a CSP that allows Dash's own inline scripts by their hashes
(`app.csp_hashes()`, computed once every callback is known), no framing (a wall screen may be framed
by this site's own room preview, /wall), no MIME sniffing, a same-origin referrer."""

from __future__ import annotations

from dash import Dash
from flask import Request, Response

from dashboard.security.rules import wall_screen


def _policy(script_hashes: list[str], frame_ancestors: str) -> str:
    scripts = " ".join(["'self'", *script_hashes])  # Dash's hashes come quoted
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",  # Dash and plotly set style attributes
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "frame-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


class SecurityHeaders:
    def __init__(self, app: Dash) -> None:
        self.app = app
        self._hashes: list[str] | None = None

    def hashes(self) -> list[str]:
        # Dash adds its pages' and clientside callbacks' inline scripts at the first request
        if self._hashes is None:
            found = list(self.app.csp_hashes())
            if self.app._got_first_request.get("setup_server"):
                self._hashes = found
            return found
        return self._hashes

    def apply(self, request: Request, response: Response) -> Response:
        framed_ok = wall_screen(request.path) is not None and not request.path.startswith("/wall/data/")
        headers = response.headers
        headers["Content-Security-Policy"] = _policy(self.hashes(), "'self'" if framed_ok else "'none'")
        headers["X-Frame-Options"] = "SAMEORIGIN" if framed_ok else "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
