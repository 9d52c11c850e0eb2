"""``/workbench/login`` and ``/workbench/logout``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from prism_platform.accounts.roles import VIEWER
from prism_platform.control.facade import Control
from prism_platform.errors import PrismPlatformError
from prism_workbench.access import action_session, read_form
from prism_workbench.render import Renderer
from prism_workbench.session import end_session, read_session, start_session

HOME = "/workbench/"
LOGIN = "/workbench/login"


def build_login_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.get("/login")
    def login_form(request: Request) -> Response:
        return render.page("login.html", read_session(request, control), path=LOGIN)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        user = form.get("user", "").strip()
        address = request.client.host if request.client else "unknown"
        try:
            issued = control.accounts.login(user, form.get("password", ""), address)
        except PrismPlatformError as exc:  # Unauthenticated (401), TooManyAttempts (429)
            return render.page(
                "login.html", None, path=LOGIN, status=exc.status, error=exc.message, user_name=user
            )
        response = RedirectResponse(HOME, status_code=303)
        start_session(request, response, issued)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session, _ = await action_session(request, control, VIEWER)
        response = RedirectResponse(LOGIN, status_code=303)
        end_session(control, session, response)
        return response

    return router
