"""Who is calling: ``Authorization: Bearer <token>`` on every admin route, checked
through :class:`~prism_platform.control.facade.Control`, and the role each route needs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from prism_platform.accounts.roles import ADMIN, DATA_READER, OPERATOR, VIEWER
from prism_platform.accounts.service import Principal
from prism_platform.control.facade import Control
from prism_platform.db.records import Role
from prism_platform.errors import PrismPlatformError, Unauthenticated

log = logging.getLogger("prism.auth")

SIGN_IN = "sign in: send Authorization: Bearer <token> (prism token create, or POST /auth/login)"

BEARER = HTTPBearer(
    auto_error=False,
    description="An API token (`prism token create`, POST /admin/tokens) or a login's "
    "(POST /auth/login).",
)
"""The OpenAPI document's security scheme; the token itself is checked by :class:`Auth`."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else ``None``."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def bearer(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization"))


class Auth:
    """FastAPI dependencies that authenticate the caller and check their role."""

    def __init__(self, control: Control) -> None:
        self.control = control

    def requires(self, role: Role) -> Callable[[Request], Principal]:
        def dependency(
            request: Request, _: HTTPAuthorizationCredentials | None = Depends(BEARER)
        ) -> Principal:
            token = bearer(request)
            if token is None:
                raise Unauthenticated(SIGN_IN)
            return self.control.accounts.authenticate(token).require(role)

        return dependency


def viewer_check(auth: Auth) -> Callable[[str | None], bool]:
    """For the bare recommend handler: whether an ``Authorization`` header is a viewer's."""

    def check(authorization: str | None) -> bool:
        token = bearer_token(authorization)
        if token is None:
            return False
        try:
            auth.control.accounts.authenticate(token).require(VIEWER)
        except PrismPlatformError:
            return False
        except Exception:  # the accounts store is down: answer without the trace
            log.exception("event=debug_auth_failed")
            return False
        return True

    return check


__all__ = ["ADMIN", "DATA_READER", "OPERATOR", "VIEWER", "Auth", "bearer", "viewer_check"]
