"""Login sessions kept on the server: a logout ends the session for good.

The signed cookie carries a random session id; the server keeps its sha256 while the session lives.
Without this, a copy of the cookie taken before a logout (a request still in flight, another tab, a
stolen cookie) would stay valid until the idle timeout. A row is deleted at logout, at expiry, and by
the next login once it is older than the session lifetime (a browser closed without logging out).
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, text

from ioc.auth.kiosk import digest


def open_session(connection: Connection, account_id: int, lifetime_seconds: int) -> str:
    """A new session id for `account_id` (the caller puts it in the signed cookie)."""
    connection.execute(
        text("DELETE FROM web_session WHERE started_at < now() - make_interval(secs => :s)"),
        {"s": lifetime_seconds},
    )
    session_id = secrets.token_urlsafe(32)
    connection.execute(
        text("INSERT INTO web_session (session_hash, account_id) VALUES (:h, :a)"),
        {"h": digest(session_id), "a": account_id},
    )
    return session_id


def is_open(connection: Connection, session_id: str, account_id: int) -> bool:
    if not session_id or len(session_id) > 200:
        return False
    found = connection.execute(
        text("SELECT 1 FROM web_session WHERE session_hash = :h AND account_id = :a"),
        {"h": digest(session_id), "a": account_id},
    ).first()
    return found is not None


def close(connection: Connection, session_id: str) -> None:
    connection.execute(text("DELETE FROM web_session WHERE session_hash = :h"), {"h": digest(session_id)})
