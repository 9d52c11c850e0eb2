"""Tables of the accounts: users with a role and a hashed password, and their API tokens
(stored as SHA-256 digests; a token is shown once, when it is created)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db.records import Role, TokenRecord, UserRecord
from prism_platform.db.schema import Base, Timestamp, utc

ROLE_CHECK = "role IN ('viewer', 'operator', 'admin', 'data-reader')"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    disabled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())

    def to_record(self) -> UserRecord:
        return UserRecord(
            id=self.id,
            name=self.name,
            role=cast(Role, self.role),
            created_at=utc(self.created_at),
            disabled=self.disabled,
        )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)

    def to_record(self, user: str) -> TokenRecord:
        return TokenRecord(
            id=self.id,
            user=user,
            name=self.name,
            prefix=self.prefix,
            created_at=utc(self.created_at),
            expires_at=None if self.expires_at is None else utc(self.expires_at),
            revoked_at=None if self.revoked_at is None else utc(self.revoked_at),
        )
