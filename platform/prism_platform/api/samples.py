"""``GET /admin/samples``: a scene's sampled requests as JSONL (``prism samples export``).

The router's lifespan closes the node's sample_writer, storing what is still queued.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import StreamingResponse

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import OPERATOR, Auth
from prism_platform.api.contract import GUARDED, Since, errors
from prism_platform.control.facade import Control
from prism_platform.control.field_types import SceneName

JSONL = "application/x-ndjson"


def build_samples_router(control: Control, auth: Auth) -> APIRouter:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if control.sample_writer is not None:
            control.sample_writer.close()

    r = APIRouter(lifespan=lifespan)
    operator = auth.requires(OPERATOR)

    @r.get(
        "/admin/samples",
        tags=["admin"],
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "One sample a line (format v1: docs/operators/traffic.md).",
                "content": {JSONL: {"schema": {"type": "string"}}},
            },
            **GUARDED,
            **errors(404, notes={404: "Unknown scene."}),
        },
    )
    def samples(
        scene: Annotated[SceneName, Query()],
        since: Annotated[Since | None, Query()] = None,
        limit: Annotated[
            int | None, Query(ge=1, description="at most this many, oldest first")
        ] = None,
        hash_users: Annotated[
            bool, Query(description="replace user ids by a hash keyed for this export only")
        ] = False,
        _: Principal = Depends(operator),
    ) -> StreamingResponse:
        """The scene's sampled requests and what the node answered, oldest first."""
        lines = control.sample_lines(scene, since=since, limit=limit, hash_users=hash_users)
        return StreamingResponse(lines, media_type=JSONL)

    return r
