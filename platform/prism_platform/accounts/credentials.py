"""Passwords (argon2id, argon2-cffi's defaults) and API tokens (random, stored as their
SHA-256 digest: a token has 256 bits of entropy, so a fast digest is enough)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "prism_"
MIN_PASSWORD = 8

_hasher = PasswordHasher()


@cache
def _dummy() -> str:
    """A hash to verify against when the user has none (made on first use: a CLI
    command that never checks a password does not pay ~0.15 s for it)."""
    return _hasher.hash("not a password of anybody")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user has a password (no timing oracle)."""
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(15)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_prefix(token: str) -> str:
    return token[: len(TOKEN_PREFIX) + 6]
