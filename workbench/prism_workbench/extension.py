"""``mount(api, control)``: the workbench as an extension of a Prism node (the
``prism.extensions`` entry point ``workbench``): pages under ``/workbench/``, its static
files under ``/workbench/static/``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from prism_platform.control.facade import Control
from prism_workbench.access import Denied, LoginRequired
from prism_workbench.actions import build_actions_router
from prism_workbench.approvals import build_approvals_router
from prism_workbench.debug import build_debug_router
from prism_workbench.deploy_routes import build_deploy_router
from prism_workbench.experiments import build_experiments_router
from prism_workbench.login import LOGIN, build_login_router
from prism_workbench.pages import build_pages_router
from prism_workbench.render import Renderer
from prism_workbench.replay import build_replay_router
from prism_workbench.scripts import build_scripts_router
from prism_workbench.session import read_session
from prism_workbench.whitelist import build_whitelist_router

STATIC = Path(__file__).parent / "static"


def mount(api: FastAPI, control: Control) -> None:
    render = Renderer()
    api.include_router(build_login_router(control, render))
    api.include_router(build_pages_router(control, render))
    api.include_router(build_actions_router(control, render))
    api.include_router(build_debug_router(control, render))
    api.include_router(build_approvals_router(control, render))
    api.include_router(build_scripts_router(control, render))
    api.include_router(build_deploy_router(control, render))
    api.include_router(build_experiments_router(control, render))
    api.include_router(build_whitelist_router(control, render))
    api.include_router(build_replay_router(control, render))
    api.mount("/workbench/static", StaticFiles(directory=STATIC), name="workbench-static")

    async def login_required(request: Request, exc: Exception) -> Response:
        if request.method in ("GET", "HEAD") and "hx-request" not in request.headers:
            return RedirectResponse(LOGIN, status_code=303)
        # a change, or an htmx request (which follows HX-Redirect, not a 303's page)
        response = render.page("error.html", None, status=401, message="Please log in again.")
        response.headers["HX-Redirect"] = LOGIN
        return response

    async def denied(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Denied)
        session = read_session(request, control)
        return render.page("error.html", session, status=exc.status, message=exc.message)

    api.add_exception_handler(LoginRequired, login_required)
    api.add_exception_handler(Denied, denied)
