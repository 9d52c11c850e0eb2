"""The workbench's pages (GET): overview, scenes, history, models and the placeholders."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prism_platform.control.facade import Control
from prism_workbench.access import page_session
from prism_workbench.history import READ_LIMIT, history
from prism_workbench.overview import overview_of
from prism_workbench.render import Renderer
from prism_workbench.scene import scene_response
from prism_workbench.session import Session

PLACEHOLDERS: dict[str, str] = {}
"""Pages linked from the navigation that are not built yet."""


def build_pages_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.get("/")
    def overview_page(request: Request) -> Response:
        session = page_session(request, control)
        view = overview_of(control)
        return render.page("overview.html", session, path="/workbench/", view=view)

    @router.get("/fragments/overview")
    def overview_fragment(request: Request) -> Response:
        session = page_session(request, control)
        view = overview_of(control)
        return render.page("_overview_body.html", session, view=view)

    @router.get("/scenes")
    def scenes_page(request: Request) -> Response:
        session = page_session(request, control)
        scenes = control.scenes()
        return render.page("scenes.html", session, path="/workbench/scenes", scenes=scenes)

    @router.get("/scenes/{scene}")
    def scene_page(request: Request, scene: str) -> Response:
        session = page_session(request, control)
        return scene_response(control, render, session, scene)

    @router.get("/history")
    def history_page(request: Request, scene: str = "", actor: str = "") -> Response:
        session = page_session(request, control)
        return history_response(control, render, session, scene=scene, actor=actor)

    @router.get("/models")
    def models_page(request: Request) -> Response:
        session = page_session(request, control)
        return models_response(control, render, session)

    for suffix, title in PLACEHOLDERS.items():
        router.add_api_route(suffix, _placeholder(control, render, title), methods=["GET"])
    return router


def history_response(
    control: Control,
    render: Renderer,
    session: Session,
    *,
    scene: str = "",
    actor: str = "",
    status: int = 200,
    **notice: str,
) -> Response:
    rows = history(control.audit(READ_LIMIT), scene.strip(), actor.strip())
    scenes = control.scenes()
    return render.page(
        "history.html",
        session,
        path="/workbench/history",
        status=status,
        rows=rows,
        scene=scene,
        actor=actor,
        scenes=[s.name for s in scenes],
        protected={s.name for s in scenes if s.protected},
        **notice,
    )


def models_response(
    control: Control, render: Renderer, session: Session, *, status: int = 200, **notice: str
) -> Response:
    try:
        models = control.model_list()
    except RuntimeError:  # a node without a model registry
        models = []
    return render.page(
        "models.html", session, path="/workbench/models", status=status, models=models, **notice
    )


def _placeholder(control: Control, render: Renderer, title: str) -> Callable[[Request], Response]:
    def placeholder(request: Request) -> Response:
        session = page_session(request, control)
        return render.page("placeholder.html", session, path=request.url.path, title=title)

    return placeholder
