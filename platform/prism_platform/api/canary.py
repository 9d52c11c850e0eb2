"""``/admin/scenes/{name}/buckets/{bucket}/canary/...``: promote a bucket's canary to
all its users, or abort it (operator)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import Field

from prism_platform.accounts.service import Principal
from prism_platform.api.admin import change_json
from prism_platform.api.auth import OPERATOR, Auth
from prism_platform.api.contract import BODY, GUARDED, HELD, Body, Note, errors
from prism_platform.control.facade import Control
from prism_platform.control.field_types import BucketName, Int, SceneName


class CanaryIn(Body):
    note: Note = ""
    wait_s: float = Field(default=0.0, ge=0, le=60, description="wait until every node serves it")
    canary_id: Int | None = Field(
        default=None,
        ge=1,
        description="the canary deployment meant: 409 when the bucket's canary is another",
    )


Scene = Annotated[SceneName, Path()]
Bucket = Annotated[BucketName, Path()]


def build_canary_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(
        prefix="/admin/scenes/{name}/buckets/{bucket}/canary", tags=["admin"], responses=GUARDED
    )
    operator = auth.requires(OPERATOR)

    @r.post("/promote", status_code=201, responses=HELD | BODY | errors(404, 409))
    def promote(
        name: Scene,
        bucket: Bucket,
        who: Principal = Depends(operator),
        body: CanaryIn | None = None,
    ) -> dict[str, Any]:
        """Serve the canary (its script@version and config as deployed) to all the
        bucket's users, as a new primary deployment; 404 naming the bucket without one."""
        body = body or CanaryIn()
        change = control.promote_canary(
            name,
            bucket,
            actor=who.name,
            note=body.note,
            wait_s=body.wait_s,
            canary_id=body.canary_id,
        )
        return change_json(change)

    @r.post("/abort", status_code=201, responses=BODY | errors(404, 409))
    def abort(
        name: Scene,
        bucket: Bucket,
        who: Principal = Depends(operator),
        body: CanaryIn | None = None,
    ) -> dict[str, Any]:
        """End the canary: all the bucket's users go back to the primary deployment."""
        body = body or CanaryIn()
        change = control.abort_canary(
            name,
            bucket,
            actor=who.name,
            note=body.note,
            wait_s=body.wait_s,
            canary_id=body.canary_id,
        )
        return change_json(change)

    return r
