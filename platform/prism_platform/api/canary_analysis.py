"""``GET /admin/canaries``: the canaries that carry an analysis, with this node's latest
verdict; the router's lifespan runs the node's canary analysis every
``PRISM_CANARY_ANALYSIS_S`` (:mod:`prism_platform.control.canary_analysis`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import VIEWER, Auth
from prism_platform.api.contract import GUARDED, errors
from prism_platform.control.facade import Control
from prism_platform.control.field_types import SceneName
from prism_platform.metrics.registry import Metrics


def build_canary_analysis_router(
    control: Control, auth: Auth, interval_s: float, metrics: Callable[[], Metrics]
) -> APIRouter:
    """``metrics``: the node's serving metrics (every worker's) the canaries are judged
    on; ``interval_s``: seconds between rounds (0: no background analysis)."""
    control.watch_canaries(metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if interval_s > 0:
            task = asyncio.create_task(control.analyse_canaries_forever(interval_s))
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    r = APIRouter(prefix="/admin", tags=["admin"], lifespan=lifespan, responses=GUARDED)
    viewer = auth.requires(VIEWER)

    @r.get("/canaries", responses=errors(404))
    def canaries(
        scene: Annotated[SceneName | None, Query()] = None, _: Principal = Depends(viewer)
    ) -> list[dict[str, Any]]:
        """Every active canary that carries an analysis (of ``scene``): what it serves,
        its thresholds and this node's latest verdict (``null`` before the first round)
        with the figures of both arms."""
        return control.canary_verdicts(scene)

    return r
