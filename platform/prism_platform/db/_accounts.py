"""Users and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_platform.db import _validate as v
from prism_platform.db._base import StoreBase, utcnow
from prism_platform.db.account_schema import ApiToken, User
from prism_platform.db.records import Role, TokenRecord, UserRecord
from prism_platform.errors import Conflict, Invalid, NotFound

ROLES: tuple[Role, ...] = ("viewer", "operator", "admin", "data-reader")


class AccountOps(StoreBase):
    def add_user(
        self, name: str, role: Role, password_hash: str | None, *, actor: str
    ) -> UserRecord:
        name = v.user_name(name)
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
        with self._tx(write=True) as s:
            if s.scalar(select(User).where(User.name == name)) is not None:
                raise Conflict(f"user {name!r} exists", field="name")
            user = User(name=name, role=role, password_hash=password_hash, created_at=utcnow())
            s.add(user)
            s.flush()
            self._audit(s, actor, "create", "user", name, {"role": role})
            return user.to_record()

    def set_password(self, name: str, password_hash: str, *, actor: str) -> None:
        with self._tx(write=True) as s:
            self._user(s, name).password_hash = password_hash
            self._audit(s, actor, "set_password", "user", name, {})

    def update_user(
        self, name: str, *, role: Role | None = None, disabled: bool | None = None, actor: str
    ) -> UserRecord:
        """Change a user's role or whether it is disabled (``None``: left as it is)."""
        if role is not None and role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
        if disabled is not None and not isinstance(disabled, bool):
            raise Invalid("disabled must be true or false", field="disabled")
        with self._tx(write=True) as s:
            user = self._user(s, name)
            changed: dict[str, object] = {}
            if role is not None and role != user.role:
                user.role = changed["role"] = role
            if disabled is not None and disabled != user.disabled:
                user.disabled = changed["disabled"] = disabled
            if changed:
                self._audit(s, actor, "update", "user", name, changed)
            return user.to_record()

    def users(self) -> list[UserRecord]:
        with self._tx(write=False) as s:
            return [u.to_record() for u in s.scalars(select(User).order_by(User.name))]

    def credentials(self, name: str) -> tuple[UserRecord, str | None] | None:
        """A user and their password hash, for a login (``None``: no such user)."""
        with self._tx(write=False) as s:
            user = s.scalar(select(User).where(User.name == name))
            return None if user is None else (user.to_record(), user.password_hash)

    def add_token(
        self,
        user: str,
        name: str,
        digest: str,
        prefix: str,
        expires_at: datetime | None,
        *,
        actor: str,
        audit: bool = True,
    ) -> TokenRecord:
        """Store a token's digest (``audit=False`` for a login's short-lived session token,
        audited as the login itself)."""
        name = v.line(name, field="name", max_len=64)
        with self._tx(write=True) as s:
            row = self._user(s, user)
            token = ApiToken(
                user_id=row.id,
                name=name,
                digest=digest,
                prefix=prefix,
                created_at=utcnow(),
                expires_at=expires_at,
            )
            s.add(token)
            s.flush()
            if audit:
                detail = {"token": token.id, "name": name, "expires_at": _iso(expires_at)}
                self._audit(s, actor, "create", "token", user, detail)
            return token.to_record(row.name)

    def token_owner(self, digest: str) -> tuple[TokenRecord, UserRecord] | None:
        """The token with this digest and its user, whatever their state."""
        with self._tx(write=False) as s:
            row = s.execute(
                select(ApiToken, User).join(User).where(ApiToken.digest == digest)
            ).first()
            if row is None:
                return None
            token, user = row
            return token.to_record(user.name), user.to_record()

    def tokens(self, user: str | None = None) -> list[TokenRecord]:
        with self._tx(write=False) as s:
            stmt = select(ApiToken, User.name).join(User).order_by(ApiToken.id)
            if user is not None:
                stmt = stmt.where(User.name == user)
            return [t.to_record(n) for t, n in s.execute(stmt)]

    def revoke_token(self, token_id: int, *, actor: str) -> TokenRecord:
        if not 0 < token_id <= v.MAX_ROW_ID:  # a larger one cannot even be bound
            raise NotFound(f"no token {token_id}", field="token")
        with self._tx(write=True) as s:
            row = s.execute(select(ApiToken, User.name).join(User).where(ApiToken.id == token_id))
            found = row.first()
            if found is None:
                raise NotFound(f"no token {token_id}", field="token")
            token, owner = found
            if token.revoked_at is None:
                token.revoked_at = utcnow()
                self._audit(s, actor, "revoke", "token", owner, {"token": token_id})
            return token.to_record(owner)

    @staticmethod
    def _user(s: Session, name: str) -> User:
        user = s.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"no user {name!r}", field="user")
        return user


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
