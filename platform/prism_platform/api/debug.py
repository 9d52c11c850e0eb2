"""The request debugger over HTTP: ``POST /admin/debug/recommend`` (operators) answers
one request with its full trace, served by the live routing, a deployment (active or
past) or a script version with a config: a dry run, recorded nowhere and served to
nobody (see :mod:`prism_platform.control.debug_ops`)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import OPERATOR, VIEWER, Auth
from prism_platform.api.contract import BODY, GUARDED, MAX_JSON_INT, Body, Version, errors
from prism_platform.control.facade import Control
from prism_platform.control.field_types import ConfigName, Int, SceneName, ScriptPath
from prism_sdk import MAX_SIZE
from prism_sdk._request import MAX_EXCLUDE, MAX_INT_USER_ID, MAX_USER_ID


class DebugIn(Body):
    scene: SceneName
    user_id: (
        Annotated[str, Field(min_length=1, max_length=MAX_USER_ID)]
        | Annotated[Int, Field(ge=0, le=MAX_INT_USER_ID)]
    )
    context: dict[str, Any] = {}
    size: Int = Field(20, ge=1, le=MAX_SIZE)
    exclude: list[str] = Field([], max_length=MAX_EXCLUDE)
    deployment_id: Int | None = Field(
        None, description="run this deployment (active or past) instead of the live routing"
    )
    script: ScriptPath | None = Field(None, description="dry-run this script instead (e.g. x.py)")
    version: Version | None = Field(None, description="the script's commit/branch/tag (worktree)")
    config: ConfigName | None = Field(None, description="the script's named config (default: none)")
    params: dict[str, Any] | None = Field(
        None, description="parameters merged onto the config of a deployment or script"
    )
    seed: Int | None = Field(
        None,
        ge=0,
        le=MAX_JSON_INT,
        description="fix the strategies' random draws (the request id): a replay's arms",
    )
    detail: bool = Field(
        True, description="false: each stage's timing and counts only, not its candidates"
    )


def build_debug_router(control: Control, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/admin/debug", tags=["debug"], responses=GUARDED)
    viewer = auth.requires(VIEWER)

    @router.post("/recommend", responses=BODY | errors(404, 409))
    async def debug_recommend(body: DebugIn, who: Principal = Depends(viewer)) -> Response:
        """The recommend answer with its trace (resolved buckets, parameters, every stage
        with its candidates and what each filter removed, data round trips, timings) and
        ``target``. With ``deployment_id`` or ``script`` it is a dry run (``dry_run``:
        true): not recorded, not served, its acm tokens verify nowhere. The live routing
        changes nothing (viewers may, as with ``"debug": true`` on /v1/recommend); a dry
        run runs code that may never have been deployed: operators only."""
        if body.deployment_id is not None or body.script is not None:
            who.require(OPERATOR)
        out = await control.debug_request(
            body.scene,
            str(body.user_id),
            body.context,
            body.size,
            exclude=body.exclude,
            deployment_id=body.deployment_id,
            script=body.script,
            version=body.version,
            config=body.config,
            params=body.params,
            seed=body.seed,
            detail=body.detail,
        )
        return Response(orjson.dumps(out), media_type="application/json")

    return router
