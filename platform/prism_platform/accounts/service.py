"""Users, API tokens and logins over the metadata store."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prism_platform.accounts.credentials import (
    MIN_PASSWORD,
    hash_password,
    new_token,
    token_digest,
    token_prefix,
    verify_password,
)
from prism_platform.accounts.limiter import LoginLimiter
from prism_platform.accounts.roles import ROLES, grants
from prism_platform.db import MetadataStore, TokenRecord, UserRecord
from prism_platform.db.records import Role
from prism_platform.errors import Forbidden, Invalid, TooManyAttempts, Unauthenticated
from prism_platform.metrics.registry import Counter

log = logging.getLogger("prism.accounts")

LOGIN_TOKEN_TTL = timedelta(hours=12)
CACHE_S = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the authenticated user and their role."""

    name: str
    role: Role

    def require(self, needed: Role) -> Principal:
        if not grants(self.role, needed):
            raise Forbidden(f"{self.name} ({self.role}) may not do this: it needs {needed}")
        return self


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: ``token`` is shown once, only its digest is stored."""

    token: str
    record: TokenRecord


class Accounts:
    def __init__(
        self,
        store: MetadataStore,
        limiter: LoginLimiter | None = None,
        login_failures: Counter | None = None,
    ) -> None:
        self.store = store
        self.limiter = limiter or LoginLimiter()
        self._cache: dict[str, tuple[Principal, float]] = {}
        self.login_failures = login_failures or Counter(
            "prism_login_failures_total", "", ("reason",)
        )
        """``prism_login_failures_total{reason}`` (the node's metrics when serving)."""

    def add_user(self, name: str, role: str, password: str | None, *, actor: str) -> UserRecord:
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
        hashed = None if password is None else hash_password(_checked(password))
        return self.store.add_user(name, role, hashed, actor=actor)

    def set_password(self, name: str, password: str, *, actor: str) -> None:
        self.store.set_password(name, hash_password(_checked(password)), actor=actor)

    def users(self) -> list[UserRecord]:
        return self.store.users()

    def update_user(
        self, name: str, *, role: Role | None = None, disabled: bool | None = None, actor: str
    ) -> UserRecord:
        """Change a user's role or disabled state (audited); this node's cached tokens of
        it are forgotten at once, other nodes' within ``CACHE_S``."""
        record = self.store.update_user(name, role=role, disabled=disabled, actor=actor)
        self._cache.clear()
        return record

    def create_token(
        self, user: str, *, name: str = "api", expires_in: timedelta | None = None, actor: str
    ) -> IssuedToken:
        token = new_token()
        expires = None if expires_in is None else datetime.now(UTC) + expires_in
        record = self.store.add_token(
            user, name, token_digest(token), token_prefix(token), expires, actor=actor
        )
        return IssuedToken(token, record)

    def tokens(self, user: str | None = None) -> list[TokenRecord]:
        return self.store.tokens(user)

    def revoke_token(self, token_id: int, *, actor: str) -> TokenRecord:
        record = self.store.revoke_token(token_id, actor=actor)
        self._cache.clear()  # this node forgets it at once; others within CACHE_S
        return record

    def authenticate(self, token: str) -> Principal:
        """The token's user; :class:`Unauthenticated` if it is unknown, expired, revoked
        or its user disabled. A token found good is trusted for ``CACHE_S`` without
        another database read (a revocation takes effect within that)."""
        digest = token_digest(token)
        now = time.time()
        cached = self._cache.get(digest)
        if cached is not None and now < cached[1]:
            return cached[0]
        principal, expires_at = self._authenticate(digest)
        if len(self._cache) > 10_000:
            self._cache.clear()
        until = now + CACHE_S
        if expires_at is not None:
            until = min(until, expires_at.timestamp())
        self._cache[digest] = (principal, until)
        return principal

    def _authenticate(self, digest: str) -> tuple[Principal, datetime | None]:
        found = self.store.token_owner(digest)
        if found is None:
            raise Unauthenticated("unknown token")
        record, user = found
        if record.revoked_at is not None:
            raise Unauthenticated("the token was revoked")
        if record.expires_at is not None and record.expires_at <= datetime.now(UTC):
            raise Unauthenticated("the token expired")
        if user.disabled:
            raise Unauthenticated(f"user {user.name!r} is disabled")
        return Principal(user.name, user.role), record.expires_at

    def login(self, name: str, password: str, address: str) -> IssuedToken:
        """A short-lived token for a user's password; failures are counted, and too many
        for a user or from an address are refused for a while."""
        if not self.limiter.attempt(name, address):
            self.login_failures.inc(("rate_limited",))
            raise TooManyAttempts("too many failed logins: try again in a few minutes")
        found = self.store.credentials(name)
        user, hashed = found if found is not None else (None, None)
        if user is None or not verify_password(hashed, password) or user.disabled:
            self.login_failures.inc(("bad_credentials",))
            log.warning("event=login_failed user=%s address=%s", name[:64], address)
            raise Unauthenticated("wrong user name or password")
        self.limiter.succeeded(name, address)
        token = new_token()
        expires = datetime.now(UTC) + LOGIN_TOKEN_TTL
        record = self.store.add_token(
            name,
            "login",
            token_digest(token),
            token_prefix(token),
            expires,
            actor=name,
            audit=False,  # audited as the login below
        )
        self.store.record_event(name, "login", "user", name, {"address": address})
        return IssuedToken(token, record)


def _checked(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password has at least {MIN_PASSWORD} characters", field="password")
    return password
