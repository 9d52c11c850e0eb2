"""HTTP: ``POST /v1/events`` and ``GET /admin/experiments/{scene}/report``.

The router owns the event sink and the background aggregator through its lifespan
(merged into the app's by ``include_router``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response

from prism_platform.control.facade import Control
from prism_platform.db.records import MAIN_LAYER
from prism_platform.errors import error_body
from prism_platform.events.event import MAX_BATCH
from prism_platform.events.ingest import EventIngest
from prism_platform.events.sink import open_sink, retention_s
from prism_platform.experiments.report import ReportParams
from prism_platform.settings import Settings
from prism_sdk import AcmSigner, DataBackend
from prism_sdk.data import DataWriter

if TYPE_CHECKING:  # feature_log imports events.sink: no import cycle at run time
    from prism_platform.feature_log import FeatureLogWriter

MAX_BODY = 4 * 1024 * 1024
_JSON = "application/json"


def build_events_router(
    settings: Settings,
    backend: DataBackend,
    facade: Control,
    signer: AcmSigner,
    feature_log: FeatureLogWriter | None = None,
) -> APIRouter:
    """The events routes; the lifespan also closes ``feature_log`` (flushing it), the
    feature rows stored beside the events."""
    ingest = EventIngest(open_sink(settings), signer, backend, settings.events_max_age_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if settings.events_aggregate_s > 0:
            interval = settings.events_aggregate_s
            keep = retention_s(settings.events_max_age_s)
            writer = backend if isinstance(backend, DataWriter) else None
            task = asyncio.create_task(
                facade.aggregate_events_forever(ingest.sink, interval, keep, writer)
            )
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        ingest.close()
        if feature_log is not None:
            feature_log.close()

    r = APIRouter(lifespan=lifespan)

    @r.post(
        "/v1/events",
        tags=["events"],
        summary=f"Report a batch of up to {MAX_BATCH} exposure/click/cart/order events",
        response_class=Response,
        responses={
            200: {"description": "Per-event results: accepted (maybe duplicate) or rejected."},
            400: {"description": "Body is not JSON."},
            413: {"description": "Body or batch too large."},
            422: {"description": 'Body is not `{"events": [...]}`; `field` names the culprit.'},
            503: {"description": "The event log is unavailable; nothing was stored."},
        },
    )
    async def events(request: Request) -> Response:
        size = 0
        chunks: list[bytes] = []
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                msg = f"request body exceeds {MAX_BODY} bytes"
                status, body = error_body(413, "body_too_large", msg, field="(body)")
                return Response(body, status_code=status, media_type=_JSON)
            chunks.append(chunk)
        status, payload = await ingest.handle(b"".join(chunks))
        return Response(payload, status_code=status, media_type=_JSON)

    @r.get("/admin/experiments/{scene}/report", tags=["admin"])
    def report(
        scene: str,
        layer: Annotated[str, Query(description="experiment layer")] = MAIN_LAYER,
        experiment: str | None = None,
        control: str | None = None,
        mde: Annotated[float, Query(gt=0, le=10, description="relative lift to detect")] = 0.05,
        alpha: Annotated[float, Query(gt=0, lt=0.5)] = 0.05,
        power: Annotated[float, Query(gt=0.5, lt=1)] = 0.8,
    ) -> Any:
        """Lift of each bucket of a layer against its control, sample size and
        sample-ratio check."""
        params = ReportParams(experiment, control, mde, alpha, power, layer)
        return facade.experiment_report(scene, params)

    return r
