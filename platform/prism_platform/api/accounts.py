"""``POST /auth/login`` (a password for a short-lived token) and the admin routes for
users and API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from prism_platform.accounts.credentials import MIN_PASSWORD
from prism_platform.accounts.service import IssuedToken, Principal
from prism_platform.api.admin import as_json
from prism_platform.api.auth import ADMIN, VIEWER, Auth
from prism_platform.api.contract import BODY, GUARDED, Body, errors, line
from prism_platform.control.facade import Control
from prism_platform.control.field_types import UserName
from prism_platform.db.records import Role


class LoginIn(Body):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserIn(Body):
    name: UserName
    role: Role
    password: str | None = Field(default=None, min_length=MIN_PASSWORD, max_length=1024)


class TokenIn(Body):
    user: UserName
    name: Annotated[str, line(64)] = "api"
    expires_days: float | None = Field(default=None, gt=0, le=3650)


def issued(t: IssuedToken) -> dict[str, Any]:
    return {"token": t.token, **as_json(t.record)}


def build_accounts_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(tags=["accounts"])
    accounts = control.accounts

    @r.post(
        "/auth/login",
        responses=BODY | errors(401, 422, 429, 503, notes={401: "Wrong user name or password."}),
    )
    def login(body: LoginIn, request: Request) -> dict[str, Any]:
        """A password for a token valid 12 hours (the workbench's session, ``prism
        login``); failures are rate limited per user and per address."""
        address = request.client.host if request.client is not None else "-"
        return issued(accounts.login(body.user, body.password, address))

    r.include_router(_guarded(control, auth))
    return r


def _guarded(control: Control, auth: Auth) -> APIRouter:
    """The routes behind a token."""
    r = APIRouter(tags=["accounts"], responses=GUARDED)
    viewer, admin = auth.requires(VIEWER), auth.requires(ADMIN)
    accounts = control.accounts

    @r.get("/auth/me")
    def me(who: Principal = Depends(viewer)) -> dict[str, str]:
        return {"name": who.name, "role": who.role}

    @r.get("/admin/users")
    def users(_: Principal = Depends(admin)) -> Any:
        return as_json(accounts.users())

    @r.post("/admin/users", status_code=201, responses=BODY | errors(409))
    def add_user(body: UserIn, who: Principal = Depends(admin)) -> Any:
        return as_json(accounts.add_user(body.name, body.role, body.password, actor=who.name))

    @r.get("/admin/tokens")
    def tokens(
        user: Annotated[UserName | None, Query()] = None, _: Principal = Depends(admin)
    ) -> Any:
        return as_json(accounts.tokens(user))

    @r.post("/admin/tokens", status_code=201, responses=BODY | errors(404, 409))
    def create_token(body: TokenIn, who: Principal = Depends(admin)) -> dict[str, Any]:
        """A new API token, shown once in ``token``."""
        ttl = None if body.expires_days is None else timedelta(days=body.expires_days)
        return issued(
            accounts.create_token(body.user, name=body.name, expires_in=ttl, actor=who.name)
        )

    @r.post("/admin/tokens/{token_id}/revoke", responses=errors(404, 409))
    def revoke_token(token_id: Annotated[int, Path()], who: Principal = Depends(admin)) -> Any:
        return as_json(accounts.revoke_token(token_id, actor=who.name))

    return r
