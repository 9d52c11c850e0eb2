"""``/workbench/login`` and ``/workbench/logout``.

The login form is CSRF-protected too (else another site could log a victim into the
attacker's account): the form page sets a random token in the HttpOnly, SameSite=Strict
cookie ``prism_login`` and in the form's hidden ``login_csrf`` field, and the login
checks that both match (double submit). Another site can neither read the cookie nor
make the browser send it."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from prism_platform.accounts.roles import VIEWER
from prism_platform.control.facade import Control
from prism_platform.errors import PrismPlatformError
from prism_workbench.access import action_session, read_form
from prism_workbench.render import Renderer
from prism_workbench.session import Session, end_session, read_session, start_session

HOME = "/workbench/"
LOGIN = "/workbench/login"
LOGIN_COOKIE = "prism_login"
LOGIN_FIELD = "login_csrf"
EXPIRED = "The login form expired or came from another site: please log in again."


def _login_token(request: Request) -> str:
    """The browser's login-form token, or a new one."""
    token = request.cookies.get(LOGIN_COOKIE, "")
    ok = len(token) == 64 and all(c in "0123456789abcdef" for c in token)
    return token if ok else secrets.token_hex(32)


def _login_page(
    render: Renderer, request: Request, session: Session | None, status: int = 200, **notice: str
) -> Response:
    token = _login_token(request)
    response = render.page(
        "login.html", session, path=LOGIN, status=status, login_csrf=token, **notice
    )
    secure = request.url.scheme == "https"
    response.set_cookie(
        LOGIN_COOKIE, token, path=LOGIN, httponly=True, samesite="strict", secure=secure
    )
    return response


def build_login_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.get("/login")
    def login_form(request: Request) -> Response:
        return _login_page(render, request, read_session(request, control))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        user = form.get("user", "").strip()
        sent, expected = form.get(LOGIN_FIELD, ""), request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return _login_page(render, request, None, status=403, error=EXPIRED, user_name=user)
        address = request.client.host if request.client else "unknown"
        try:
            issued = control.accounts.login(user, form.get("password", ""), address)
        except PrismPlatformError as exc:  # Unauthenticated (401), TooManyAttempts (429)
            return _login_page(
                render, request, None, status=exc.status, error=exc.message, user_name=user
            )
        response = RedirectResponse(HOME, status_code=303)
        start_session(request, response, issued)
        response.delete_cookie(LOGIN_COOKIE, path=LOGIN, httponly=True, samesite="strict")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session, _ = await action_session(request, control, VIEWER)
        response = RedirectResponse(LOGIN, status_code=303)
        end_session(control, session, response)
        return response

    return router
