"""Password hashing with Argon2id (argon2-cffi's defaults), and a random password generator."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
#: verified against when the user does not exist, so both answers take the same time
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))

MIN_LENGTH = 10


class WeakPassword(ValueError):
    """A password refused before hashing (too short)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"mật khẩu cần ít nhất {MIN_LENGTH} ký tự / at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when `password` matches the stored hash; a missing hash costs the same time and is False."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def rehash(password: str) -> str:
    """A fresh hash of a password that just verified (parameters changed); no length rule."""
    return _HASHER.hash(password)


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def generate() -> str:
    """A random password for a new or reset account (shown once by the CLI that made it)."""
    return secrets.token_urlsafe(15)
