"""HTTP: ``POST /v1/events`` and ``GET /admin/experiments/{scene}/report``.

The router owns the event sink, the background aggregator and the node's retention
loop (:meth:`~prism_platform.control.facade.Control.retention_forever`: the age limits
of the samples, the data backend's user events, the per-user counts and the replay
files) through its lifespan (merged into the app's by ``include_router``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import VIEWER, Auth
from prism_platform.api.contract import GUARDED, errors, json_body, msgspec_schema
from prism_platform.control.facade import Control
from prism_platform.control.field_types import BucketName, SceneName
from prism_platform.db.records import MAIN_LAYER
from prism_platform.errors import error_body, json_too_deep, too_deep_body
from prism_platform.events.event import FUTURE_S, MAX_BATCH, MAX_ID
from prism_platform.events.ingest import open_ingest
from prism_platform.events.sink import log_retention_s
from prism_platform.experiments.guardrails import with_guardrails
from prism_platform.experiments.report import ReportParams
from prism_platform.metrics.registry import Metrics
from prism_platform.metrics.share import SharedMetrics
from prism_platform.settings import Settings
from prism_sdk import AcmSigner, DataBackend
from prism_sdk.data import DataWriter

if TYPE_CHECKING:  # feature_log imports events.sink: no import cycle at run time
    from prism_platform.feature_log import FeatureLogWriter

MAX_BODY = 4 * 1024 * 1024
_JSON = "application/json"

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID)]


class Event(msgspec.Struct, forbid_unknown_fields=True):
    """One event of a batch (documentation: each event is decoded and checked on its own,
    ``events.event.check_event``, so one that breaks these rules is answered ``rejected``
    in the ``200``, its neighbours unharmed)."""

    event_id: Annotated[Id, msgspec.Meta(description="the client's id of the event")]
    type: Literal["exposure", "click", "cart", "order"]
    acm: Annotated[str, msgspec.Meta(description="the item's acm token from /v1/recommend")]
    user_id: Annotated[Id, msgspec.Meta(description="the user the token was issued to")]
    item_id: Annotated[Id, msgspec.Meta(description="the item the token was issued for")]
    ts: Annotated[
        float,
        msgspec.Meta(
            description=f"unix seconds: within PRISM_EVENTS_MAX_AGE_S (7 days) and at most "
            f"{FUTURE_S:.0f} s ahead"
        ),
    ]
    value: (
        Annotated[
            float, msgspec.Meta(ge=0, description="an order's amount (PRISM_EVENT_VALUE_CAP)")
        ]
        | None
    ) = None
    order_id: Annotated[Id, msgspec.Meta(description="orders: one count per order")] | None = None


class EventBatch(msgspec.Struct, forbid_unknown_fields=True):
    events: Annotated[list[Event], msgspec.Meta(max_length=MAX_BATCH)]


def build_events_router(
    settings: Settings,
    backend: DataBackend,
    facade: Control,
    auth: Auth,
    signer: AcmSigner,
    feature_log: FeatureLogWriter | None = None,
    metrics: Metrics | None = None,
    shared: SharedMetrics | None = None,
) -> APIRouter:
    """The events routes; the lifespan also closes ``feature_log`` (flushing it), the
    feature rows stored beside the events. ``metrics`` counts the events by outcome and
    gives the report its serving guardrails (the node's, all workers: ``shared``)."""
    metrics = metrics or Metrics()
    ingest = open_ingest(settings, signer, backend, metrics.events)
    facade.event_sink = ingest.sink  # prism user forget deletes from it

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        housekeeping = asyncio.create_task(facade.retention_forever())
        if settings.events_aggregate_s > 0:
            interval = settings.events_aggregate_s
            keep = log_retention_s(settings)
            writer = backend if isinstance(backend, DataWriter) else None
            claim = settings.events_claim_idle_s
            task = asyncio.create_task(
                facade.aggregate_events_forever(ingest.sink, interval, keep, writer, claim)
            )
        yield
        for running in (task, housekeeping):
            if running is not None:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        ingest.close()
        if feature_log is not None:
            feature_log.close()

    r = APIRouter(lifespan=lifespan)
    viewer = auth.requires(VIEWER)

    @r.post(
        "/v1/events",
        tags=["events"],
        summary=f"Report a batch of up to {MAX_BATCH} exposure/click/cart/order events",
        response_class=Response,
        openapi_extra=json_body(
            msgspec_schema(EventBatch), f"At most {MAX_BATCH} events and {MAX_BODY} bytes."
        ),
        responses={
            200: {
                "description": "Per-event results: accepted (maybe duplicate) or rejected.",
                "content": {_JSON: {"schema": {"type": "object"}}},
            },
            **errors(
                400,
                413,
                422,
                503,
                notes={
                    413: f"The body is over {MAX_BODY} bytes or the batch over {MAX_BATCH} events.",
                    422: 'The body is not `{"events": [...]}`; `field` names the culprit.',
                    503: "The event log is unavailable; nothing was stored.",
                },
            ),
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
        body = b"".join(chunks)
        if json_too_deep(body):
            status, payload = too_deep_body()
        else:
            status, payload = await ingest.handle(body)
        return Response(payload, status_code=status, media_type=_JSON)

    @r.get("/admin/experiments/{scene}/report", tags=["admin"], responses=GUARDED | errors(404))
    def report(
        scene: Annotated[SceneName, Path()],
        layer: Annotated[BucketName, Query(description="experiment layer")] = MAIN_LAYER,
        experiment: Annotated[
            str | None, Query(description="the layer's experiment (default: its latest)")
        ] = None,
        control: Annotated[
            BucketName | None, Query(description="the control bucket (default: the first)")
        ] = None,
        mde: Annotated[float, Query(gt=0, le=10, description="relative lift to detect")] = 0.05,
        alpha: Annotated[float, Query(gt=0, lt=0.5)] = 0.05,
        power: Annotated[float, Query(gt=0.5, lt=1)] = 0.8,
        _: Principal = Depends(viewer),
    ) -> Any:
        """Per bucket of a layer: users, counts, lift against the control (over users),
        events that did not count, serving guardrails; users needed and the
        sample-ratio check."""
        params = ReportParams(experiment, control, mde, alpha, power, layer)
        node = shared.total() if shared is not None else metrics
        return with_guardrails(facade.experiment_report(scene, params), node)

    return r
