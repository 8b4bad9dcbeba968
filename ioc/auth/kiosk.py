"""Wall kiosk tokens: one or more per screen, random, shown once, stored as sha256, revocable.

A token grants its own screen's page, data and heartbeat and nothing else (the web guard checks the
screen). sha256 suffices for a 256-bit random token (no dictionary to guess from) and lets the guard
find it by equality; Argon2 is for passwords people choose.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection, text


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(connection: Connection, screen_id: str) -> str:
    """A new token for `screen_id`; the caller shows it once (it is not stored)."""
    token = secrets.token_urlsafe(32)
    connection.execute(
        text("INSERT INTO kiosk_token (screen_id, token_hash) VALUES (:s, :h)"),
        {"s": screen_id, "h": digest(token)},
    )
    return token


def revoke(connection: Connection, screen_id: str) -> int:
    """Revoke every live token of a screen; returns how many."""
    result = connection.execute(
        text("UPDATE kiosk_token SET revoked_at = now() WHERE screen_id = :s AND revoked_at IS NULL"),
        {"s": screen_id},
    )
    return result.rowcount or 0


def screen_of(connection: Connection, token: str | None) -> str | None:
    """The screen a live token opens (None: unknown or revoked); notes when it was last used."""
    if not token or len(token) > 200:
        return None
    row = connection.execute(
        text(
            "UPDATE kiosk_token SET last_used_at = now() "
            "WHERE token_hash = :h AND revoked_at IS NULL RETURNING screen_id"
        ),
        {"h": digest(token)},
    ).first()
    return row.screen_id if row is not None else None


def live_counts(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        text("SELECT screen_id, count(*) FROM kiosk_token WHERE revoked_at IS NULL GROUP BY screen_id")
    )
    return {row[0]: row[1] for row in rows}
