"""The `auth:` section of config.yaml: logins, sessions, lockout, trusted header, kiosk cookies.

Imports nothing from `ioc.config` (which imports it); durations are plain seconds. Secrets never live
here: the session signing key comes from the environment variable named by `secret_key_env`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LockoutConfig(_Strict):
    """After `after_failures` wrong passwords in a row an account is locked for `base_seconds`, doubling
    with every further failure up to `max_seconds`; a successful login resets the count."""

    after_failures: int = Field(default=5, ge=1, le=100)
    base_seconds: int = Field(default=60, ge=1, le=86_400)
    max_seconds: int = Field(default=3_600, ge=1, le=7 * 86_400)


class TrustedHeaderConfig(_Strict):
    """Central sign-on at the reverse proxy: the proxy authenticates and sends the user name in
    `header`; accepted only from `proxies` (the proxy's address as the app sees it). Off by default."""

    enabled: bool = False
    header: str = "X-Remote-User"
    proxies: tuple[str, ...] = ("127.0.0.1", "::1")


class AuthConfig(_Strict):
    """Who may open what. `enabled: false` opens every page to anyone who can reach the server (tests,
    a laptop demo without accounts); never in production."""

    enabled: bool = True
    secret_key_env: str = "IOC_SECRET_KEY"
    idle_timeout: int = Field(default=1_800, ge=5, le=86_400, description="seconds without a request")
    session_lifetime: int = Field(default=43_200, ge=60, le=30 * 86_400, description="seconds after login")
    secure_cookies: bool | None = Field(
        default=None, description="Secure flag on cookies; None: when the request came over HTTPS"
    )
    lockout: LockoutConfig = LockoutConfig()
    trusted_header: TrustedHeaderConfig = TrustedHeaderConfig()
    demo_user: str = "demo"
    demo_password_env: str = "IOC_DEMO_PASSWORD"
