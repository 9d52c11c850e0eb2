"""``/admin/models``: what each model serves, activation and on-demand reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from prism_sdk import DataBackend

from ..settings import Settings
from .service import ModelService
from .store import ModelStore, check_name


class ActivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(pattern=r"^v\d{1,9}$")


def build_models_router(service: ModelService, poll_s: float = 0.0) -> APIRouter:
    """The routes; while the app runs, ``current`` pointers are checked every ``poll_s``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start(poll_s)
        yield
        service.stop()

    router = APIRouter(prefix="/admin/models", tags=["models"], lifespan=lifespan)

    @router.get("")
    def list_models() -> dict[str, Any]:
        """Every model: versions, the ``current`` pointer, the serving version, the last
        rejected version and why."""
        return {"models": service.describe()}

    @router.post("/reload")
    def reload() -> dict[str, Any]:
        """Check every ``current`` pointer now and load what changed."""
        return {"changes": service.refresh(), "models": service.describe()}

    @router.post("/{name}/activate")
    def activate(name: str, body: ActivateIn) -> dict[str, Any]:
        """Validate ``version`` on its probe batch, serve it, and point ``current`` at it.
        A version that fails validation changes nothing (422 names the reason)."""
        loaded = service.activate(check_name(name), body.version)
        return {"name": name, "serving": loaded.version, "metrics": loaded.meta.get("metrics")}

    return router


def models_router(settings: Settings, backend: DataBackend | None = None) -> APIRouter:
    """The models of ``var/models``, loaded now (and warmed on ``backend``), as a router
    to mount on the admin API; ``PRISM_MODEL_POLL_S`` (default 5, 0: off) sets how often
    pointers are checked."""
    service = ModelService(ModelStore(settings.var_dir / "models"), backend)
    service.refresh()
    return build_models_router(service, settings.model_poll_s)
