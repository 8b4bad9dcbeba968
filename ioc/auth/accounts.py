"""Staff accounts: create, list, disable, reset a password, set roles and scope, log in with lockout.

Roles: admin (users, sources), operator (wall control), leader (reads everything), staff (reads only its
departments and/or areas). The reader's :class:`~ioc.queries.Scope` comes from here and the read model
enforces it. Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, text

from ioc.auth import passwords
from ioc.auth.config import LockoutConfig
from ioc.queries.types import EVERYTHING, Scope

ROLES = ("admin", "operator", "leader", "staff")
#: roles that read the whole province (staff is scoped)
READ_ALL = frozenset({"admin", "operator", "leader"})
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_COLUMNS = (
    "id, username, display_name, roles, departments, areas, disabled_at, locked_until, "
    "failed_logins, session_epoch, last_login_at"
)


class AccountError(ValueError):
    """A refused account change (unknown user, bad name, role or scope); the message is complete."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str | None
    roles: tuple[str, ...]
    departments: tuple[str, ...] | None
    areas: tuple[str, ...] | None
    disabled_at: datetime | None
    locked_until: datetime | None
    failed_logins: int
    session_epoch: int
    last_login_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def has(self, role: str) -> bool:
        """`admin` holds every role's rights."""
        return role in self.roles or "admin" in self.roles

    def scope(self) -> Scope:
        """What this person may read. A staff account without departments or areas reads nothing
        (refused at login), never everything."""
        if READ_ALL & set(self.roles):
            return EVERYTHING
        if not self.departments and not self.areas:
            raise PermissionError(f"account {self.username!r} has no department or area scope")
        return Scope(
            departments=frozenset(self.departments) if self.departments else None,
            areas=frozenset(self.areas) if self.areas else None,
        )


@dataclass(frozen=True)
class LoginResult:
    outcome: Literal["ok", "bad", "locked", "disabled", "no_scope"]
    account: Account | None = None
    locked_until: datetime | None = None


def _account(row: Any) -> Account:
    m = row._mapping
    return Account(
        id=m["id"],
        username=m["username"],
        display_name=m["display_name"],
        roles=tuple(m["roles"]),
        departments=tuple(m["departments"]) if m["departments"] is not None else None,
        areas=tuple(m["areas"]) if m["areas"] is not None else None,
        disabled_at=m["disabled_at"],
        locked_until=m["locked_until"],
        failed_logins=m["failed_logins"],
        session_epoch=m["session_epoch"],
        last_login_at=m["last_login_at"],
    )


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise AccountError(
            f"tên đăng nhập không hợp lệ / invalid user name {username!r}: 2-64 of a-z 0-9 . _ @ -"
        )
    return name


def check_roles(
    roles: Iterable[str], departments: Sequence[str] | None, areas: Sequence[str] | None
) -> list[str]:
    chosen = sorted({role.strip().lower() for role in roles if role.strip()})
    unknown = [role for role in chosen if role not in ROLES]
    if unknown or not chosen:
        raise AccountError(
            f"vai trò không hợp lệ / unknown roles {unknown or '(none)'}: use {', '.join(ROLES)}"
        )
    if "staff" in chosen and not READ_ALL & set(chosen) and not departments and not areas:
        raise AccountError("staff cần --department hoặc --area / staff needs --department and/or --area")
    return chosen


def _codes(values: Sequence[str] | None) -> list[str] | None:
    cleaned = sorted({value.strip() for value in values or () if value.strip()})
    return cleaned or None


def get(connection: Connection, username: str) -> Account | None:
    row = connection.execute(
        text(f"SELECT {_COLUMNS} FROM app_user WHERE username = :u"), {"u": username.strip().lower()}
    ).first()
    return _account(row) if row is not None else None


def by_id(connection: Connection, user_id: int) -> Account | None:
    row = connection.execute(text(f"SELECT {_COLUMNS} FROM app_user WHERE id = :i"), {"i": user_id}).first()
    return _account(row) if row is not None else None


def _existing(connection: Connection, username: str) -> Account:
    found = get(connection, username)
    if found is None:
        raise AccountError(f"không có tài khoản / no such user {username!r}")
    return found


def list_users(connection: Connection) -> list[Account]:
    return [
        _account(row)
        for row in connection.execute(text(f"SELECT {_COLUMNS} FROM app_user ORDER BY username"))
    ]


def add(
    connection: Connection,
    username: str,
    password: str | None,
    roles: Iterable[str],
    *,
    departments: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    display_name: str | None = None,
) -> Account:
    """A new account; `password` None makes a trusted-header-only account (no password login)."""
    name = normalise_username(username)
    if get(connection, name) is not None:
        raise AccountError(f"tài khoản đã có / user {name!r} exists")
    chosen = check_roles(roles, departments, areas)
    hashed = passwords.hash_password(password) if password is not None else None
    connection.execute(
        text(
            "INSERT INTO app_user (username, display_name, password_hash, roles, departments, areas) "
            "VALUES (:u, :d, :h, :r, :dep, :area)"
        ),
        {
            "u": name,
            "d": display_name,
            "h": hashed,
            "r": chosen,
            "dep": _codes(departments),
            "area": _codes(areas),
        },
    )
    return _existing(connection, name)


def set_password(connection: Connection, username: str, password: str) -> Account:
    """New password; ends the account's sessions and its lockout."""
    account = _existing(connection, username)
    connection.execute(
        text(
            "UPDATE app_user SET password_hash = :h, failed_logins = 0, locked_until = NULL, "
            "session_epoch = session_epoch + 1 WHERE id = :i"
        ),
        {"h": passwords.hash_password(password), "i": account.id},
    )
    return _existing(connection, username)


def set_disabled(connection: Connection, username: str, disabled: bool = True) -> Account:
    """Disable (ends its sessions at their next request) or enable an account."""
    account = _existing(connection, username)
    connection.execute(
        text(
            "UPDATE app_user SET disabled_at = CASE WHEN :d THEN now() END, "
            "session_epoch = session_epoch + 1, failed_logins = 0, locked_until = NULL WHERE id = :i"
        ),
        {"d": disabled, "i": account.id},
    )
    return _existing(connection, username)


def set_roles(
    connection: Connection,
    username: str,
    roles: Iterable[str],
    *,
    departments: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
) -> Account:
    account = _existing(connection, username)
    chosen = check_roles(roles, departments, areas)
    connection.execute(
        text(
            "UPDATE app_user SET roles = :r, departments = :dep, areas = :area, "
            "session_epoch = session_epoch + 1 WHERE id = :i"
        ),
        {"r": chosen, "dep": _codes(departments), "area": _codes(areas), "i": account.id},
    )
    return _existing(connection, username)


def lock_delay(failures: int, lockout: LockoutConfig) -> timedelta | None:
    """How long an account stays locked after `failures` wrong passwords in a row (None: not locked)."""
    over = failures - lockout.after_failures
    if over < 0:
        return None
    return timedelta(seconds=min(lockout.base_seconds * 2 ** min(over, 30), lockout.max_seconds))


def authenticate(
    connection: Connection,
    username: str,
    password: str,
    lockout: LockoutConfig,
    now: datetime | None = None,
) -> LoginResult:
    """Check a password login. Wrong passwords count; past `lockout.after_failures` the account is
    locked with a doubling delay, during which even the right password is refused."""
    now = now or datetime.now(UTC)
    name = username.strip().lower()
    row = connection.execute(
        text(f"SELECT {_COLUMNS}, password_hash FROM app_user WHERE username = :u FOR UPDATE"), {"u": name}
    ).first()
    if row is None:
        passwords.verify(None, password)  # same time as a real account
        return LoginResult("bad")
    account = _account(row)
    if account.locked_until is not None and account.locked_until > now:
        return LoginResult("locked", account, account.locked_until)
    if not passwords.verify(row.password_hash, password):
        failures = account.failed_logins + 1
        delay = lock_delay(failures, lockout)
        until = now + delay if delay is not None else None
        connection.execute(
            text("UPDATE app_user SET failed_logins = :f, locked_until = :l WHERE id = :i"),
            {"f": failures, "l": until, "i": account.id},
        )
        return LoginResult("locked" if until else "bad", account, until)
    if not account.active:
        return LoginResult("disabled", account)
    try:
        account.scope()
    except PermissionError:
        return LoginResult("no_scope", account)
    new_hash = passwords.rehash(password) if passwords.needs_rehash(row.password_hash) else None
    connection.execute(
        text(
            "UPDATE app_user SET failed_logins = 0, locked_until = NULL, last_login_at = :n, "
            "password_hash = coalesce(:h, password_hash) WHERE id = :i"
        ),
        {"n": now, "h": new_hash, "i": account.id},
    )
    return LoginResult("ok", account)
