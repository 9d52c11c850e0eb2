"""``POST /auth/login`` (a password for a short-lived token) and the admin routes for
users and API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from prism_platform.accounts.roles import ROLES
from prism_platform.accounts.service import IssuedToken, Principal
from prism_platform.api.admin import as_json
from prism_platform.api.auth import ADMIN, VIEWER, Auth
from prism_platform.control.facade import Control


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_Body):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserIn(_Body):
    name: str = Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")
    role: str = Field(description=f"one of {', '.join(ROLES)}")
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class TokenIn(_Body):
    user: str
    name: str = Field(default="api", min_length=1, max_length=64)
    expires_days: float | None = Field(default=None, gt=0, le=3650)


def issued(t: IssuedToken) -> dict[str, Any]:
    return {"token": t.token, **as_json(t.record)}


def build_accounts_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(tags=["accounts"])
    viewer, admin = auth.requires(VIEWER), auth.requires(ADMIN)
    accounts = control.accounts

    @r.post("/auth/login")
    def login(body: LoginIn, request: Request) -> dict[str, Any]:
        """A password for a token valid 12 hours (the workbench's session, ``prism
        login``); failures are rate limited per user and per address."""
        address = request.client.host if request.client is not None else "-"
        return issued(accounts.login(body.user, body.password, address))

    @r.get("/auth/me")
    def me(who: Principal = Depends(viewer)) -> dict[str, str]:
        return {"name": who.name, "role": who.role}

    @r.get("/admin/users")
    def users(_: Principal = Depends(admin)) -> Any:
        return as_json(accounts.users())

    @r.post("/admin/users", status_code=201)
    def add_user(body: UserIn, who: Principal = Depends(admin)) -> Any:
        return as_json(accounts.add_user(body.name, body.role, body.password, actor=who.name))

    @r.get("/admin/tokens")
    def tokens(user: str | None = None, _: Principal = Depends(admin)) -> Any:
        return as_json(accounts.tokens(user))

    @r.post("/admin/tokens", status_code=201)
    def create_token(body: TokenIn, who: Principal = Depends(admin)) -> dict[str, Any]:
        """A new API token, shown once in ``token``."""
        ttl = None if body.expires_days is None else timedelta(days=body.expires_days)
        return issued(
            accounts.create_token(body.user, name=body.name, expires_in=ttl, actor=who.name)
        )

    @r.post("/admin/tokens/{token_id}/revoke")
    def revoke_token(token_id: int, who: Principal = Depends(admin)) -> Any:
        return as_json(accounts.revoke_token(token_id, actor=who.name))

    return r
