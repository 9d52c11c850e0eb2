"""``/admin/models``: what each model serves, activation and on-demand reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path
from pydantic import Field

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import OPERATOR, VIEWER, Auth
from prism_platform.api.contract import BODY, GUARDED, Body, errors
from prism_platform.control.facade import Control
from prism_platform.models.store import NAME_RE, VERSION_RE, check_name


class ActivateIn(Body):
    version: str = Field(pattern=VERSION_RE.pattern)


def build_models_router(control: Control, auth: Auth, poll_s: float = 0.0) -> APIRouter:
    """The routes; while the app runs, ``current`` pointers are checked every ``poll_s``
    (``PRISM_MODEL_POLL_S``, default 5, 0: off)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if control.models is not None:
            control.models.start(poll_s)
        yield
        if control.models is not None:
            control.models.stop()

    router = APIRouter(
        prefix="/admin/models", tags=["models"], lifespan=lifespan, responses=GUARDED
    )
    viewer, operator = auth.requires(VIEWER), auth.requires(OPERATOR)

    @router.get("")
    def list_models(_: Principal = Depends(viewer)) -> dict[str, Any]:
        """Every model: versions, the ``current`` pointer, the serving version, the last
        rejected version and why."""
        return {"models": control.model_list()}

    @router.post("/reload")
    def reload(_: Principal = Depends(operator)) -> dict[str, Any]:
        """Check every ``current`` pointer now and load what changed."""
        return {"changes": control.reload_models(), "models": control.model_list()}

    @router.post("/{name}/activate", responses=BODY | errors(404, 409))
    def activate(
        name: Annotated[str, Path(pattern=NAME_RE.pattern)],
        body: ActivateIn,
        who: Principal = Depends(operator),
    ) -> dict[str, Any]:
        """Validate ``version`` on its probe batch, serve it, and point ``current`` at it.
        A version that fails validation changes nothing (422 names the reason)."""
        return control.activate_model(check_name(name), body.version, actor=who.name)

    return router
